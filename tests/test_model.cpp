// The shared test models; contract in test_model.h.
#include "test_model.h"

#include <filesystem>
#include <map>
#include <sstream>

namespace ptune::test {

namespace {

// Every field of the spec, so two specs share a model only when they would write the same file.
std::string spec_key(const TinyLlama& s) {
  std::ostringstream k;
  k << s.n_vocab << ',' << s.n_embd << ',' << s.n_layer << ',' << s.n_head << ',' << s.n_head_kv
    << ',' << s.n_ff << ',' << s.rope_theta << ',' << s.rms_eps << ',' << s.tied << ','
    << s.nan_weight << ',' << s.seed;
  return k.str();
}

}  // namespace

const Model& tiny_model(const TinyLlama& spec) {
  static std::map<std::string, std::unique_ptr<Model>> models;
  std::unique_ptr<Model>& m = models[spec_key(spec)];
  if (!m) {
    const std::string path = write_tiny_llama(spec);
    m = load_model(path);  // the weights are copied out: the file is not needed after this
    std::filesystem::remove(path);
  }
  return *m;
}

const RealModel* real_model() {
  static const std::unique_ptr<RealModel> real = []() -> std::unique_ptr<RealModel> {
    const std::string path = default_model_path();
    if (!std::filesystem::exists(path)) return nullptr;
    auto r = std::make_unique<RealModel>();
    r->file = std::make_unique<gguf::GgufFile>(gguf::GgufFile::open(path));
    r->tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_gguf(*r->file));
    r->model = model_from_gguf(*r->file);
    return r;
  }();
  return real.get();
}

}  // namespace ptune::test
