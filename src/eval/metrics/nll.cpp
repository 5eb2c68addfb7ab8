// Token-weighted NLL and perplexity; contract in include/ptune/eval/metrics/nll.h.
#include <cmath>
#include <limits>

#include "ptune/eval/metrics/nll.h"

namespace ptune::eval {

void NllAccumulator::add(const std::vector<double>& token_logprobs) {
  // The example's total first (what the evaluator records as gold_nll), then the corpus sum, so
  // the mean is exactly the records' gold_nll summed over their gold_tokens.
  double example = 0;
  for (double lp : token_logprobs) example -= lp;
  total_nll += example;
  tokens += token_logprobs.size();
}

double NllAccumulator::mean_nll() const {
  return tokens == 0 ? std::numeric_limits<double>::quiet_NaN() : total_nll / tokens;
}

double NllAccumulator::perplexity() const {
  return std::exp(mean_nll());
}

}  // namespace ptune::eval
