// Discrete prompt files and applying them to a task; contract in ptune/tasks/discrete_prompt.h.
#include "ptune/tasks/discrete_prompt.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

#include "io/atomic_file.h"
#include "ptune/tasks/errors.h"
#include "ptune/tasks/template.h"
#include "ptune/util/files.h"
#include "ptune/util/json.h"

namespace ptune::tasks {

namespace {

using json = nlohmann::json;

constexpr const char* kFormat = "ptune-discrete-prompt";

const std::set<std::string> kKeys = {"format",    "version", "text",  "token_ids",
                                     "placement", "slot",    "model", "method"};

std::string string_key(const json& j, const std::string& key, const std::string& source,
                       bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw TaskFileError(source, key, "missing");
    return "";
  }
  if (!it->is_string()) throw TaskFileError(source, key, "must be a string");
  return it->get<std::string>();
}

std::vector<int32_t> token_ids_key(const json& j, const std::string& source) {
  auto it = j.find("token_ids");
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_array()) throw TaskFileError(source, "token_ids", "must be an array of integers");
  std::vector<int32_t> ids;
  for (const json& v : *it) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
        v.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      throw TaskFileError(source, "token_ids", "must hold token ids (integers >= 0)");
    }
    ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  }
  return ids;
}

// Placement names in enum order.
constexpr const char* kPlacements[] = {"prefix", "instruction", "slot"};

DiscretePrompt::Placement placement_key(const json& j, const std::string& source) {
  const std::string p = string_key(j, "placement", source, true);
  for (size_t i = 0; i < std::size(kPlacements); ++i) {
    if (p == kPlacements[i]) return static_cast<DiscretePrompt::Placement>(i);
  }
  throw TaskFileError(source, "placement",
                      "unknown value '" + p + "' (prefix, instruction or slot)");
}

// {{ and }} so the text reads literally inside a template.
std::string escape_braces(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '{' || c == '}') out += c;
  }
  return out;
}

// The template source with every {soft:SLOT...} part replaced by `text`.
std::string fill_slot(const std::string& source, const std::string& slot, const std::string& text,
                      const std::string& template_name) {
  const Template t = Template::parse(source, template_name);
  const auto& parts = t.parts();
  std::string out;
  size_t copied = 0;
  bool found = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].kind != Template::Part::Kind::Soft || parts[i].soft_name != slot) continue;
    const size_t end = i + 1 < parts.size() ? parts[i + 1].offset : source.size();
    out += source.substr(copied, parts[i].offset - copied) + escape_braces(text);
    copied = end;
    found = true;
  }
  if (!found) {
    throw std::invalid_argument("discrete prompt: template '" + template_name +
                                "' has no {soft:" + slot + "} slot for it");
  }
  return out + source.substr(copied);
}

}  // namespace

const char* placement_name(DiscretePrompt::Placement p) {
  return kPlacements[static_cast<size_t>(p)];
}

DiscretePrompt parse_discrete_prompt(std::string_view text, const std::string& source) {
  json j;
  try {
    j = util::parse_json_strict(text);
  } catch (const util::JsonSyntaxError& e) {
    throw TaskFileError(source, "", std::string("invalid JSON at ") + e.what());
  }
  if (!j.is_object()) throw TaskFileError(source, "", "a discrete prompt must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (!kKeys.count(key)) throw TaskFileError(source, key, "unknown key");
  }
  if (string_key(j, "format", source, true) != kFormat) {
    throw TaskFileError(source, "format", std::string("must be \"") + kFormat + "\"");
  }
  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || version->get<int64_t>() != 1) {
    throw TaskFileError(source, "version", "must be 1");
  }
  DiscretePrompt p;
  p.text = string_key(j, "text", source, true);
  if (p.text.empty()) throw TaskFileError(source, "text", "must not be empty");
  p.token_ids = token_ids_key(j, source);
  p.placement = placement_key(j, source);
  p.slot = string_key(j, "slot", source, p.placement == DiscretePrompt::Placement::Slot);
  if (p.placement != DiscretePrompt::Placement::Slot && !p.slot.empty()) {
    throw TaskFileError(source, "slot", "is only for placement \"slot\"");
  }
  p.model = string_key(j, "model", source, false);
  p.method = string_key(j, "method", source, false);
  return p;
}

DiscretePrompt read_discrete_prompt(const std::string& path) {
  std::string text;
  try {
    text = util::read_file_bounded(path, util::kMaxSpecFileBytes);
  } catch (const std::runtime_error& e) {
    throw TaskFileError(path, "", std::string("prompt file ") + e.what());
  }
  return parse_discrete_prompt(text, path);
}

std::string to_json(const DiscretePrompt& p) {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["version"] = 1;
  j["text"] = p.text;
  j["token_ids"] = p.token_ids;
  j["placement"] = placement_name(p.placement);
  if (p.placement == DiscretePrompt::Placement::Slot) j["slot"] = p.slot;
  j["model"] = p.model;
  j["method"] = p.method;
  return j.dump(2) + "\n";
}

void write_discrete_prompt(const std::string& path, const DiscretePrompt& p) {
  const std::string text = to_json(p);
  const std::string err = io::write_file_atomically(path, text.data(), text.size());
  if (!err.empty()) throw std::runtime_error(err);
}

TaskSpec with_discrete_prompt(TaskSpec task, const DiscretePrompt& p,
                              const std::string& template_name) {
  auto it = task.templates.find(template_name);
  if (it == task.templates.end()) {
    throw std::invalid_argument("discrete prompt: unknown template '" + template_name + "'");
  }
  if (p.placement == DiscretePrompt::Placement::Slot) {
    it->second = fill_slot(it->second, p.slot, p.text, template_name);
    return task;
  }
  if (!Template::parse(it->second, template_name).uses("instruction")) {
    throw std::invalid_argument("discrete prompt: placement " +
                                std::string(placement_name(p.placement)) + " needs an " +
                                "{instruction} in template '" + template_name + "'");
  }
  const bool prefix = p.placement == DiscretePrompt::Placement::Prefix;
  task.instruction = prefix && !task.instruction.empty() ? p.text + " " + task.instruction : p.text;
  return task;
}

}  // namespace ptune::tasks
