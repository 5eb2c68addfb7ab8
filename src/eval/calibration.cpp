// Label renormalisation and contextual calibration; see include/ptune/eval/calibration.h.
#include "ptune/eval/calibration.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ptune::eval {

std::vector<double> log_normalize(const std::vector<double>& s) {
  if (s.empty()) return {};
  const double m = *std::max_element(s.begin(), s.end());
  double z = 0;
  for (double x : s) z += std::exp(x - m);
  const double lse = m + std::log(z);
  std::vector<double> out(s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = s[i] - lse;
  return out;
}

std::vector<double> content_free_log_prior(const std::vector<std::vector<double>>& cf) {
  if (cf.empty()) throw std::invalid_argument("calibration: no content-free scores");
  const size_t n = cf[0].size();
  if (n == 0) throw std::invalid_argument("calibration: no labels");
  std::vector<double> mean(n, 0.0);
  for (const auto& s : cf) {
    if (s.size() != n) throw std::invalid_argument("calibration: label counts differ");
    const std::vector<double> lp = log_normalize(s);
    for (size_t l = 0; l < n; ++l) mean[l] += std::exp(lp[l]) / static_cast<double>(cf.size());
  }
  for (double& x : mean) x = std::log(x);
  return mean;
}

std::vector<double> calibrate(const std::vector<double>& s, const std::vector<double>& prior) {
  if (s.size() != prior.size()) {
    throw std::invalid_argument("calibration: " + std::to_string(s.size()) + " label scores, " +
                                std::to_string(prior.size()) + " prior values");
  }
  std::vector<double> lp = log_normalize(s);
  for (size_t l = 0; l < lp.size(); ++l) lp[l] -= prior[l];
  return log_normalize(lp);
}

size_t argmax(const std::vector<double>& v) {
  if (v.empty()) throw std::invalid_argument("argmax of an empty list");
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace ptune::eval
