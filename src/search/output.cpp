// The search's output files and table; contract in include/ptune/search/output.h.
#include "ptune/search/output.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ptune::search {
namespace {

using nlohmann::json;

std::string pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", 100 * v);
  return b;
}

std::string ci_text(const eval::ConfidenceInterval& ci) {
  return pct(ci.value) + " [" + pct(ci.low) + ", " + pct(ci.high) + "]";
}

json ci_json(const eval::ConfidenceInterval& ci) {
  return {{"value", ci.value}, {"low", ci.low}, {"high", ci.high}};
}

void write(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.close();
  if (!f) throw std::runtime_error("search: cannot write " + path);
}

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '|') c = ' ';
  }
  return s;
}

// One line per example: its input text and gold answer as a prompt shows them, and its row.
std::string split_jsonl(const tasks::TaskSpec& task, const std::vector<tasks::Example>& examples) {
  std::string out;
  for (const tasks::Example& ex : examples) {
    const ShownExample shown = shown_example(task, ex);
    out += json{{"text", shown.input}, {"label", shown.output}, {"source", ex.location()}}.dump(
               -1, ' ', false, json::error_handler_t::replace) +
           "\n";
  }
  return out;
}

}  // namespace

std::string candidate_task_file(const tasks::TaskSpec& task, const SearchData& data,
                                const Candidate& c) {
  Candidate mapped = c;
  for (size_t& i : mapped.demos.indices) i = data.pool_rows.at(i);
  return tasks::task_file_json(apply_candidate(task, mapped));
}

json result_json(const SearchResult& r, const std::string& metric) {
  json test = {{"examples", r.test.n},
               {"start", r.test.mean_a},
               {"winner", r.test.mean_b},
               {"start_ci", ci_json(r.test_start)},
               {"winner_ci", ci_json(r.test_best)},
               {"gain", ci_json(r.test.gain)},
               {"p_bootstrap", r.test.p_bootstrap},
               {"winner_better", r.test.b_wins},
               {"winner_worse", r.test.b_losses},
               {"test", r.test_name},
               {"p_value", r.p_value}};
  if (r.test.p_mcnemar) test["p_mcnemar"] = *r.test.p_mcnemar;
  return {{"metric", metric},
          {"accepted", r.accepted},
          {"winner_is_start", r.best_is_start},
          {"verdict", r.verdict},
          {"start", to_json(r.start)},
          {"winner", to_json(r.best)},
          {"winner_id", candidate_id(r.best)},
          {"test", test},
          {"budget",
           {{"spent", r.spent},
            {"test", r.spent_test},
            {"computed", r.computed},
            {"replayed", r.replayed}}},
          {"proposals",
           {{"asked", r.proposals.asked},
            {"accepted", r.proposals.accepted},
            {"malformed", r.proposals.malformed},
            {"failed", r.proposals.failed},
            {"replayed", r.proposals.replayed}}},
          {"candidates", r.leaderboard.size()},
          {"candidates_over_budget", r.over_budget},
          {"dev_examples", r.dev_examples}};
}

json leaderboard_json(const SearchResult& r) {
  json rows = json::array();
  for (const Entry& e : r.leaderboard) {
    json row = {{"id", e.id},
                {"origin", e.candidate.origin},
                {"round", e.round},
                {"changes", describe(e.candidate, r.start)},
                {"search_examples", e.examples},
                {"search_mean", e.search_mean},
                {"prompt_tokens", e.tokens},
                {"candidate", to_json(e.candidate)}};
    if (e.dev) row["dev"] = ci_json(*e.dev);
    rows.push_back(row);
  }
  return rows;
}

std::string leaderboard_markdown(const SearchResult& r, const std::string& metric) {
  std::ostringstream o;
  o << "| # | id | origin | changes | search " << metric << " (n) | dev " << metric
    << " [95% CI] | prompt tokens |\n|---|---|---|---|---|---|---|\n";
  size_t i = 0;
  for (const Entry& e : r.leaderboard) {
    char tokens[32] = "";
    if (e.tokens > 0) std::snprintf(tokens, sizeof tokens, "%.0f", e.tokens);
    o << "| " << ++i << " | " << e.id << " | " << one_line(e.candidate.origin) << " | "
      << one_line(describe(e.candidate, r.start)) << " | " << pct(e.search_mean) << " ("
      << e.examples << ") | " << (e.dev ? ci_text(*e.dev) : "") << " | " << tokens << " |\n";
  }
  return o.str();
}

std::vector<std::string> write_search_outputs(const std::string& dir, const tasks::TaskSpec& task,
                                              const SearchData& data, const SearchResult& r,
                                              const std::string& metric) {
  const std::vector<std::pair<std::string, std::string>> files = {
      {"task.json", candidate_task_file(task, data, r.chosen())},
      {"candidate_task.json", candidate_task_file(task, data, r.best)},
      {"leaderboard.json", leaderboard_json(r).dump(2) + "\n"},
      {"leaderboard.md", leaderboard_markdown(r, metric)},
      {"result.json", result_json(r, metric).dump(2) + "\n"}};
  std::vector<std::string> paths;
  for (const auto& [name, text] : files) {
    write(dir + "/" + name, text);
    paths.push_back(dir + "/" + name);
  }
  std::filesystem::create_directories(dir + "/splits");
  for (const Split s : {Split::Search, Split::Dev, Split::Test}) {
    const std::string path = dir + "/splits/" + to_string(s) + ".jsonl";
    write(path, split_jsonl(task, data.split(s)));
    paths.push_back(path);
  }
  return paths;
}

std::string format_search_report(const SearchResult& r, const std::string& metric) {
  std::ostringstream o;
  o << "test " << metric << " (" << r.test.n << " examples): start " << ci_text(r.test_start)
    << ", winner " << ci_text(r.test_best) << "; gain " << ci_text(r.test.gain) << " points, "
    << r.test_name << " p = ";
  char p[32];
  std::snprintf(p, sizeof p, "%.4g", r.p_value);
  o << p << " (" << r.test.b_wins << " better, " << r.test.b_losses << " worse)\n";
  o << r.verdict << "\n";
  o << "winner " << candidate_id(r.best) << ": " << describe(r.best, r.start) << "\n";
  if (r.best.instruction != r.start.instruction)
    o << "  instruction: " << one_line(r.best.instruction) << "\n";
  o << "budget: " << r.spent << " example evaluations (+ " << r.spent_test << " on test; "
    << r.computed << " computed, " << r.replayed << " from the journal); " << r.leaderboard.size()
    << " candidates raced";
  if (r.over_budget) o << ", " << r.over_budget << " more did not fit the budget";
  o << "; finalists compared on " << r.dev_examples << " dev examples";
  if (r.proposals.asked) {
    o << "; proposals " << r.proposals.asked << " asked, " << r.proposals.accepted << " used, "
      << r.proposals.malformed << " malformed, " << r.proposals.failed << " failed";
  }
  o << "\n\n" << leaderboard_markdown(r, metric);
  return o.str();
}

}  // namespace ptune::search
