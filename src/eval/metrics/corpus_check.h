// The one check every corpus-level text metric makes before it counts anything.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace ptune::eval::detail {

// Throws std::invalid_argument naming `metric` when predictions and reference lists differ in
// number (references[i] are the references of predictions[i]).
inline void check_corpus_sizes(const char* metric, size_t predictions, size_t references) {
  if (predictions != references) {
    throw std::invalid_argument(std::string(metric) + ": " + std::to_string(predictions) +
                                " predictions but " + std::to_string(references) +
                                " reference lists");
  }
}

}  // namespace ptune::eval::detail
