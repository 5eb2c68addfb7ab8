// libFuzzer target for the search journal (src/search/journal.cpp): the input written as
// OUT/journal.jsonl, then opened. Only std::runtime_error may escape, and a journal that fails
// to open must be left byte for byte as it was. One that opens must reopen to the same scores
// and proposals with nothing more dropped, and keep a score and a proposal added to it. A
// crash, a sanitizer report, another exception or a broken invariant is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "ptune/search/journal.h"

namespace {

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ptune::search::Journal;
  static const std::string path = "/tmp/ptune_journal_fuzz_" + std::to_string(::getpid());
  write_all(path, data, size);
  size_t scores = 0, proposals = 0;
  try {
    Journal j(path);
    scores = j.score_count();
    proposals = j.proposal_count();
  } catch (const std::runtime_error&) {
    if (read_all(path) != std::string(reinterpret_cast<const char*>(data), size)) std::abort();
    return 0;
  }
  {
    Journal again(path);
    if (again.score_count() != scores || again.proposal_count() != proposals) std::abort();
    if (again.dropped_bytes() != 0) std::abort();
    const bool had = again.score("fuzz-key").has_value();
    again.add_scores({{"fuzz-key", 0.5}});
    again.add_proposal("fuzz-proposal", "text \xff with a bad byte");
    if (!had) ++scores;
  }
  Journal last(path);
  if (last.score_count() != scores || last.score("fuzz-key") != 0.5) std::abort();
  if (!last.proposal("fuzz-proposal")) std::abort();
  return 0;
}
