// A task built in code and a synthetic objective for the search's tests: no model, scores drawn
// from a seeded hash of (candidate, split, example) with a probability the candidate's parts set,
// so the "true" quality of every candidate is known.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "ptune/search/journal.h"
#include "ptune/search/objective.h"
#include "ptune/search/search_data.h"
#include "ptune/tasks/task.h"
#include "ptune/util/random.h"

namespace ptune::search::test {

inline tasks::TaskSpec sentiment_task() {
  return tasks::parse_task(R"({
    "name": "synthetic", "type": "classification",
    "instruction": "Decide whether the review is positive or negative, and answer with one word.",
    "template": "{instruction}\n\n{demos}Review: {text}\nSentiment:",
    "labels": {"pos": "good", "neg": "bad"},
    "data": {"train": "train.jsonl", "dev": "dev.jsonl", "test": "test.jsonl"},
    "few_shot": {"k": 0, "template": "Review: {text}\nSentiment: {target}"}
  })",
                           "synthetic.json", ".");
}

inline std::vector<tasks::Example> rows(const std::string& file, size_t n) {
  std::vector<tasks::Example> out;
  for (size_t i = 0; i < n; ++i) {
    tasks::Example e;
    e.fields = {{"text", file + " review " + std::to_string(i)}, {"label", i % 2 ? "neg" : "pos"}};
    e.source = file;
    e.line = static_cast<int64_t>(i + 1);
    out.push_back(e);
  }
  return out;
}

inline tasks::TaskData sentiment_data(size_t train = 200, size_t dev = 100, size_t test = 300) {
  tasks::TaskData d;
  d.train = rows("train.jsonl", train);
  d.dev = rows("dev.jsonl", dev);
  d.test = rows("test.jsonl", test);
  return d;
}

// P(correct): 0.6, +0.15 calibrated, +0.1 with 4 fixed demos, -0.1 with mean normalization.
inline double quality(const Candidate& c) {
  double p = 0.6;
  if (c.calibration) p += 0.15;
  if (c.demos.kind == DemoChoice::Kind::Fixed && c.demos.indices.size() == 4) p += 0.1;
  if (c.normalize == tasks::ScoreNormalization::Mean) p -= 0.1;
  return p;
}

class SyntheticObjective : public Objective {
 public:
  explicit SyntheticObjective(const SearchData& d) : data_(d) {}
  size_t size(Split s) const override { return data_.split(s).size(); }
  std::vector<std::string> keys(const Candidate& c, Split s,
                                const std::vector<size_t>& idx) override {
    std::vector<std::string> out;
    for (size_t i : idx)
      out.push_back(candidate_id(c) + "/" + to_string(s) + "/" + std::to_string(i));
    return out;
  }
  std::vector<double> evaluate(const Candidate& c, Split s,
                               const std::vector<size_t>& idx) override {
    if (fail_after >= 0 && calls >= fail_after) throw std::runtime_error("killed");
    ++calls;
    std::vector<double> out;
    for (size_t i : idx) {
      ++evaluated;
      const uint64_t h = util::mix_seed(std::hash<std::string>{}(candidate_id(c)),
                                        i * 7 + static_cast<uint64_t>(s));
      out.push_back((h % 10000) / 10000.0 < quality(c) ? 1.0 : 0.0);
    }
    return out;
  }
  int fail_after = -1;  // throw on this evaluate() call (a crash)
  int calls = 0;
  size_t evaluated = 0;

 private:
  const SearchData& data_;
};

// The journal path in an emptied folder of its own under the temp directory (test processes
// run in parallel: name it after the test).
inline std::string fresh_journal(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("ptune_search_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / "journal.jsonl").string();
}

// One synthetic search's parts: the task, its splits, the objective, a fresh journal and the
// Evaluations over them.
struct SyntheticSearch {
  explicit SyntheticSearch(const std::string& journal_name)
      : data(make_search_data(task, rows, {kDefaultSearchSize})),
        objective(data),
        journal(fresh_journal(journal_name)),
        evals(objective, journal) {}
  tasks::TaskSpec task = sentiment_task();
  tasks::TaskData rows = sentiment_data();
  SearchData data;
  SyntheticObjective objective;
  Journal journal;
  Evaluations evals;
};

}  // namespace ptune::search::test
