// Loading a task's splits and checking each row against the task.
#include <stdexcept>

#include "ptune/tasks/errors.h"
#include "ptune/tasks/prompt.h"
#include "ptune/tasks/task.h"
#include "readers.h"

namespace ptune::tasks {
namespace {

// Throws DataError when `ex` cannot be used: a field a template reads, the gold value, or (for
// labelled tasks) a label the task does not know.
void check_row(const Example& ex, const PromptBuilder& prompts,
               const std::vector<std::string>& required) {
  for (const auto& field : required) {
    if (!ex.has(field) && ex.lists.count(field) == 0) {
      throw DataError(ex.source, ex.line, field, "missing (the task's templates use it)");
    }
  }
  const TaskType type = prompts.task().type;
  if (type == TaskType::Classification || type == TaskType::MultipleChoice) {
    prompts.gold_index(ex);
  } else if (prompts.references(ex).empty()) {
    throw DataError(ex.source, ex.line, prompts.label_field(), "no reference answers");
  }
}

std::vector<Example> checked(std::vector<Example> rows, const TaskSpec& task, LoadReport& report) {
  const PromptBuilder prompts(task);
  std::vector<std::string> required = prompts.query_template().fields();
  if (!task.few_shot.demo_template.empty()) {
    for (const auto& f : Template::parse(task.few_shot.demo_template, "demo").fields()) {
      required.push_back(f);
    }
  }
  required.push_back(task.target_field());
  if (task.type == TaskType::MultipleChoice) required.push_back("choices");
  LoadOptions options;
  options.skip_bad = task.data.skip_bad;
  std::vector<Example> good;
  good.reserve(rows.size());
  for (auto& ex : rows) {
    if (detail::guard_row(options, report, [&] { check_row(ex, prompts, required); })) {
      good.push_back(std::move(ex));
    } else {
      --report.loaded;  // read fine, rejected by the task: counted as skipped instead
    }
  }
  return good;
}

}  // namespace

const std::vector<Example>& TaskData::split(const std::string& name) const {
  if (name == "train") return train;
  if (name == "dev") return dev;
  if (name == "test") return test;
  throw std::invalid_argument("unknown split '" + name + "' (expected train, dev or test)");
}

LoadOptions load_options(const TaskSpec& task) {
  LoadOptions options;
  options.format = task.data.format;
  options.mapping = task.data.fields;
  options.skip_bad = task.data.skip_bad;
  return options;
}

TaskData load_task_data(const TaskSpec& task) {
  const LoadOptions options = load_options(task);
  TaskData data;
  auto load = [&](const std::string& path) {
    return checked(load_examples(path, options, &data.report), task, data.report);
  };
  if (!task.data.file.empty()) {
    const bool labelled =
        task.type == TaskType::Classification || task.type == TaskType::MultipleChoice;
    Splits s = split_examples(load(task.data.file), task.data.fractions, task.data.split_seed,
                              task.data.stratify && labelled ? "label" : "");
    data.train = std::move(s.train);
    data.dev = std::move(s.dev);
    data.test = std::move(s.test);
    return data;
  }
  for (const auto& [split, path] : task.data.split_files) {
    (split == "train" ? data.train : split == "dev" ? data.dev : data.test) = load(path);
  }
  return data;
}

}  // namespace ptune::tasks
