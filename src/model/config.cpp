#include "ptune/model/config.h"

#include <cmath>
#include <string>

#include "ptune/io/gguf.h"

namespace ptune {

namespace {

using gguf::GgufError;

std::string key(const std::string& arch, const char* suffix) {
  return arch + "." + suffix;
}

void require_positive(int64_t v, const std::string& what) {
  if (v <= 0)
    throw GgufError("model config: " + what + " must be positive, got " + std::to_string(v));
}

// NaN compares false with everything, so "> 0" alone would let it through.
void require_positive_finite(double v, const std::string& what) {
  if (!(std::isfinite(v) && v > 0))
    throw GgufError("model config: " + what + " must be a finite number > 0, got " +
                    std::to_string(v));
}

}  // namespace

ModelConfig ModelConfig::from_gguf(const gguf::GgufFile& f) {
  ModelConfig c;
  c.arch = f.get_string("general.architecture");
  c.name = f.get_string("general.name", "");
  const std::string& a = c.arch;
  c.n_embd = f.get_int(key(a, "embedding_length"));
  c.n_layer = f.get_int(key(a, "block_count"));
  c.n_head = f.get_int(key(a, "attention.head_count"));
  c.n_head_kv = f.get_int(key(a, "attention.head_count_kv"), c.n_head);
  c.n_ff = f.get_int(key(a, "feed_forward_length"));
  c.n_ctx_train = f.get_int(key(a, "context_length"), 0);
  c.rms_eps = f.get_float(key(a, "attention.layer_norm_rms_epsilon"));
  c.rope_theta = f.get_float(key(a, "rope.freq_base"), 10000.0);
  require_positive(c.n_embd, "embedding_length");
  require_positive(c.n_layer, "block_count");
  require_positive(c.n_head, "attention.head_count");
  require_positive(c.n_head_kv, "attention.head_count_kv");
  require_positive(c.n_ff, "feed_forward_length");
  if (c.n_ctx_train < 0) require_positive(c.n_ctx_train, "context_length");
  require_positive_finite(c.rms_eps, "attention.layer_norm_rms_epsilon");
  require_positive_finite(c.rope_theta, "rope.freq_base");
  if (c.n_embd % c.n_head != 0)
    throw GgufError("model config: embedding_length not divisible by head_count");
  c.head_dim = f.get_int(key(a, "attention.key_length"), c.n_embd / c.n_head);
  const int64_t rope_dims = f.get_int(key(a, "rope.dimension_count"), c.head_dim);
  if (rope_dims != c.head_dim || c.head_dim % 2 != 0) {
    throw GgufError("model config: partial or odd rope.dimension_count " +
                    std::to_string(rope_dims) + " (head_dim " + std::to_string(c.head_dim) +
                    ") is not supported");
  }
  if (c.n_head % c.n_head_kv != 0) {
    throw GgufError("model config: head_count " + std::to_string(c.n_head) +
                    " is not a multiple of head_count_kv " + std::to_string(c.n_head_kv));
  }
  const std::string scaling = f.get_string(key(a, "rope.scaling.type"), "none");
  if (scaling != "none")
    throw GgufError("model config: rope scaling '" + scaling + "' is not supported");

  const gguf::TensorInfo& embd = f.tensor("token_embd.weight");
  if (embd.dims.size() != 2) throw GgufError("model config: token_embd.weight must be 2-D");
  c.n_vocab = static_cast<int64_t>(embd.dims[1]);
  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  return c;
}

}  // namespace ptune
