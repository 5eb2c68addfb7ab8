// One point of `ptune search`'s space: the parts of a task's prompt the search varies, applied to
// the start task to give the task a candidate is scored as.
//
//   instruction   the text of the {instruction} slot
//   demos         the task's own few-shot settings, a fixed list of demo-pool positions in prompt
//                 order, or "similar" selection (BM25 per query) with k and a per-label cap
//   words         per label (the task's order), its verbalizer words; empty = the task's
//   calibration   contextual calibration on or off
//   normalize     sum or mean of the label continuation's log-probs
// `origin` says how the candidate was made (for the leaderboard); it is not part of its id.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "ptune/tasks/task.h"

namespace ptune::search {

struct DemoChoice {
  enum class Kind { Task, Fixed, Similar };
  Kind kind = Kind::Task;
  std::vector<size_t> indices;  // Fixed: demo-pool positions, in prompt order
  size_t k = 0;                 // Similar
  size_t per_label = 0;         // Similar: at most this many demos of one label (0 = no cap)
  bool operator==(const DemoChoice& o) const {
    return kind == o.kind && indices == o.indices && k == o.k && per_label == o.per_label;
  }
};

struct Candidate {
  std::string instruction;
  DemoChoice demos;
  std::vector<std::vector<std::string>> words;  // empty = the task's verbalizer
  bool calibration = false;
  tasks::ScoreNormalization normalize = tasks::ScoreNormalization::Sum;
  std::string origin;  // "start", "edit: delete ...", "ape", "opro", "demos: random", ...
};

// Classification and multiple choice: tasks scored by ranking candidates (calibration,
// normalization and label strata apply).
bool ranked_task(const tasks::TaskSpec& task);

// The start of a search: the task as its file has it.
Candidate start_candidate(const tasks::TaskSpec& task);

// The candidate's parts as JSON (without origin); equal parts give equal JSON.
nlohmann::json to_json(const Candidate& c);
// Throws nlohmann::json::exception or std::invalid_argument for JSON to_json did not write.
Candidate candidate_from_json(const nlohmann::json& j);
// 12 hex digits of the SHA-256 of to_json(c): names a candidate in journals and leaderboards.
std::string candidate_id(const Candidate& c);
// One line for people: "k=4 fixed [3 17 8 40], calibrated, mean, instruction edited".
std::string describe(const Candidate& c, const Candidate& start);

// The task `c` is scored as: `base` with c's instruction, demos (positions index the task's demo
// split as the search passes it, i.e. its demo pool), words, calibration and normalization;
// re-validated. Throws tasks::TaskFileError for a combination the task cannot take (demos
// without a {demos} slot, words colliding across labels).
tasks::TaskSpec apply_candidate(const tasks::TaskSpec& base, const Candidate& c);

}  // namespace ptune::search
