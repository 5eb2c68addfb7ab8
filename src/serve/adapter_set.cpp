#include "serve/adapter_set.h"

#include <stdexcept>

namespace ptune::serve {

namespace {

std::string mib(int64_t bytes) {
  return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

}  // namespace

int64_t state_bytes(const ServedAdapter& a) {
  if (!a.state) return 0;
  int64_t n = 0;
  for (const auto* layer : {&a.state->keys, &a.state->values}) {
    for (const torch::Tensor& t : *layer) n += t.numel() * static_cast<int64_t>(t.element_size());
  }
  return n;
}

AdapterSet::AdapterSet(std::string reserved, int64_t budget_bytes)
    : reserved_(std::move(reserved)), budget_(budget_bytes) {}

void AdapterSet::add(ServedAdapter adapter) {
  const int64_t size = state_bytes(adapter);
  std::lock_guard<std::mutex> lock(mutex_);
  if (adapter.name == reserved_ || by_name_.count(adapter.name)) {
    throw std::invalid_argument("the model id '" + adapter.name + "' is already served");
  }
  if (budget_ > 0 && bytes_ + size > budget_) {
    throw std::invalid_argument("adapter '" + adapter.name + "' needs " + mib(size) +
                                " of keys/values; the adapters hold " + mib(bytes_) +
                                " of the budget of " + mib(budget_) +
                                " (--adapter-memory; remove one first)");
  }
  bytes_ += size;
  std::string name = adapter.name;
  by_name_.emplace(std::move(name), std::make_shared<const ServedAdapter>(std::move(adapter)));
}

bool AdapterSet::remove(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return false;
  bytes_ -= state_bytes(*it->second);
  by_name_.erase(it);
  return true;
}

std::shared_ptr<const ServedAdapter> AdapterSet::find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const ServedAdapter>> AdapterSet::list() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::shared_ptr<const ServedAdapter>> out;
  for (const auto& [name, a] : by_name_) out.push_back(a);
  return out;
}

int64_t AdapterSet::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

}  // namespace ptune::serve
