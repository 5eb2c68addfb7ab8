// See limits.h.
#include "cli/limits.h"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <thread>

#include "ptune/methods/limits.h"

namespace ptune::cli {

namespace {

constexpr double kFloat = sizeof(float);

// Weights held in memory (float32, as the model computes with them): embeddings, the output
// head unless tied, and per layer the attention and feed-forward matrices and two norms.
double weight_bytes(const ModelConfig& m) {
  const double c = m.n_embd, q = m.n_head * m.head_dim, kv = m.n_head_kv * m.head_dim;
  const double embeddings = m.n_vocab * c * (m.tied_embeddings ? 1 : 2);
  const double layer = c * q + 2 * c * kv + q * c + 3 * c * m.n_ff + 2 * c;
  return (embeddings + m.n_layer * layer + c) * kFloat;
}

// Floats one layer keeps per token (see check_batch_memory): hidden states around the two
// norms and residuals, q/k/v and the attention output (twice: before and after rotation or
// projection), the feed-forward's gate, up, activation and product, and one attention row.
double layer_floats_per_token(const ModelConfig& m, int64_t width) {
  const double c = m.n_embd, q = m.n_head * m.head_dim, kv = m.n_head_kv * m.head_dim;
  return 6 * c + 2 * (q + 2 * kv) + 4.0 * m.n_ff + static_cast<double>(m.n_head) * width;
}

double activation_bytes(const ModelConfig& m, const BatchShape& b, bool training) {
  const double per_layer = layer_floats_per_token(m, b.width) * kFloat;
  const double cache = 2.0 * m.n_layer * m.n_head_kv * m.head_dim * kFloat;  // keys and values
  const double per_token = training ? m.n_layer * per_layer : per_layer + cache;
  const double logits = static_cast<double>(b.rows) * m.n_vocab * kFloat;
  return static_cast<double>(b.tokens) * per_token + logits;
}

}  // namespace

int max_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return 4 * static_cast<int>(std::max(1u, hw));
}

BatchShape longest_batch(std::vector<int64_t> lengths, int64_t rows, int64_t prompt) {
  rows = std::min<int64_t>(rows, static_cast<int64_t>(lengths.size()));
  std::partial_sort(lengths.begin(), lengths.begin() + rows, lengths.end(), std::greater<>());
  BatchShape b;
  b.rows = rows;
  for (int64_t i = 0; i < rows; ++i) b.tokens += lengths[i];
  // The prompt's virtual tokens run once per batch (shared), and every row attends to them.
  b.tokens += prompt;
  b.width = (rows > 0 ? lengths[0] : 0) + prompt;
  return b;
}

void check_batch_memory(const std::string& flag, const ModelConfig& model, const BatchShape& batch,
                        bool training) {
  const double weights = weight_bytes(model);
  const double activations = activation_bytes(model, batch, training);
  methods::check_fits_memory(
      flag, weights + activations,
      "weights " + methods::bytes_text(weights) + " + " + (training ? "training " : "") +
          "activations " + methods::bytes_text(activations) + " for " + std::to_string(batch.rows) +
          " rows of " + std::to_string(batch.tokens) + " tokens");
}

void check_new_tokens(int64_t n, const ModelConfig& model) {
  if (model.n_ctx_train <= 0 || n <= model.n_ctx_train) return;
  throw std::invalid_argument("--max-tokens " + std::to_string(n) +
                              ": more than the model's context of " +
                              std::to_string(model.n_ctx_train) + " tokens");
}

}  // namespace ptune::cli
