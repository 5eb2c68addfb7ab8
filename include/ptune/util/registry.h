// A table of named entries, filled once by the built-in registrations on first use and open to
// more at run time (tests register their own). The architecture, method and PEFT-schema
// registries are instances; each keeps its own checks of what an entry must have.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace ptune::util {

template <typename Entry>
class Registry {
 public:
  // `what` names an entry in errors ("method"); `builtins` adds the built-in entries (through
  // add()) and runs once, before the first lookup.
  Registry(std::string what, std::function<void()> builtins)
      : what_(std::move(what)), builtins_(std::move(builtins)) {}

  // Throws std::invalid_argument for an empty or taken name.
  void add(const std::string& name, Entry entry) {
    if (name.empty()) throw std::invalid_argument("register " + what_ + ": empty name");
    if (!table_.emplace(name, std::move(entry)).second) {
      throw std::invalid_argument("register " + what_ + ": '" + name + "' is registered twice");
    }
  }
  // Null when no entry has that name.
  const Entry* find(const std::string& name) const {
    const auto& t = filled();
    auto it = t.find(name);
    return it == t.end() ? nullptr : &it->second;
  }
  std::vector<const Entry*> entries() const {  // sorted by name
    std::vector<const Entry*> out;
    for (const auto& [name, e] : filled()) out.push_back(&e);
    return out;
  }
  std::vector<std::string> names() const {  // sorted
    std::vector<std::string> out;
    for (const auto& [name, e] : filled()) out.push_back(name);
    return out;
  }
  // The entries added so far, without running the built-ins: for checks made by add()'s callers
  // while the built-ins register (a lookup then would wait on itself).
  std::vector<const Entry*> added() const {
    std::vector<const Entry*> out;
    for (const auto& [name, e] : table_) out.push_back(&e);
    return out;
  }
  // "a, b, c", for errors that list what there is.
  std::string joined_names() const {
    std::string s;
    for (const std::string& n : names()) s += (s.empty() ? "" : ", ") + n;
    return s;
  }

 private:
  const std::map<std::string, Entry>& filled() const {
    std::call_once(once_, [this] { builtins_(); });
    return table_;
  }

  std::string what_;
  std::function<void()> builtins_;
  mutable std::once_flag once_;
  std::map<std::string, Entry> table_;
};

}  // namespace ptune::util
