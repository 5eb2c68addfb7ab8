// The models the libtorch test binaries share, each loaded once per process instead of once per
// test file: the tiny random llama (test_util.h's TinyLlama; no real model needed) and the real
// default model with its tokenizer. Lives apart from test_util so the io, tokenizer and tasks
// tests stay free of libtorch (tests/CMakeLists.txt links this only where libtorch is).
//
// The models are frozen and Model's interface is const, so a test cannot change what the next
// one sees; each is released at process exit.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "ptune/io/gguf.h"
#include "ptune/model/model.h"
#include "ptune/tokenizer/tokenizer.h"
#include "test_util.h"

namespace ptune::test {

// The tiny random llama of `spec` on the CPU (float32), written, loaded and its file removed on
// the first call for that spec; later calls with an equal spec return the same model.
const Model& tiny_model(const TinyLlama& spec = {});

// The real default model (default_model_path()), its GGUF and tokenizer, loaded on the first
// call; nullptr when the file is missing. Tests still call default_model() first, which skips
// (or fails under PTUNE_REQUIRE_MODEL=1) when it is missing.
struct RealModel {
  std::unique_ptr<gguf::GgufFile> file;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<Model> model;
};
const RealModel* real_model();

// A fixture over `Base` (::testing::Test, ::testing::TestWithParam<T>, ...) whose tests reach the
// default tiny model as model().
template <typename Base = ::testing::Test>
class TinyModelFixture : public Base {
 protected:
  static const Model& model() { return tiny_model(); }
};
using TinyModelTest = TinyModelFixture<>;

}  // namespace ptune::test
