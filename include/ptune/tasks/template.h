// Prompt templates.
//
// Syntax (full reference in docs/task-file.md):
//   {field}          value of an example field (a list field renders one item per line)
//   {instruction}    the task instruction
//   {demos}          the few-shot block: each rendered demo followed by the separator
//   {target}         the verbalized gold output (label word, gold choice or answer); demos only
//   {soft}           a soft-token slot named "prompt" whose length the tuning method decides
//   {soft:N}         a slot named "prompt" of N virtual tokens
//   {soft:NAME}      a named slot, length decided by the method
//   {soft:NAME:N}    a named slot of N virtual tokens (same NAME twice = the same parameters)
//   {{ and }}        literal braces
//
// Rendering yields segments rather than a string: text segments to tokenize and soft segments
// where a later component splices virtual-token embeddings. Adjacent text is merged.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ptune/tasks/dataset.h"
#include "ptune/util/marked_text.h"

namespace ptune::tasks {

struct Segment {
  enum class Kind { Text, Soft };
  Kind kind = Kind::Text;
  std::string text;       // Kind::Text
  std::string soft_name;  // Kind::Soft
  int soft_length = 0;    // Kind::Soft: virtual tokens, 0 = chosen by the method
  // Kind::Text: byte ranges of `text` that came from example data (fields, {target}): encoded
  // as plain text, never as control tokens (util::MarkedText).
  std::vector<util::TextSpan> literal;

  // The content; where the data sits is not compared.
  bool operator==(const Segment& o) const {
    return kind == o.kind && text == o.text && soft_name == o.soft_name &&
           soft_length == o.soft_length;
  }
};

struct RenderedPrompt {
  std::vector<Segment> segments;

  // Appends text, merging with a trailing text segment; empty text adds nothing. `literal`:
  // it is data, not the task author's text.
  void append_text(const std::string& text, bool literal = false);
  void append(const RenderedPrompt& other);
  bool has_soft() const;
  // Text with soft slots shown as "<soft:NAME:N>" (for logs and per-example output).
  std::string display() const;
  // Text only; throws std::logic_error when the prompt has soft slots (a discrete-prompt model
  // path must not silently drop them).
  std::string text() const;
  // text() with its data spans, for the tokenizer (same throw).
  util::MarkedText marked() const;
};

// Names the template language reserves; they are not example fields.
inline const std::set<std::string>& reserved_template_names() {
  static const std::set<std::string> names = {"instruction", "demos", "target", "soft"};
  return names;
}

// Values for the reserved placeholders during one render.
struct TemplateContext {
  std::string instruction;
  const RenderedPrompt* demos = nullptr;  // null renders {demos} as nothing
  const std::string* target = nullptr;    // null: {target} is an error (query templates)
};

class Template {
 public:
  struct Part {
    enum class Kind { Text, Field, Soft };
    Kind kind = Kind::Text;
    std::string text;  // literal text, or field / reserved name
    std::string soft_name;
    int soft_length = 0;
    size_t offset = 0;  // where the part starts in the source (for errors)
  };

  Template() = default;
  // Parses `source`; throws TemplateError (with offset and caret) on syntax errors.
  static Template parse(const std::string& source, const std::string& name = "template");

  const std::string& name() const { return name_; }
  const std::string& source() const { return source_; }
  const std::vector<Part>& parts() const { return parts_; }

  // Example fields the template reads (reserved names excluded), in first-use order.
  std::vector<std::string> fields() const;
  // Whether the template uses a reserved placeholder ("demos", "target", "instruction", "soft").
  bool uses(const std::string& reserved) const;
  // Throws TemplateError at the first field not in `known`; reserved names are always allowed.
  void check_fields(const std::set<std::string>& known) const;

  // Throws DataError (naming the example's file, line and field) when the example lacks a field,
  // and TemplateError when {target} is used without ctx.target.
  RenderedPrompt render(const Example& example, const TemplateContext& ctx) const;

 private:
  std::string name_;
  std::string source_;
  std::vector<Part> parts_;
};

}  // namespace ptune::tasks
