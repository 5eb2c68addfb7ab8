// Task file (JSON) -> TaskSpec. Key reference: docs/task-file.md.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ptune/tasks/errors.h"
#include "ptune/tasks/task.h"
#include "ptune/util/files.h"
#include "ptune/util/json.h"
#include "ptune/util/json_reader.h"

namespace ptune::tasks {
namespace {

using util::JsonReader;
using util::ordered_json;

template <typename Enum>
Enum parse_enum(const JsonReader& r, const std::string& key, Enum fallback,
                const std::vector<std::pair<const char*, Enum>>& names) {
  if (!r.has(key)) return fallback;
  const std::string v = r.str(key);
  std::string list;
  for (const auto& [name, value] : names) {
    if (v == name) return value;
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  r.fail(key, "unknown value '" + v + "' (expected one of: " + list + ")");
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  namespace fs = std::filesystem;
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(base_dir) / p).lexically_normal().string();
}

FieldSource parse_field_source(const JsonReader& fields, const std::string& key) {
  const ordered_json& v = *fields.find(key);
  if (v.is_string() || v.is_array()) return {fields.strings(key, {}), false};
  const JsonReader obj = fields.object(key, {"from", "optional"});
  if (!obj.has("from")) obj.fail("from", "missing: name the source column or key");
  return {obj.strings("from", {}), obj.boolean("optional", false)};
}

DataSpec parse_data(const JsonReader& root, const std::string& base_dir) {
  const JsonReader r = root.object(
      "data", {"train", "dev", "test", "file", "split", "format", "fields", "skip_bad"});
  DataSpec d;
  for (const char* split : {"train", "dev", "test"}) {
    if (r.has(split)) d.split_files[split] = resolve(base_dir, r.str(split));
  }
  d.file = resolve(base_dir, r.str("file"));
  if (d.file.empty() && d.split_files.empty()) {
    r.fail("", "give split files (train/dev/test) or one \"file\" to split");
  }
  if (!d.file.empty() && !d.split_files.empty()) {
    r.fail("file", "give either split files (train/dev/test) or one file to split, not both");
  }
  const JsonReader s = r.object("split", {"train", "dev", "test", "seed", "stratify"});
  if (r.has("split") && d.file.empty()) r.fail("split", "only applies with \"file\"");
  d.fractions = {s.number("train", 0.8), s.number("dev", 0.1), s.number("test", 0.1)};
  try {
    d.fractions.validate();
  } catch (const std::invalid_argument& e) {
    r.fail("split", e.what());
  }
  d.split_seed = static_cast<uint64_t>(s.integer("seed", 0, 0, INT64_MAX));
  d.stratify = s.boolean("stratify", true);
  try {
    d.format = parse_file_format(r.str("format", "auto"));
  } catch (const std::invalid_argument& e) {
    r.fail("format", e.what());
  }
  if (const auto* f = r.find("fields")) {
    std::set<std::string> keys;
    if (f->is_object()) {
      for (const auto& [k, v] : f->items()) keys.insert(k);
    }
    const JsonReader fields = r.object("fields", keys);
    for (const auto& k : keys) d.fields[k] = parse_field_source(fields, k);
  }
  d.skip_bad = r.boolean("skip_bad", false);
  return d;
}

std::vector<LabelSpec> parse_labels(const JsonReader& root, bool* from_data) {
  std::vector<LabelSpec> labels;
  const auto* v = root.find("labels");
  if (!v) return labels;
  if (v->is_string()) {
    if (v->get<std::string>() != "from_data") {
      root.fail("labels", "must be an object of label -> verbalizer words, or \"from_data\"");
    }
    *from_data = true;
    return labels;
  }
  std::set<std::string> keys;
  if (v->is_object()) {
    for (const auto& [k, w] : v->items()) keys.insert(k);
  }
  const JsonReader r = root.object("labels", keys);
  for (const auto& [name, words] : v->items()) {  // ordered_json keeps the file's label order
    LabelSpec l{name, r.strings(name, {})};
    if (l.words.empty()) r.fail(name, "a label needs at least one verbalizer word");
    for (const auto& w : l.words) {
      if (w.empty()) r.fail(name, "verbalizer words must not be empty");
    }
    labels.push_back(std::move(l));
  }
  return labels;
}

// "label_words": {label: word or [words]}: verbalizers for labels "from_data".
std::map<std::string, std::vector<std::string>> parse_label_words(const JsonReader& root,
                                                                  bool from_data) {
  std::map<std::string, std::vector<std::string>> out;
  const auto* v = root.find("label_words");
  if (!v) return out;
  if (!from_data) root.fail("label_words", "only with \"labels\": \"from_data\"");
  std::set<std::string> keys;
  if (v->is_object()) {
    for (const auto& [k, w] : v->items()) keys.insert(k);
  }
  const JsonReader r = root.object("label_words", keys);
  for (const std::string& k : keys) {
    std::vector<std::string> words =
        r.find(k)->is_string() ? std::vector<std::string>{r.str(k)} : r.strings(k, {});
    if (words.empty()) r.fail(k, "needs at least one verbalizer word");
    for (const auto& w : words) {
      if (w.empty()) r.fail(k, "verbalizer words must not be empty");
    }
    out[k] = std::move(words);
  }
  return out;
}

FewShotSpec parse_few_shot(const JsonReader& root, TaskType type) {
  const JsonReader r = root.object("few_shot", {"k", "selection", "seed", "indices", "split",
                                                "resample", "per_label", "template", "separator"});
  FewShotSpec f;
  f.k = static_cast<size_t>(r.integer("k", 0, 0, 1000));
  // Stratifying needs labels; generation and QA demos are drawn at random by default.
  const bool labelled = type == TaskType::Classification || type == TaskType::MultipleChoice;
  f.selection = parse_enum<DemoSelection>(
      r, "selection", labelled ? DemoSelection::Stratified : DemoSelection::Random,
      {{"fixed", DemoSelection::Fixed},
       {"random", DemoSelection::Random},
       {"stratified", DemoSelection::Stratified},
       {"similar", DemoSelection::Similar}});
  f.seed = static_cast<uint64_t>(r.integer("seed", 0, 0, INT64_MAX));
  if (const auto* idx = r.find("indices")) {
    if (!idx->is_array()) r.fail("indices", "expected a list of example positions");
    for (const auto& i : *idx) {
      if (!i.is_number_unsigned()) r.fail("indices", "positions are integers >= 0");
      f.indices.push_back(i.get<size_t>());
    }
  }
  if (f.selection == DemoSelection::Fixed && !r.has("k")) f.k = f.indices.size();
  f.split = r.str("split", "train");
  if (f.split != "train" && f.split != "dev" && f.split != "test") {
    r.fail("split", "expected train, dev or test");
  }
  f.resample = r.boolean("resample", false);
  f.per_label = static_cast<size_t>(r.integer("per_label", 0, 0, 1000));
  // A cap on demos per label needs labels to count, and fixed demos are the user's own list.
  if (f.per_label > 0 && !labelled) {
    r.fail("per_label",
           "caps demos per label; a " + std::string(to_string(type)) + " task has no labels");
  }
  if (f.per_label > 0 && f.selection == DemoSelection::Fixed) {
    r.fail("per_label", "does not apply to \"selection\": \"fixed\" (the indices are the demos)");
  }
  f.demo_template = r.str("template");
  f.separator = r.str("separator", "\n\n");
  return f;
}

ScoringSpec parse_scoring(const JsonReader& root, PromptFormat format) {
  const JsonReader r =
      root.object("scoring", {"normalize", "calibration", "calibration_inputs", "label_prefix"});
  ScoringSpec s;
  s.normalize = parse_enum<ScoreNormalization>(
      r, "normalize", ScoreNormalization::Sum,
      {{"sum", ScoreNormalization::Sum}, {"mean", ScoreNormalization::Mean}});
  s.calibration = r.boolean("calibration", false);
  s.calibration_inputs = r.strings("calibration_inputs", s.calibration_inputs);
  if (s.calibration_inputs.empty()) {  // else calibration divides by a prior of nothing, later
    r.fail("calibration_inputs",
           "needs at least one content-free input (default: \"N/A\", \"\", "
           "\"[MASK]\")");
  }
  s.label_prefix = r.str("label_prefix", format == PromptFormat::Chat ? "" : " ");
  return s;
}

GenerationSpec parse_generation(const JsonReader& root) {
  const JsonReader r =
      root.object("generation", {"max_tokens", "stop", "temperature", "top_p", "top_k"});
  GenerationSpec g;
  g.max_tokens = static_cast<int>(r.integer("max_tokens", g.max_tokens, 1, 1 << 20));
  g.stop = r.strings("stop", g.stop);
  g.temperature = r.number("temperature", g.temperature);
  g.top_p = r.number("top_p", g.top_p);
  g.top_k = static_cast<int>(r.integer("top_k", 0, 0, 1 << 20));
  if (g.temperature < 0) r.fail("temperature", "must be >= 0");
  if (g.top_p <= 0 || g.top_p > 1) r.fail("top_p", "must be in (0, 1]");
  return g;
}

JudgeSpec parse_judge(const JsonReader& root) {
  const JsonReader r = root.object("judge", {"prompt", "criterion", "min_score", "max_score"});
  JudgeSpec j;
  j.prompt = r.str("prompt");
  j.criterion = r.str("criterion", j.criterion);
  j.min_score = static_cast<int>(r.integer("min_score", 1, 0, 100));
  j.max_score = static_cast<int>(r.integer("max_score", 5, 1, 100));
  if (j.max_score <= j.min_score) r.fail("max_score", "must be greater than min_score");
  if (root.has("judge") && j.prompt.empty()) r.fail("prompt", "the judge needs a prompt");
  return j;
}

TaskSpec parse_document(std::string_view json_text, const std::string& source,
                        const std::string& base_dir) {
  ordered_json doc;
  try {
    doc = util::parse_json_strict<ordered_json>(json_text);
  } catch (const util::JsonSyntaxError& e) {
    // Line/column help more than a byte offset in a hand-edited file.
    throw TaskFileError(source, "", "invalid JSON near " + std::string(e.what()));
  }
  const JsonReader r(
      doc, "", source,
      {"name", "description", "type", "format", "system", "instruction", "template", "templates",
       "labels", "label_words", "metrics", "data", "few_shot", "scoring", "generation", "judge"});
  TaskSpec t;
  t.path = source;
  t.name = r.str("name");
  if (t.name.empty()) {
    // Unnamed tasks take their folder's name (examples/sentiment/task.json -> "sentiment").
    t.name = std::filesystem::absolute(base_dir).lexically_normal().filename().string();
  }
  t.description = r.str("description");
  if (!r.has("type")) r.fail("type", "missing (classification, multiple_choice, generation, qa)");
  t.type = parse_enum<TaskType>(r, "type", TaskType::Classification,
                                {{"classification", TaskType::Classification},
                                 {"multiple_choice", TaskType::MultipleChoice},
                                 {"generation", TaskType::Generation},
                                 {"qa", TaskType::QA}});
  t.format = parse_enum<PromptFormat>(
      r, "format", PromptFormat::Completion,
      {{"completion", PromptFormat::Completion}, {"chat", PromptFormat::Chat}});
  t.system = r.str("system");
  t.instruction = r.str("instruction");
  if (!r.has("template")) r.fail("template", "missing: every task needs a default template");
  t.templates["default"] = r.str("template");
  if (t.templates["default"].empty()) r.fail("template", "is empty: a prompt needs some text");
  if (const auto* named = r.find("templates")) {
    std::set<std::string> keys;
    if (named->is_object()) {
      for (const auto& [k, v] : named->items()) keys.insert(k);
    }
    const JsonReader tr = r.object("templates", keys);
    for (const auto& k : keys) {
      if (k == "default") tr.fail(k, "\"default\" is the top-level \"template\"");
      t.templates[k] = tr.str(k);
      if (t.templates[k].empty()) tr.fail(k, "is empty: a prompt needs some text");
    }
  }
  t.labels = parse_labels(r, &t.labels_from_data);
  t.label_words = parse_label_words(r, t.labels_from_data);
  t.metrics = r.strings("metrics", default_metrics(t.type));
  t.data = parse_data(r, base_dir);
  t.few_shot = parse_few_shot(r, t.type);
  t.scoring = parse_scoring(r, t.format);
  t.generation = parse_generation(r);
  t.judge = parse_judge(r);
  t.validate();
  return t;
}

}  // namespace

TaskSpec parse_task(std::string_view json_text, const std::string& source,
                    const std::string& base_dir) {
  try {
    return parse_document(json_text, source, base_dir);
  } catch (const TaskFileError&) {
    throw;
  } catch (const util::JsonKeyError& e) {
    // The reader's errors under the task layer's type; the message is the same.
    throw TaskFileError(e.file(), e.key(), e.reason());
  }
}

TaskSpec load_task(const std::string& path) {
  std::string text;
  try {
    text = util::read_file_bounded(path, util::kMaxSpecFileBytes);
  } catch (const std::runtime_error& e) {
    throw TaskFileError(path, "", std::string("task file ") + e.what());
  }
  const std::string base = std::filesystem::path(path).parent_path().string();
  TaskSpec t = parse_task(text, path, base.empty() ? "." : base);
  if (t.labels_from_data) resolve_labels_from_data(t);
  return t;
}

}  // namespace ptune::tasks
