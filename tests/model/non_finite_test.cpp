// A model file whose numbers are not numbers is refused at load, naming the key or tensor: NaN
// weights or a NaN / zero normalisation epsilon or RoPE base otherwise turn every logit into NaN,
// and downstream argmax and sampling would then quietly answer label 0 / token 0.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "ptune/io/gguf.h"
#include "ptune/model/model.h"
#include "test_util.h"

namespace ptune {
namespace {

// The load error for `spec`'s file ("" when it loads).
std::string load_error(const test::TinyLlama& spec) {
  const std::string path = test::write_tiny_llama(spec);
  std::string error;
  try {
    load_model(path);
  } catch (const gguf::GgufError& e) {
    error = e.what();
  }
  std::filesystem::remove(path);
  return error;
}

TEST(NonFiniteModel, NanWeightIsRefusedNamingTheTensor) {
  test::TinyLlama spec;
  EXPECT_EQ(load_error(spec), "");
  spec.nan_weight = true;
  const std::string e = load_error(spec);
  EXPECT_NE(e.find("blk.0.ffn_up.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("NaN or Inf"), std::string::npos) << e;
}

TEST(NonFiniteModel, BadEpsilonOrRopeBaseIsRefusedNamingTheKey) {
  for (float eps : {std::nanf(""), 0.0f, -1e-5f}) {
    test::TinyLlama spec;
    spec.rms_eps = eps;
    const std::string e = load_error(spec);
    EXPECT_NE(e.find("layer_norm_rms_epsilon"), std::string::npos) << eps << ": " << e;
  }
  for (float base : {std::nanf(""), 0.0f, INFINITY}) {
    test::TinyLlama spec;
    spec.rope_theta = base;
    const std::string e = load_error(spec);
    EXPECT_NE(e.find("rope.freq_base"), std::string::npos) << base << ": " << e;
  }
}

}  // namespace
}  // namespace ptune
