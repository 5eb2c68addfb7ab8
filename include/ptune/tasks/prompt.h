// Turns a task and an example into what the model layer scores: prompt segments (with demos),
// the candidate continuations, and the gold answer.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ptune/tasks/dataset.h"
#include "ptune/tasks/task.h"
#include "ptune/tasks/template.h"

namespace ptune::tasks {

// One continuation to score after the prompt. A label with several verbalizer words has several
// candidates; its score is the max over them.
struct Candidate {
  size_t label = 0;          // index into class_names()
  std::string continuation;  // label_prefix + word (or choice text)
};

class PromptBuilder {
 public:
  // Parses the named template ("default" or a key of "templates") and the demo template.
  // Throws std::invalid_argument for an unknown template name.
  explicit PromptBuilder(const TaskSpec& task, const std::string& template_name = "default");

  const TaskSpec& task() const { return task_; }
  const Template& query_template() const { return query_; }
  std::string label_field() const { return task_.target_field(); }

  // The full prompt for `query`: instruction, the demo block, the query fields, soft slots.
  RenderedPrompt render(const Example& query, const std::vector<const Example*>& demos) const;
  // The {demos} block alone: each demo rendered by the demo template and followed by the
  // separator. Empty for no demos.
  RenderedPrompt render_demos(const std::vector<const Example*>& demos) const;
  // The prompt with every query field replaced by `content_free` ("N/A", "", "[MASK]"), for
  // contextual calibration: the label distribution it yields is divided out.
  RenderedPrompt render_content_free(const Example& query, const std::vector<const Example*>& demos,
                                     const std::string& content_free) const;

  // Classification: the task's labels; multiple choice: the example's choices.
  std::vector<std::string> class_names(const Example& ex) const;
  std::vector<Candidate> candidates(const Example& ex) const;
  // Index of the gold label / choice. Multiple choice gold may be a 0-based index or the choice
  // text. Throws DataError (file, line, field) for an unknown value.
  size_t gold_index(const Example& ex) const;
  // Acceptable answers (generation / qa): the gold field, or each item of a list field.
  std::vector<std::string> references(const Example& ex) const;
  // What {target} renders in a demo: first verbalizer word, gold choice, or first reference.
  std::string target_text(const Example& ex) const;

 private:
  TaskSpec task_;
  Template query_;
  Template demo_;
};

}  // namespace ptune::tasks
