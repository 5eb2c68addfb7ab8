// ptune logits: the model's next-token scores for a prompt (-p TEXT or --ids 1,2,3), as JSON:
// the top-K ids, strings and logits at the last position (--all: every position); --dump also
// writes the full [T, V] float32 logits for comparisons with other implementations.
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/common.h"
#include "cli/limits.h"

namespace ptune::cli {

namespace {

struct LogitsOptions {
  ModelOptions model;
  std::string prompt, ids_csv, dump_path;
  int top = 10;
  bool all_positions = false;
};

std::vector<int32_t> parse_ids(const std::string& csv, int32_t n_vocab) {
  std::vector<int32_t> ids;
  std::stringstream ss(csv);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t used = 0;
    long v = -1;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 0 || v >= n_vocab) {
      throw std::runtime_error("--ids: '" + item + "' is not a token id in [0, " +
                               std::to_string(n_vocab) + ")");
    }
    ids.push_back(static_cast<int32_t>(v));
  }
  if (ids.empty()) throw std::runtime_error("--ids: no token ids given");
  return ids;
}

// Raw little-endian float32, row-major [T, V], for numpy.fromfile.
void dump_logits(const torch::Tensor& logits, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(logits.data_ptr<float>()),
            static_cast<std::streamsize>(logits.numel() * sizeof(float)));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// {"position": t, "top": [{id, token, logit}...]} for each printed position.
nlohmann::json top_tokens(const torch::Tensor& logits, const Tokenizer& tok, int top, bool all) {
  const int64_t T = logits.size(0);
  const int64_t k = std::min<int64_t>(top, logits.size(1));
  nlohmann::json positions = nlohmann::json::array();
  for (int64_t t = all ? 0 : T - 1; t < T; ++t) {
    auto [vals, idx] = logits[t].topk(k);
    nlohmann::json entries = nlohmann::json::array();
    for (int64_t j = 0; j < k; ++j) {
      const int32_t id = static_cast<int32_t>(idx[j].item<int64_t>());
      entries.push_back(
          {{"id", id}, {"token", tok.decode({id})}, {"logit", vals[j].item<float>()}});
    }
    positions.push_back({{"position", t}, {"top", entries}});
  }
  return positions;
}

}  // namespace

void register_logits(CLI::App& app) {
  auto* cmd = app.add_subcommand("logits", "Print the top-K next-token ids, strings and logits");
  auto opts = std::make_shared<LogitsOptions>();  // owned by the callback, see common.h
  add_model_options(cmd, &opts->model);
  auto* p = add_prompt_text_option(cmd, &opts->prompt);
  auto* i =
      cmd->add_option("--ids", opts->ids_csv, "Comma-separated token ids instead of a prompt");
  p->excludes(i);
  cmd->add_option("--top", opts->top, "How many top tokens to print per position")
      ->check(in_range(1, kMaxTopTokens))
      ->capture_default_str();
  cmd->add_flag("--all", opts->all_positions, "Print every position, not only the last");
  cmd->add_option("--dump", opts->dump_path,
                  "Also write all logits as raw little-endian float32 [T, V] to this file");
  cmd->callback([opts] {
    const LogitsOptions& o = *opts;
    if (o.prompt.empty() && o.ids_csv.empty())
      throw std::runtime_error("give -p TEXT or --ids IDS");
    const Loaded l = load(o.model, /*with_model=*/true);
    const std::vector<int32_t> ids = o.ids_csv.empty()
                                         ? l.tokenizer->encode(o.prompt)
                                         : parse_ids(o.ids_csv, l.tokenizer->n_vocab());
    if (ids.empty()) throw std::runtime_error("the prompt encodes to no tokens");
    torch::InferenceMode guard;
    ForwardArgs args;
    args.input_ids = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).unsqueeze(0);
    args.logits_at = LogitsAt::All;
    const torch::Tensor logits =
        l.model->forward(args).logits[0].to(torch::kCPU).to(torch::kFloat32).contiguous();
    if (!o.dump_path.empty()) dump_logits(logits, o.dump_path);
    const nlohmann::json out = {
        {"tokens", ids}, {"positions", top_tokens(logits, *l.tokenizer, o.top, o.all_positions)}};
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  });
}

}  // namespace ptune::cli
