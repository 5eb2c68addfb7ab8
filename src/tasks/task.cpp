// TaskSpec: names, defaults and the cross-field checks run after parsing.
#include "ptune/tasks/task.h"

#include <set>
#include <stdexcept>

#include "ptune/tasks/errors.h"
#include "ptune/tasks/template.h"

namespace ptune::tasks {
namespace {

bool is_labelled(TaskType t) {
  return t == TaskType::Classification || t == TaskType::MultipleChoice;
}

// Parses a template, turning a TemplateError into a TaskFileError that also names the key.
Template parse_template(const TaskSpec& t, const std::string& key, const std::string& source,
                        const std::string& name) {
  try {
    return Template::parse(source, name);
  } catch (const TemplateError& e) {
    throw TaskFileError(t.path, key, e.what());
  }
}

void check_template_fields(const TaskSpec& t, const std::string& key, const Template& tpl,
                           const std::set<std::string>& known) {
  try {
    tpl.check_fields(known);
  } catch (const TemplateError& e) {
    throw TaskFileError(t.path, key, e.what());
  }
}

void validate_templates(const TaskSpec& t) {
  // With an explicit field mapping the task fields are known now; with the identity mapping
  // they are the file's columns, checked row by row in load_task_data().
  std::set<std::string> known;
  for (const auto& [field, src] : t.data.fields) known.insert(field);
  for (const auto& [name, source] : t.templates) {
    const std::string key = name == "default" ? "template" : "templates." + name;
    const Template tpl = parse_template(t, key, source, name);
    if (!known.empty()) check_template_fields(t, key, tpl, known);
    if (tpl.uses("target")) {
      throw TaskFileError(t.path, key,
                          "{target} is the gold answer; it may only appear in few_shot.template");
    }
    if (tpl.uses("demos") && t.few_shot.demo_template.empty()) {
      throw TaskFileError(t.path, "few_shot.template",
                          "missing: template '" + name +
                              "' has a {demos} block, so a demo "
                              "template is needed to render each demonstration");
    }
    if (!tpl.uses("demos") && t.few_shot.k > 0) {
      throw TaskFileError(t.path, key,
                          "few_shot.k is " + std::to_string(t.few_shot.k) +
                              " but the template has no {demos} block");
    }
  }
  if (!t.few_shot.demo_template.empty()) {
    const Template demo = parse_template(t, "few_shot.template", t.few_shot.demo_template, "demo");
    if (!known.empty()) check_template_fields(t, "few_shot.template", demo, known);
    if (demo.uses("demos") || demo.uses("soft")) {
      throw TaskFileError(t.path, "few_shot.template",
                          "a demo template cannot contain {demos} or soft slots");
    }
  }
  if (!t.judge.prompt.empty()) {
    const Template judge = parse_template(t, "judge.prompt", t.judge.prompt, "judge");
    check_template_fields(t, "judge.prompt", judge, {"input", "prediction", "reference"});
  }
}

// "classification or multiple_choice": the task types a metric applies to, for messages.
std::string type_list(const eval::Metric& m) {
  std::string list;
  for (size_t i = 0; i < m.task_types.size(); ++i) {
    list += i == 0 ? "" : i + 1 == m.task_types.size() ? " or " : ", ";
    list += to_string(m.task_types[i]);
  }
  return list;
}

void validate_metrics(const TaskSpec& t) {
  for (const auto& name : t.metrics) {
    const eval::Metric* m = eval::find_metric(name);
    if (m == nullptr) {
      std::string list;
      for (const auto& k : known_metrics()) list += (list.empty() ? "" : ", ") + k;
      throw TaskFileError(t.path, "metrics", "unknown metric '" + name + "' (known: " + list + ")");
    }
    if (!m->applies_to(t.type)) {
      throw TaskFileError(t.path, "metrics",
                          "'" + name + "' needs a " + type_list(*m) + " task (this one is " +
                              to_string(t.type) + ")");
    }
    if (m->needs == eval::Need::Grade && t.judge.prompt.empty()) {
      throw TaskFileError(t.path, "metrics", "'" + name + "' needs a judge prompt (key \"judge\")");
    }
  }
}

void validate_labels(const TaskSpec& t) {
  if (t.type != TaskType::Classification) {
    if (!t.labels.empty() || t.labels_from_data) {
      throw TaskFileError(t.path, "labels",
                          "only classification tasks have labels (multiple_choice scores each "
                          "example's choices)");
    }
    return;
  }
  if (t.labels_from_data && t.labels.empty()) return;  // resolved from the data later
  if (t.labels.size() < 2) throw TaskFileError(t.path, "labels", "need at least two labels");
  std::set<std::string> words;
  for (const auto& l : t.labels) {
    for (const auto& w : l.words) {
      if (!words.insert(w).second) {
        throw TaskFileError(t.path, "labels." + l.name,
                            "verbalizer word '" + w + "' is used by two labels");
      }
    }
  }
}

void validate_few_shot(const TaskSpec& t) {
  const auto& f = t.few_shot;
  if (f.selection == DemoSelection::Stratified && !is_labelled(t.type)) {
    throw TaskFileError(t.path, "few_shot.selection",
                        "stratified selection needs labels; use random or fixed");
  }
  if (f.selection == DemoSelection::Fixed && f.indices.size() < f.k) {
    throw TaskFileError(t.path, "few_shot.indices",
                        "fixed selection needs k=" + std::to_string(f.k) + " positions, got " +
                            std::to_string(f.indices.size()));
  }
  if (f.selection != DemoSelection::Fixed && !f.indices.empty()) {
    throw TaskFileError(t.path, "few_shot.indices", "only used with \"selection\": \"fixed\"");
  }
}

}  // namespace

const char* to_string(TaskType t) {
  switch (t) {
    case TaskType::Classification:
      return "classification";
    case TaskType::MultipleChoice:
      return "multiple_choice";
    case TaskType::Generation:
      return "generation";
    case TaskType::QA:
      return "qa";
  }
  return "?";
}

const char* to_string(PromptFormat f) {
  return f == PromptFormat::Chat ? "chat" : "completion";
}

const char* to_string(DemoSelection s) {
  switch (s) {
    case DemoSelection::Fixed:
      return "fixed";
    case DemoSelection::Random:
      return "random";
    case DemoSelection::Stratified:
      return "stratified";
    case DemoSelection::Similar:
      return "similar";
  }
  return "?";
}

const char* to_string(ScoreNormalization n) {
  return n == ScoreNormalization::Mean ? "mean" : "sum";
}

const std::vector<std::string>& known_metrics() {
  static const std::vector<std::string> names = eval::metric_names();
  return names;
}

std::string default_dev_metric(const TaskSpec& task) {
  // Classification watches its first default (accuracy) whatever the task lists, as tune always
  // has; other types watch what the task reports first.
  if (task.type == TaskType::Classification) return default_metrics(task.type).front();
  for (const auto& name : task.metrics) {
    const eval::Metric* m = eval::find_metric(name);
    if (m != nullptr && !m->report_only()) return name;
  }
  throw std::invalid_argument("tune: the task lists no metric with a value to watch on dev");
}

std::string TaskSpec::target_field() const {
  switch (type) {
    case TaskType::Classification:
    case TaskType::MultipleChoice:
      return "label";
    case TaskType::QA:
      return "answer";
    case TaskType::Generation:
      return "reference";
  }
  return "label";
}

void TaskSpec::validate() const {
  if (templates.count("default") == 0) {
    throw TaskFileError(path, "template", "missing: every task needs a default template");
  }
  validate_labels(*this);
  validate_few_shot(*this);
  validate_templates(*this);
  validate_metrics(*this);
  if (!data.fields.empty() && data.fields.count(target_field()) == 0) {
    throw TaskFileError(
        path, "data.fields",
        "no source for '" + target_field() + "', the gold field of a " + to_string(type) + " task");
  }
  if (type == TaskType::MultipleChoice && !data.fields.empty() &&
      data.fields.count("choices") == 0) {
    throw TaskFileError(path, "data.fields", "multiple_choice tasks need a 'choices' field");
  }
}

}  // namespace ptune::tasks
