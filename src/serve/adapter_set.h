// The tuned prompts a server holds, by model id, safe to change while requests run: a request
// keeps the adapter it resolved (a shared_ptr) even if the adapter is removed meanwhile. The
// keys/values of all of them together stay within a memory budget.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ptune/serve/server.h"

namespace ptune::serve {

class AdapterSet {
 public:
  // `reserved` is the base model's id, which no adapter may take; `budget_bytes` bounds the
  // keys/values of all adapters together (0 = no bound).
  AdapterSet(std::string reserved, int64_t budget_bytes);

  // Throws std::invalid_argument for a name in use (or the base model's), and for an adapter
  // whose keys/values would take the set past its budget (the message gives both sizes).
  void add(ServedAdapter adapter);
  // False when no adapter has that name.
  bool remove(const std::string& name);
  std::shared_ptr<const ServedAdapter> find(const std::string& name) const;
  std::vector<std::shared_ptr<const ServedAdapter>> list() const;  // by name
  int64_t bytes() const;

 private:
  std::string reserved_;
  int64_t budget_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const ServedAdapter>> by_name_;
  int64_t bytes_ = 0;
};

// Bytes of an adapter's keys/values (0 for a discrete prompt).
int64_t state_bytes(const ServedAdapter& adapter);

}  // namespace ptune::serve
