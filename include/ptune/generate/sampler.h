// Next-token sampling: greedy, temperature, top-k, top-p (nucleus), seeded.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <random>

namespace ptune {

struct SamplingParams {
  float temperature = 0.0f;  // 0 = greedy (argmax)
  int top_k = 0;             // 0 = no top-k cut
  float top_p = 1.0f;        // 1 = no nucleus cut
  uint64_t seed = 0;
  void validate() const;  // throws std::invalid_argument naming the bad field
};

class Sampler {
 public:
  explicit Sampler(SamplingParams p);
  // logits: [V] float (any device). Returns the chosen token id.
  int32_t sample(const torch::Tensor& logits);

 private:
  SamplingParams p_;
  std::mt19937_64 rng_;
};

}  // namespace ptune
