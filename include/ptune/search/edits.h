// GrIPS-style edits of an instruction (Prasad et al. 2023, "GrIPS: Gradient-free, Edit-based
// Instruction Search"): the instruction is split into phrases and edited at phrase level.
//   delete   drop one phrase
//   swap     exchange two phrases
//   add      put back a phrase an earlier edit deleted (from `deleted`)
// (GrIPS's fourth operation, paraphrase, needs a model: proposer.h.) GrIPS splits phrases with
// a constituency parser; here phrases are sentences and clauses, split after '.', '!', '?', ';',
// ':' and ',' and before " and " / " or ": no parser to ship, and instructions are short.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ptune::search {

// The instruction's phrases, in order; joining them gives the instruction back.
std::vector<std::string> split_phrases(const std::string& instruction);

struct Edit {
  std::string text;       // the edited instruction
  std::string operation;  // "delete 'x'", "swap 'x' <-> 'y'", "add 'x'"
  std::string deleted;    // the phrase a delete removed ("" otherwise)
};

// Up to `n` distinct edits of `instruction` (none equal to it or empty), operations mixed,
// seeded.
std::vector<Edit> phrase_edits(const std::string& instruction,
                               const std::vector<std::string>& deleted, size_t n, uint64_t seed);

}  // namespace ptune::search
