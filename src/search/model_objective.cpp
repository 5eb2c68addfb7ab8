// The model objective; contract in include/ptune/search/model_objective.h.
#include "ptune/search/model_objective.h"

#include <cctype>
#include <set>
#include <stdexcept>

#include "ptune/eval/metrics/registry.h"
#include "ptune/tasks/prompt.h"
#include "search/content_hash.h"

namespace ptune::search {
std::string objective_metric(const tasks::TaskSpec& task) {
  if (ranked_task(task)) return "accuracy";
  for (const std::string& name : task.metrics) {
    const eval::Metric* m = eval::find_metric(name);
    if (m && m->needs == eval::Need::Text && m->per_example) return name;
  }
  throw std::invalid_argument("search: task '" + task.name +
                              "' lists no metric with per-example values to search on (add "
                              "exact_match, token_f1 or rouge_l to its metrics)");
}

ModelObjective::ModelObjective(const tasks::TaskSpec& task, const SearchData& data,
                               const Model& model, const Tokenizer& tokenizer,
                               eval::EvalOptions base, std::string model_id)
    : task_(task),
      data_(data),
      model_(model),
      tok_(tokenizer),
      base_(std::move(base)),
      model_id_(std::move(model_id)),
      metric_(objective_metric(task)) {
  run_data_.train = data.pool;
  base_.split = "test";
  base_.limit = 0;
  base_.template_name = "default";
  base_.shots.reset();
  base_.calibration.reset();
  base_.normalize.reset();
  base_.bootstrap_resamples = 1;  // the search needs per-example scores, not intervals
  base_.show_prompt = false;
  base_.scorer.prefixes = &prefixes_;
}

// The pool is the demo split, copied once; the examples to score become the "test" split.
const tasks::TaskData& ModelObjective::with_examples(Split split,
                                                     const std::vector<size_t>& indices) {
  const auto& all = data_.split(split);
  run_data_.test.clear();
  for (size_t i : indices) {
    if (i >= all.size()) throw std::out_of_range("search: example index past the split");
    run_data_.test.push_back(all[i]);
  }
  return run_data_;
}

std::vector<std::string> ModelObjective::keys(const Candidate& c, Split split,
                                              const std::vector<size_t>& indices) {
  const tasks::TaskSpec t = apply_candidate(task_, c);
  const tasks::TaskData& d = with_examples(split, indices);
  const std::vector<tasks::Example>& ex = d.test;
  const std::vector<eval::ExamplePrompt> prompts = eval::example_prompts(t, d, ex, tok_, base_);
  const tasks::PromptBuilder builder(t);
  std::string settings =
      model_id_ + '\x1e' + metric_ + '\x1e' + tasks::to_string(t.scoring.normalize);
  std::vector<std::string> out;
  for (size_t i = 0; i < ex.size(); ++i) {
    std::string text = settings + '\x1e' + prompts[i].text;
    for (const std::string& cf : prompts[i].content_free) text += '\x1d' + cf;
    text += '\x1e';
    if (ranked_task(t)) {
      for (const tasks::Candidate& cand : builder.candidates(ex[i]))
        text += std::to_string(cand.label) + '=' + cand.continuation + '\x1d';
      text += '\x1e' + std::to_string(builder.gold_index(ex[i]));
    } else {
      for (const std::string& r : builder.references(ex[i])) text += r + '\x1d';
    }
    out.push_back(content_hash(text));
  }
  return out;
}

std::vector<double> ModelObjective::evaluate(const Candidate& c, Split split,
                                             const std::vector<size_t>& indices) {
  const tasks::TaskSpec t = apply_candidate(task_, c);
  const eval::EvalResult r = eval::run_eval(t, with_examples(split, indices), model_, tok_, base_);
  std::vector<double> out;
  for (const nlohmann::json& rec : r.records) {
    if (ranked_task(t)) {
      out.push_back(rec.at("correct").get<bool>() ? 1.0 : 0.0);
    } else {
      out.push_back(rec.at(metric_).get<double>());
    }
  }
  return out;
}

double ModelObjective::mean_prompt_tokens(const Candidate& c, Split split,
                                          const std::vector<size_t>& indices) {
  if (indices.empty()) return 0;
  const tasks::TaskSpec t = apply_candidate(task_, c);
  const tasks::TaskData& d = with_examples(split, indices);
  double sum = 0;
  for (const eval::ExamplePrompt& p : eval::example_prompts(t, d, d.test, tok_, base_))
    sum += static_cast<double>(tok_.encode(p.text).size());
  return sum / static_cast<double>(indices.size());
}

namespace {

// " word": a space then two or more ASCII letters (a whole word of the vocabulary).
bool word_start_token(const std::string& bytes) {
  if (bytes.size() < 3 || bytes[0] != ' ') return false;
  for (size_t i = 1; i < bytes.size(); ++i) {
    if (!std::isalpha(static_cast<unsigned char>(bytes[i]))) return false;
  }
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<std::string> ModelObjective::neighbour_words(const std::string& text, size_t n) {
  torch::InferenceMode guard;
  if (!unit_embeddings_.defined()) {
    const torch::Tensor e = model_.token_embedding().to(torch::kCPU, torch::kFloat);  // [V, C]
    unit_embeddings_ = e / e.norm(2, 1, true).clamp_min(1e-12);
    std::vector<uint8_t> words(static_cast<size_t>(e.size(0)), 0);
    for (int32_t id = 0; id < static_cast<int32_t>(words.size()) && id < tok_.n_vocab(); ++id) {
      words[id] =
          tok_.token_type(id) == TokenType::Normal && word_start_token(tok_.token_to_bytes(id));
    }
    word_tokens_ = torch::tensor(words, torch::kUInt8).to(torch::kBool);
  }
  const std::vector<int32_t> ids = tok_.encode(" " + text, false, false);
  if (ids.empty() || n == 0) return {};
  std::vector<int64_t> ids64(ids.begin(), ids.end());
  torch::Tensor q = unit_embeddings_.index_select(0, torch::tensor(ids64)).mean(0);  // [C]
  q = q / q.norm().clamp_min(1e-12);
  const torch::Tensor sims =
      unit_embeddings_.matmul(q).masked_fill(word_tokens_.logical_not(), -2.0);  // [V]
  const int64_t k = std::min<int64_t>(sims.size(0), static_cast<int64_t>(4 * n + 8));
  const torch::Tensor top = std::get<1>(sims.topk(k)).contiguous();
  std::set<std::string> seen = {lower(text)};
  std::vector<std::string> out;
  for (int64_t i = 0; i < k && out.size() < n; ++i) {
    const int32_t id = static_cast<int32_t>(top[i].item<int64_t>());
    if (!word_tokens_[id].item<bool>()) break;  // the rest are not words
    std::string w = tok_.token_to_bytes(id).substr(1);
    if (seen.insert(lower(w)).second) out.push_back(std::move(w));
  }
  return out;
}

std::vector<std::vector<double>> ModelObjective::word_log_probs(
    const Candidate& c, Split split, const std::vector<size_t>& indices,
    const std::vector<std::string>& words) {
  const tasks::TaskSpec t = apply_candidate(task_, c);
  std::vector<std::string> continuations;
  for (const std::string& w : words) continuations.push_back(t.scoring.label_prefix + w);
  const tasks::TaskData& d = with_examples(split, indices);
  return eval::continuation_log_probs(t, d, d.test, model_, tok_, base_, continuations);
}

}  // namespace ptune::search
