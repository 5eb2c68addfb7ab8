// Turning GGUF tensors into float32 torch tensors.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "ptune/io/gguf.h"

namespace ptune {

// Dequantizes `name` to a float32 tensor in PyTorch order (reversed ggml dims), checking that
// the shape is `expected` (PyTorch order). Throws gguf::GgufError naming the tensor otherwise.
torch::Tensor load_tensor(const gguf::GgufFile& file, const std::string& name,
                          const std::vector<int64_t>& expected);

}  // namespace ptune
