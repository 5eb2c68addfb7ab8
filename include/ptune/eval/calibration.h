// Label scores -> label probabilities, and contextual calibration (Zhao et al. 2021,
// "Calibrate Before Use").
//
// A label's raw score is a log-score s_l (sum or mean continuation log-prob, max over its words).
// Renormalised over the labels, p_l = softmax(s)_l. With calibration, the same prompt with every
// query field replaced by a content-free input ("N/A", "", "[MASK]") gives p_cf,k for each input
// k; their mean p_cf is the model's bias toward each label, and it is divided out:
//   q_l = (p_l / p_cf_l) / sum_m (p_m / p_cf_m)       i.e. log q = log_softmax(log p - log p_cf)
// (Zhao et al.'s W = diag(p_cf)^-1, b = 0).
#pragma once

#include <cstddef>
#include <vector>

namespace ptune::eval {

// log_softmax over the labels. Empty in, empty out.
std::vector<double> log_normalize(const std::vector<double>& log_scores);

// log of the mean over content-free inputs of the label distributions softmax(s_k).
// Throws std::invalid_argument when the lists are empty or differ in length.
std::vector<double> content_free_log_prior(const std::vector<std::vector<double>>& cf_log_scores);

// log q: the calibrated label log-probabilities. Throws std::invalid_argument on a size mismatch.
std::vector<double> calibrate(const std::vector<double>& log_scores,
                              const std::vector<double>& log_prior);

// Index of the largest value (the first on ties); throws std::invalid_argument when empty.
size_t argmax(const std::vector<double>& v);

}  // namespace ptune::eval
