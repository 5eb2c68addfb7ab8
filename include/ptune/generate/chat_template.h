// Chat formatting from the GGUF `tokenizer.chat_template`.
//
// We do not run Jinja. We recognise the ChatML family (templates that emit
// "<|im_start|>{role}\n{content}<|im_end|>\n") and reproduce it, including a default system
// message when the template inserts one (SmolLM2 does). Other templates are rejected with a
// clear error instead of being formatted wrongly.
#pragma once

#include <string>
#include <vector>

#include "ptune/util/marked_text.h"

namespace ptune {

struct ChatMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

// A message whose content may mix author text (a task's system message) with data or user text
// (util::MarkedText's literal spans).
struct MarkedMessage {
  std::string role;
  util::MarkedText content;
};

class ChatTemplate {
 public:
  // Throws std::invalid_argument when the template is empty or not ChatML-style.
  explicit ChatTemplate(const std::string& jinja_source);

  // The prompt text; with add_generation_prompt, ends with "<|im_start|>assistant\n".
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;
  // The same text, for the tokenizer: every message content is literal (a user's or a data
  // row's words never become control tokens); only the template's own markers are control text.
  util::MarkedText render_marked(const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) const;
  // As above with each content's own marks kept (author parts may hold control tokens).
  util::MarkedText render_marked(const std::vector<MarkedMessage>& messages,
                                 bool add_generation_prompt) const;
  const std::string& default_system() const { return default_system_; }

 private:
  std::string default_system_;  // empty when the template adds none
};

}  // namespace ptune
