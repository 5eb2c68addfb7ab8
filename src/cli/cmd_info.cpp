// ptune info: what a GGUF model is (architecture, sizes, quantization, vocabulary), as
// "key: value" lines or one JSON object (--json). Loads the file and tokenizer, not the weights.
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>
#include <memory>

#include "cli/common.h"
#include "ptune/model/config.h"
#include "ptune/runtime/cpu_features.h"
#include "ptune/util/utf8.h"

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
      // What the precision choice rests on (issue 17): this machine, not the file.
      {"cpu_features", cpu_features().names()},
      {"bf16_matmul", cpu_features().bf16_matmul()},
  };
}

// GGUF strings are bytes: one that is not UTF-8 is named on stderr and --json shows U+FFFD in
// its place, so `info` still describes the file (nlohmann would throw on the dump).
void warn_invalid_utf8(const nlohmann::ordered_json& j) {
  static const std::map<std::string, std::string> kSource = {
      {"architecture", "GGUF key general.architecture"},
      {"name", "GGUF key general.name"},
      {"tokenizer", "GGUF key tokenizer.ggml.model"},
      {"pre_tokenizer", "GGUF key tokenizer.ggml.pre"},
      {"file", "the path"}};
  for (const auto& [key, val] : j.items()) {
    if (!val.is_string()) continue;
    const size_t at = util::find_invalid_utf8(val.get_ref<const std::string&>());
    if (at == std::string::npos) continue;
    const auto src = kSource.find(key);
    std::cerr << "warning: " << key << " ("
              << (src == kSource.end() ? std::string("a GGUF string") : src->second)
              << ") is not valid UTF-8 at byte " << at << " (--json shows U+FFFD there)\n";
  }
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
    warn_invalid_utf8(j);
    if (opts->as_json) {
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return;
    }
    for (auto& [k, val] : j.items()) {
      std::cout << k << ": " << (val.is_string() ? val.get<std::string>() : val.dump()) << "\n";
    }
  });
}

}  // namespace ptune::cli
