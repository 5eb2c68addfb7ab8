#include "test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "ptune/io/gguf.h"

namespace ptune::test {

std::string data_path(const std::string& relative) {
  return std::string(PTUNE_TEST_DATA_DIR) + "/" + relative;
}

std::string default_model_path() {
  const char* env = std::getenv("PTUNE_MODEL");
  return env && *env ? env : PTUNE_DEFAULT_MODEL_PATH;
}

bool default_model(std::string* path) {
  *path = default_model_path();
  if (std::filesystem::exists(*path)) return true;
  const char* require = std::getenv("PTUNE_REQUIRE_MODEL");
  if (require && std::string(require) == "1") {
    ADD_FAILURE() << "default model missing at " << *path << " (run scripts/setup)";
  }
  return false;
}

double max_golden_logit_diff(const float* ours, int64_t V, const nlohmann::json& positions,
                             int64_t stride) {
  double worst = 0;
  for (size_t t = 0; t < positions.size(); ++t) {
    const float* row = ours + t * V;
    const auto& pos = positions[t];
    auto ids = pos.at("top_ids").get<std::vector<int64_t>>();
    auto top = pos.at("top_logits").get<std::vector<double>>();
    for (size_t k = 0; k < ids.size(); ++k) worst = std::max(worst, std::abs(row[ids[k]] - top[k]));
    auto strided = pos.at("strided_logits").get<std::vector<double>>();
    for (size_t k = 0; k < strided.size(); ++k) {
      worst = std::max(worst, std::abs(row[k * stride] - strided[k]));
    }
  }
  return worst;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ptune::test

namespace ptune::test {

std::string write_tiny_llama(const TinyLlama& s) {
  using gguf::Value;
  using gguf::ValueType;
  gguf::GgufWriter w;
  auto u32 = [](int64_t v) { return Value::make_uint(ValueType::U32, static_cast<uint64_t>(v)); };
  w.set("general.architecture", Value::make_string("llama"));
  w.set("llama.embedding_length", u32(s.n_embd));
  w.set("llama.block_count", u32(s.n_layer));
  w.set("llama.attention.head_count", u32(s.n_head));
  w.set("llama.attention.head_count_kv", u32(s.n_head_kv));
  w.set("llama.feed_forward_length", u32(s.n_ff));
  w.set("llama.context_length", u32(256));
  w.set("llama.attention.layer_norm_rms_epsilon", Value::make_float(ValueType::F32, s.rms_eps));
  w.set("llama.rope.freq_base", Value::make_float(ValueType::F32, s.rope_theta));

  std::mt19937 rng(s.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  // dims in ggml order {in, out}; scaled so activations stay O(1) through the layers.
  auto add = [&](const std::string& name, uint64_t in, uint64_t out, float scale) {
    std::vector<float> v(in * out);
    for (float& x : v) x = normal(rng) * scale;
    if (s.nan_weight && name == "blk.0.ffn_up.weight") v[v.size() / 2] = std::nanf("");
    w.add_tensor_f32(name, {in, out}, v);
  };
  auto add_norm = [&](const std::string& name, uint64_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = 1.0f + 0.1f * normal(rng);
    w.add_tensor_f32(name, {n}, v);
  };
  const int D = s.n_embd / s.n_head;
  const float in_scale = 1.0f / std::sqrt(static_cast<float>(s.n_embd));
  add("token_embd.weight", s.n_embd, s.n_vocab, 1.0f);
  add_norm("output_norm.weight", s.n_embd);
  if (!s.tied) add("output.weight", s.n_embd, s.n_vocab, in_scale);
  for (int i = 0; i < s.n_layer; ++i) {
    std::string p = "blk." + std::to_string(i) + ".";
    add_norm(p + "attn_norm.weight", s.n_embd);
    add(p + "attn_q.weight", s.n_embd, s.n_head * D, in_scale);
    add(p + "attn_k.weight", s.n_embd, s.n_head_kv * D, in_scale);
    add(p + "attn_v.weight", s.n_embd, s.n_head_kv * D, in_scale);
    add(p + "attn_output.weight", s.n_head * D, s.n_embd, in_scale);
    add_norm(p + "ffn_norm.weight", s.n_embd);
    add(p + "ffn_gate.weight", s.n_embd, s.n_ff, in_scale);
    add(p + "ffn_up.weight", s.n_embd, s.n_ff, in_scale);
    add(p + "ffn_down.weight", s.n_ff, s.n_embd, 1.0f / std::sqrt(static_cast<float>(s.n_ff)));
  }
  std::string path =
      (std::filesystem::temp_directory_path() /
       ("ptune_tiny_llama_" + std::to_string(::getpid()) + "_" + std::to_string(s.seed) + ".gguf"))
          .string();
  w.write(path);
  return path;
}

}  // namespace ptune::test
