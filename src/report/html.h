// Text helpers every page of the report shares: UTF-8 repair, HTML escaping, truncation, number
// formatting, the JSON block the script reads, and the page shell (header, tabs, sections).
// Everything that reaches the page from a run goes through escape() or script_json().
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ptune::report::detail {

// `s` with each invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view s);

// HTML-escaped valid UTF-8 (& < > " ' become entities): safe in text and in quoted attributes.
std::string escape(std::string_view s);

// At most `max_chars` code points of valid UTF-8, the last one "…" when cut.
std::string truncate(std::string_view s, size_t max_chars);

// JSON for a <script type="application/json"> block: invalid UTF-8 replaced, and < > & U+2028
// U+2029 written as \u escapes so no string can close the block or break a JS parser.
std::string script_json(const nlohmann::json& value);

// A JSON value as display text: strings as they are, numbers by format_number, null as "",
// anything else as compact JSON.
std::string text_of(const nlohmann::json& value);

// Integers as integers, everything else with `significant` digits (%g).
std::string format_number(double value, int significant = 4);

// A number from a JSON value: numbers, or an object's "value"; false when neither.
bool number_of(const nlohmann::json& value, double& out);

// The colour a run gets in every chart and legend (by its position in the report).
std::string run_color(size_t index);

// One tab of the page. An empty `html` hides the tab; its section then says `empty_reason`.
struct Page {
  std::string id;     // the URL hash: "overview", "training", ...
  std::string title;  // the tab's text
  std::string html;   // the section's content
  std::string empty_reason;
};

// The whole document: inline CSS, the tab bar, one section per page, the JSON data block and
// the script. `subtitle` is HTML (already escaped).
std::string page_shell(const std::string& title, const std::string& subtitle,
                       const std::vector<Page>& pages, const nlohmann::json& data);

}  // namespace ptune::report::detail
