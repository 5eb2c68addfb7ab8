// See include/ptune/runs/recorder.h.
#include "ptune/runs/recorder.h"

#include <sys/stat.h>

#include "ptune/runs/version.h"

namespace ptune::runs {

namespace {
std::string file_name(const std::string& path) {
  return path.substr(path.find_last_of('/') + 1);
}
}  // namespace

Recorder::Recorder(const std::string& store_path, const RunStart& start) : store_(store_path) {
  Run run;
  run.command = start.command;
  run.argv = start.argv;
  run.version = version();
  if (!start.model_path.empty()) {
    run.model = file_name(start.model_path);
    run.model_sha256 = store_.file_sha256(start.model_path);
  } else {
    run.model = start.remote_model;
  }
  run.task = start.task_name;
  run.task_path = start.task_path;
  if (!start.task_path.empty()) run.task_sha256 = store_.file_sha256(start.task_path);
  run.settings = start.settings;
  id_ = store_.begin(run);
}

Recorder::~Recorder() {
  if (ended_) return;
  try {
    store_.fail(id_, "the command stopped with an error before finishing");
  } catch (...) {  // a destructor must not throw; the store marks the run on its next opening
  }
}

void Recorder::step(const nlohmann::json& record) {
  store_.add_step(id_, record);
}

Artifact Recorder::artifact(const std::string& path, const std::string& kind) {
  struct stat st {};
  const bool file = stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  return {path, kind, file ? sha256_file(path) : ""};
}

void Recorder::finish(const nlohmann::json& metrics, const std::vector<nlohmann::json>& examples,
                      const std::vector<Artifact>& artifacts,
                      const nlohmann::json& settings_update) {
  store_.finish(id_, metrics, examples, artifacts, settings_update);
  ended_ = true;
}

void Recorder::fail(const std::string& error) {
  store_.fail(id_, error);
  ended_ = true;
}

std::string Recorder::where() const {
  return "run " + std::to_string(id_) + " in " + store_.path();
}

}  // namespace ptune::runs
