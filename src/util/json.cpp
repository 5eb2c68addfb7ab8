// The strict JSON parser; contract in include/ptune/util/json.h. nlohmann's parser callback sees
// every object, array, key and scalar in order; a stack of open containers (the keys each object
// has so far) finds a repeated key or too deep nesting the moment the parser reaches it. The
// callback is not told where it is in the text, so on an error the text is scanned again for it.
#include "ptune/util/json.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

namespace ptune::util {
namespace {

// The offset of the quote closing the string that opens at `open` (text.size() if unclosed).
size_t string_end(std::string_view text, size_t open) {
  size_t i = open + 1;
  while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
  return std::min(i, text.size());
}

// Calls visit(offset, c) for each '{', '}', '[', ']', ':' outside strings and for the opening
// quote of each string, until a call returns true; returns that offset (text.size() if none).
template <class Visit>
size_t scan_structure(std::string_view text, Visit visit) {
  for (size_t i = 0; i < text.size(); ++i) {
    switch (text[i]) {
      case '"':
        if (visit(i, '"')) return i;
        i = string_end(text, i);
        break;
      case '{':
      case '}':
      case '[':
      case ']':
      case ':':
        if (visit(i, text[i])) return i;
        break;
      default:
        break;
    }
  }
  return text.size();
}

// The offset of the opening quote of the n-th key (1-based) in document order: a key is the
// string before a ':'. Run only on text the parser accepted up to that key.
size_t nth_key_offset(std::string_view text, size_t n) {
  size_t keys = 0, last_string = 0;
  scan_structure(text, [&](size_t at, char c) {
    if (c == '"') last_string = at;
    return c == ':' && ++keys == n;
  });
  return last_string;
}

// The offset of the first '{' or '[' that opens container number max_depth + 1 in depth.
size_t too_deep_offset(std::string_view text, int max_depth) {
  int depth = 0;
  return scan_structure(text, [&](size_t, char c) {
    if (c == '{' || c == '[') return ++depth > max_depth;
    if (c == '}' || c == ']') --depth;
    return false;
  });
}

// The offset of the first `token` outside strings (text.size() if none).
size_t token_offset(std::string_view text, std::string_view token) {
  for (size_t i = 0; i < text.size() && !token.empty(); ++i) {
    if (text[i] == '"') {
      i = string_end(text, i);
    } else if (text.compare(i, token.size(), token) == 0) {
      return i;
    }
  }
  return text.size();
}

JsonSyntaxError error_at(std::string_view text, size_t offset, const std::string& reason,
                         std::string key = {}, std::string object_path = {}) {
  offset = std::min(offset, text.size());
  const std::string_view before = text.substr(0, offset);
  const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
  const size_t last_newline = before.rfind('\n');
  const size_t line_start = last_newline == std::string_view::npos ? 0 : last_newline + 1;
  return JsonSyntaxError(offset, line, offset - line_start + 1, reason, std::move(key),
                         std::move(object_path));
}

// The key shown as JSON spells it: quoted, control characters escaped.
std::string quoted(const std::string& key) {
  return nlohmann::json(key).dump();
}

// The open containers while parsing, outermost first.
class OpenContainers {
 public:
  OpenContainers(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  void open(bool array) {
    if (frames_.size() >= static_cast<size_t>(max_depth_)) {
      throw error_at(text_, too_deep_offset(text_, max_depth_),
                     "nests deeper than " + std::to_string(max_depth_) + " levels");
    }
    frames_.push_back(Frame{array, {}, {}, 0});
  }

  void close() {
    if (!frames_.empty()) frames_.pop_back();
    element_done();
  }

  void scalar() { element_done(); }

  void key(const std::string& k) {
    ++keys_seen_;
    if (frames_.empty()) return;
    Frame& f = frames_.back();
    if (!f.keys.insert(k).second) {
      const std::string where = path();
      throw error_at(
          text_, nth_key_offset(text_, keys_seen_),
          "duplicate key " + quoted(k) +
              (where.empty() ? " in the top-level object" : " in object " + quoted(where)),
          k, where);
    }
    f.key = k;
  }

 private:
  struct Frame {
    bool array;
    std::set<std::string> keys;  // an object's keys so far
    std::string key;             // an object's current key
    size_t index;                // an array's elements so far
  };

  void element_done() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }

  // The innermost open container's path: keys joined by '.', array indexes as [i].
  std::string path() const {
    std::string out;
    for (size_t i = 0; i + 1 < frames_.size(); ++i) {
      if (frames_[i].array) {
        out += "[" + std::to_string(frames_[i].index) + "]";
      } else {
        out += (out.empty() ? "" : ".") + frames_[i].key;
      }
    }
    return out;
  }

  std::string_view text_;
  int max_depth_;
  std::vector<Frame> frames_;
  size_t keys_seen_ = 0;
};

// nlohmann's message without its "[json.exception.parse_error.101] parse error at ...: " prefix.
std::string parse_error_reason(const nlohmann::json::parse_error& e) {
  const std::string what = e.what();
  const size_t colon = what.find(": ", what.find("parse error"));
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

// A number too large for a double (1e999) is nlohmann's out_of_range 406, which has no position;
// its message quotes the number, so the number is looked up in the text.
JsonSyntaxError number_error(std::string_view text, const nlohmann::json::out_of_range& e) {
  std::string reason = e.what();
  reason.erase(0, reason.find(']') == std::string::npos ? 0 : reason.find(']') + 2);
  const size_t open = reason.find('\''), close = reason.rfind('\'');
  const std::string_view number =
      open < close ? std::string_view(reason).substr(open + 1, close - open - 1) : "";
  return error_at(text, token_offset(text, number), reason);
}

}  // namespace

JsonSyntaxError::JsonSyntaxError(size_t byte, size_t line, size_t column, const std::string& reason,
                                 std::string key, std::string object_path)
    : std::runtime_error("line " + std::to_string(line) + ", column " + std::to_string(column) +
                         ": " + reason),
      byte_(byte),
      line_(line),
      column_(column),
      reason_(reason),
      key_(std::move(key)),
      object_path_(std::move(object_path)) {}

template <class Json>
Json parse_json_strict(std::string_view text, int max_depth) {
  OpenContainers open(text, max_depth);
  auto check = [&open](int, nlohmann::json::parse_event_t event, Json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        open.open(event == Event::array_start);
        break;
      case Event::object_end:
      case Event::array_end:
        open.close();
        break;
      case Event::key:
        open.key(parsed.template get_ref<const std::string&>());
        break;
      case Event::value:
        open.scalar();
        break;
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), check);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based: the character the parser stopped at.
    throw error_at(text, e.byte > 0 ? e.byte - 1 : 0, parse_error_reason(e));
  } catch (const nlohmann::json::out_of_range& e) {
    throw number_error(text, e);
  }
}

template nlohmann::json parse_json_strict<nlohmann::json>(std::string_view, int);
template nlohmann::ordered_json parse_json_strict<nlohmann::ordered_json>(std::string_view, int);

}  // namespace ptune::util
