// ptune eval as a library call; contract in include/ptune/eval/evaluator.h.
#include "ptune/eval/evaluator.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <stdexcept>

#include "ptune/eval/calibration.h"
#include "ptune/eval/prompt_formatter.h"
#include "ptune/generate/generator.h"
#include "ptune/tasks/fewshot.h"
#include "ptune/tasks/prompt.h"
#include "ptune/tasks/splits.h"
#include "ptune/tasks/template.h"

namespace ptune::eval {

using nlohmann::json;
using tasks::ConfidenceInterval;
using tasks::Example;
using tasks::TaskType;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

json ci_json(const ConfidenceInterval& ci) {
  return {{"value", ci.value}, {"low", ci.low}, {"high", ci.high}};
}

bool wants(const tasks::TaskSpec& t, const std::string& m) {
  return std::find(t.metrics.begin(), t.metrics.end(), m) != t.metrics.end();
}

// The task after the CLI overrides, re-validated so a bad combination is a clear error.
tasks::TaskSpec apply_overrides(tasks::TaskSpec t, const EvalOptions& o) {
  if (o.shots) t.few_shot.k = *o.shots;
  if (o.seed) t.few_shot.seed = *o.seed;
  if (o.calibration) t.scoring.calibration = *o.calibration;
  if (o.normalize) t.scoring.normalize = *o.normalize;
  if (o.max_tokens) t.generation.max_tokens = *o.max_tokens;
  if (o.temperature) t.generation.temperature = *o.temperature;
  if (!t.templates.count(o.template_name)) {
    std::string known;
    for (const auto& [name, src] : t.templates) known += (known.empty() ? "" : ", ") + name;
    throw std::invalid_argument("unknown template '" + o.template_name +
                                "' (task templates: " + known + ")");
  }
  if (t.few_shot.k > 0) {
    const auto tmpl = tasks::Template::parse(t.templates.at(o.template_name), o.template_name);
    if (!tmpl.uses("demos")) {
      throw std::invalid_argument("--shots " + std::to_string(t.few_shot.k) + ": template '" +
                                  o.template_name + "' has no {demos} placeholder");
    }
    if (t.few_shot.demo_template.empty()) {
      throw std::invalid_argument("--shots " + std::to_string(t.few_shot.k) +
                                  ": the task has no few_shot.template to render demos with");
    }
  }
  return t;  // the rest was validated when the task loaded
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// generate(), except that a stop string met before any non-whitespace text does not end the
// answer (a model that starts "Answer:" with a newline has not answered yet): decoding goes on
// from prompt + what was generated, within the same max_tokens budget.
GenerateResult generate_answer(const LlamaModel& model, const Tokenizer& tok,
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
    if (!trim(r.text).empty() || r.finish_reason != "stop" || hit_eos || left <= 0) {
      total.text = r.text;
      break;
    }
    ctx.insert(ctx.end(), r.tokens.begin(), r.tokens.end());
    opt.max_tokens = left;
  }
  return total;
}

}  // namespace

std::vector<Example> eval_examples(const tasks::TaskData& data, const std::string& split,
                                   size_t limit) {
  std::vector<Example> all;
  if (split == "all") {
    for (const auto* s : {&data.train, &data.dev, &data.test})
      all.insert(all.end(), s->begin(), s->end());
  } else if (split == "train" || split == "dev" || split == "test") {
    all = data.split(split);
  } else {
    throw std::invalid_argument("unknown split '" + split + "' (train, dev, test or all)");
  }
  if (all.empty()) throw std::invalid_argument("split '" + split + "' has no examples");
  return limit ? tasks::take_first(all, limit) : all;
}

