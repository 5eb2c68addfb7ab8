// Classification metrics over label indexes: accuracy, per-class precision / recall / F1, macro-F1
// (sklearn's "macro": unweighted mean over all labels) and the confusion matrix. Pure functions,
// tested against hand-computed values. All in [0, 1].
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ptune::eval {

struct ClassStats {
  std::string label;
  double precision = 0;  // 0 when the class is never predicted
  double recall = 0;     // 0 when the class never occurs
  double f1 = 0;
  size_t support = 0;  // gold count
};

struct ClassificationReport {
  double accuracy = 0;
  double macro_f1 = 0;  // unweighted mean of per-class F1 over all labels (sklearn "macro")
  std::vector<ClassStats> per_class;
  std::vector<std::vector<size_t>> confusion;  // [gold][predicted]
};

// gold and predicted are label indexes in [0, labels.size()); throws std::invalid_argument on
// a size mismatch or an index out of range.
ClassificationReport classification_report(const std::vector<size_t>& gold,
                                           const std::vector<size_t>& predicted,
                                           const std::vector<std::string>& labels);
double accuracy(const std::vector<size_t>& gold, const std::vector<size_t>& predicted);
double macro_f1(const std::vector<size_t>& gold, const std::vector<size_t>& predicted,
                size_t num_labels);

}  // namespace ptune::eval
