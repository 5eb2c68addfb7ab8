// A discrete prompt: text found by a search or gradient method (or written by hand), saved as a
// small JSON file, and applied to a task's template by placement:
//   prefix       the text goes before the task's instruction ("TEXT INSTRUCTION")
//   instruction  the text replaces the instruction
//   slot         the text fills the template's {soft:NAME} slot (where a hard-prompt method
//                optimised it)
// The file also records the token ids the text was found as and the model it was found on, so a
// user can tell when a prompt is applied to another model or re-tokenizes differently.
//
// File format (keys other than these are an error, so a typo is never ignored):
//   {"format": "ptune-discrete-prompt", "version": 1, "text": "...", "token_ids": [1, 2],
//    "placement": "prefix" | "instruction" | "slot", "slot": "prompt" (placement slot only),
//    "model": "SmolLM2-135M-Instruct.Q4_1.gguf", "method": "gcg"}
// token_ids, model and method may be omitted (a hand-written prompt).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/tasks/task.h"

namespace ptune::tasks {

struct DiscretePrompt {
  enum class Placement { Prefix, Instruction, Slot };
  std::string text;                // non-empty
  std::vector<int32_t> token_ids;  // as found (may be empty)
  Placement placement = Placement::Prefix;
  std::string slot;    // with Placement::Slot: the {soft:NAME} slot's NAME
  std::string model;   // what it was found on (file name), may be empty
  std::string method;  // what found it ("gcg", "search", ...), may be empty
};

const char* placement_name(DiscretePrompt::Placement p);  // "prefix", "instruction", "slot"

// Parses a prompt file's text; throws TaskFileError naming `source` and the key that is wrong.
DiscretePrompt parse_discrete_prompt(std::string_view json_text, const std::string& source);
DiscretePrompt read_discrete_prompt(const std::string& path);
std::string to_json(const DiscretePrompt& prompt);  // indent 2, trailing newline
void write_discrete_prompt(const std::string& path, const DiscretePrompt& prompt);  // atomic

// The task with the prompt applied to template `template_name` (its instruction, or the
// template's slot). Throws std::invalid_argument when the template lacks what the placement
// needs ({instruction}, or the named {soft:NAME} slot).
TaskSpec with_discrete_prompt(TaskSpec task, const DiscretePrompt& prompt,
                              const std::string& template_name);

}  // namespace ptune::tasks
