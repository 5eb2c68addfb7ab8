// The prompt text a model sees for a rendered task prompt: completion prompts as they are; chat
// prompts as the user turn (after the task's system message) in the model's chat template, ending
// with the assistant header. Evaluation and training both go through it, so a prompt learned by
// `ptune tune` meets the same text under `ptune eval`.
#pragma once

#include <optional>
#include <string>

#include "ptune/generate/chat_template.h"
#include "ptune/tasks/task.h"
#include "ptune/tasks/template.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::eval {

class PromptFormatter {
 public:
  // Throws std::invalid_argument for a chat task on a model whose chat template is not supported.
  PromptFormatter(const tasks::TaskSpec& task, const Tokenizer& tokenizer);

  // Throws std::invalid_argument when the prompt has soft-token slots (a discrete prompt is meant).
  std::string operator()(const tasks::RenderedPrompt& prompt) const { return marked(prompt).text; }
  // The same text with the example's data marked literal: what the tokenizer must get, so data
  // holding control-token text ("<|im_start|>") cannot open chat turns (util::MarkedText).
  util::MarkedText marked(const tasks::RenderedPrompt& prompt) const;

  bool chat() const { return chat_.has_value(); }
  // What ends an assistant reply in the chat template ("<|im_end|>" for ChatML); "" for completion.
  std::string end_of_turn() const { return chat_ ? "<|im_end|>" : ""; }

 private:
  std::string system_;
  std::optional<ChatTemplate> chat_;
};

}  // namespace ptune::eval
