// Language-modelling metrics: token-weighted mean negative log-likelihood (natural log) and its
// exponential, perplexity.
#pragma once

#include <cstddef>
#include <vector>

namespace ptune::eval {

// Token-weighted mean NLL over all tokens of all examples (natural log): examples with more
// tokens weigh more, as in a corpus perplexity.
struct NllAccumulator {
  double total_nll = 0;
  size_t tokens = 0;
  void add(const std::vector<double>& token_logprobs);
  double mean_nll() const;    // NaN when no tokens
  double perplexity() const;  // exp(mean_nll)
};

}  // namespace ptune::eval
