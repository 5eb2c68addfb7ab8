#include "ptune/generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace ptune {

void SamplingParams::validate() const {
  if (!(temperature >= 0.0f) || !std::isfinite(temperature))
    throw std::invalid_argument("temperature must be >= 0, got " + std::to_string(temperature));
  if (top_k < 0) throw std::invalid_argument("top_k must be >= 0, got " + std::to_string(top_k));
  if (!(top_p > 0.0f && top_p <= 1.0f))
    throw std::invalid_argument("top_p must be in (0, 1], got " + std::to_string(top_p));
}

Sampler::Sampler(SamplingParams p) : p_(p), rng_(p.seed) {
  p_.validate();
}

int32_t Sampler::sample(const torch::Tensor& logits_any) {
  torch::Tensor logits = logits_any.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  const float* l = logits.data_ptr<float>();
  const int64_t V = logits.numel();
  if (p_.temperature == 0.0f) {
    return static_cast<int32_t>(std::max_element(l, l + V) - l);
  }
  // Candidates sorted by logit, cut by top-k, then softmax with temperature, then top-p.
  std::vector<int32_t> idx(V);
  std::iota(idx.begin(), idx.end(), 0);
  const int64_t k = p_.top_k > 0 ? std::min<int64_t>(p_.top_k, V) : V;
  auto by_logit = [l](int32_t a, int32_t b) { return l[a] > l[b]; };
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), by_logit);
  idx.resize(k);
  std::vector<double> prob(k);
  const double max_l = l[idx[0]];
  double sum = 0;
  for (int64_t i = 0; i < k; ++i) {
    prob[i] = std::exp((l[idx[i]] - max_l) / p_.temperature);
    sum += prob[i];
  }
  int64_t keep = k;
  if (p_.top_p < 1.0f) {
    double cum = 0;
    for (int64_t i = 0; i < k; ++i) {
      cum += prob[i] / sum;
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  std::discrete_distribution<int64_t> dist(prob.begin(), prob.begin() + keep);
  return idx[dist(rng_)];
}

}  // namespace ptune