EvalResult run_eval(const tasks::TaskSpec& task_in, const tasks::TaskData& data,
                    const LlamaModel& model, const Tokenizer& tok, const EvalOptions& opt,
                    Progress* progress) {
  const auto t_start = std::chrono::steady_clock::now();
  const tasks::TaskSpec task = apply_overrides(task_in, opt);
  const std::vector<Example> examples = eval_examples(data, opt.split, opt.limit);
  const size_t n = examples.size();
  tasks::PromptBuilder prompts(task, opt.template_name);
  PromptFormatter format(task, tok);
  const uint64_t seed = opt.seed.value_or(0);
  tasks::BootstrapOptions boot;
  boot.resamples = opt.bootstrap_resamples;
  boot.seed = seed;

  // ---- prompts ----------------------------------------------------------------------------------
  std::vector<std::vector<const Example*>> demos(n);
  std::vector<std::string> texts(n);
  std::vector<std::vector<int32_t>> ids(n);
  const std::vector<Example>* pool = task.few_shot.k ? &data.split(task.few_shot.split) : nullptr;
  for (size_t i = 0; i < n; ++i) {
    if (pool) {
      demos[i] = tasks::select_demos(*pool, task.few_shot, examples[i], prompts.label_field(), i);
    }
    texts[i] = format(prompts.render(examples[i], demos[i]));
    ids[i] = tok.encode(texts[i]);
  }
  auto encode_cont = [&](const std::string& s) { return tok.encode(s, false, false); };

  EvalResult res;
  res.records.resize(n);
  for (size_t i = 0; i < n; ++i) {
    json& r = res.records[i];
    r["index"] = i;
    r["source"] = examples[i].location();
    r["input"] = examples[i].fields;
    for (const auto& [k, v] : examples[i].lists) r["input"][k] = v;
    if (opt.show_prompt) r["prompt"] = texts[i];
  }
  json metrics_json = json::object();
  ScorerStats stats_total;
  auto add_stats = [&](const ScorerStats& s) {
    stats_total.groups += s.groups;
    stats_total.prefix_tokens += s.prefix_tokens;
    stats_total.suffix_tokens += s.suffix_tokens;
    stats_total.padded_tokens += s.padded_tokens;
    stats_total.forwards += s.forwards;
  };
  // The judge grades with the plain model; everything else runs through the adapter, if any.
  auto score_all = [&](const std::vector<ScoreRequest>& reqs, const std::string& stage,
                       bool with_adapter = true) {
    ScorerOptions so = opt.scorer;
    if (!with_adapter) so.base = nullptr;
    ContinuationScorer scorer(model, so);
    if (progress) progress->start(stage, reqs.size(), "prompts");
    auto out = scorer.score(reqs, [&](size_t d) {
      if (progress) progress->update(d);
    });
    if (progress) progress->finish();
    add_stats(scorer.stats());
    return out;
  };
  auto headline = [&](const std::string& name, const ConfidenceInterval& ci) {
    res.headline.push_back({name, ci});
    metrics_json[name] = ci_json(ci);
  };
  const bool mean_norm = task.scoring.normalize == tasks::ScoreNormalization::Mean;
  auto value_of = [&](const ContinuationScore& s) { return mean_norm ? s.mean() : s.sum(); };
  std::vector<std::vector<double>> gold_logprobs(n);  // for nll / perplexity

  if (task.type == TaskType::Classification || task.type == TaskType::MultipleChoice) {
    // ---- rank classification --------------------------------------------------------------------
    std::vector<ScoreRequest> reqs(n);
    std::vector<std::vector<tasks::Candidate>> cands(n);
    std::vector<size_t> gold(n);
    for (size_t i = 0; i < n; ++i) {
      cands[i] = prompts.candidates(examples[i]);
      gold[i] = prompts.gold_index(examples[i]);
      reqs[i].context = ids[i];
      for (const auto& c : cands[i]) reqs[i].continuations.push_back(encode_cont(c.continuation));
    }
    // Content-free prompts, deduplicated (with fixed demos every example shares the same few).
    std::vector<std::vector<size_t>> cf_of(n);
    if (task.scoring.calibration) {
      std::map<std::string, size_t> seen;
      for (size_t i = 0; i < n; ++i) {
        for (const std::string& cf : task.scoring.calibration_inputs) {
          const std::string text = format(prompts.render_content_free(examples[i], demos[i], cf));
          std::string key = text;
          for (const auto& c : cands[i]) key += '\x1f' + c.continuation;
          auto it = seen.find(key);
          if (it == seen.end()) {
            it = seen.emplace(key, reqs.size()).first;
            ScoreRequest r;
            r.context = tok.encode(text);
            r.continuations = reqs[i].continuations;
            reqs.push_back(std::move(r));
          }
          cf_of[i].push_back(it->second);
        }
      }
    }
    const auto scores = score_all(reqs, "scoring");

    auto label_scores = [&](size_t req, size_t ex) {
      std::vector<double> s(prompts.class_names(examples[ex]).size(), -INFINITY);
      for (size_t j = 0; j < cands[ex].size(); ++j) {
        s[cands[ex][j].label] = std::max(s[cands[ex][j].label], value_of(scores[req][j]));
      }
      return s;
    };
    std::vector<size_t> pred(n);
    std::vector<double> correct(n);
    size_t n_classes = 0;
    for (size_t i = 0; i < n; ++i) {
      const std::vector<std::string> names = prompts.class_names(examples[i]);
      n_classes = std::max(n_classes, names.size());
      const std::vector<double> raw = label_scores(i, i);
      std::vector<double> probs = log_normalize(raw);
      json& r = res.records[i];
      if (task.scoring.calibration) {
        std::vector<std::vector<double>> cf;
        for (size_t q : cf_of[i]) cf.push_back(label_scores(q, i));
        const std::vector<double> prior = content_free_log_prior(cf);
        probs = calibrate(raw, prior);
        r["calibration_prior"] = json::object();
        for (size_t l = 0; l < names.size(); ++l)
          r["calibration_prior"][names[l]] = std::exp(prior[l]);
      }
      pred[i] = argmax(probs);
      correct[i] = pred[i] == gold[i] ? 1.0 : 0.0;
      r["prediction"] = names[pred[i]];
      r["gold"] = names[gold[i]];
      r["correct"] = pred[i] == gold[i];
      json per = json::object();
      for (size_t l = 0; l < names.size(); ++l) {
        per[names[l]] = {{"score", raw[l]}, {"prob", std::exp(probs[l])}};
      }
      json words = json::array();
      for (size_t j = 0; j < cands[i].size(); ++j) {
        words.push_back({{"label", names[cands[i][j].label]},
                         {"continuation", cands[i][j].continuation},
                         {"token_logprobs", scores[i][j].token_logprobs}});
      }
      r["label_scores"] = per;
      r["continuations"] = words;
      // The gold label's first word: its log-probs are the gold continuation's NLL.
      for (size_t j = 0; j < cands[i].size(); ++j) {
        if (cands[i][j].label == gold[i]) {
          gold_logprobs[i] = scores[i][j].token_logprobs;
          break;
        }
      }
    }
    std::vector<std::string> labels;
    if (task.type == TaskType::Classification) {
      labels = prompts.class_names(examples[0]);
    } else {
      for (size_t l = 0; l < n_classes; ++l)
        labels.push_back(std::string(1, static_cast<char>('A' + l % 26)));
    }
    const tasks::ClassificationReport rep = tasks::classification_report(gold, pred, labels);
    for (const std::string& m : task.metrics) {
      if (m == "accuracy") {
        headline(m, tasks::bootstrap_mean(correct, boot));
      } else if (m == "macro_f1") {
        headline(m, tasks::bootstrap_ci(
                        n,
                        [&](const std::vector<size_t>& idx) {
                          std::vector<size_t> g, p;
                          for (size_t k : idx) g.push_back(gold[k]), p.push_back(pred[k]);
                          return tasks::macro_f1(g, p, labels.size());
                        },
                        boot));
      } else if (m == "per_class") {
        json pc = json::array();
        for (const auto& c : rep.per_class) {
          pc.push_back({{"label", c.label},
                        {"precision", c.precision},
                        {"recall", c.recall},
                        {"f1", c.f1},
                        {"support", c.support}});
        }
        metrics_json["per_class"] = pc;
      } else if (m == "confusion_matrix") {
        metrics_json["confusion_matrix"] = {{"labels", labels}, {"counts", rep.confusion}};
      }
    }
  } else {
    // ---- generation / qa
    // ---------------------------------------------------------------------------
    GenerateOptions g;
    g.max_tokens = task.generation.max_tokens;
    g.stop = task.generation.stop;
    g.sampling.temperature = static_cast<float>(task.generation.temperature);
    g.sampling.top_p = static_cast<float>(task.generation.top_p);
    g.sampling.top_k = task.generation.top_k;
    std::vector<std::string> preds(n);
    std::vector<std::vector<std::string>> refs(n);
    // The shared prompt prefix is run once per group and every generation starts from its KV.
    std::vector<PrefixGroup> groups;
    if (opt.scorer.prefix_cache) {
      groups = group_by_prefix(ids, opt.scorer.min_prefix);
    } else {
      groups.push_back({0, {}});
      for (size_t i = 0; i < n; ++i) groups[0].members.push_back(i);
    }
    if (progress) progress->start("generating", n, "ex");
    size_t done = 0, gen_tokens = 0;
    for (const PrefixGroup& grp : groups) {
      const std::vector<int32_t>& first = ids[grp.members[0]];
      const PastKV prefix = compute_prefix(
          model, std::vector<int32_t>(first.begin(), first.begin() + grp.prefix), opt.scorer.base);
      for (size_t i : grp.members) {
        g.sampling.seed = seed + i;  // per example: the result does not depend on the order
        std::vector<int32_t> suffix(ids[i].begin() + static_cast<std::ptrdiff_t>(grp.prefix),
                                    ids[i].end());
        GenerateResult out =
            generate_answer(model, tok, suffix, g, prefix.empty() ? nullptr : &prefix);
        preds[i] = trim(out.text);
        gen_tokens += out.tokens.size();
        refs[i] = prompts.references(examples[i]);
        json& r = res.records[i];
        r["prediction"] = preds[i];
        r["gold"] = refs[i];
        r["finish_reason"] = out.finish_reason;
        r["generated_tokens"] = out.tokens.size();
        if (progress) progress->update(++done);
      }
    }
    if (progress) progress->finish();
    std::vector<double> em(n), f1(n), rl(n);
    for (size_t i = 0; i < n; ++i) {
      em[i] = tasks::exact_match(preds[i], refs[i]);
      f1[i] = tasks::token_f1(preds[i], refs[i]);
      rl[i] = tasks::rouge_l(preds[i], refs[i]);
      res.records[i]["exact_match"] = em[i];
      res.records[i]["token_f1"] = f1[i];
      res.records[i]["rouge_l"] = rl[i];
    }
    auto corpus = [&](auto fn) {
      return tasks::bootstrap_ci(
          n,
          [&](const std::vector<size_t>& idx) {
            std::vector<std::string> p;
            std::vector<std::vector<std::string>> r;
            for (size_t k : idx) p.push_back(preds[k]), r.push_back(refs[k]);
            return fn(p, r);
          },
          boot);
    };
    for (const std::string& m : task.metrics) {
      if (m == "exact_match") headline(m, tasks::bootstrap_mean(em, boot));
      if (m == "token_f1") headline(m, tasks::bootstrap_mean(f1, boot));
      if (m == "rouge_l") headline(m, tasks::bootstrap_mean(rl, boot));
      if (m == "bleu")
        headline(
            m, corpus([](const auto& p, const auto& r) { return tasks::corpus_bleu(p, r).score; }));
      if (m == "chrf")
        headline(m, corpus([](const auto& p, const auto& r) { return tasks::corpus_chrf(p, r); }));
    }
    metrics_json["generated_tokens"] = gen_tokens;

    if (wants(task, "nll") || wants(task, "perplexity")) {
      std::vector<ScoreRequest> reqs(n);
      for (size_t i = 0; i < n; ++i) {
        reqs[i].context = ids[i];
        reqs[i].continuations = {encode_cont(task.scoring.label_prefix + refs[i].at(0))};
      }
      const auto s = score_all(reqs, "reference nll");
      for (size_t i = 0; i < n; ++i) gold_logprobs[i] = s[i][0].token_logprobs;
    }

    if (wants(task, "rubric")) {
      // ---- rubric judge
      // -----------------------------------------------------------------------------
      const tasks::Template judge = tasks::Template::parse(task.judge.prompt, "judge");
      std::vector<ScoreRequest> reqs(n);
      std::vector<int> grades;
      for (int s = task.judge.min_score; s <= task.judge.max_score; ++s) grades.push_back(s);
      for (size_t i = 0; i < n; ++i) {
        Example e;
        e.source = "judge";
        e.fields["input"] = prompts.render(examples[i], {}).display();
        e.fields["prediction"] = preds[i];
        e.fields["reference"] = refs[i].at(0);
        const std::string text = judge.render(e, {}).text();
        const bool space = !text.empty() && std::isspace(static_cast<unsigned char>(text.back()));
        reqs[i].context = tok.encode(text);
        for (int s : grades)
          reqs[i].continuations.push_back(encode_cont((space ? "" : " ") + std::to_string(s)));
      }
      const auto s = score_all(reqs, "judging", /*with_adapter=*/false);
      std::vector<double> grade(n);
      for (size_t i = 0; i < n; ++i) {
        std::vector<double> v;
        for (const auto& c : s[i]) v.push_back(c.sum());
        const std::vector<double> p = log_normalize(v);
        grade[i] = grades[argmax(p)];
        double expected = 0;
        for (size_t k = 0; k < grades.size(); ++k) expected += std::exp(p[k]) * grades[k];
        res.records[i]["rubric"] = {
            {"criterion", task.judge.criterion}, {"score", grade[i]}, {"expected", expected}};
      }
      headline("rubric", tasks::bootstrap_mean(grade, boot));
    }
  }

  // ---- nll / perplexity of the gold continuation
  // --------------------------------------------------
  if (wants(task, "nll") || wants(task, "perplexity")) {
    std::vector<double> tot(n), cnt(n);
    for (size_t i = 0; i < n; ++i) {
      for (double lp : gold_logprobs[i]) tot[i] -= lp;
      cnt[i] = static_cast<double>(gold_logprobs[i].size());
      res.records[i]["gold_nll"] = tot[i];
      res.records[i]["gold_tokens"] = gold_logprobs[i].size();
    }
    auto mean_nll = [&](const std::vector<size_t>& idx) {
      double a = 0, b = 0;
      for (size_t k : idx) a += tot[k], b += cnt[k];
      return b > 0 ? a / b : NAN;
    };
    const ConfidenceInterval nll = tasks::bootstrap_ci(n, mean_nll, boot);
    if (wants(task, "nll")) headline("nll", nll);
    if (wants(task, "perplexity")) {
      headline("perplexity", {std::exp(nll.value), std::exp(nll.low), std::exp(nll.high)});
    }
  }

  // Headline metrics in the task's order.
  auto rank = [&](const MetricResult& m) {
    return std::find(task.metrics.begin(), task.metrics.end(), m.name) - task.metrics.begin();
  };
  std::stable_sort(res.headline.begin(), res.headline.end(),
                   [&](const MetricResult& a, const MetricResult& b) { return rank(a) < rank(b); });
  res.seconds = seconds_since(t_start);
  res.summary = {
      {"task", task.name},
      {"task_file", task.path},
      {"type", tasks::to_string(task.type)},
      {"model", opt.model_name},
      {"split", opt.split},
      {"examples", n},
      {"template", opt.template_name},
      {"shots", task.few_shot.k},
      {"seed", seed},
      {"scoring",
       {{"normalize", tasks::to_string(task.scoring.normalize)},
        {"calibration", task.scoring.calibration},
        {"label_prefix", task.scoring.label_prefix}}},
      {"metrics", metrics_json},
      {"load_report",
       {{"rows", data.report.rows},
        {"loaded", data.report.loaded},
        {"skipped", data.report.skipped},
        {"reasons", data.report.reasons}}},
      {"engine",
       {{"batch_size", opt.scorer.batch_size},
        {"prefix_cache", opt.scorer.prefix_cache},
        {"prefix_groups", stats_total.groups},
        {"prefix_tokens", stats_total.prefix_tokens},
        {"suffix_tokens", stats_total.suffix_tokens},
        {"padded_tokens", stats_total.padded_tokens},
        {"forwards", stats_total.forwards}}},
      {"seconds", res.seconds},
      {"examples_per_second", res.seconds > 0 ? static_cast<double>(n) / res.seconds : 0.0},
      {"bootstrap", {{"resamples", boot.resamples}, {"confidence", boot.confidence}}},
  };
  if (task.type == TaskType::Generation || task.type == TaskType::QA) {
    res.summary["generation"] = {{"max_tokens", task.generation.max_tokens},
                                 {"stop", task.generation.stop},
                                 {"temperature", task.generation.temperature}};
  }
  return res;
}

