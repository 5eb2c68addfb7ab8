// tokenizer_bench: encoding throughput of the BPE tokenizer on the golden corpus
// (tests/data/tokenizer/corpus.jsonl, ~2,500 strings of prose, code, numbers, CJK, emoji and
// special-token text), with the model's vocabulary.
//
//   cold  a freshly built tokenizer per run, so its pre-token cache starts empty
//   warm  the same corpus again through the tokenizer of the cold run (cache filled)
// Each figure: the median of --repeats runs. Prints lines, tokens, ms, M tokens/s and MB/s, and
// warm/cold. Was a test case that asserted nothing (issue 8); as a bench it is run on purpose.
//
//   tokenizer_bench [--model PATH] [--corpus FILE] [--repeats N]
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_util.h"
#include "ptune/io/gguf.h"
#include "ptune/model/model_path.h"
#include "ptune/tokenizer/tokenizer.h"

namespace {

struct Options {
  std::string model;
  std::string corpus = ptune::bench::repo_root() + "/tests/data/tokenizer/corpus.jsonl";
  int repeats = 5;
};

Options parse(int argc, char** argv) {
  Options o;
  CLI::App app{"tokenizer_bench: encode throughput, cold and warm"};
  app.add_option("-m,--model", o.model, "GGUF model (default: the setup's)");
  app.add_option("--corpus", o.corpus, "JSONL file with a \"text\" per line")
      ->capture_default_str();
  app.add_option("--repeats", o.repeats, "Timed repeats (median)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  ptune::bench::parse_or_exit(app, argc, argv);
  if (o.model.empty()) o.model = ptune::default_model_path();
  return o;
}

// The "text" of every JSONL line.
std::vector<std::string> read_corpus(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
  }
  if (lines.empty()) throw std::runtime_error(path + " has no lines");
  return lines;
}

struct Pass {
  double seconds = 0;
  size_t tokens = 0;
};

Pass encode_all(const ptune::Tokenizer& tok, const std::vector<std::string>& lines) {
  Pass p;
  const double t0 = ptune::bench::now_s();
  for (const std::string& l : lines) p.tokens += tok.encode(l).size();
  p.seconds = ptune::bench::now_s() - t0;
  return p;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void print_row(const char* name, double s, size_t lines, size_t tokens, size_t bytes) {
  std::printf("%-5s %8zu %10zu %10.1f %12.2f %8.1f\n", name, lines, tokens, s * 1e3,
              tokens / s / 1e6, bytes / s / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    ptune::bench::BenchRun record("tokenizer_bench", argc, argv, o.model,
                                  {{"corpus", o.corpus}, {"repeats", o.repeats}});
    const std::vector<std::string> lines = read_corpus(o.corpus);
    size_t bytes = 0;
    for (const std::string& l : lines) bytes += l.size();
    const ptune::gguf::GgufFile file = ptune::gguf::GgufFile::open(o.model);
    std::printf("tokenizer_bench: %s, %zu lines (%zu bytes), median of %d; load average %.2f\n",
                o.model.c_str(), lines.size(), bytes, o.repeats, ptune::bench::loadavg1());
    std::vector<double> cold, warm;
    size_t tokens = 0;
    for (int r = 0; r < o.repeats; ++r) {
      const ptune::Tokenizer tok = ptune::Tokenizer::from_gguf(file);  // empty cache
      const Pass c = encode_all(tok, lines);
      const Pass w = encode_all(tok, lines);
      if (c.tokens != w.tokens) throw std::runtime_error("cold and warm passes disagree");
      tokens = c.tokens;
      cold.push_back(c.seconds);
      warm.push_back(w.seconds);
    }
    std::printf("%-5s %8s %10s %10s %12s %8s\n", "pass", "lines", "tokens", "ms", "M tokens/s",
                "MB/s");
    print_row("cold", median(cold), lines.size(), tokens, bytes);
    print_row("warm", median(warm), lines.size(), tokens, bytes);
    std::printf("warm/cold speed: %.2fx\n", median(cold) / median(warm));
    record.add("cold", static_cast<double>(tokens) / median(cold) / 1e6, "M tokens/s");
    record.add("warm", static_cast<double>(tokens) / median(warm) / 1e6, "M tokens/s");
    record.finish();
  } catch (const std::exception& e) {
    std::cerr << "tokenizer_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
