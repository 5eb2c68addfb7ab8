// See recording.h.
#include "cli/recording.h"

#include <iostream>

namespace ptune::cli {

namespace {
std::vector<std::string>& argv_store() {
  static std::vector<std::string> argv;  // set once by main, before any command runs
  return argv;
}
}  // namespace

void set_command_line(int argc, char** argv) {
  argv_store().assign(argv, argv + argc);
}
const std::vector<std::string>& command_line() {
  return argv_store();
}

void add_record_options(CLI::App* cmd, RecordOptions* o, bool measuring) {
  o->store = runs::default_store_path();
  cmd->add_option("--runs", o->store,
                  "Run store (SQLite) that records runs; default $PTUNE_RUNS or runs/ptune.db")
      ->type_name("PATH")
      ->capture_default_str();
  if (measuring) cmd->add_flag("--no-record", o->off, "Do not record this run in the run store");
}

std::unique_ptr<runs::Recorder> start_recording(const RecordOptions& o, runs::RunStart start) {
  if (o.off) return nullptr;
  if (o.store.empty()) throw std::invalid_argument("--runs: empty path");
  start.argv = command_line();
  return std::make_unique<runs::Recorder>(o.store, start);
}

std::string prompt_text(const tasks::TaskSpec& task_in, const std::string& template_name,
                        const tasks::DiscretePrompt* discrete) {
  const tasks::TaskSpec task =
      discrete ? tasks::with_discrete_prompt(task_in, *discrete, template_name) : task_in;
  const auto it = task.templates.find(template_name);
  std::string text = it == task.templates.end() ? "" : it->second;
  const std::string slot = "{instruction}";
  for (size_t at = text.find(slot); at != std::string::npos; at = text.find(slot, at)) {
    text.replace(at, slot.size(), task.instruction);
    at += task.instruction.size();
  }
  return text;
}

void say_recorded(const runs::Recorder& rec) {
  std::cerr << "recorded " << rec.where() << " (ptune runs show " << rec.id() << ")\n";
}

}  // namespace ptune::cli
