// The method registry; contract in ptune/methods/registry.h.
#include "ptune/methods/registry.h"

#include <stdexcept>

#include "ptune/util/registry.h"

namespace ptune {
namespace detail {
void register_builtin_methods();  // generated: each src/methods/<method>/ folder's function
}

namespace methods {

namespace {

util::Registry<Method>& methods() {
  static util::Registry<Method> r("method", detail::register_builtin_methods);
  return r;
}

bool peft_type_taken(const std::string& peft_type, std::string* by) {
  for (const Method* m : methods().added()) {
    if (m->peft_type == peft_type) return *by = m->name, true;
  }
  return false;
}

}  // namespace

void register_method(Method m) {
  if (!m.make_config || !m.make_prompt || !m.load) {
    throw std::invalid_argument("register_method: '" + m.name + "' lacks a function");
  }
  std::string other;
  if (!m.peft_type.empty() && peft_type_taken(m.peft_type, &other)) {
    throw std::invalid_argument("register_method: '" + m.name + "' and '" + other +
                                "' both claim peft_type " + m.peft_type);
  }
  const std::string name = m.name;
  methods().add(name, std::move(m));
}

const Method* find_method(const std::string& name) {
  return methods().find(name);
}

const Method* find_method_by_peft_type(const std::string& peft_type) {
  for (const Method* m : methods().entries()) {
    if (!peft_type.empty() && m->peft_type == peft_type) return m;
  }
  return nullptr;
}

const Method& method_named(const std::string& name) {
  if (const Method* m = find_method(name)) return *m;
  throw std::invalid_argument("unknown method '" + name +
                              "' (methods: " + methods().joined_names() + ")");
}

std::vector<const Method*> registered_methods() {
  return methods().entries();
}

}  // namespace methods
}  // namespace ptune
