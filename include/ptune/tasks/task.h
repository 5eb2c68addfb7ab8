// Task definition: what to evaluate and how to prompt for it, read from a JSON task file
// (reference: docs/task-file.md).
//
// Intended flow of the eval loop (model-dependent parts live in ptune_eval):
//
//   TaskSpec task = load_task("examples/sentiment/task.json");   // validated, paths resolved
//   TaskData data = load_task_data(task);                        // splits + LoadReport
//   auto eval = sample_examples(data.split("test"), limit, seed, "label");
//       // --split, --limit: a seeded sample in file order (stratified for classification)
//   PromptBuilder prompts(task, template_name);                  // --template
//   DemoSelector selector(data.split(task.few_shot.split), task.few_shot,
//                         prompts.label_field());   // once per run: "similar" indexes the pool
//   for (const Example& ex : eval) {
//     auto demos = selector.select(ex, index_of_ex);               // --shots overrides k
//     RenderedPrompt prompt = prompts.render(ex, demos);            // text + soft segments
//     // classification / multiple choice: score every prompts.candidates(ex) continuation
//     //   (sum or mean log-prob per task.scoring; a label scores the max over its words;
//     //   optional calibration prompts from prompts.render_content_free(...));
//     //   gold = prompts.gold_index(ex)
//     // generation / qa: decode with task.generation, references = prompts.references(ex)
//   }
//   metrics: each name in task.metrics is an entry of the metric registry
//   (ptune/eval/metrics/registry.h), computed with its bootstrap interval -> summary JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/eval/metrics/registry.h"
#include "ptune/tasks/dataset.h"
#include "ptune/tasks/splits.h"

namespace ptune::tasks {

// Owned by the metrics layer (a metric says which task types it applies to).
using TaskType = eval::TaskType;
enum class PromptFormat { Completion, Chat };  // chat: the model layer applies its chat template
enum class DemoSelection { Fixed, Random, Stratified, Similar };  // Similar: BM25, per query
enum class ScoreNormalization { Sum, Mean };  // Mean = log-prob divided by continuation tokens

const char* to_string(TaskType t);
const char* to_string(PromptFormat f);
const char* to_string(DemoSelection s);
const char* to_string(ScoreNormalization n);

struct LabelSpec {
  std::string name;                // value in the data's label field
  std::vector<std::string> words;  // verbalizer words, first = the one shown in demos
};

struct DataSpec {
  std::map<std::string, std::string> split_files;  // "train"/"dev"/"test" -> resolved path
  std::string file;                                // one file to split (instead of split_files)
  SplitFractions fractions;
  uint64_t split_seed = 0;
  bool stratify = true;  // stratify the split by label (classification tasks)
  FileFormat format = FileFormat::Auto;
  FieldMapping fields;  // task field -> file column / key; empty = identity
  bool skip_bad = false;
};

struct FewShotSpec {
  size_t k = 0;
  DemoSelection selection = DemoSelection::Stratified;
  uint64_t seed = 0;
  std::vector<size_t> indices;  // Fixed: positions in the demo split
  std::string split = "train";  // where demos come from
  bool resample = false;        // new demos per query (seed mixed with the query index)
  // At most this many demos with the same label value (0 = no cap). Random, Stratified and
  // Similar; labelled tasks only. Keeps similar demos from all being one label.
  size_t per_label = 0;
  std::string demo_template;       // renders one demo; may use {target}
  std::string separator = "\n\n";  // after each demo
};

struct ScoringSpec {
  ScoreNormalization normalize = ScoreNormalization::Sum;
  bool calibration = false;  // contextual calibration (Zhao et al. 2021)
  std::vector<std::string> calibration_inputs = {"N/A", "", "[MASK]"};
  // Prepended to every verbalizer word to form the scored continuation. Default " " for
  // completion prompts ("Sentiment:" + " positive", one BPE token) and "" for chat.
  std::string label_prefix;
};

struct GenerationSpec {
  int max_tokens = 64;
  std::vector<std::string> stop = {"\n"};
  double temperature = 0.0;  // 0 = greedy
  double top_p = 1.0;
  int top_k = 0;  // 0 = off
};

struct JudgeSpec {
  std::string prompt;  // empty = no rubric metric; uses {input}, {prediction}, {reference}
  std::string criterion = "relevance";
  int min_score = 1;
  int max_score = 5;
};

struct TaskSpec {
  std::string name;
  std::string description;
  std::string path;  // the task file (for messages); empty for tasks built in code
  TaskType type = TaskType::Classification;
  PromptFormat format = PromptFormat::Completion;
  std::string system;  // system message for chat formatting
  std::string instruction;
  std::map<std::string, std::string> templates;  // name -> source; "default" always present
  std::vector<LabelSpec> labels;                 // classification only, in file order
  // "labels": "from_data": the labels are the data's label values, in first-seen order (train,
  // dev, test), each verbalized by label_words[value] when given, else by label_words_for();
  // load_task fills `labels` (resolve_labels_from_data). Overrides for other tasks are errors.
  bool labels_from_data = false;
  std::map<std::string, std::vector<std::string>> label_words;
  std::vector<std::string> metrics;
  DataSpec data;
  FewShotSpec few_shot;
  ScoringSpec scoring;
  GenerationSpec generation;
  JudgeSpec judge;

