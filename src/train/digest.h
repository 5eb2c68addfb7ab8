// A 64-bit FNV-1a digest of values, for the settings fingerprint a checkpoint keeps (training
// data, length lists): it only has to tell "the same" from "changed", not resist an attacker.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace ptune::train {

class Digest {
 public:
  Digest& bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h_ = (h_ ^ p[i]) * 0x100000001b3ULL;
    return *this;
  }
  Digest& add(int64_t v) { return bytes(&v, sizeof v); }
  // Length first, so ("ab", "c") and ("a", "bc") differ.
  Digest& add(const std::string& s) {
    add(static_cast<int64_t>(s.size()));
    return bytes(s.data(), s.size());
  }
  template <typename T>
  Digest& add(const std::vector<T>& v) {
    add(static_cast<int64_t>(v.size()));
    for (const T& x : v) add(static_cast<int64_t>(x));
    return *this;
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
    return buf;
  }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace ptune::train