std::string format_report(const EvalResult& r) {
  const json& s = r.summary;
  std::ostringstream o;
  char buf[512];
  std::snprintf(buf, sizeof buf, "task %s (%s)  split %s  template %s  shots %d  examples %d\n",
                s["task"].get<std::string>().c_str(), s["type"].get<std::string>().c_str(),
                s["split"].get<std::string>().c_str(), s["template"].get<std::string>().c_str(),
                s["shots"].get<int>(), s["examples"].get<int>());
  o << buf;
  std::snprintf(buf, sizeof buf, "model %s  %.1f s  %.2f examples/s\n",
                s["model"].get<std::string>().c_str(), r.seconds,
                s["examples_per_second"].get<double>());
  o << buf;
  // Nothing dropped silently: rows skipped by skip_bad are counted, with the first reasons.
  const json& lr = s["load_report"];
  if (lr["skipped"].get<size_t>() > 0) {
    o << "skipped " << lr["skipped"].get<size_t>() << " malformed row(s) of "
      << lr["rows"].get<size_t>() << " (skip_bad):\n";
    for (const auto& reason : lr["reasons"]) o << "  " << reason.get<std::string>() << "\n";
  }
  o << "\n";
  o << "metric            value     95% CI\n";
  for (const MetricResult& m : r.headline) {
    std::snprintf(buf, sizeof buf, "%-14s %8.4f   [%.4f, %.4f]\n", m.name.c_str(), m.ci.value,
                  m.ci.low, m.ci.high);
    o << buf;
  }
  const json& mj = s["metrics"];
  if (mj.contains("per_class")) {
    o << "\nlabel                 precision  recall     f1  support\n";
    for (const auto& c : mj["per_class"]) {
      std::snprintf(buf, sizeof buf, "%-20s %10.3f %7.3f %6.3f %8d\n",
                    c["label"].get<std::string>().c_str(), c["precision"].get<double>(),
                    c["recall"].get<double>(), c["f1"].get<double>(), c["support"].get<int>());
      o << buf;
    }
  }
  if (mj.contains("confusion_matrix")) {
    const auto& labels = mj["confusion_matrix"]["labels"];
    const auto& counts = mj["confusion_matrix"]["counts"];
    o << "\nconfusion matrix (rows: gold, columns: predicted)\n";
    // Columns as wide as the longest label (at most 16 characters) so names stay readable.
    int width = 6;
    for (const auto& l : labels)
      width = std::max(width, static_cast<int>(l.get<std::string>().size()));
    width = std::min(width, 16);
    std::snprintf(buf, sizeof buf, "%-20s", "");
    o << buf;
    for (size_t c = 0; c < labels.size(); ++c) {
      std::snprintf(buf, sizeof buf, " %*.*s", width, width, labels[c].get<std::string>().c_str());
      o << buf;
    }
    o << "\n";
    for (size_t g = 0; g < labels.size(); ++g) {
      std::snprintf(buf, sizeof buf, "%-20s", labels[g].get<std::string>().c_str());
      o << buf;
      for (size_t c = 0; c < labels.size(); ++c) {
        std::snprintf(buf, sizeof buf, " %*d", width, counts[g][c].get<int>());
        o << buf;
      }
      o << "\n";
    }
  }
  return o.str();
}

}  // namespace ptune::eval
