#include "ptune/generate/chat_template.h"

#include <stdexcept>

namespace ptune {

namespace {

const char kStart[] = "<|im_start|>";
const char kEnd[] = "<|im_end|>";

// Jinja string literals in the template spell a newline as the two characters "\n".
std::string unescape_jinja_literal(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char n = s[++i];
      out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

ChatTemplate::ChatTemplate(const std::string& src) {
  if (src.empty()) throw std::invalid_argument("the model has no chat template");
  if (src.find(kStart) == std::string::npos || src.find(kEnd) == std::string::npos) {
    throw std::invalid_argument(
        "unsupported chat template: only ChatML-style templates (<|im_start|>/<|im_end|>) are "
        "supported");
  }
  // A default system message appears as a literal "<|im_start|>system" + newline + text +
  // "<|im_end|>"; the newline is a real one or the Jinja escape "\n", depending on the converter.
  const std::string marker = std::string(kStart) + "system";
  size_t at = src.find(marker);
  if (at != std::string::npos) {
    size_t begin = at + marker.size();
    if (src.compare(begin, 1, "\n") == 0) {
      begin += 1;
    } else if (src.compare(begin, 2, "\\n") == 0) {
      begin += 2;
    } else {
      begin = std::string::npos;
    }
    size_t end = begin == std::string::npos ? begin : src.find(kEnd, begin);
    if (end != std::string::npos) {
      default_system_ = unescape_jinja_literal(src.substr(begin, end - begin));
    }
  }
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) const {
  return render_marked(messages, add_generation_prompt).text;
}

util::MarkedText ChatTemplate::render_marked(const std::vector<ChatMessage>& messages,
                                             bool add_generation_prompt) const {
  std::vector<MarkedMessage> marked;
  for (const ChatMessage& m : messages)
    marked.push_back({m.role, util::MarkedText::literal_text(m.content)});
  return render_marked(marked, add_generation_prompt);
}

util::MarkedText ChatTemplate::render_marked(const std::vector<MarkedMessage>& messages,
                                             bool add_generation_prompt) const {
  util::MarkedText out;
  auto emit = [&out](const std::string& role, const util::MarkedText& content) {
    out.append(kStart + role + "\n", false);
    out.append(content);
    out.append(std::string(kEnd) + "\n", false);
  };
  if (!default_system_.empty() && !messages.empty() && messages[0].role != "system") {
    emit("system", util::MarkedText(default_system_));
  }
  for (const MarkedMessage& m : messages) emit(m.role, m.content);
  if (add_generation_prompt) out.append(std::string(kStart) + "assistant\n", false);
  return out;
}

}  // namespace ptune
