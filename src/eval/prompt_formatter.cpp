#include "ptune/eval/prompt_formatter.h"

#include <stdexcept>
#include <vector>

namespace ptune::eval {

PromptFormatter::PromptFormatter(const tasks::TaskSpec& t, const Tokenizer& tok)
    : system_(t.system) {
  if (t.format == tasks::PromptFormat::Chat) chat_.emplace(tok.spec().chat_template);
}

util::MarkedText PromptFormatter::marked(const tasks::RenderedPrompt& p) const {
  if (p.has_soft()) {
    throw std::invalid_argument(
        "the template has soft-token slots ({soft...}); ptune eval scores discrete prompts, "
        "pick another --template");
  }
  if (!chat_) return p.marked();
  std::vector<MarkedMessage> msgs;
  if (!system_.empty()) msgs.push_back({"system", util::MarkedText(system_)});
  msgs.push_back({"user", p.marked()});
  return chat_->render_marked(msgs, /*add_generation_prompt=*/true);
}

}  // namespace ptune::eval
