// Hyperparameters of a decoder-only model, read from GGUF metadata (`<arch>.*` keys): what every
// architecture has. One that needs more reads its own keys in its file under src/model/arch/.
#pragma once

#include <cstdint>
#include <string>

namespace ptune {

namespace gguf {
class GgufFile;
}

struct ModelConfig {
  std::string arch;  // general.architecture
  std::string name;  // general.name (may be empty)
  int64_t n_vocab = 0;
  int64_t n_embd = 0;  // C
  int64_t n_layer = 0;
  int64_t n_head = 0;     // H
  int64_t n_head_kv = 0;  // Hkv (grouped-query attention when < H)
  int64_t head_dim = 0;   // D
  int64_t n_ff = 0;
  int64_t n_ctx_train = 0;
  double rms_eps = 1e-5;
  double rope_theta = 10000.0;
  bool tied_embeddings = false;

  // Throws gguf::GgufError (with the key named) for a missing or inconsistent value.
  static ModelConfig from_gguf(const gguf::GgufFile& file);
};

}  // namespace ptune
