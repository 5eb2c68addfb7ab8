#include <cmath>
#include <limits>

#include "ptune/tasks/metrics.h"

namespace ptune::tasks {

void NllAccumulator::add(const std::vector<double>& token_logprobs) {
  for (double lp : token_logprobs) total_nll -= lp;
  tokens += token_logprobs.size();
}

double NllAccumulator::mean_nll() const {
  return tokens == 0 ? std::numeric_limits<double>::quiet_NaN() : total_nll / tokens;
}

double NllAccumulator::perplexity() const {
  return std::exp(mean_nll());
}

}  // namespace ptune::tasks
