// ptune generate (one prompt, streamed or as one JSON result) and ptune chat (an interactive
// conversation through the model's chat template). Both sample with the same options and can run
// through a tuned prompt (--adapter).
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/common.h"
#include "cli/limits.h"
#include "ptune/generate/chat_template.h"
#include "ptune/generate/generator.h"

namespace ptune::cli {

namespace {

// What generate and chat share.
struct SamplingOptions {
  ModelOptions model;
  GenerateOptions gen;
  std::string system, adapter;
};

struct GenerateCmdOptions : SamplingOptions {
  std::string prompt;
  bool chat = false, as_json = false, quiet = false, special = false;
};

void add_sampling_options(CLI::App* cmd, SamplingOptions* o) {
  add_model_options(cmd, &o->model);
  GenerateOptions* g = &o->gen;
  cmd->add_option("--max-tokens", g->max_tokens, "Most tokens to generate")
      ->check(in_range(1, kMaxNewTokens))
      ->capture_default_str();
  cmd->add_option("--temperature", g->sampling.temperature, "0 = greedy")
      ->check(real_in_range(0, kMaxTemperature))
      ->capture_default_str();
  cmd->add_option("--top-k", g->sampling.top_k, "Sample from the k best tokens (0 = all)")
      ->check(in_range(0, kMaxTopTokens))
      ->capture_default_str();
  cmd->add_option("--top-p", g->sampling.top_p, "Nucleus sampling mass")
      ->check(real_in_range(0, 1))
      ->capture_default_str();
  cmd->add_option("--seed", g->sampling.seed, "Random seed for sampling")
      ->check(in_range(0, kMaxSeed))
      ->capture_default_str();
  cmd->add_option("--stop", g->stop, "Stop before this string (repeatable)");
  add_adapter_option(cmd, &o->adapter);
}

void print_stats(const GenerateResult& r) {
  double tps = r.decode_seconds > 0 ? r.tokens.size() / r.decode_seconds : 0;
  std::cerr << "[" << r.prompt_tokens << " prompt tokens in " << r.prefill_seconds << " s, "
            << r.tokens.size() << " generated at " << tps << " tok/s, finish: " << r.finish_reason
            << "]\n";
}

void print_json(const GenerateResult& r) {
  const nlohmann::json j = {{"prompt_tokens", r.prompt_tokens},
                            {"tokens", r.tokens},
                            {"text", r.text},
                            {"finish_reason", r.finish_reason},
                            {"prefill_seconds", r.prefill_seconds},
                            {"decode_seconds", r.decode_seconds}};
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

// The system message: --system with a discrete --adapter prompt placed in it.
std::string system_message(const SamplingOptions& o, const TunedPrompt& tuned) {
  return tuned.place_in(o.system);
}

// The text the model sees: the prompt as is (after a discrete prompt's text, if any), or
// (--chat) as the user turn of the chat template. The user's text is literal: control-token text
// in it stays plain text, unless --parse-special asks for it to be read (a raw prompt written by
// hand in the model's own format).
util::MarkedText prompt_text(const GenerateCmdOptions& o, const Tokenizer& tok,
                             const TunedPrompt& tuned) {
  const std::string system = system_message(o, tuned);
  if (!o.chat) {
    const std::string text = system.empty() ? o.prompt : system + "\n\n" + o.prompt;
    return o.special ? util::MarkedText(text) : util::MarkedText::literal_text(text);
  }
  std::vector<ChatMessage> msgs;
  if (!system.empty()) msgs.push_back({"system", system});
  msgs.push_back({"user", o.prompt});
  return ChatTemplate(tok.spec().chat_template).render_marked(msgs, true);
}

void run_generate(const GenerateCmdOptions& o) {
  const Loaded l = load(o.model, /*with_model=*/true);
  check_new_tokens(o.gen.max_tokens, l.model->config());
  const TunedPrompt tuned = load_tuned_prompt(o.adapter, *l.model);
  const std::vector<int32_t> ids = l.tokenizer->encode(prompt_text(o, *l.tokenizer, tuned));
  TextCallback stream;
  if (!o.as_json) stream = [](const std::string& s) { std::cout << s << std::flush; };
  const GenerateResult r = generate(*l.model, *l.tokenizer, ids, o.gen, stream, tuned.past());
  if (o.as_json) {
    print_json(r);
  } else {
    std::cout << "\n";
  }
  if (!o.quiet) print_stats(r);
}

// Reads user turns from stdin until EOF or /exit; /reset keeps only the system message.
void run_chat(const SamplingOptions& o) {
  const Loaded l = load(o.model, /*with_model=*/true);
  check_new_tokens(o.gen.max_tokens, l.model->config());
  const ChatTemplate tmpl(l.tokenizer->spec().chat_template);
  const TunedPrompt tuned = load_tuned_prompt(o.adapter, *l.model);
  const std::string system = system_message(o, tuned);
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
    const std::vector<int32_t> ids = l.tokenizer->encode(tmpl.render_marked(history, true));
    const GenerateResult r = generate(
        *l.model, *l.tokenizer, ids, o.gen,
        [](const std::string& s) { std::cout << s << std::flush; }, tuned.past());
    std::cout << "\n";
    history.push_back({"assistant", r.text});
  }
}

}  // namespace

void register_generate(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Generate a continuation of a prompt");
  auto opts = std::make_shared<GenerateCmdOptions>();  // owned by the callback, see common.h
  add_sampling_options(cmd, opts.get());
  add_prompt_text_option(cmd, &opts->prompt)->required();
  cmd->add_flag("--chat", opts->chat,
                "Send the prompt as a user message through the chat template");
  cmd->add_option("--system", opts->system, "System message (with --chat)");
  cmd->add_flag("--parse-special", opts->special,
                "Without --chat: read control-token text in the prompt (<|im_start|> ...) as "
                "those tokens (default: plain text)");
  cmd->add_flag("--json", opts->as_json, "Print one JSON result instead of streaming text");
  cmd->add_flag("-q,--quiet", opts->quiet, "Do not print timing to stderr");
  cmd->callback([opts] { run_generate(*opts); });
}

void register_chat(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "chat", "Chat with the model on the terminal (/reset clears history, /exit quits)");
  auto opts = std::make_shared<SamplingOptions>();  // owned by the callback, see common.h
  add_sampling_options(cmd, opts.get());
  cmd->add_option("--system", opts->system, "System message (default: the template's own)");
  cmd->callback([opts] { run_chat(*opts); });
}

}  // namespace ptune::cli
