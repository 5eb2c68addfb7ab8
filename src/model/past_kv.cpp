// Reshaping past keys/values; contract in include/ptune/model/past_kv.h.
#include "ptune/model/past_kv.h"

namespace ptune {

PastKV expand_past(const PastKV& past, int64_t batch) {
  PastKV out;
  for (size_t l = 0; l < past.keys.size(); ++l) {
    out.keys.push_back(past.keys[l].expand({batch, -1, -1, -1}));
    out.values.push_back(past.values[l].expand({batch, -1, -1, -1}));
  }
  return out;
}

PastKV select_past_rows(const PastKV& past, const torch::Tensor& rows) {
  PastKV out;
  for (size_t l = 0; l < past.keys.size(); ++l) {
    out.keys.push_back(past.keys[l].index_select(0, rows));
    out.values.push_back(past.values[l].index_select(0, rows));
  }
  return out;
}

PastKV past_from_flat(const torch::Tensor& flat, int64_t n_layer, int64_t n_head_kv,
                      int64_t head_dim) {
  TORCH_CHECK(flat.dim() == 2 && flat.size(1) == n_layer * 2 * n_head_kv * head_dim,
              "prefix must be [N, ", n_layer * 2 * n_head_kv * head_dim,
              "] (layers * 2 * kv_heads * head_dim), got ", flat.sizes());
  const int64_t N = flat.size(0);
  // [N, L*2*Hkv*D] -> [L*2, Hkv, N, D]: block 2l holds layer l's keys, block 2l+1 its values.
  torch::Tensor kv = flat.view({N, n_layer * 2, n_head_kv, head_dim}).permute({1, 2, 0, 3});
  PastKV p;
  for (int64_t l = 0; l < n_layer; ++l) {
    p.keys.push_back(kv[2 * l].unsqueeze(0));
    p.values.push_back(kv[2 * l + 1].unsqueeze(0));
  }
  return p;
}

torch::Tensor past_to_flat(const PastKV& past) {
  TORCH_CHECK(past.batch() == 1, "past_to_flat: a one-row state is needed, got ", past.batch());
  std::vector<torch::Tensor> blocks;  // each [N, Hkv * D]
  for (size_t l = 0; l < past.keys.size(); ++l) {
    for (const torch::Tensor* t : {&past.keys[l], &past.values[l]}) {
      blocks.push_back(t->squeeze(0).transpose(0, 1).reshape({t->size(2), -1}));
    }
  }
  return torch::cat(blocks, 1);
}

}  // namespace ptune
