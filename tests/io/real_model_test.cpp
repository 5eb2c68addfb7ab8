// The real default model (SmolLM2-135M-Instruct Q4_1): the whole file parses and every tensor
// decodes. Skipped when the model was not fetched (see tests/test_util.h).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ptune/io/gguf.h"
#include "test_util.h"

namespace ptune::gguf {
namespace {

TEST(RealModel, OpensAndEveryTensorDequantizes) {
  std::string path;
  if (!test::default_model(&path)) GTEST_SKIP() << "default model missing";
  const GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.tensors().size(), 272u);
  EXPECT_EQ(f.get_int("llama.embedding_length"), 576);
  EXPECT_EQ(f.get_int("llama.block_count"), 30);
  EXPECT_EQ(f.get_string_array("tokenizer.ggml.tokens").size(), 49152u);
  const TensorInfo& embd = f.tensor("token_embd.weight");
  EXPECT_EQ(embd.dims, (std::vector<uint64_t>{576, 49152}));

  std::vector<float> buf;
  for (const TensorInfo& t : f.tensors()) {
    buf.resize(t.n_elements);
    ASSERT_NO_THROW(dequantize(t.type, t.data, buf.data(), t.n_elements))
        << t.name << " (" << type_name(t.type) << ")";
    size_t bad = 0;
    for (float v : buf) bad += !std::isfinite(v);
    EXPECT_EQ(bad, 0u) << t.name << " has non-finite values";
  }
}

}  // namespace
}  // namespace ptune::gguf
