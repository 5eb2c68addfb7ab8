// libFuzzer target for task files: tasks::parse_task on the input as the file's JSON text (no
// data is read), then, for a task that parses, a PromptBuilder for every template and a full
// render (demos, content-free calibration prompts, candidates, gold index) of an example that
// has every field the templates read. Only TaskFileError and TemplateError may escape the parse,
// and a DataError (an example value the task does not know) the render; a crash, a sanitizer
// report or any other exception (a task that validates but cannot be built) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/tasks/errors.h"
#include "ptune/tasks/prompt.h"
#include "ptune/tasks/task.h"
#include "ptune/tasks/template.h"

namespace {

using namespace ptune::tasks;

// An example with "v" in every field the task's templates read, the first label as gold, and
// two choices (multiple-choice tasks read them).
Example example_for(const TaskSpec& task) {
  Example ex;
  ex.source = "fuzz";
  ex.line = 1;
  std::vector<std::string> sources;
  for (const auto& [name, source] : task.templates) sources.push_back(source);
  sources.push_back(task.few_shot.demo_template);
  for (const std::string& s : sources) {
    if (s.empty()) continue;
    for (const std::string& f : Template::parse(s).fields()) ex.fields[f] = "v";
  }
  ex.lists["choices"] = {"yes", "no"};
  ex.fields["choices"] = "yes";
  ex.fields[task.target_field()] = task.labels.empty() ? "0" : task.labels.front().name;
  return ex;
}

void build_all(const TaskSpec& task) {
  const Example ex = example_for(task);
  const std::vector<const Example*> demos = {&ex, &ex};
  for (const auto& [name, source] : task.templates) {
    const PromptBuilder b(task, name);
    try {
      (void)b.render(ex, demos).display();
      for (const std::string& cf : task.scoring.calibration_inputs)
        (void)b.render_content_free(ex, demos, cf).display();
      (void)b.target_text(ex);
      if (task.type == TaskType::Classification || task.type == TaskType::MultipleChoice) {
        (void)b.candidates(ex);
        (void)b.gold_index(ex);
      } else {
        (void)b.references(ex);
      }
    } catch (const DataError&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  TaskSpec task;
  try {
    task = parse_task(text, "fuzz.json", "/nonexistent");
  } catch (const TaskFileError&) {
    return 0;
  } catch (const TemplateError&) {
    return 0;
  }
  build_all(task);
  return 0;
}
