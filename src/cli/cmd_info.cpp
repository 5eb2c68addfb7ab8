// ptune info: what a GGUF model is (architecture, sizes, quantization, vocabulary).
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>

#include "cli/common.h"
#include "ptune/model/config.h"

namespace ptune::cli {

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Describe a GGUF model: architecture, sizes, quant types");
  // Options live as long as the process, like the App that writes into them.
  static ModelOptions model_opts;
  static bool as_json = false;
  ModelOptions* opts = &model_opts;
  add_model_options(cmd, opts);
  cmd->add_flag("--json", as_json, "Print JSON instead of text");
  cmd->callback([opts] {
    Loaded l = load(*opts, /*with_model=*/false);
    LlamaConfig c = LlamaConfig::from_gguf(*l.file);
    std::map<std::string, int> quant;
    uint64_t params = 0, bytes = 0;
    for (const auto& t : l.file->tensors()) {
      quant[gguf::type_name(t.type)]++;
      params += t.n_elements;
      bytes += t.n_bytes;
    }
    const VocabSpec& v = l.tokenizer->spec();
    nlohmann::ordered_json j = {
        {"file", opts->model},
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
    if (as_json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    for (auto& [k, val] : j.items()) {
      std::cout << k << ": " << (val.is_string() ? val.get<std::string>() : val.dump()) << "\n";
    }
  });
}

}  // namespace ptune::cli