  // The field holding the gold output: "label" (classification, multiple choice), "answer"
  // (qa) or "reference" (generation).
  std::string target_field() const;
  // Cross-field checks (templates parse, fields known, metrics fit the type, few-shot settings
  // consistent). Throws TaskFileError naming the key.
  void validate() const;
};

// Metric names a task file may list (the metric registry's, in its order), and the defaults per
// task type (the registry's eval::default_metrics; one function, so calls are not ambiguous).
const std::vector<std::string>& known_metrics();
using eval::default_metrics;
// The metric tune watches on the dev split when none is given: accuracy for classification, else
// the task's first metric with a value (tables such as per_class have none). Throws
// std::invalid_argument when the task lists none.
std::string default_dev_metric(const TaskSpec& task);

// Reads and validates a task file; relative data paths resolve against its folder; labels
// "from_data" are read from the data (resolve_labels_from_data). Throws TaskFileError (file +
// key) or TemplateError.
TaskSpec load_task(const std::string& path);
// Same from JSON text; `source` names it in errors, `base_dir` resolves relative paths. Reads
// no data: labels "from_data" stay empty until resolve_labels_from_data.
TaskSpec parse_task(std::string_view json_text, const std::string& source,
                    const std::string& base_dir);
// The task as a task file's text (indent 2): every key with its value, defaults included, labels
// resolved, data paths absolute; parse_task of it gives the same task (`ptune search` writes its
// winner with it). Throws nlohmann::json::type_error for text that is not valid UTF-8.
std::string task_file_json(const TaskSpec& task);
// Fills the labels of a "from_data" task from its data files' label values, then validates the
// task. Throws TaskFileError naming both labels when two values verbalize to the same words, or
// a label_words key no row has; DataError for unreadable data.
void resolve_labels_from_data(TaskSpec& task);
// The verbalizer of a label value: '_' and '-' as spaces, runs of spaces as one, trimmed
// ("card_payment_not_recognised" -> "card payment not recognised").
std::string label_words_for(const std::string& value);

struct TaskData {
  std::vector<Example> train, dev, test;
  LoadReport report;
  // "train", "dev" or "test"; throws std::invalid_argument for other names.
  const std::vector<Example>& split(const std::string& name) const;
};

// Loads the split files (or splits the single file) and checks every row has the fields the
// default and demo templates read, a gold value, and (classification) a known label. Bad rows
// throw DataError, or with data.skip_bad are skipped and counted in report.
TaskData load_task_data(const TaskSpec& task);
// The options load_task_data reads the task's files with (format, field mapping, skip_bad).
LoadOptions load_options(const TaskSpec& task);

}  // namespace ptune::tasks
