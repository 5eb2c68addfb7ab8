// The search's four splits; contract in include/ptune/search/search_data.h.
#include "ptune/search/search_data.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <utility>

#include "ptune/eval/evaluator.h"
#include "ptune/tasks/splits.h"
#include "ptune/util/random.h"

namespace ptune::search {
namespace {

using tasks::Example;
using RowId = std::pair<std::string, int64_t>;

// Rows are told apart by file and line; rows built in code (line 0) by their content.
std::string row_key(const Example& e) {
  if (e.line > 0) return e.source + ":" + std::to_string(e.line);
  std::string k = "#";
  for (const auto& [f, v] : e.fields) k += f + "=" + v + "\x1f";
  return k;
}

void check_disjoint(const SearchData& d) {
  std::set<std::string> seen;
  for (Split s : {Split::Pool, Split::Search, Split::Dev, Split::Test}) {
    std::set<std::string> mine;
    for (const Example& e : d.split(s)) mine.insert(row_key(e));
    for (const std::string& k : mine) {
      if (seen.count(k)) {
        throw std::invalid_argument("search: row " + k + " is in the " + to_string(s) +
                                    " split and an earlier one; the splits must not overlap "
                                    "(is one file given as two splits?)");
      }
    }
    seen.insert(mine.begin(), mine.end());
  }
}

}  // namespace

const std::vector<Example>& SearchData::split(Split s) const {
  switch (s) {
    case Split::Pool:
      return pool;
    case Split::Search:
      return search;
    case Split::Dev:
      return dev;
    case Split::Test:
      return test;
  }
  throw std::logic_error("SearchData::split");
}

SearchData make_search_data(const tasks::TaskSpec& task, const tasks::TaskData& data,
                            const SplitOptions& o) {
  if (task.few_shot.split != "train") {
    throw std::invalid_argument("search: few_shot.split is '" + task.few_shot.split +
                                "'; the search draws demos from train (its dev and test splits "
                                "are held out)");
  }
  if (data.dev.empty() || data.test.empty()) {
    throw std::invalid_argument(
        "search: the task has " + std::to_string(data.dev.size()) + " dev and " +
        std::to_string(data.test.size()) +
        " test examples; a search needs both (dev selects, test accepts or rejects the winner). "
        "Give data.dev and data.test, or one data.file with data.split fractions");
  }
  const size_t search_size =
      o.search_size ? o.search_size : std::min<size_t>(kDefaultSearchSize, data.train.size() / 2);
  if (search_size < 2 || data.train.size() < search_size + 1) {
    throw std::invalid_argument("search: the train split has " + std::to_string(data.train.size()) +
                                " examples; the search split takes " + std::to_string(search_size) +
                                " and the demo pool needs the rest (--search-size smaller, or "
                                "more train examples)");
  }
  const std::string stratify = ranked_task(task) ? task.target_field() : "";
  SearchData d;
  d.search = tasks::sample_examples(data.train, search_size, util::mix_seed(o.seed, 1), stratify);
  util::Rng rng(util::mix_seed(o.seed, 2));
  rng.shuffle(d.search);
  std::set<std::string> taken;
  for (const Example& e : d.search) taken.insert(row_key(e));
  for (size_t i = 0; i < data.train.size(); ++i) {
    if (taken.count(row_key(data.train[i]))) continue;
    d.pool.push_back(data.train[i]);
    d.pool_rows.push_back(i);
  }
  // Dev and test samples are the ones `ptune eval --split S --limit N --seed SEED` scores, so a
  // searched task's numbers can be reproduced.
  d.dev = eval::eval_examples(task, data, "dev", o.dev_limit, o.seed);
  d.test = eval::eval_examples(task, data, "test", o.test_limit, o.seed);
  check_disjoint(d);
  return d;
}

}  // namespace ptune::search
