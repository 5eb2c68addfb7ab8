// Portable seeded randomness for splits, --limit samples, demo selection and the bootstrap.
//
// std::shuffle and std::uniform_int_distribution are implementation-defined, so the same seed
// would give different splits under libstdc++ and libc++. We use mt19937_64 (fully specified by
// the standard) with our own unbiased bounded draw and Fisher-Yates shuffle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace ptune::util {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // Uniform integer in [0, n); n must be > 0. Rejection sampling avoids modulo bias.
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = engine_();
    } while (x >= limit);
    return x % n;
  }

  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  std::mt19937_64 engine_;
};

// Mixes two values into a seed (splitmix64 finaliser), e.g. a run seed and an example index.
inline uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9e3779b97f4a7c15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// 0, 1, ..., n-1.
inline std::vector<size_t> iota_indices(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

}  // namespace ptune::util
