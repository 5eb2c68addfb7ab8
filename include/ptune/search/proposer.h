// Model-proposed instructions: a proposer is any model that answers a prompt with text, the
// local model through its chat template or any OpenAI-compatible endpoint. The search asks it
// three kinds of question:
//   ape         induce the instruction from demos (Zhou et al. 2023, "Large Language Models Are
//               Human-Level Prompt Engineers": "I gave a friend an instruction ... The
//               instruction was")
//   paraphrase  GrIPS's paraphrase edit: the instruction in other words
//   opro        a meta-prompt listing earlier instructions with their scores, worst first, asking
//               for a better one (Yang et al. 2024, "Large Language Models as Optimizers")
// An answer becomes an instruction only if it reads as one (parse_instruction); otherwise it is
// skipped and counted, never fatal. Answers are kept in the search journal by the hash of their
// question, so a resumed search asks nothing twice and gets the same answers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ptune/model/model.h"
#include "ptune/search/journal.h"
#include "ptune/tasks/task.h"
#include "ptune/tokenizer/tokenizer.h"

namespace ptune::client {
class OpenAiClient;
}

namespace ptune::search {

class Proposer {
 public:
  virtual ~Proposer() = default;
  // The model's answer to `question` as a user message, sampled with `seed`. Throws on failure
  // to call the model (the search counts it as a failed proposal and goes on).
  virtual std::string answer(const std::string& question, uint64_t seed) = 0;
  // "local SmolLM2-135M-Instruct" / "endpoint gpt-4o-mini": for records.
  virtual std::string name() const = 0;
};

struct ProposerSampling {
  double temperature = 0.7;
  int max_tokens = 80;
};

// The search's model through its chat template (ChatML); throws std::invalid_argument for a
// model without a supported chat template.
std::unique_ptr<Proposer> local_proposer(const Model& model, const Tokenizer& tokenizer,
                                         std::string model_name, ProposerSampling sampling = {});
// `model` behind `client` (chat completions). The client must outlive the proposer.
std::unique_ptr<Proposer> endpoint_proposer(client::OpenAiClient& client, std::string model,
                                            ProposerSampling sampling = {});

// One demo shown to the proposer: the input text and its answer.
struct ShownExample {
  std::string input, output;
};
// `ex` as shown: the query fields its template reads, space-joined, and the gold answer's text.
ShownExample shown_example(const tasks::TaskSpec& task, const tasks::Example& ex);

std::string ape_question(const std::vector<ShownExample>& demos);
std::string paraphrase_question(const std::string& instruction);
// `history`: (instruction, score in [0, 1]) pairs; shown worst first, as OPRO does, so the best
// sit next to the request.
std::string opro_question(const std::string& task_description,
                          std::vector<std::pair<std::string, double>> history,
                          const std::vector<ShownExample>& demos);

// The instruction in a proposer's answer: its first non-empty line with a leading label
// ("Instruction:", "1.", "-") and surrounding quotes removed. Unset when that is not an
// instruction: fewer than 3 words, over 400 bytes, template braces '{' '}', or a chat marker.
std::optional<std::string> parse_instruction(const std::string& answer);

// What asking cost: proposals made, skipped as malformed, failed calls, answers replayed from
// the journal.
struct ProposalStats {
  size_t asked = 0, accepted = 0, malformed = 0, failed = 0, replayed = 0;
};

// Asks `proposer` (journaled: an answer the journal has is not asked again) and parses the
// answer. Unset for a malformed answer or a failed call, counted in `stats`.
std::optional<std::string> propose(Proposer& proposer, Journal& journal,
                                   const std::string& question, uint64_t seed,
                                   ProposalStats& stats);

}  // namespace ptune::search
