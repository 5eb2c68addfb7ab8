// Recording measuring commands (eval, tune) in the run store, and the store options every
// command that reads or writes it shares: --runs PATH (default $PTUNE_RUNS, else
// runs/ptune.db) and, on the measuring commands, --no-record. Part of the CLI's one vocabulary
// (common.h); kept apart because only the store's users need it.
#pragma once

#include <CLI/CLI.hpp>

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "ptune/runs/recorder.h"
#include "ptune/tasks/discrete_prompt.h"
#include "ptune/tasks/task.h"

namespace ptune::cli {

// The process's command line, as main() received it (recorded with every run).
void set_command_line(int argc, char** argv);
const std::vector<std::string>& command_line();

struct RecordOptions {
  std::string store;  // the store's path
  bool off = false;   // --no-record
};

// --runs PATH on any command; --no-record too when `measuring`.
void add_record_options(CLI::App* cmd, RecordOptions* opts, bool measuring);

// Starts recording (argv from command_line()); null with --no-record. Opening the store happens
// here, before the command's work, so an unusable store costs nothing.
std::unique_ptr<runs::Recorder> start_recording(const RecordOptions& opts, runs::RunStart start);

// Runs `body`; when it throws, records the run as failed with the error's message, then
// rethrows (main prints it). Ends, on success, with where the run was recorded (stderr).
template <typename Body>
void recorded(runs::Recorder* rec, Body&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    if (rec) rec->fail(e.what());
    throw;
  }
}

// The prompt as text, for the record (what `ptune report` diffs between runs): the template
// with the task's instruction in its {instruction} slot, a discrete prompt applied.
std::string prompt_text(const tasks::TaskSpec& task, const std::string& template_name,
                        const tasks::DiscretePrompt* discrete);

// "recorded run 12 in runs/ptune.db (ptune runs show 12)" on stderr.
void say_recorded(const runs::Recorder& rec);

}  // namespace ptune::cli
