// Recording one run of a command into the store: created when the command starts (so an
// unusable store fails before any work), fed per-step records while it runs, finished with the
// final metrics, per-example records and artifacts. A Recorder destroyed without finish() or
// fail() (an exception on the way out) records the run as failed; a killed process leaves it
// "running", and the next opening of the store marks it interrupted (store.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ptune/runs/store.h"

namespace ptune::runs {

struct RunStart {
  std::string command;            // "eval", "tune", "search", "bench:<program>"
  std::vector<std::string> argv;  // the command line
  std::string model_path;         // "" = none; the file name and its sha256 are recorded
  std::string task_path;          // "" = none; sha256 recorded
  std::string task_name;
  nlohmann::json settings = nlohmann::json::object();
  std::string remote_model;  // instead of model_path: a model behind an API, recorded by name
};

class Recorder {
 public:
  Recorder(const std::string& store_path, const RunStart& start);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  int64_t id() const { return id_; }
  const std::string& store_path() const { return store_.path(); }
  void step(const nlohmann::json& record);
  // A file the run wrote ("" sha256 for folders and files that are gone).
  Artifact artifact(const std::string& path, const std::string& kind);
  void finish(const nlohmann::json& metrics, const std::vector<nlohmann::json>& examples,
              const std::vector<Artifact>& artifacts,
              const nlohmann::json& settings_update = nlohmann::json::object());
  void fail(const std::string& error);
  // "run 12 in runs/ptune.db".
  std::string where() const;

 private:
  Store store_;
  int64_t id_ = 0;
  bool ended_ = false;
};

}  // namespace ptune::runs
