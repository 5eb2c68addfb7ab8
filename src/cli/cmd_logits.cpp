// ptune logits: the model's next-token scores for a prompt, as JSON.
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/common.h"

namespace ptune::cli {

namespace {

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

}  // namespace

void register_logits(CLI::App& app) {
  auto* cmd = app.add_subcommand("logits", "Print the top-K next-token ids, strings and logits");
  static ModelOptions model_opts;
  static std::string prompt, ids_csv, dump_path;
  static int top = 10;
  static bool all_positions = false;
  ModelOptions* opts = &model_opts;
  add_model_options(cmd, opts);
  auto* p = cmd->add_option("-p,--prompt", prompt, "Prompt text (special-token text is parsed)");
  auto* i = cmd->add_option("--ids", ids_csv, "Comma-separated token ids instead of a prompt");
  p->excludes(i);
  cmd->add_option("--top", top, "How many top tokens to print per position")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--all", all_positions, "Print every position, not only the last");
  cmd->add_option("--dump", dump_path,
                  "Also write all logits as raw little-endian float32 [T, V] to this file");
  cmd->callback([opts] {
    if (prompt.empty() && ids_csv.empty()) throw std::runtime_error("give -p TEXT or --ids IDS");
    Loaded l = load(*opts, /*with_model=*/true);
    std::vector<int32_t> ids =
        ids_csv.empty() ? l.tokenizer->encode(prompt) : parse_ids(ids_csv, l.tokenizer->n_vocab());
    if (ids.empty()) throw std::runtime_error("the prompt encodes to no tokens");
    torch::InferenceMode guard;
    ForwardArgs args;
    args.input_ids = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).unsqueeze(0);
    args.logits_at = LogitsAt::All;
    torch::Tensor logits = l.model->forward(args).logits[0].to(torch::kCPU).contiguous();  // [T, V]
    if (!dump_path.empty()) {
      std::ofstream out(dump_path, std::ios::binary);
      out.write(reinterpret_cast<const char*>(logits.data_ptr<float>()),
                static_cast<std::streamsize>(logits.numel() * sizeof(float)));
      if (!out) throw std::runtime_error("cannot write " + dump_path);
    }
    const int64_t T = logits.size(0);
    const int64_t k = std::min<int64_t>(top, logits.size(1));
    nlohmann::json positions = nlohmann::json::array();
    for (int64_t t = all_positions ? 0 : T - 1; t < T; ++t) {
      auto [vals, idx] = logits[t].topk(k);
      nlohmann::json entries = nlohmann::json::array();
      for (int64_t j = 0; j < k; ++j) {
        int32_t id = static_cast<int32_t>(idx[j].item<int64_t>());
        entries.push_back(
            {{"id", id}, {"token", l.tokenizer->decode({id})}, {"logit", vals[j].item<float>()}});
      }
      positions.push_back({{"position", t}, {"top", entries}});
    }
    nlohmann::json out = {{"tokens", ids}, {"positions", positions}};
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  });
}

}  // namespace ptune::cli
