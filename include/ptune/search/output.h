// What a search leaves in its output folder, and the table it prints:
//   task.json             the chosen prompt (the winner if accepted, else the start) as a complete
//                         task file: data paths absolute, fixed demos as positions in the train
//                         split, so `ptune eval -t OUT/task.json` scores exactly what was measured
//   candidate_task.json   the dev winner as a task file, accepted or not (to look at, or to test)
//   leaderboard.json/.md  every candidate raced: id, origin, what it changes, its search-split
//                         mean and examples, the dev mean with its 95% CI for finalists, its
//                         mean prompt length in tokens (what it costs per call)
//   result.json           the decision: start vs winner on test with the gain's CI and p-values,
//                         the verdict, the budget spent, proposer counts
//   splits/               search.jsonl, dev.jsonl, test.jsonl: the examples of each split, one
//                         {"text", "label" (the gold answer as prompts show it), "source"} per
//                         line, so another tool can be run on the same splits
//                         (bench/anchors/dspy_mipro.py)
//   journal.jsonl         (written while searching: journal.h)
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "ptune/search/search.h"

namespace ptune::search {

// The candidate as a task file's text (see above). `data` maps demo positions to train rows.
std::string candidate_task_file(const tasks::TaskSpec& task, const SearchData& data,
                                const Candidate& c);

nlohmann::json result_json(const SearchResult& r, const std::string& metric);
nlohmann::json leaderboard_json(const SearchResult& r);
std::string leaderboard_markdown(const SearchResult& r, const std::string& metric);

// Writes the files above (not the journal) into `dir`; returns their paths. Throws
// std::runtime_error naming a file that cannot be written.
std::vector<std::string> write_search_outputs(const std::string& dir, const tasks::TaskSpec& task,
                                              const SearchData& data, const SearchResult& r,
                                              const std::string& metric);

// The printed summary: start vs winner on test, the verdict, the top of the leaderboard.
std::string format_search_report(const SearchResult& r, const std::string& metric);

}  // namespace ptune::search
