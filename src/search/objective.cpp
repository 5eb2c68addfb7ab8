// The journaled, counted evaluations; contract in include/ptune/search/objective.h.
#include "ptune/search/objective.h"

#include <stdexcept>

#include "ptune/util/random.h"

namespace ptune::search {

const char* to_string(Split s) {
  switch (s) {
    case Split::Pool:
      return "pool";
    case Split::Search:
      return "search";
    case Split::Dev:
      return "dev";
    case Split::Test:
      return "test";
  }
  return "?";
}

std::vector<double> Evaluations::scores(const Candidate& c, Split split,
                                        const std::vector<size_t>& indices) {
  const std::vector<std::string> keys = objective_.keys(c, split, indices);
  if (keys.size() != indices.size()) throw std::logic_error("objective: one key per example");
  std::vector<double> out(indices.size());
  std::vector<size_t> missing;  // positions in `indices`
  for (size_t i = 0; i < indices.size(); ++i) {
    if (asked_.insert(keys[i]).second) ++spent_[static_cast<size_t>(split)];
    if (const auto v = journal_.score(keys[i])) {
      out[i] = *v;
    } else {
      missing.push_back(i);
    }
  }
  // Duplicates within one call are evaluated once.
  std::vector<size_t> to_run;
  std::unordered_set<std::string> queued;
  for (size_t i : missing) {
    if (queued.insert(keys[i]).second) to_run.push_back(i);
  }
  replayed_ += indices.size() - missing.size();
  if (!to_run.empty()) {
    std::vector<size_t> ex;
    for (size_t i : to_run) ex.push_back(indices[i]);
    const std::vector<double> got = objective_.evaluate(c, split, ex);
    if (got.size() != ex.size()) throw std::logic_error("objective: one score per example");
    std::vector<std::pair<std::string, double>> rows;
    for (size_t j = 0; j < to_run.size(); ++j) rows.emplace_back(keys[to_run[j]], got[j]);
    journal_.add_scores(rows);
    computed_ += to_run.size();
    for (size_t i : missing) out[i] = *journal_.score(keys[i]);
  }
  return out;
}

double Evaluations::mean(const Candidate& c, Split split, size_t n) {
  const std::vector<double> s = scores(c, split, util::iota_indices(n));
  double sum = 0;
  for (double v : s) sum += v;
  return s.empty() ? 0 : sum / s.size();
}

size_t Evaluations::spent_on_search() const {
  return spent(Split::Pool) + spent(Split::Search) + spent(Split::Dev);
}

}  // namespace ptune::search
