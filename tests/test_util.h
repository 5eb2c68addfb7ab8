// Shared helpers for the test binaries.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace ptune::test {

// Absolute path of a file under tests/data.
std::string data_path(const std::string& relative);

// Path of the real default model (fetched by scripts/setup). When it is missing the calling test
// is skipped, unless PTUNE_REQUIRE_MODEL=1 (set by scripts/test and CI), where it fails instead.
// Use as:
//   std::string model;
//   if (!ptune::test::default_model(&model)) GTEST_SKIP() << "default model missing";
bool default_model(std::string* path);
// The path default_model() checks, without skipping or failing (for suite set-up).
std::string default_model_path();

// Max |ours - golden| for logits in the golden-file layout written by scripts/reference/
// (per position: "top_ids"/"top_logits" and "strided_logits" at vocab ids 0, stride, 2*stride...).
// ours: row-major [positions.size(), V] float32.
double max_golden_logit_diff(const float* ours, int64_t V, const nlohmann::json& positions,
                             int64_t stride);

// Reads a whole file; throws std::runtime_error when it cannot.
std::string read_file(const std::string& path);

}  // namespace ptune::test

namespace ptune::test {

// A tiny random llama-architecture GGUF (F32 weights and the llama.* keys; no tokenizer), for
// model tests that need no real model. Tests that need the model, not the file, take the shared
// loaded one from test_model.h (test::tiny_model(spec)).
struct TinyLlama {
  int n_vocab = 64;
  int n_embd = 32;
  int n_layer = 2;
  int n_head = 4;
  int n_head_kv = 2;
  int n_ff = 48;
  float rope_theta = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied = true;
  bool nan_weight = false;  // one NaN in blk.0.ffn_up.weight (a corrupt file)
  unsigned seed = 1;
};
// Writes the model to a temporary file and returns its path.
std::string write_tiny_llama(const TinyLlama& spec);

}  // namespace ptune::test
