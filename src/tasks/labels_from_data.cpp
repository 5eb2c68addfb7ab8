// Labels read from the data ("labels": "from_data"): a task with many intents (BANKING77's 77,
// CLINC150's 150) need not list them by hand. See include/ptune/tasks/task.h.
#include <map>
#include <set>

#include "ptune/tasks/errors.h"
#include "ptune/tasks/task.h"

namespace ptune::tasks {

namespace {

// Every data file of the task, read with its mapping (rows skip_bad would drop are left out).
std::vector<Example> all_rows(const TaskSpec& task) {
  const LoadOptions options = load_options(task);
  std::vector<Example> rows;
  auto add = [&](const std::string& path) {
    std::vector<Example> part = load_examples(path, options);
    rows.insert(rows.end(), part.begin(), part.end());
  };
  if (!task.data.file.empty()) add(task.data.file);
  for (const std::string split : {"train", "dev", "test"}) {  // train, dev, test: first-seen order
    const auto it = task.data.split_files.find(split);
    if (it != task.data.split_files.end()) add(it->second);
  }
  return rows;
}

}  // namespace

std::string label_words_for(const std::string& value) {
  std::string out;
  for (char c : value) {
    const char s = c == '_' || c == '-' ? ' ' : c;
    if (s == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += s;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void resolve_labels_from_data(TaskSpec& task) {
  if (!task.labels_from_data) return;
  std::vector<std::string> values;
  std::set<std::string> seen;
  for (const Example& ex : all_rows(task)) {
    if (ex.has("label") && seen.insert(ex.get("label")).second) values.push_back(ex.get("label"));
  }
  for (const auto& [label, words] : task.label_words) {
    if (!seen.count(label)) {
      throw TaskFileError(task.path, "label_words." + label, "no data row has this label");
    }
  }
  std::map<std::string, std::string> owner;  // verbalizer word -> the label that has it
  task.labels.clear();
  for (const std::string& v : values) {
    const auto given = task.label_words.find(v);
    LabelSpec l{v, given != task.label_words.end() ? given->second
                                                   : std::vector<std::string>{label_words_for(v)}};
    for (const std::string& w : l.words) {
      if (w.empty()) {
        throw TaskFileError(task.path, "labels",
                            "label '" + v + "' has no words to verbalize it (give label_words)");
      }
      const auto [it, fresh] = owner.emplace(w, v);
      if (!fresh) {
        throw TaskFileError(task.path, "labels",
                            "labels '" + it->second + "' and '" + v + "' both read as '" + w +
                                "'; give one of them label_words");
      }
    }
    task.labels.push_back(std::move(l));
  }
  task.validate();
}

}  // namespace ptune::tasks
