// The architecture registry and the PastKV helpers every layer above the model shares.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "ptune/io/gguf.h"
#include "ptune/model/architecture.h"
#include "ptune/model/past_kv.h"
#include "test_model.h"

namespace ptune {
namespace {

using ::testing::HasSubstr;

gguf::GgufFile tiny_file_as(const std::string& arch, std::vector<uint8_t>* bytes) {
  const std::string path = test::write_tiny_llama({});
  auto f = gguf::GgufFile::open(path);
  gguf::GgufWriter w;
  for (auto& [k, v] : f.metadata()) {
    // Rename the llama.* keys with the architecture, as a converter would.
    const std::string key = k.rfind("llama.", 0) == 0 ? arch + k.substr(5) : k;
    w.set(key, k == "general.architecture" ? gguf::Value::make_string(arch) : v);
  }
  for (auto& t : f.tensors()) {
    w.add_tensor(t.name, t.dims, t.type, std::vector<uint8_t>(t.data, t.data + t.n_bytes));
  }
  std::remove(path.c_str());
  *bytes = w.to_bytes();
  return gguf::GgufFile::parse(bytes->data(), bytes->size());
}

TEST(ArchitectureRegistry, LlamaIsBuiltIn) {
  const Architecture* a = find_architecture("llama");
  ASSERT_NE(a, nullptr);
  EXPECT_FALSE(a->description.empty());
  EXPECT_THAT(architecture_names(), ::testing::Contains("llama"));
  EXPECT_EQ(find_architecture("no-such-arch"), nullptr);
}

TEST(ArchitectureRegistry, UnknownArchitectureErrorListsTheSupportedOnes) {
  std::vector<uint8_t> bytes;
  const auto f = tiny_file_as("mamba", &bytes);
  EXPECT_THAT([&] { model_from_gguf(f); },
              testing::ThrowsMessage<gguf::GgufError>(
                  HasSubstr("architecture 'mamba' is not supported (supported: ")));
}

// A family registered at run time is what load picks for its general.architecture: here a
// "tinyllama-test" that reuses the llama implementation under another name.
TEST(ArchitectureRegistry, RegisteredFamilyIsPickedFromTheFile) {
  static const bool registered = [] {
    register_architecture({"tinyllama-test", "test alias of llama",
                           [](const gguf::GgufFile& f, torch::Device d, torch::ScalarType t) {
                             return find_architecture("llama")->build(f, d, t);
                           }});
    return true;
  }();
  ASSERT_TRUE(registered);
  std::vector<uint8_t> bytes;
  const auto f = tiny_file_as("tinyllama-test", &bytes);
  // The llama build reads "<arch>.*" keys through ModelConfig, so the renamed keys are found.
  const std::unique_ptr<Model> m = model_from_gguf(f);
  EXPECT_EQ(m->config().arch, "tinyllama-test");
  EXPECT_THROW(
      register_architecture({"tinyllama-test", "again", find_architecture("llama")->build}),
      std::invalid_argument);
  EXPECT_THROW(register_architecture({"", "no name", find_architecture("llama")->build}),
               std::invalid_argument);
}

PastKV random_past(int64_t layers, int64_t batch, int64_t heads, int64_t len, int64_t dim) {
  PastKV p;
  for (int64_t l = 0; l < layers; ++l) {
    p.keys.push_back(torch::randn({batch, heads, len, dim}));
    p.values.push_back(torch::randn({batch, heads, len, dim}));
  }
  return p;
}

TEST(PastKV, FlatLayoutRoundTripsAndIsPeftsOrder) {
  torch::manual_seed(0);
  const PastKV p = random_past(3, 1, 2, 5, 4);
  const torch::Tensor flat = past_to_flat(p);
  ASSERT_EQ(flat.sizes(), (std::vector<int64_t>{5, 3 * 2 * 2 * 4}));
  // Row n, block 2l+1 (layer l's values), head h: values[l][0, h, n, :].
  EXPECT_TRUE(torch::equal(flat[4].narrow(0, (2 * 1 + 1) * 8 + 4, 4), p.values[1][0][1][4]));
  const PastKV back = past_from_flat(flat, 3, 2, 4);
  for (int l = 0; l < 3; ++l) {
    EXPECT_TRUE(torch::equal(back.keys[l], p.keys[l]));
    EXPECT_TRUE(torch::equal(back.values[l], p.values[l]));
  }
  EXPECT_THROW(past_from_flat(flat, 2, 2, 4), c10::Error);
}

TEST(PastKV, ExpandAndSelectRows) {
  torch::manual_seed(1);
  const PastKV one = random_past(2, 1, 2, 3, 4);
  const PastKV many = expand_past(one, 5);
  EXPECT_EQ(many.batch(), 5);
  EXPECT_EQ(many.length(), 3);
  EXPECT_TRUE(torch::equal(many.keys[1][4], one.keys[1][0]));
  const PastKV batch = random_past(2, 4, 2, 3, 4);
  const PastKV picked = select_past_rows(batch, torch::tensor({3, 0}, torch::kInt64));
  EXPECT_EQ(picked.batch(), 2);
  EXPECT_TRUE(torch::equal(picked.values[0][0], batch.values[0][3]));
  EXPECT_TRUE(torch::equal(picked.keys[1][1], batch.keys[1][0]));
}

// Gradients reach a flat prefix through the state built from it (prefix tuning trains this way).
TEST(PastKV, GradientsFlowThroughTheFlatView) {
  const Model& m = test::tiny_model();
  const ModelConfig& c = m.config();
  torch::Tensor flat =
      torch::randn({2, c.n_layer * 2 * c.n_head_kv * c.head_dim}).requires_grad_(true);
  const PastKV past = expand_past(past_from_flat(flat, c.n_layer, c.n_head_kv, c.head_dim), 3);
  ForwardArgs a;
  a.input_ids = torch::randint(0, c.n_vocab, {3, 4}, torch::kInt64);
  a.past = &past;
  a.logits_at = LogitsAt::Last;
  m.forward(a).logits.sum().backward();
  ASSERT_TRUE(flat.grad().defined());
  EXPECT_GT(flat.grad().abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace ptune
