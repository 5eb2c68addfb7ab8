// The 77-intent routing task eval_bench measures: a task file written to a temporary folder,
// over BANKING77's train file when ../shared/data has it (its 10% test split, stratified), else
// over a seeded synthetic set of the same shape written next to it (77 intents named by 2-5
// words from a small banking vocabulary, so that many share first words as BANKING77's do;
// 20 messages each). Labels "from_data": the intent names with '_' as spaces ("card_arrival" ->
// "card arrival").
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bench_util.h"

namespace ptune::bench {

// Writes a synthetic intent CSV (text,category) and returns its path.
inline std::string write_synthetic_intents(const std::string& dir) {
  const std::vector<std::string> heads = {"card",     "transfer", "balance", "top_up", "cash",
                                          "exchange", "pin",      "account", "refund", "payment"};
  const std::vector<std::string> tails = {
      "arrival",     "not_working", "declined",     "pending",      "failed",
      "fee_charged", "limits",      "reverted",     "not_received", "wrong_amount",
      "timing",      "blocked",     "verification", "cancelled",    "charged_twice"};
  std::mt19937 rng(77);
  std::set<std::string> names;
  while (names.size() < 77) {
    std::string n = heads[rng() % heads.size()] + "_" + tails[rng() % tails.size()];
    if (rng() % 3 == 0) n += "_" + tails[rng() % tails.size()];
    names.insert(n);
  }
  const std::vector<std::string> openers = {"Hi, ", "Hello, ", "", "Please help: ", "Urgent: "};
  const std::string path = dir + "/intents77.csv";
  std::ofstream f(path);
  f << "text,category\n";
  for (const std::string& n : names) {
    std::string words = n;
    for (char& c : words) c = c == '_' ? ' ' : c;
    for (int i = 0; i < 20; ++i) {
      f << openers[rng() % openers.size()] << "I have a problem: my " << words << " issue #"
        << rng() % 1000 << "," << n << "\n";
    }
  }
  return path;
}

// Writes the task file into `dir`; returns its path and says which data it used in *source.
inline std::string write_intents77_task(const std::string& dir, std::string* source) {
  std::string csv = repo_root() + "/../shared/data/banking77_train.csv";
  if (is_file(csv)) {
    *source = "BANKING77 train (../shared/data), its held-out 10% test split";
  } else {
    csv = write_synthetic_intents(dir);
    *source = "synthetic 77-intent set (no ../shared/data/banking77_train.csv)";
  }
  const nlohmann::json task = {
      {"name", "intents77"},
      {"type", "classification"},
      {"instruction", "Route the customer's message to the bank's intent."},
      {"template", "{instruction}\n\nMessage: {text}\nIntent:"},
      {"labels", "from_data"},  // the categories, '_' read as spaces
      {"metrics", {"accuracy"}},
      {"data",
       {{"file", csv},
        {"format", "csv"},
        {"fields", {{"text", "text"}, {"label", "category"}}},
        {"split", {{"train", 0.8}, {"dev", 0.1}, {"test", 0.1}, {"seed", 0}}}}},
      {"few_shot", {{"k", 0}}}};
  const std::string path = dir + "/intents77.json";
  std::ofstream(path) << task.dump(2);
  return path;
}

}  // namespace ptune::bench
