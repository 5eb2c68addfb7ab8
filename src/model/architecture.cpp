// The architecture registry and load_model; contracts in ptune/model/architecture.h, model.h.
#include "ptune/model/architecture.h"

#include <stdexcept>

#include "ptune/io/gguf.h"
#include "ptune/util/registry.h"

namespace ptune {

namespace detail {
void register_builtin_architectures();  // generated: calls each src/model/arch/ file's function
}

namespace {

util::Registry<Architecture>& architectures() {
  static util::Registry<Architecture> r("architecture", detail::register_builtin_architectures);
  return r;
}

}  // namespace

void register_architecture(Architecture a) {
  if (!a.build) throw std::invalid_argument("register_architecture: '" + a.name + "' has no build");
  const std::string name = a.name;
  architectures().add(name, std::move(a));
}

const Architecture* find_architecture(const std::string& name) {
  return architectures().find(name);
}

std::vector<std::string> architecture_names() {
  return architectures().names();
}

std::unique_ptr<Model> model_from_gguf(const gguf::GgufFile& file, torch::Device device,
                                       torch::ScalarType matmul_dtype) {
  TORCH_CHECK(matmul_dtype == torch::kFloat32 || matmul_dtype == torch::kBFloat16,
              "matmul dtype must be float32 or bfloat16");
  const std::string arch = file.get_string("general.architecture");
  const Architecture* a = find_architecture(arch);
  if (!a) {
    throw gguf::GgufError("model: architecture '" + arch +
                          "' is not supported (supported: " + architectures().joined_names() + ")");
  }
  return a->build(file, device, matmul_dtype);
}

std::unique_ptr<Model> load_model(const std::string& path, torch::Device device,
                                  torch::ScalarType matmul_dtype) {
  try {
    return model_from_gguf(gguf::GgufFile::open(path), device, matmul_dtype);
  } catch (const gguf::GgufError& e) {
    throw gguf::GgufError("loading model " + path + ": " + e.what());
  }
}

}  // namespace ptune
