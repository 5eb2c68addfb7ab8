#include "ptune/tasks/prompt.h"

#include <stdexcept>

#include "ptune/tasks/errors.h"

namespace ptune::tasks {

PromptBuilder::PromptBuilder(const TaskSpec& task, const std::string& template_name) : task_(task) {
  auto it = task_.templates.find(template_name);
  if (it == task_.templates.end()) {
    std::string names;
    for (const auto& [name, src] : task_.templates) names += (names.empty() ? "" : ", ") + name;
    throw std::invalid_argument("task '" + task_.name + "' has no template '" + template_name +
                                "' (templates: " + names + ")");
  }
  query_ = Template::parse(it->second, template_name);
  if (!task_.few_shot.demo_template.empty()) {
    demo_ = Template::parse(task_.few_shot.demo_template, "demo");
  }
}

RenderedPrompt PromptBuilder::render_demos(const std::vector<const Example*>& demos) const {
  RenderedPrompt block;
  if (demos.empty()) return block;
  if (demo_.source().empty()) {
    throw std::invalid_argument("task '" + task_.name + "' has no few_shot.template for demos");
  }
  for (const Example* d : demos) {
    const std::string target = target_text(*d);
    TemplateContext ctx{task_.instruction, nullptr, &target};
    block.append(demo_.render(*d, ctx));
    block.append_text(task_.few_shot.separator);
  }
  return block;
}

RenderedPrompt PromptBuilder::render(const Example& query,
                                     const std::vector<const Example*>& demos) const {
  const RenderedPrompt block = render_demos(demos);
  TemplateContext ctx{task_.instruction, &block, nullptr};
  return query_.render(query, ctx);
}

RenderedPrompt PromptBuilder::render_content_free(const Example& query,
                                                  const std::vector<const Example*>& demos,
                                                  const std::string& content_free) const {
  Example blank = query;
  for (const auto& field : query_.fields()) {
    blank.fields[field] = content_free;
    blank.lists.erase(field);
  }
  return render(blank, demos);
}

std::vector<std::string> PromptBuilder::class_names(const Example& ex) const {
  if (task_.type == TaskType::MultipleChoice) return ex.get_list("choices");
  std::vector<std::string> names;
  for (const auto& l : task_.labels) names.push_back(l.name);
  return names;
}

std::vector<Candidate> PromptBuilder::candidates(const Example& ex) const {
  std::vector<Candidate> out;
  const std::string& prefix = task_.scoring.label_prefix;
  if (task_.type == TaskType::MultipleChoice) {
    const auto choices = ex.get_list("choices");
    for (size_t i = 0; i < choices.size(); ++i) out.push_back({i, prefix + choices[i]});
  } else if (task_.type == TaskType::Classification) {
    for (size_t i = 0; i < task_.labels.size(); ++i) {
      for (const auto& w : task_.labels[i].words) out.push_back({i, prefix + w});
    }
  } else {
    throw std::logic_error("candidates() is for classification and multiple_choice tasks");
  }
  return out;
}

size_t PromptBuilder::gold_index(const Example& ex) const {
  const std::string& gold = ex.get("label");
  const auto names = class_names(ex);
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == gold) return i;
  }
  if (task_.type == TaskType::MultipleChoice && !gold.empty() &&
      gold.find_first_not_of("0123456789") == std::string::npos && gold.size() < 6 &&
      std::stoul(gold) < names.size()) {
    return std::stoul(gold);
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw DataError(ex.source.empty() ? "<example>" : ex.source, ex.line, "label",
                  "unknown value '" + gold + "' (expected one of: " + list +
                      (task_.type == TaskType::MultipleChoice ? ", or a 0-based index" : "") + ")");
}

std::vector<std::string> PromptBuilder::references(const Example& ex) const {
  return ex.get_list(task_.target_field());
}

std::string PromptBuilder::target_text(const Example& ex) const {
  switch (task_.type) {
    case TaskType::Classification:
      return task_.labels[gold_index(ex)].words.front();
    case TaskType::MultipleChoice:
      return class_names(ex)[gold_index(ex)];
    case TaskType::Generation:
    case TaskType::QA:
      return references(ex).front();
  }
  return "";
}

}  // namespace ptune::tasks
