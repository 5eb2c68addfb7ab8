// ptune generate (one prompt) and ptune chat (an interactive conversation).
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <iostream>
#include <optional>

#include "cli/common.h"
#include "ptune/generate/chat_template.h"
#include "ptune/generate/generator.h"
#include "ptune/methods/adapter.h"

namespace ptune::cli {

namespace {

void add_generate_options(CLI::App* cmd, GenerateOptions* g) {
  cmd->add_option("--max-tokens", g->max_tokens, "Most tokens to generate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--temperature", g->sampling.temperature, "0 = greedy")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--top-k", g->sampling.top_k, "Sample from the k best tokens (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--top-p", g->sampling.top_p, "Nucleus sampling mass")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--seed", g->sampling.seed, "Random seed for sampling")->capture_default_str();
  cmd->add_option("--stop", g->stop, "Stop before this string (repeatable)");
}

void add_adapter_option(CLI::App* cmd, std::string* dir) {
  cmd->add_option("--adapter", *dir,
                  "Prompt adapter directory in PEFT's format (prompt tuning, P-tuning or prefix "
                  "tuning), e.g. written by ptune or by PEFT's save_pretrained")
      ->check(CLI::ExistingDirectory);
}

// The adapter's virtual tokens as keys/values to prepend, or nullopt without --adapter.
std::optional<PastKV> adapter_prefix(const std::string& dir, const LlamaModel& model) {
  if (dir.empty()) return std::nullopt;
  torch::InferenceMode guard;
  return methods::Adapter::load(dir, model.config()).prefix_state(model);
}

void print_stats(const GenerateResult& r) {
  double tps = r.decode_seconds > 0 ? r.tokens.size() / r.decode_seconds : 0;
  std::cerr << "[" << r.prompt_tokens << " prompt tokens in " << r.prefill_seconds << " s, "
            << r.tokens.size() << " generated at " << tps << " tok/s, finish: " << r.finish_reason
            << "]\n";
}

}  // namespace

void register_generate(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Generate a continuation of a prompt");
  static ModelOptions model_opts;
  static GenerateOptions gen;
  static std::string prompt, system, adapter_dir;
  static bool chat = false, as_json = false, quiet = false;
  ModelOptions* opts = &model_opts;
  add_model_options(cmd, opts);
  add_generate_options(cmd, &gen);
  add_adapter_option(cmd, &adapter_dir);
  cmd->add_option("-p,--prompt", prompt, "Prompt text")->required();
  cmd->add_flag("--chat", chat, "Send the prompt as a user message through the chat template");
  cmd->add_option("--system", system, "System message (with --chat)");
  cmd->add_flag("--json", as_json, "Print one JSON result instead of streaming text");
  cmd->add_flag("-q,--quiet", quiet, "Do not print timing to stderr");
  cmd->callback([opts] {
    Loaded l = load(*opts, /*with_model=*/true);
    std::string text = prompt;
    if (chat) {
      std::vector<ChatMessage> msgs;
      if (!system.empty()) msgs.push_back({"system", system});
      msgs.push_back({"user", prompt});
      text = ChatTemplate(l.tokenizer->spec().chat_template).render(msgs, true);
    }
    std::vector<int32_t> ids = l.tokenizer->encode(text);
    TextCallback stream;
    if (!as_json) stream = [](const std::string& s) { std::cout << s << std::flush; };
    std::optional<PastKV> prefix = adapter_prefix(adapter_dir, *l.model);
    GenerateResult r =
        generate(*l.model, *l.tokenizer, ids, gen, stream, prefix ? &*prefix : nullptr);
    if (as_json) {
      nlohmann::json j = {{"prompt_tokens", r.prompt_tokens},
                          {"tokens", r.tokens},
                          {"text", r.text},
                          {"finish_reason", r.finish_reason},
                          {"prefill_seconds", r.prefill_seconds},
                          {"decode_seconds", r.decode_seconds}};
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      std::cout << "\n";
    }
    if (!quiet) print_stats(r);
  });
}

void register_chat(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "chat", "Chat with the model on the terminal (/reset clears history, /exit quits)");
  static ModelOptions model_opts;
  static GenerateOptions gen;
  static std::string system, adapter_dir;
  ModelOptions* opts = &model_opts;
  add_model_options(cmd, opts);
  add_generate_options(cmd, &gen);
  add_adapter_option(cmd, &adapter_dir);
  cmd->add_option("--system", system, "System message (default: the template's own)");
  cmd->callback([opts] {
    Loaded l = load(*opts, /*with_model=*/true);
    ChatTemplate tmpl(l.tokenizer->spec().chat_template);
    std::optional<PastKV> prefix = adapter_prefix(adapter_dir, *l.model);
    const bool tty = isatty(STDIN_FILENO);
    std::vector<ChatMessage> history;
    if (!system.empty()) history.push_back({"system", system});
    std::string line;
    while (true) {
      if (tty) std::cout << "\n> " << std::flush;
      if (!std::getline(std::cin, line)) break;
      if (line == "/exit" || line == "/quit") break;
      if (line == "/reset") {
        history.resize(system.empty() ? 0 : 1);
        continue;
      }
      if (line.empty()) continue;
      history.push_back({"user", line});
      std::vector<int32_t> ids = l.tokenizer->encode(tmpl.render(history, true));
      GenerateResult r = generate(
          *l.model, *l.tokenizer, ids, gen,
          [](const std::string& s) { std::cout << s << std::flush; }, prefix ? &*prefix : nullptr);
      std::cout << "\n";
      history.push_back({"assistant", r.text});
    }
  });
}

}  // namespace ptune::cli
