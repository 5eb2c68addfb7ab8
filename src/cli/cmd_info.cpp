// ptune info: what a GGUF model is (architecture, sizes, quantization, vocabulary), as
// "key: value" lines or one JSON object (--json). Loads the file and tokenizer, not the weights.
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>
#include <memory>

#include "cli/common.h"
#include "ptune/model/config.h"

namespace ptune::cli {

namespace {

struct InfoOptions {
  ModelOptions model;
  bool as_json = false;
};

// Everything `info` prints, in print order.
nlohmann::ordered_json describe(const Loaded& l, const std::string& path) {
  const ModelConfig c = ModelConfig::from_gguf(*l.file);
  std::map<std::string, int> quant;
  uint64_t params = 0, bytes = 0;
  for (const auto& t : l.file->tensors()) {
    quant[gguf::type_name(t.type)]++;
    params += t.n_elements;
    bytes += t.n_bytes;
  }
  const VocabSpec& v = l.tokenizer->spec();
  return {
      {"file", path},
      {"gguf_version", l.file->version()},
      {"architecture", c.arch},
      {"name", c.name},
      {"layers", c.n_layer},
      {"embedding", c.n_embd},
      {"heads", c.n_head},
      {"kv_heads", c.n_head_kv},
      {"head_dim", c.head_dim},
      {"ffn", c.n_ff},
      {"context_train", c.n_ctx_train},
      {"rope_theta", c.rope_theta},
      {"rms_eps", c.rms_eps},
      {"tied_embeddings", c.tied_embeddings},
      {"parameters", params},
      {"tensor_bytes", bytes},
      {"tensor_types", quant},
      {"vocab_size", l.tokenizer->n_vocab()},
      {"tokenizer", v.model},
      {"pre_tokenizer", v.pre},
      {"bos_id", v.bos_id},
      {"eos_id", v.eos_id},
      {"add_bos", v.add_bos},
      {"chat_template", !v.chat_template.empty()},
  };
}

}  // namespace

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Describe a GGUF model: architecture, sizes, quant types");
  // CLI11 writes into *opts while parsing; the callback owns it, so it lives as long as the App.
  auto opts = std::make_shared<InfoOptions>();
  add_model_options(cmd, &opts->model);
  cmd->add_flag("--json", opts->as_json, "Print JSON instead of text");
  cmd->callback([opts] {
    const Loaded l = load(opts->model, /*with_model=*/false);
    const nlohmann::ordered_json j = describe(l, opts->model.model);
    if (opts->as_json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    for (auto& [k, val] : j.items()) {
      std::cout << k << ": " << (val.is_string() ? val.get<std::string>() : val.dump()) << "\n";
    }
  });
}

}  // namespace ptune::cli
