#include "model/weights.h"

#include <sstream>

namespace ptune {

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

}  // namespace

torch::Tensor load_tensor(const gguf::GgufFile& file, const std::string& name,
                          const std::vector<int64_t>& expected) {
  const gguf::TensorInfo* t = file.find_tensor(name);
  if (!t) throw gguf::GgufError("missing tensor '" + name + "'");
  std::vector<int64_t> shape(t->dims.rbegin(), t->dims.rend());
  if (shape != expected) {
    throw gguf::GgufError("tensor '" + name + "' has shape " + shape_str(shape) + ", expected " +
                          shape_str(expected));
  }
  torch::Tensor out = torch::empty(shape, torch::kFloat32);
  gguf::dequantize(t->type, t->data, out.data_ptr<float>(), t->n_elements);
  // A NaN or Inf weight makes every logit NaN, and argmax over NaN is silently label 0.
  const torch::Tensor bad = torch::isfinite(out).logical_not().flatten().nonzero();
  if (bad.numel() > 0) {
    throw gguf::GgufError("tensor '" + name + "' holds " + std::to_string(bad.numel()) +
                          " NaN or Inf values (the first at flat index " +
                          std::to_string(bad[0][0].item<int64_t>()) + ")");
  }
  return out;
}

}  // namespace ptune
