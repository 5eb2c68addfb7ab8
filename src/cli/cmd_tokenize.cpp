// ptune tokenize: text lines on stdin -> one JSON array of token ids per line; with --decode,
// JSON arrays of ids -> text. A malformed line or an id outside the vocabulary stops with the
// line number. Loads the tokenizer only.
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <string>

#include "cli/common.h"
#include "ptune/util/json.h"

namespace ptune::cli {

namespace {

struct TokenizeOptions {
  ModelOptions model;
  bool decode = false, no_special = false, add_special = false;
};

// One stdin line of --decode input: a JSON array of ids inside the vocabulary.
std::vector<int32_t> parse_id_line(const std::string& line, size_t line_no, int32_t n_vocab) {
  const std::string where = "stdin line " + std::to_string(line_no) + ": ";
  std::vector<int32_t> ids;
  try {
    ids = util::parse_json_strict(line).get<std::vector<int32_t>>();
  } catch (const std::exception& e) {
    throw std::runtime_error(where + "expected a JSON array of token ids: " + e.what());
  }
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab) {
      throw std::runtime_error(where + "token id " + std::to_string(id) +
                               " is outside the vocabulary");
    }
  }
  return ids;
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "tokenize", "Read lines on stdin; print a JSON array of token ids per line (--decode: back)");
  auto opts = std::make_shared<TokenizeOptions>();  // owned by the callback, see common.h
  add_model_options(cmd, &opts->model);
  cmd->add_flag("--decode", opts->decode, "Read JSON arrays of ids, print the decoded text");
  cmd->add_flag("--no-parse-special", opts->no_special,
                "Treat special-token text such as <|im_start|> as plain text");
  cmd->add_flag("--add-special", opts->add_special, "Add BOS/EOS as the model's metadata asks");
  cmd->callback([opts] {
    const Loaded l = load(opts->model, /*with_model=*/false);
    const Tokenizer& tok = *l.tokenizer;
    std::string line;
    size_t line_no = 0;
    while (std::getline(std::cin, line)) {
      ++line_no;
      if (opts->decode) {
        std::cout << tok.decode(parse_id_line(line, line_no, tok.n_vocab())) << "\n";
      } else {
        std::cout << nlohmann::json(tok.encode(line, opts->add_special, !opts->no_special)).dump()
                  << "\n";
      }
    }
  });
}

}  // namespace ptune::cli
