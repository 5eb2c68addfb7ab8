// Accuracy, per-class P/R/F1, macro-F1, confusion matrix; contract in
// include/ptune/eval/metrics/classification.h.
#include <stdexcept>

#include "ptune/eval/metrics/classification.h"

namespace ptune::eval {
namespace {

void check_sizes(const std::vector<size_t>& gold, const std::vector<size_t>& predicted) {
  if (gold.size() != predicted.size()) {
    throw std::invalid_argument("metrics: " + std::to_string(gold.size()) + " gold labels but " +
                                std::to_string(predicted.size()) + " predictions");
  }
}

double safe_div(double a, double b) {
  return b == 0 ? 0.0 : a / b;
}

}  // namespace

ClassificationReport classification_report(const std::vector<size_t>& gold,
                                           const std::vector<size_t>& predicted,
                                           const std::vector<std::string>& labels) {
  check_sizes(gold, predicted);
  const size_t k = labels.size();
  ClassificationReport r;
  r.confusion.assign(k, std::vector<size_t>(k, 0));
  size_t correct = 0;
  for (size_t i = 0; i < gold.size(); ++i) {
    if (gold[i] >= k || predicted[i] >= k) {
      throw std::invalid_argument("metrics: label index out of range at example " +
                                  std::to_string(i));
    }
    ++r.confusion[gold[i]][predicted[i]];
    correct += gold[i] == predicted[i];
  }
  r.accuracy = safe_div(correct, gold.size());
  for (size_t c = 0; c < k; ++c) {
    size_t predicted_c = 0, gold_c = 0;
    for (size_t o = 0; o < k; ++o) {
      predicted_c += r.confusion[o][c];
      gold_c += r.confusion[c][o];
    }
    ClassStats s;
    s.label = labels[c];
    s.support = gold_c;
    s.precision = safe_div(r.confusion[c][c], predicted_c);
    s.recall = safe_div(r.confusion[c][c], gold_c);
    s.f1 = safe_div(2 * s.precision * s.recall, s.precision + s.recall);
    r.macro_f1 += s.f1;
    r.per_class.push_back(s);
  }
  r.macro_f1 = safe_div(r.macro_f1, k);
  return r;
}

double accuracy(const std::vector<size_t>& gold, const std::vector<size_t>& predicted) {
  check_sizes(gold, predicted);
  size_t correct = 0;
  for (size_t i = 0; i < gold.size(); ++i) correct += gold[i] == predicted[i];
  return safe_div(correct, gold.size());
}

double macro_f1(const std::vector<size_t>& gold, const std::vector<size_t>& predicted,
                size_t num_labels) {
  return classification_report(gold, predicted, std::vector<std::string>(num_labels)).macro_f1;
}

}  // namespace ptune::eval
