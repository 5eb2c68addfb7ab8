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
  return out;
}

}  // namespace ptune
