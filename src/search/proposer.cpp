// Proposers; contract in include/ptune/search/proposer.h.
#include "ptune/search/proposer.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "ptune/client/openai_client.h"
#include "ptune/generate/chat_template.h"
#include "ptune/generate/generator.h"
#include "ptune/tasks/prompt.h"
#include "search/content_hash.h"

namespace ptune::search {
namespace {

class LocalProposer : public Proposer {
 public:
  LocalProposer(const Model& model, const Tokenizer& tok, std::string name, ProposerSampling s)
      : model_(model), tok_(tok), chat_(tok.spec().chat_template), name_(std::move(name)), s_(s) {}

  std::string answer(const std::string& question, uint64_t seed) override {
    const auto prompt = chat_.render_marked({ChatMessage{"user", question}}, true);
    GenerateOptions o;
    o.max_tokens = s_.max_tokens;
    o.sampling.temperature = static_cast<float>(s_.temperature);
    o.sampling.seed = seed;
    return generate(model_, tok_, tok_.encode(prompt), o).text;
  }
  std::string name() const override { return "local " + name_; }

 private:
  const Model& model_;
  const Tokenizer& tok_;
  ChatTemplate chat_;
  std::string name_;
  ProposerSampling s_;
};

class EndpointProposer : public Proposer {
 public:
  EndpointProposer(client::OpenAiClient& c, std::string model, ProposerSampling s)
      : client_(c), model_(std::move(model)), s_(s) {}

  std::string answer(const std::string& question, uint64_t seed) override {
    const nlohmann::json body = {{"model", model_},
                                 {"messages", {{{"role", "user"}, {"content", question}}}},
                                 {"max_tokens", s_.max_tokens},
                                 {"temperature", s_.temperature},
                                 {"seed", seed}};
    const nlohmann::json r = client_.call("/chat/completions", body);
    const auto& msg = r.at("choices").at(0).at("message");
    if (!msg.contains("content") || !msg["content"].is_string()) {
      throw std::runtime_error("the endpoint's answer has no message content");
    }
    return msg["content"].get<std::string>();
  }
  std::string name() const override { return "endpoint " + model_; }

 private:
  client::OpenAiClient& client_;
  std::string model_;
  ProposerSampling s_;
};

std::string examples_text(const std::vector<ShownExample>& demos) {
  std::ostringstream o;
  for (const ShownExample& d : demos)
    o << "Input: " << d.input << "\nOutput: " << d.output << "\n\n";
  return o.str();
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const size_t a = s.find_first_not_of(ws);
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(ws) - a + 1);
}

size_t word_count(const std::string& s) {
  std::istringstream in(s);
  size_t n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

}  // namespace

std::unique_ptr<Proposer> local_proposer(const Model& model, const Tokenizer& tokenizer,
                                         std::string model_name, ProposerSampling sampling) {
  return std::make_unique<LocalProposer>(model, tokenizer, std::move(model_name), sampling);
}

std::unique_ptr<Proposer> endpoint_proposer(client::OpenAiClient& client, std::string model,
                                            ProposerSampling sampling) {
  return std::make_unique<EndpointProposer>(client, std::move(model), sampling);
}

ShownExample shown_example(const tasks::TaskSpec& t, const tasks::Example& ex) {
  const tasks::PromptBuilder b(t);
  std::string input;
  for (const std::string& f : b.query_template().fields()) {
    if (f == t.target_field() || !ex.has(f)) continue;
    input += (input.empty() ? "" : " ") + ex.get(f);
  }
  return {input, b.target_text(ex)};
}

std::string ape_question(const std::vector<ShownExample>& demos) {
  return "I gave a friend an instruction and some inputs. The friend read the instruction and "
         "wrote an output for every one of the inputs. Here are the input-output pairs:\n\n" +
         examples_text(demos) +
         "What was the instruction? Answer with the instruction only, in one sentence.";
}

std::string paraphrase_question(const std::string& instruction) {
  return "Rewrite this instruction in different words, keeping its meaning. Answer with the new "
         "instruction only, in one sentence.\n\nInstruction: " +
         instruction;
}

std::string opro_question(const std::string& task_description,
                          std::vector<std::pair<std::string, double>> history,
                          const std::vector<ShownExample>& demos) {
  std::stable_sort(history.begin(), history.end(),
                   [](const auto& a, const auto& b) { return a.second < b.second; });
  std::ostringstream o;
  o << "Your task is to write an instruction for this task";
  if (!task_description.empty()) o << " (" << task_description << ")";
  o << ". Below are earlier instructions with their scores (0 to 100, higher is better), worst "
       "first.\n\n";
  for (const auto& [text, score] : history) {
    o << "Instruction: " << text << "\nScore: " << static_cast<int>(score * 100 + 0.5) << "\n\n";
  }
  o << "Examples of the task:\n\n" << examples_text(demos);
  o << "Write a new instruction that is different from the ones above and scores higher. Answer "
       "with the instruction only, in one sentence.";
  return o.str();
}

std::optional<std::string> parse_instruction(const std::string& answer) {
  std::istringstream in(answer);
  std::string line;
  while (std::getline(in, line) && trim(line).empty()) {
  }
  line = trim(line);
  for (const char* label : {"Instruction:", "instruction:", "New instruction:",
                            "The instruction was:", "The instruction was", "-", "*", "1."}) {
    const std::string l = label;
    if (line.compare(0, l.size(), l) == 0) line = trim(line.substr(l.size()));
  }
  if (line.size() >= 2 && (line.front() == '"' || line.front() == '\'') &&
      line.back() == line.front()) {
    line = trim(line.substr(1, line.size() - 2));
  }
  if (word_count(line) < 3 || line.size() > 400) return std::nullopt;
  if (line.find_first_of("{}") != std::string::npos) return std::nullopt;
  if (line.find("<|") != std::string::npos) return std::nullopt;
  return line;
}

std::optional<std::string> propose(Proposer& proposer, Journal& journal,
                                   const std::string& question, uint64_t seed,
                                   ProposalStats& stats) {
  ++stats.asked;
  const std::string key =
      content_hash(proposer.name() + '\x1e' + std::to_string(seed) + '\x1e' + question);
  std::optional<std::string> text = journal.proposal(key);
  if (text) {
    ++stats.replayed;
  } else {
    try {
      text = proposer.answer(question, seed);
    } catch (const std::exception&) {
      ++stats.failed;
      return std::nullopt;
    }
    journal.add_proposal(key, *text);
  }
  std::optional<std::string> parsed = parse_instruction(*text);
  if (parsed) {
    ++stats.accepted;
  } else {
    ++stats.malformed;
  }
  return parsed;
}

}  // namespace ptune::search
