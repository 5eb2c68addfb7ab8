// make_sample_report OUT.html: a report from synthetic but realistic runs, for the browser test
// (browser_test.sh) and for looking at the page: two eval runs of a sentiment task on the same
// 40 examples with prompts a few words apart, a tune run (30 steps, dev eval every 10), a search
// run, a 77-label intent run, and an interrupted tune run. Seeded, so the page is the same each
// time. Some example text holds markup, which must show as text.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "ptune/report/report.h"

namespace {

using nlohmann::json;
using ptune::runs::Run;
using ptune::runs::Status;

const std::vector<std::string> kSentiment = {"negative", "neutral", "positive"};

std::string review(int i, int& label) {
  static const char* subjects[] = {"The delivery", "Customer support",  "The battery",
                                   "This update",  "The checkout page", "The new menu",
                                   "Shipping",     "The refund process"};
  static const char* phrases[][2] = {
      {"was a complete disaster, never again", "keeps failing and nobody answers"},
      {"arrived on Tuesday as described", "is about what I expected"},
      {"was wonderful, thank you so much", "works perfectly now, great job"}};
  label = (i * 7 + i / 3) % 3;
  std::string text = std::string(subjects[i % 8]) + " " + phrases[label][(i / 8) % 2] + ".";
  if (i == 5) text += " <script>alert('not run')</script>";
  if (i == 11) text += " Price went from $5 -> $7 & \"no\" <b>warning</b>.";
  return text;
}

json label_scores(const std::vector<std::string>& labels, size_t pred, double prob) {
  json scores = json::object();
  const double rest = (1 - prob) / static_cast<double>(labels.size() - 1);
  for (size_t l = 0; l < labels.size(); ++l) {
    const double p = l == pred ? prob : rest;
    scores[labels[l]] = {{"score", std::log(p)}, {"prob", p}};
  }
  return scores;
}

// The fields every sample run shares.
Run base_run(int64_t id, const std::string& command, Status status) {
  Run r;
  r.id = id;
  r.command = command;
  r.task = "sentiment";
  r.model = "SmolLM2-135M-Instruct.Q4_1.gguf";
  r.version = "v0.1.0-42-gc339eb6";
  r.status = status;
  return r;
}

// An eval run: each example right with probability `skill`, confidence a little overconfident.
Run eval_run(int64_t id, const std::string& prompt, double skill, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Run r = base_run(id, "eval", Status::Finished);
  r.started_at = "2026-12-01T14:0" + std::to_string(id) + ":09Z";
  r.finished_at = "2026-12-01T14:0" + std::to_string(id + 1) + ":02Z";
  r.settings = {{"split", "test"}, {"template", "default"}, {"shots", 5}, {"prompt", prompt}};
  std::vector<std::vector<int>> counts(3, std::vector<int>(3, 0));
  int right = 0;
  for (int i = 0; i < 40; ++i) {
    int gold = 0;
    const std::string text = review(i, gold);
    const bool ok = u(rng) < skill;
    const int pred = ok ? gold : (gold + 1 + static_cast<int>(u(rng) * 2)) % 3;
    const double prob = ok ? 0.55 + 0.44 * u(rng) : 0.4 + 0.5 * u(rng);
    ++counts[gold][pred];
    right += ok;
    r.examples.push_back({{"index", i},
                          {"source", "examples/sentiment/test.csv:" + std::to_string(i + 2)},
                          {"input", {{"text", text}, {"label", kSentiment[gold]}}},
                          {"gold", kSentiment[gold]},
                          {"prediction", kSentiment[pred]},
                          {"correct", ok},
                          {"label_scores", label_scores(kSentiment, pred, prob)}});
  }
  const double acc = right / 40.0;
  r.metrics = {
      {"accuracy", {{"value", acc}, {"low", acc - 0.12}, {"high", std::min(1.0, acc + 0.1)}}},
      {"macro_f1",
       {{"value", acc - 0.03}, {"low", acc - 0.17}, {"high", std::min(1.0, acc + 0.08)}}},
      {"confusion_matrix", {{"labels", kSentiment}, {"counts", counts}}}};
  return r;
}

Run tune_run(int64_t id, int steps, Status status) {
  std::mt19937 rng(id);
  std::normal_distribution<double> noise(0, 0.06);
  Run r = base_run(id, "tune", status);
  r.started_at = "2026-12-01T15:1" + std::to_string(id % 10) + ":00Z";
  r.settings = {{"method", "prompt-tuning"}, {"lr", 0.3}, {"seconds", 61.5 + 3 * steps}};
  if (status == Status::Finished) r.finished_at = "2026-12-01T15:20:00Z";
  if (status == Status::Interrupted)
    r.error = "interrupted (SIGINT) at step " + std::to_string(steps);
  for (int s = 1; s <= steps; ++s) {
    json step = {
        {"step", s},
        {"epoch", (s - 1) / 10},
        {"lr", 0.3},
        {"grad_norm", 1.5 / std::sqrt(s)},
        {"loss", 0.35 + 1.6 * std::exp(-s / 7.0) + noise(rng) + 0.01 * static_cast<double>(id)}};
    if (s % 10 == 0)
      step["eval"] = 0.78 + 0.14 * (1 - std::exp(-s / 12.0)) - 0.01 * static_cast<double>(id % 3);
    r.steps.push_back(step);
  }
  if (status == Status::Finished) {
    r.metrics = {{"accuracy", {{"value", 0.92}, {"low", 0.84}, {"high", 0.97}}},
                 {"macro_f1", {{"value", 0.91}, {"low", 0.82}, {"high", 0.96}}}};
  }
  return r;
}

Run search_run(int64_t id) {
  Run r;
  r.id = id;
  r.command = "search";
  r.task = "sentiment";
  r.status = Status::Finished;
  r.started_at = "2026-12-01T16:00:00Z";
  r.finished_at = "2026-12-01T16:12:31Z";
  const double best[] = {0.62, 0.62, 0.7, 0.7, 0.7, 0.78, 0.8, 0.8, 0.8, 0.8, 0.85, 0.85, 0.85};
  for (int s = 0; s < 13; ++s)
    r.steps.push_back({{"step", s}, {"budget", 64 * s}, {"best", best[s]}});
  r.metrics = {{"accuracy", {{"value", 0.85}, {"low", 0.74}, {"high", 0.93}}}};
  return r;
}

Run intents_run(int64_t id) {
  static const char* a[] = {"card", "transfer", "cash_withdrawal", "top_up",  "exchange_rate",
                            "pin",  "account",  "refund",          "payment", "atm"};
  static const char* b[] = {"arrival",     "pending",  "failed",      "limits",
                            "fee_charged", "declined", "not_working", "verification_required"};
  std::vector<std::string> labels;
  for (size_t i = 0; labels.size() < 77; ++i)
    labels.push_back(std::string(a[i % 10]) + "_" + b[(i / 10 + i) % 8] + (i >= 80 ? "_2" : ""));
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> any(0, 76);
  std::vector<std::vector<int>> counts(77, std::vector<int>(77, 0));
  Run r;
  r.id = id;
  r.command = "eval";
  r.task = "banking77";
  r.model = "SmolLM2-135M-Instruct.Q4_1.gguf";
  r.status = Status::Finished;
  r.started_at = "2026-12-01T17:00:00Z";
  r.finished_at = "2026-12-01T17:41:10Z";
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 77 * 12; ++i) {
    const int gold = i % 77;
    const bool ok = u(rng) < 0.6;
    const int pred = ok ? gold : any(rng);
    ++counts[gold][pred];
    const double prob = ok ? 0.3 + 0.6 * u(rng) : 0.15 + 0.6 * u(rng);
    json scores = {
        {labels[pred], {{"score", std::log(prob)}, {"prob", prob}}},
        {labels[(pred + 1) % 77], {{"score", std::log(1 - prob)}, {"prob", (1 - prob) / 2}}}};
    r.examples.push_back(
        {{"index", i},
         {"source", "banking77/test.csv:" + std::to_string(i + 2)},
         {"input", {{"text", "query " + std::to_string(i) + " about " + labels[gold]}}},
         {"gold", labels[gold]},
         {"prediction", labels[pred]},
         {"correct", pred == gold},
         {"label_scores", scores}});
  }
  r.metrics = {{"accuracy", {{"value", 0.61}, {"low", 0.58}, {"high", 0.64}}},
               {"confusion_matrix", {{"labels", labels}, {"counts", counts}}}};
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_sample_report OUT.html\n";
    return 2;
  }
  const std::string base =
      "You are a sentiment classifier. Read the review and answer with one word: "
      "positive, negative or neutral.\n\nReview: {text}\nSentiment:";
  const std::string tuned =
      "You are a careful sentiment classifier. Read the customer review and "
      "answer with exactly one word: positive, negative or neutral.\n\n"
      "Review: {text}\nAnswer:";
  std::vector<Run> runs = {eval_run(1, base, 0.78, 11),
                           eval_run(2, tuned, 0.88, 12),
                           tune_run(3, 30, Status::Finished),
                           search_run(4),
                           intents_run(5),
                           tune_run(6, 12, Status::Interrupted)};
  ptune::report::ReportOptions options;
  options.title = "ptune report: sentiment and banking77";
  std::ofstream out(argv[1], std::ios::binary);
  out << ptune::report::render_html(runs, options);
  if (!out.good()) {
    std::cerr << "make_sample_report: cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
