// ptune tokenize: text lines on stdin -> one JSON array of token ids per line (and back).
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>

#include "cli/common.h"

namespace ptune::cli {

void register_tokenize(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "tokenize", "Read lines on stdin; print a JSON array of token ids per line (--decode: back)");
  static ModelOptions model_opts;
  static bool decode = false, no_special = false, add_special = false;
  ModelOptions* opts = &model_opts;
  add_model_options(cmd, opts);
  cmd->add_flag("--decode", decode, "Read JSON arrays of ids, print the decoded text");
  cmd->add_flag("--no-parse-special", no_special,
                "Treat special-token text such as <|im_start|> as plain text");
  cmd->add_flag("--add-special", add_special, "Add BOS/EOS as the model's metadata asks");
  cmd->callback([opts] {
    Loaded l = load(*opts, /*with_model=*/false);
    std::string line;
    size_t line_no = 0;
    while (std::getline(std::cin, line)) {
      ++line_no;
      if (!decode) {
        std::cout << nlohmann::json(l.tokenizer->encode(line, add_special, !no_special)).dump()
                  << "\n";
        continue;
      }
      std::vector<int32_t> ids;
      try {
        ids = nlohmann::json::parse(line).get<std::vector<int32_t>>();
      } catch (const std::exception& e) {
        throw std::runtime_error("stdin line " + std::to_string(line_no) +
                                 ": expected a JSON array of token ids: " + e.what());
      }
      for (int32_t id : ids) {
        if (id < 0 || id >= l.tokenizer->n_vocab()) {
          throw std::runtime_error("stdin line " + std::to_string(line_no) + ": token id " +
                                   std::to_string(id) + " is outside the vocabulary");
        }
      }
      std::cout << l.tokenizer->decode(ids) << "\n";
    }
  });
}

}  // namespace ptune::cli
