// A recorded run: what one measuring command (eval, tune, search, a bench) did, as the run store
// (ptune/runs/store.h) keeps it and `ptune report` draws it. Plain data, no database here.
//
// Per-example records (`examples`) are eval's examples.jsonl lines:
//   "index"       position in the evaluated split
//   "source"      "file:line" of the row: the key that matches an example across runs
//   "input"       the row's fields ({"text": ..., "label": ...})
//   "prediction", "gold", "correct" (bool)       classification / multiple choice
//   "label_scores" {label: {"score": sum-or-mean log-prob, "prob": normalised probability}}
//   text tasks: "prediction", "references", one number per text metric ("exact_match", ...)
// Per-step records (`steps`) are the command's log lines:
//   tune    {"step", "epoch", "loss", "lr", "grad_norm"[, "eval"]}  ("eval": the dev metric)
//   search  {"step", "budget" (example evaluations spent), "best" (best score so far)[, ...]}
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ptune::runs {

enum class Status { Running, Finished, Failed, Interrupted };

// "running", "finished", "failed", "interrupted"; status_from_string throws
// std::invalid_argument for any other text.
std::string to_string(Status status);
Status status_from_string(const std::string& text);

struct Artifact {
  std::string path;    // as written (absolute when the command knew it)
  std::string kind;    // "adapter", "examples", "summary", "record", "report", ...
  std::string sha256;  // of the file ("" for a folder)
};

struct Run {
  int64_t id = 0;
  std::string command;                  // "eval", "tune", "search", "bench:<program>"
  std::vector<std::string> argv;        // the command line as given
  std::string version;                  // ptune's `git describe` at build time
  std::string started_at, finished_at;  // ISO 8601 UTC ("2026-12-01T14:05:09Z"); "" = not yet
  Status status = Status::Running;
  std::string error;                         // why a failed run failed
  std::string model, model_sha256;           // model file name and the file's sha256
  std::string task, task_path, task_sha256;  // task name, task file, the file's sha256
  // Resolved settings: split, template, shots, method, method_config, lr, ... and, when known,
  // "prompt": the prompt as text (template with instruction; what the report diffs).
  nlohmann::json settings = nlohmann::json::object();
  // Final metrics: {name: {"value", "low", "high"}} for headline metrics (95% CI), plus the
  // tables eval's summary.json has ("per_class", "confusion_matrix": {"labels", "counts"}).
  // Benches: {row name: {"value": ratio or rate, "unit": ...}}.
  nlohmann::json metrics = nlohmann::json::object();
  std::vector<nlohmann::json> steps;
  std::vector<nlohmann::json> examples;
  std::vector<Artifact> artifacts;

  // "eval sentiment #12 (test)": command, task, id and split, for tables and legends.
  std::string label() const;
  // The first headline metric as "accuracy 0.8300 [0.7800, 0.8700]" ("" when none).
  std::string headline() const;
};

// Everything in a run as one JSON object (`ptune runs show --json`).
nlohmann::json to_json(const Run& run);

}  // namespace ptune::runs
