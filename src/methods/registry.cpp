// The method registry; contract in ptune/methods/registry.h.
#include "ptune/methods/registry.h"

#include <stdexcept>
#include <vector>

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

// The method among `methods` whose artifacts have `peft_type`, or null ("" matches none).
const Method* with_peft_type(const std::vector<const Method*>& methods,
                             const std::string& peft_type) {
  if (peft_type.empty()) return nullptr;
  for (const Method* m : methods) {
    if (m->peft_type == peft_type) return m;
  }
  return nullptr;
}

}  // namespace

void register_method(Method m) {
  if (!m.make_config || !m.make_prompt || !m.load) {
    throw std::invalid_argument("register_method: '" + m.name + "' lacks a function");
  }
  // added(), not entries(): the built-ins register through here while the table fills.
  if (const Method* other = with_peft_type(methods().added(), m.peft_type)) {
    throw std::invalid_argument("register_method: '" + m.name + "' and '" + other->name +
                                "' both claim peft_type " + m.peft_type);
  }
  const std::string name = m.name;
  methods().add(name, std::move(m));
}

const Method* find_method(const std::string& name) {
  return methods().find(name);
}

const Method* find_method_by_peft_type(const std::string& peft_type) {
  return with_peft_type(methods().entries(), peft_type);
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
