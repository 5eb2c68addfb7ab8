// A TaskSpec written back as a task file (task.h: task_file_json). Every key parse_task reads is
// written with its value, defaults included, so the file says everything the task does; data
// paths are absolute, so the file runs from any folder (`ptune search` writes its winner so).
#include <nlohmann/json.hpp>

#include <filesystem>

#include "ptune/tasks/task.h"

namespace ptune::tasks {
namespace {

using ordered_json = nlohmann::ordered_json;

std::string absolute(const std::string& path) {
  if (path.empty()) return path;
  return std::filesystem::absolute(path).lexically_normal().string();
}

ordered_json data_json(const DataSpec& d) {
  ordered_json j;
  if (d.file.empty()) {
    for (const auto& [split, path] : d.split_files) j[split] = absolute(path);
  } else {
    j["file"] = absolute(d.file);
    j["split"] = {{"train", d.fractions.train},
                  {"dev", d.fractions.dev},
                  {"test", d.fractions.test},
                  {"seed", d.split_seed},
                  {"stratify", d.stratify}};
  }
  const char* formats[] = {"auto", "jsonl", "csv", "tsv"};
  j["format"] = formats[static_cast<int>(d.format)];
  if (!d.fields.empty()) {
    ordered_json fields = ordered_json::object();
    for (const auto& [field, src] : d.fields) {
      ordered_json from = src.keys.size() == 1 ? ordered_json(src.keys[0]) : ordered_json(src.keys);
      fields[field] = src.optional ? ordered_json{{"from", from}, {"optional", true}} : from;
    }
    j["fields"] = fields;
  }
  j["skip_bad"] = d.skip_bad;
  return j;
}

ordered_json few_shot_json(const FewShotSpec& f) {
  ordered_json j{{"k", f.k}, {"selection", to_string(f.selection)}, {"seed", f.seed}};
  if (f.selection == DemoSelection::Fixed) j["indices"] = f.indices;
  j["split"] = f.split;
  j["resample"] = f.resample;
  if (f.selection != DemoSelection::Fixed) j["per_label"] = f.per_label;
  if (!f.demo_template.empty()) j["template"] = f.demo_template;
  j["separator"] = f.separator;
  return j;
}

}  // namespace

std::string task_file_json(const TaskSpec& t) {
  ordered_json j;
  j["name"] = t.name;
  if (!t.description.empty()) j["description"] = t.description;
  j["type"] = to_string(t.type);
  j["format"] = to_string(t.format);
  if (!t.system.empty()) j["system"] = t.system;
  j["instruction"] = t.instruction;
  j["template"] = t.templates.at("default");
  ordered_json named = ordered_json::object();
  for (const auto& [name, src] : t.templates) {
    if (name != "default") named[name] = src;
  }
  if (!named.empty()) j["templates"] = named;
  if (!t.labels.empty()) {
    ordered_json labels = ordered_json::object();
    for (const LabelSpec& l : t.labels) labels[l.name] = l.words;  // resolved, even "from_data"
    j["labels"] = labels;
  }
  j["metrics"] = t.metrics;
  j["data"] = data_json(t.data);
  j["few_shot"] = few_shot_json(t.few_shot);
  j["scoring"] = {{"normalize", to_string(t.scoring.normalize)},
                  {"calibration", t.scoring.calibration},
                  {"calibration_inputs", t.scoring.calibration_inputs},
                  {"label_prefix", t.scoring.label_prefix}};
  j["generation"] = {{"max_tokens", t.generation.max_tokens},
                     {"stop", t.generation.stop},
                     {"temperature", t.generation.temperature},
                     {"top_p", t.generation.top_p},
                     {"top_k", t.generation.top_k}};
  if (!t.judge.prompt.empty()) {
    j["judge"] = {{"prompt", t.judge.prompt},
                  {"criterion", t.judge.criterion},
                  {"min_score", t.judge.min_score},
                  {"max_score", t.judge.max_score}};
  }
  return j.dump(2, ' ', false, ordered_json::error_handler_t::strict) + "\n";
}

}  // namespace ptune::tasks
