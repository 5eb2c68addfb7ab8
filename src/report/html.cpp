// Escaping, formatting and the page shell; see html.h. The shell puts the stylesheet and the
// script (assets.h) inline so the file stands alone.
#include "report/html.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "ptune/util/utf8.h"
#include "report/assets.h"

namespace ptune::report::detail {

using nlohmann::json;

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const size_t bad = util::find_invalid_utf8(s);
    if (bad == std::string_view::npos) {
      out.append(s);
      break;
    }
    out.append(s.substr(0, bad));
    out.append("\xEF\xBF\xBD");
    s.remove_prefix(bad + 1);
  }
  return out;
}

std::string escape(std::string_view s) {
  const std::string text = valid_utf8(s);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string truncate(std::string_view s, size_t max_chars) {
  const std::string text = valid_utf8(s);
  const std::vector<std::string_view> chars = util::utf8_chars(text);
  if (chars.size() <= max_chars) return text;
  std::string out;
  for (size_t i = 0; i + 1 < max_chars; ++i) out.append(chars[i]);
  return out + "\xE2\x80\xA6";
}

std::string script_json(const json& value) {
  const std::string dumped = value.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(dumped.size());
  for (size_t i = 0; i < dumped.size(); ++i) {
    const char c = dumped[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < dumped.size() && dumped[i + 1] == '\x80' &&
               (dumped[i + 2] == '\xA8' || dumped[i + 2] == '\xA9')) {
      out += dumped[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_number(double value, int significant) {
  if (!std::isfinite(value)) return std::isnan(value) ? "NaN" : (value > 0 ? "∞" : "-∞");
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", significant, value);
  return buf;
}

std::string text_of(const json& value) {
  if (value.is_string()) return valid_utf8(value.get_ref<const std::string&>());
  if (value.is_null()) return "";
  if (value.is_number()) return format_number(value.get<double>());
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool number_of(const json& value, double& out) {
  if (value.is_number()) {
    out = value.get<double>();
    return true;
  }
  if (value.is_object()) {
    auto it = value.find("value");
    if (it != value.end() && it->is_number()) {
      out = it->get<double>();
      return true;
    }
  }
  return false;
}

std::string run_color(size_t index) {
  static const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
                                   "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#7f7f7f"};
  return kPalette[index % (sizeof kPalette / sizeof kPalette[0])];
}

std::string page_shell(const std::string& title, const std::string& subtitle,
                       const std::vector<Page>& pages, const json& data) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>" << escape(title) << "</title>\n<style>" << kReportCss << "</style>\n</head>\n"
    << "<body>\n<header class=\"top\"><h1>" << escape(title) << "</h1><p class=\"sub\">" << subtitle
    << "</p>\n<nav id=\"tabs\">";
  for (const Page& p : pages) {
    if (p.html.empty()) continue;
    o << "<a class=\"tab\" id=\"tab-" << p.id << "\" href=\"#" << p.id << "\">" << escape(p.title)
      << "</a>";
  }
  o << "</nav></header>\n<main>\n";
  for (size_t i = 0; i < pages.size(); ++i) {
    const Page& p = pages[i];
    o << "<section class=\"page" << (i == 0 ? " active" : "") << "\" id=\"page-" << p.id
      << "\" data-page=\"" << p.id << "\">\n";
    if (p.html.empty()) {
      o << "<p class=\"empty\">nothing to show: " << escape(p.empty_reason) << "</p>\n";
    } else {
      o << p.html;
    }
    o << "</section>\n";
  }
  o << "<pre id=\"report-errors\" hidden></pre>\n</main>\n"
    << "<script type=\"application/json\" id=\"report-data\">" << script_json(data)
    << "</script>\n<script>" << kReportJs << "</script>\n</body>\n</html>\n";
  return o.str();
}

}  // namespace ptune::report::detail
