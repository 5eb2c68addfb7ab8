// Generation and qa: each example's answer is decoded from its prompt (the shared prompt prefix
// runs once per group and every decode starts from its keys/values), then scored against the
// references. When a listed metric needs them, the references' log-probs are scored too (nll,
// perplexity) and a judge prompt grades each answer (rubric).
#include <cctype>
#include <cmath>

#include "eval_run.h"
#include "ptune/eval/calibration.h"
#include "ptune/generate/generator.h"
#include "ptune/tasks/template.h"

namespace ptune::eval::detail {
namespace {

using nlohmann::json;

// generate(), except that a stop string met before any non-whitespace text does not end the
// answer (a model that starts "Answer:" with a newline has not answered yet): decoding goes on
// from prompt + what was generated, within the same max_tokens budget.
GenerateResult generate_answer(const Model& model, const Tokenizer& tok,
                               const std::vector<int32_t>& prompt, const GenerateOptions& g,
                               const PastKV* prefix) {
  GenerateResult total;
  std::vector<int32_t> ctx = prompt;
  GenerateOptions opt = g;
  for (int attempt = 0; attempt < 4; ++attempt) {
    GenerateResult r = generate(model, tok, ctx, opt, nullptr, prefix);
    total.tokens.insert(total.tokens.end(), r.tokens.begin(), r.tokens.end());
    total.finish_reason = r.finish_reason;
    const bool hit_eos = !r.tokens.empty() && tok.is_end_of_generation(r.tokens.back());
    const int left = g.max_tokens - static_cast<int>(total.tokens.size());
    if (!trimmed(r.text).empty() || r.finish_reason != "stop" || hit_eos || left <= 0) {
      total.text = r.text;
      break;
    }
    ctx.insert(ctx.end(), r.tokens.begin(), r.tokens.end());
    opt.max_tokens = left;
  }
  return total;
}

GenerateOptions generate_options(const tasks::GenerationSpec& spec) {
  GenerateOptions g;
  g.max_tokens = spec.max_tokens;
  g.stop = spec.stop;
  g.sampling.temperature = static_cast<float>(spec.temperature);
  g.sampling.top_p = static_cast<float>(spec.top_p);
  g.sampling.top_k = spec.top_k;
  return g;
}

// Examples grouped by shared prompt prefix; one group with no prefix when caching is off.
std::vector<PrefixGroup> prefix_groups(const EvalRun& run) {
  if (run.opt.scorer.prefix_cache) return group_by_prefix(run.ids, run.opt.scorer.min_prefix);
  std::vector<PrefixGroup> groups(1);
  for (size_t i = 0; i < run.size(); ++i) groups[0].members.push_back(i);
  return groups;
}

// Decodes every example's answer into out.predictions (trimmed) and its references.
void generate_all(EvalRun& run, Outcomes& out) {
  const size_t n = run.size();
  GenerateOptions g = generate_options(run.task.generation);
  out.predictions.resize(n);
  out.references.resize(n);
  if (run.progress) run.progress->start("generating", n, "ex");
  size_t done = 0, gen_tokens = 0;
  for (const PrefixGroup& grp : prefix_groups(run)) {
    const std::vector<int32_t>& first = run.ids[grp.members[0]];
    const std::vector<int32_t> head(first.begin(), first.begin() + grp.prefix);
    const PastKV prefix =
        shared_prefix(run.model, head, run.opt.scorer.base, run.opt.scorer.prefixes);
    for (size_t i : grp.members) {
      g.sampling.seed = run.seed + i;  // per example: the result does not depend on the order
      const std::vector<int32_t> suffix(
          run.ids[i].begin() + static_cast<std::ptrdiff_t>(grp.prefix), run.ids[i].end());
      const GenerateResult r =
          generate_answer(run.model, run.tok, suffix, g, prefix.empty() ? nullptr : &prefix);
      out.predictions[i] = trimmed(r.text);
      out.references[i] = run.prompts.references(run.examples[i]);
      gen_tokens += r.tokens.size();
      json& rec = run.records[i];
      rec["prediction"] = out.predictions[i];
      rec["gold"] = out.references[i];
      rec["finish_reason"] = r.finish_reason;
      rec["generated_tokens"] = r.tokens.size();
      if (run.progress) run.progress->update(++done);
    }
  }
  if (run.progress) run.progress->finish();
  run.metrics["generated_tokens"] = gen_tokens;
}

// The log-probs of the first reference (after the label prefix) following each prompt.
void score_references(EvalRun& run, Outcomes& out) {
  std::vector<ScoreRequest> reqs(run.size());
  for (size_t i = 0; i < run.size(); ++i) {
    reqs[i].context = run.ids[i];
    reqs[i].continuations = {
        run.encode_continuation(run.task.scoring.label_prefix + out.references[i].at(0))};
  }
  const auto s = run.score(reqs, "reference nll");
  out.gold_logprobs.resize(run.size());
  for (size_t i = 0; i < run.size(); ++i) out.gold_logprobs[i] = s[i][0].token_logprobs;
}

// The judge prompt of example i, rendered with the zero-shot prompt, the answer and the first
// reference.
util::MarkedText judge_prompt(const EvalRun& run, const Outcomes& out, const tasks::Template& judge,
                              size_t i) {
  tasks::Example e;
  e.source = "judge";
  e.fields["input"] = run.prompts.render(run.examples[i], {}).display();
  e.fields["prediction"] = out.predictions[i];
  e.fields["reference"] = out.references[i].at(0);
  return judge.render(e, {}).marked();  // the answer and reference are data
}

// Rank-classifies each answer over the grades min..max with the plain model (no adapter).
void judge_answers(EvalRun& run, Outcomes& out) {
  const tasks::JudgeSpec& spec = run.task.judge;
  const tasks::Template judge = tasks::Template::parse(spec.prompt, "judge");
  std::vector<int> grades;
  for (int s = spec.min_score; s <= spec.max_score; ++s) grades.push_back(s);
  std::vector<ScoreRequest> reqs(run.size());
  for (size_t i = 0; i < run.size(); ++i) {
    const util::MarkedText prompt = judge_prompt(run, out, judge, i);
    const std::string& text = prompt.text;
    const bool space = !text.empty() && std::isspace(static_cast<unsigned char>(text.back()));
    reqs[i].context = run.tok.encode(prompt);
    for (int s : grades) {
      reqs[i].continuations.push_back(
          run.encode_continuation((space ? "" : " ") + std::to_string(s)));
    }
  }
  const auto scores = run.score(reqs, "judging", /*with_adapter=*/false);
  out.grades.resize(run.size());
  for (size_t i = 0; i < run.size(); ++i) {
    std::vector<double> v;
    for (const auto& c : scores[i]) v.push_back(c.sum());
    const std::vector<double> p = log_normalize(v);
    out.grades[i] = grades[argmax(p)];
    double expected = 0;
    for (size_t k = 0; k < grades.size(); ++k) expected += std::exp(p[k]) * grades[k];
    run.records[i]["rubric"] = {
        {"criterion", spec.criterion}, {"score", out.grades[i]}, {"expected", expected}};
  }
}

}  // namespace

void record_text_scores(std::vector<nlohmann::json>& records, const Outcomes& out) {
  for (const Metric& m : metric_registry()) {
    if (m.needs != Need::Text || m.per_example == nullptr) continue;
    for (size_t i = 0; i < records.size(); ++i) records[i][m.name] = m.per_example(out, i);
  }
}

std::string trimmed(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

void text_strategy(EvalRun& run, Outcomes& out) {
  generate_all(run, out);
  record_text_scores(run.records, out);
  if (run.wants(Need::GoldLogprobs)) score_references(run, out);
  if (run.wants(Need::Grade)) judge_answers(run, out);
}

}  // namespace ptune::eval::detail
