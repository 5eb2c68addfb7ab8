// The options of a method's config, described once: name, help text, default and where the value
// lives. The CLI builds its flags from them (`ptune tune --help` lists each with its default),
// the run record stores them as JSON, and a config is set from text by name, so no caller
// spells out a method's options.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace ptune::methods {

struct ConfigField {
  std::string name;  // kebab-case, the CLI flag without "--": "virtual-tokens"
  std::string help;
  std::variant<int64_t*, double*, bool*, std::string*> value;
  std::vector<std::string> choices;  // for strings: the allowed values (empty = any)
};

class ConfigFields {
 public:
  void add(std::string name, int64_t* value, std::string help);
  void add(std::string name, double* value, std::string help);
  void add(std::string name, bool* value, std::string help);  // a flag: given = true
  void add(std::string name, std::string* value, std::string help,
           std::vector<std::string> choices = {});

  const std::vector<ConfigField>& all() const { return fields_; }
  const ConfigField* find(const std::string& name) const;
  // Parses `text` into the field; throws std::invalid_argument naming the option and what it
  // expected ("--virtual-tokens: expected an integer, got 'x'").
  void set(const std::string& name, const std::string& text) const;
  // {"virtual-tokens": 20, ...} in declaration order of the names.
  nlohmann::json to_json() const;
  // The current value as text, for help output ("20", "mlp", "false").
  static std::string value_text(const ConfigField& field);

 private:
  std::vector<ConfigField> fields_;
};

}  // namespace ptune::methods
