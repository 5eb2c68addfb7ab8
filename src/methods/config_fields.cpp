// Method config fields; contract in ptune/methods/config_fields.h.
#include "ptune/methods/config_fields.h"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

#include "ptune/methods/limits.h"
#include "ptune/util/errors.h"

namespace ptune::methods {

namespace {

[[noreturn]] void bad(const std::string& name, const std::string& want, const std::string& got) {
  throw std::invalid_argument("--" + name + ": expected " + want + ", got '" + got + "'");
}

// Strict decimal (limits.h): "-1", "+5", "010" are read as written; text beyond 64 bits is an
// error, never wrapped or clamped. The option's range is its config's validate().
int64_t parse_int(const std::string& name, const std::string& s) {
  int64_t v = 0;
  if (parse_decimal(s, &v)) return v;
  if (!is_decimal_text(s)) bad(name, "an integer", s);
  throw std::invalid_argument("--" + name + ": " + util::clipped(s) +
                              " does not fit a 64-bit integer");
}

double parse_double(const std::string& name, const std::string& s) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno == ERANGE) bad(name, "a number", s);
  return v;
}

bool parse_bool(const std::string& name, const std::string& s) {
  if (s == "true" || s == "1" || s.empty()) return true;
  if (s == "false" || s == "0") return false;
  bad(name, "true or false", s);
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

void ConfigFields::add(std::string name, int64_t* value, std::string help) {
  fields_.push_back({std::move(name), std::move(help), value, {}});
}
void ConfigFields::add(std::string name, double* value, std::string help) {
  fields_.push_back({std::move(name), std::move(help), value, {}});
}
void ConfigFields::add(std::string name, bool* value, std::string help) {
  fields_.push_back({std::move(name), std::move(help), value, {}});
}
void ConfigFields::add(std::string name, std::string* value, std::string help,
                       std::vector<std::string> choices) {
  fields_.push_back({std::move(name), std::move(help), value, std::move(choices)});
}

const ConfigField* ConfigFields::find(const std::string& name) const {
  for (const ConfigField& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void ConfigFields::set(const std::string& name, const std::string& text) const {
  const ConfigField* f = find(name);
  if (!f) throw std::invalid_argument("--" + name + ": no such option");
  if (auto* p = std::get_if<int64_t*>(&f->value)) {
    **p = parse_int(name, text);
  } else if (auto* d = std::get_if<double*>(&f->value)) {
    **d = parse_double(name, text);
  } else if (auto* b = std::get_if<bool*>(&f->value)) {
    **b = parse_bool(name, text);
  } else {
    std::string* s = std::get<std::string*>(f->value);
    if (!f->choices.empty()) {
      bool ok = false;
      for (const auto& c : f->choices) ok = ok || c == text;
      if (!ok) bad(name, "one of " + joined(f->choices), text);
    }
    *s = text;
  }
}

nlohmann::json ConfigFields::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const ConfigField& f : fields_) {
    std::visit([&](auto* p) { j[f.name] = *p; }, f.value);
  }
  return j;
}

std::string ConfigFields::value_text(const ConfigField& f) {
  if (auto* p = std::get_if<int64_t*>(&f.value)) return std::to_string(**p);
  if (auto* d = std::get_if<double*>(&f.value)) return nlohmann::json(**d).dump();
  if (auto* b = std::get_if<bool*>(&f.value)) return **b ? "true" : "false";
  return *std::get<std::string*>(f.value);
}

}  // namespace ptune::methods
