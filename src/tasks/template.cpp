#include "ptune/tasks/template.h"

#include <cctype>
#include <stdexcept>

#include "ptune/tasks/errors.h"

namespace ptune::tasks {
namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

bool is_number(const std::string& s) {
  return !s.empty() && s.size() <= 6 && s.find_first_not_of("0123456789") == std::string::npos;
}

constexpr int kMaxSoftLength = 4096;

// Parses the inside of "{soft...}" (without braces) starting at `offset`.
Template::Part parse_soft(const std::string& body, size_t offset, const std::string& name,
                          const std::string& source) {
  Template::Part part;
  part.kind = Template::Part::Kind::Soft;
  part.offset = offset;
  part.soft_name = "prompt";
  if (body == "soft") return part;
  std::vector<std::string> pieces;
  size_t start = 5;  // after "soft:"
  for (;;) {
    const size_t colon = body.find(':', start);
    pieces.push_back(body.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  auto fail = [&](const std::string& why) {
    throw TemplateError(name, source, offset,
                        "bad soft slot {" + body + "}: " + why +
                            " (write {soft}, {soft:N}, {soft:NAME} or {soft:NAME:N})");
  };
  auto length = [&](const std::string& s) {
    const int n = std::stoi(s);
    if (n < 1 || n > kMaxSoftLength) fail("length must be 1.." + std::to_string(kMaxSoftLength));
    return n;
  };
  if (pieces.size() == 1 && is_number(pieces[0])) {
    part.soft_length = length(pieces[0]);
  } else if (pieces.size() == 1 && is_identifier(pieces[0])) {
    part.soft_name = pieces[0];
  } else if (pieces.size() == 2 && is_identifier(pieces[0]) && is_number(pieces[1])) {
    part.soft_name = pieces[0];
    part.soft_length = length(pieces[1]);
  } else {
    fail("expected a name (letters, digits, _) and/or a length");
  }
  return part;
}

}  // namespace

// ---- RenderedPrompt ---------------------------------------------------------------------------

namespace {

// A text segment as MarkedText, so its spans are kept (shifted, adjacent literal runs merged) by
// MarkedText::append, not by a second copy of that bookkeeping here.
util::MarkedText marked_of(const Segment& s) {
  util::MarkedText m(s.text);
  m.literal = s.literal;
  return m;
}

// Appends `piece` to the trailing text segment, making one when there is none.
void append_to_text(std::vector<Segment>& segments, const util::MarkedText& piece) {
  if (piece.text.empty()) return;
  if (segments.empty() || segments.back().kind != Segment::Kind::Text) {
    segments.push_back({Segment::Kind::Text, "", "", 0, {}});
  }
  Segment& s = segments.back();
  util::MarkedText joined(std::move(s.text));
  joined.literal = std::move(s.literal);
  joined.append(piece);
  s.text = std::move(joined.text);
  s.literal = std::move(joined.literal);
}

}  // namespace

void RenderedPrompt::append_text(const std::string& text, bool literal) {
  append_to_text(segments, literal ? util::MarkedText::literal_text(text) : util::MarkedText(text));
}

void RenderedPrompt::append(const RenderedPrompt& other) {
  for (const auto& s : other.segments) {
    if (s.kind == Segment::Kind::Text) {
      append_to_text(segments, marked_of(s));
    } else {
      segments.push_back(s);
    }
  }
}

bool RenderedPrompt::has_soft() const {
  for (const auto& s : segments) {
    if (s.kind == Segment::Kind::Soft) return true;
  }
  return false;
}

std::string RenderedPrompt::display() const {
  std::string out;
  for (const auto& s : segments) {
    out += s.kind == Segment::Kind::Text
               ? s.text
               : "<soft:" + s.soft_name + ":" + std::to_string(s.soft_length) + ">";
  }
  return out;
}

std::string RenderedPrompt::text() const {
  return marked().text;
}

util::MarkedText RenderedPrompt::marked() const {
  if (has_soft()) {
    throw std::logic_error("prompt has soft-token slots; use its segments, not text()");
  }
  util::MarkedText out;
  for (const auto& s : segments) out.append(marked_of(s));
  return out;
}

// ---- Template ---------------------------------------------------------------------------------

Template Template::parse(const std::string& source, const std::string& name) {
  Template t;
  t.name_ = name;
  t.source_ = source;
  std::string literal;
  size_t literal_start = 0;
  auto flush = [&] {
    if (!literal.empty()) t.parts_.push_back({Part::Kind::Text, literal, "", 0, literal_start});
    literal.clear();
  };
  for (size_t i = 0; i < source.size();) {
    const char c = source[i];
    if (c == '}') {
      if (i + 1 < source.size() && source[i + 1] == '}') {
        if (literal.empty()) literal_start = i;
        literal += '}';
        i += 2;
        continue;
      }
      throw TemplateError(name, source, i, "unmatched '}' (write }} for a literal brace)");
    }
    if (c != '{') {
      if (literal.empty()) literal_start = i;
      literal += c;
      ++i;
      continue;
    }
    if (i + 1 < source.size() && source[i + 1] == '{') {
      if (literal.empty()) literal_start = i;
      literal += '{';
      i += 2;
      continue;
    }
    // A placeholder: name characters up to '}' (':' allowed for soft slots).
    size_t j = i + 1;
    while (j < source.size() && (is_name_char(source[j]) || source[j] == ':')) ++j;
    // No '}' on the rest of the line: report the opening brace, which is what needs fixing.
    const size_t line_end = source.find('\n', i);
    const size_t close = source.find('}', i);
    if (j >= source.size() || close == std::string::npos ||
        (line_end != std::string::npos && close > line_end)) {
      throw TemplateError(name, source, i, "unclosed '{' (write {{ for a literal brace)");
    }
    if (source[j] != '}') {
      throw TemplateError(name, source, j,
                          std::string("unexpected character '") + source[j] +
                              "' in a placeholder (write {{ for a literal brace)");
    }
    const std::string body = source.substr(i + 1, j - i - 1);
    if (body.empty()) throw TemplateError(name, source, i, "empty placeholder {}");
    flush();
    if (body == "soft" || body.rfind("soft:", 0) == 0) {
      t.parts_.push_back(parse_soft(body, i, name, source));
    } else if (body.find(':') != std::string::npos) {
      throw TemplateError(name, source, i, "':' is only allowed in {soft:...} slots");
    } else {
      t.parts_.push_back({Part::Kind::Field, body, "", 0, i});
    }
    i = j + 1;
  }
  flush();
  // A named slot used twice must agree on its length: both uses share one parameter block.
  std::map<std::string, const Part*> soft;
  for (const auto& p : t.parts_) {
    if (p.kind != Part::Kind::Soft) continue;
    auto [it, inserted] = soft.emplace(p.soft_name, &p);
    if (!inserted && it->second->soft_length != p.soft_length) {
      throw TemplateError(name, source, p.offset,
                          "soft slot '" + p.soft_name + "' is used with two different lengths");
    }
  }
  return t;
}

std::vector<std::string> Template::fields() const {
  std::vector<std::string> out;
  for (const auto& p : parts_) {
    if (p.kind != Part::Kind::Field || reserved_template_names().count(p.text)) continue;
    bool seen = false;
    for (const auto& f : out) seen = seen || f == p.text;
    if (!seen) out.push_back(p.text);
  }
  return out;
}

bool Template::uses(const std::string& reserved) const {
  for (const auto& p : parts_) {
    if (reserved == "soft" && p.kind == Part::Kind::Soft) return true;
    if (p.kind == Part::Kind::Field && p.text == reserved) return true;
  }
  return false;
}

void Template::check_fields(const std::set<std::string>& known) const {
  for (const auto& p : parts_) {
    if (p.kind != Part::Kind::Field || reserved_template_names().count(p.text)) continue;
    if (known.count(p.text)) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    throw TemplateError(name_, source_, p.offset,
                        "unknown field '" + p.text + "' (known fields: " + list +
                            "; reserved: instruction, demos, target, soft)");
  }
}

RenderedPrompt Template::render(const Example& example, const TemplateContext& ctx) const {
  RenderedPrompt out;
  for (const auto& p : parts_) {
    switch (p.kind) {
      case Part::Kind::Text:
        out.append_text(p.text);
        break;
      case Part::Kind::Soft:
        out.segments.push_back({Segment::Kind::Soft, "", p.soft_name, p.soft_length, {}});
        break;
      case Part::Kind::Field:
        if (p.text == "instruction") {
          out.append_text(ctx.instruction);
        } else if (p.text == "demos") {
          if (ctx.demos) out.append(*ctx.demos);
        } else if (p.text == "target") {
          if (!ctx.target) {
            throw TemplateError(name_, source_, p.offset,
                                "{target} is only available in demo templates");
          }
          out.append_text(*ctx.target, /*literal=*/true);
        } else if (auto it = example.lists.find(p.text); it != example.lists.end()) {
          std::string joined;
          for (size_t k = 0; k < it->second.size(); ++k) {
            joined += (k ? "\n" : "") + it->second[k];
          }
          out.append_text(joined, /*literal=*/true);
        } else if (auto f = example.fields.find(p.text); f != example.fields.end()) {
          out.append_text(f->second, /*literal=*/true);
        } else {
          throw DataError(example.source.empty() ? "<example>" : example.source, example.line,
                          p.text,
                          "missing, but template '" + name_ + "' uses it at offset " +
                              std::to_string(p.offset));
        }
        break;
    }
  }
  return out;
}

}  // namespace ptune::tasks
