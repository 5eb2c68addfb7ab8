// summary.json of a run and the table `ptune eval` prints; contracts in eval_run.h and
// include/ptune/eval/evaluator.h.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "eval_run.h"

namespace ptune::eval {

using nlohmann::json;

namespace detail {

json base_summary(const SummaryInputs& in, const BootstrapOptions& boot, double seconds) {
  const tasks::TaskSpec& task = in.task;
  const tasks::LoadReport& lr = in.data.report;
  const size_t n = in.examples;
  json s = {
      {"task", task.name},
      {"task_file", task.path},
      {"type", tasks::to_string(task.type)},
      {"model", in.opt.model_name},
      {"adapter", in.opt.adapter},
      {"split", in.opt.split},
      {"examples", n},
      {"template", in.opt.template_name},
      {"shots", task.few_shot.k},
      {"seed", in.seed},
      {"scoring",
       {{"normalize", tasks::to_string(task.scoring.normalize)},
        {"calibration", task.scoring.calibration},
        {"label_prefix", task.scoring.label_prefix}}},
      {"metrics", in.metrics},
      {"load_report",
       {{"rows", lr.rows},
        {"loaded", lr.loaded},
        {"skipped", lr.skipped},
        {"reasons", lr.reasons}}},
      {"seconds", seconds},
      {"examples_per_second", seconds > 0 ? static_cast<double>(n) / seconds : 0.0},
      {"bootstrap", {{"resamples", boot.resamples}, {"confidence", boot.confidence}}},
  };
  if (task.type == tasks::TaskType::Generation || task.type == tasks::TaskType::QA) {
    s["generation"] = {{"max_tokens", task.generation.max_tokens},
                       {"stop", task.generation.stop},
                       {"temperature", task.generation.temperature}};
  }
  if (const tasks::DiscretePrompt* p = in.opt.discrete_prompt) {
    s["discrete_prompt"] = {{"text", p->text},
                            {"placement", tasks::placement_name(p->placement)},
                            {"slot", p->slot},
                            {"method", p->method},
                            {"found_on", p->model}};
  }
  return s;
}

json summary_json(const EvalRun& run, const BootstrapOptions& boot, double seconds) {
  json s =
      base_summary({run.task, run.data, run.opt, run.size(), run.seed, run.metrics}, boot, seconds);
  s["engine"] = {
      {"batch_size", run.opt.scorer.batch_size},  {"prefix_cache", run.opt.scorer.prefix_cache},
      {"prefix_groups", run.stats.groups},        {"prefix_tokens", run.stats.prefix_tokens},
      {"prefix_reused", run.stats.prefix_reused}, {"suffix_tokens", run.stats.suffix_tokens},
      {"padded_tokens", run.stats.padded_tokens}, {"forwards", run.stats.forwards}};
  return s;
}

}  // namespace detail

namespace {

// snprintf into the stream (every line of the table is a short printf format).
template <typename... Args>
void put(std::ostringstream& o, const char* format, Args... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, format, args...);
  o << buf;
}

// Where a remote evaluation ran, how it scored and what its calls cost.
void put_remote(std::ostringstream& o, const json& r) {
  o << "endpoint " << r["endpoint"].get<std::string>() << "  (" << r["api"].get<std::string>()
    << ")\n";
  if (r.contains("scoring_note")) o << "scoring  " << r["scoring_note"].get<std::string>() << "\n";
  const json& c = r["client"];
  put(o, "calls %lld (%lld from the cache, %lld retries)  tokens %lld prompt + %lld completion\n",
      c["calls"].get<long long>(), c["cache_hits"].get<long long>(), c["retries"].get<long long>(),
      c["prompt_tokens"].get<long long>(), c["completion_tokens"].get<long long>());
  const json& counts = r["counts"];
  if (counts.value("unmatched", 0) > 0) {
    o << counts["unmatched"].get<long long>()
      << " example(s) had no label scored or named: predicted (none), counted wrong\n";
  }
}

void put_header(std::ostringstream& o, const EvalResult& r) {
  const json& s = r.summary;
  put(o, "task %s (%s)  split %s  template %s  shots %d  examples %d\n",
      s["task"].get<std::string>().c_str(), s["type"].get<std::string>().c_str(),
      s["split"].get<std::string>().c_str(), s["template"].get<std::string>().c_str(),
      s["shots"].get<int>(), s["examples"].get<int>());
  put(o, "model %s  %.1f s  %.2f examples/s\n", s["model"].get<std::string>().c_str(), r.seconds,
      s["examples_per_second"].get<double>());
  if (!s["adapter"].get<std::string>().empty()) {
    o << "adapter " << s["adapter"].get<std::string>() << "\n";
  }
  if (s.contains("remote")) put_remote(o, s["remote"]);
  // Nothing dropped silently: rows skipped by skip_bad are counted, with the first reasons.
  const json& lr = s["load_report"];
  if (lr["skipped"].get<size_t>() > 0) {
    o << "skipped " << lr["skipped"].get<size_t>() << " malformed row(s) of "
      << lr["rows"].get<size_t>() << " (skip_bad):\n";
    for (const auto& reason : lr["reasons"]) o << "  " << reason.get<std::string>() << "\n";
  }
}

void put_per_class(std::ostringstream& o, const json& per_class) {
  o << "\nlabel                 precision  recall     f1  support\n";
  for (const auto& c : per_class) {
    put(o, "%-20s %10.3f %7.3f %6.3f %8d\n", c["label"].get<std::string>().c_str(),
        c["precision"].get<double>(), c["recall"].get<double>(), c["f1"].get<double>(),
        c["support"].get<int>());
  }
}

void put_confusion(std::ostringstream& o, const json& confusion) {
  const auto& labels = confusion["labels"];
  const auto& counts = confusion["counts"];
  o << "\nconfusion matrix (rows: gold, columns: predicted)\n";
  // Columns as wide as the longest label (at most 16 characters) so names stay readable.
  int width = 6;
  for (const auto& l : labels)
    width = std::max(width, static_cast<int>(l.get<std::string>().size()));
  width = std::min(width, 16);
  put(o, "%-20s", "");
  for (size_t c = 0; c < labels.size(); ++c) {
    put(o, " %*.*s", width, width, labels[c].get<std::string>().c_str());
  }
  o << "\n";
  for (size_t g = 0; g < labels.size(); ++g) {
    put(o, "%-20s", labels[g].get<std::string>().c_str());
    for (size_t c = 0; c < labels.size(); ++c) put(o, " %*d", width, counts[g][c].get<int>());
    o << "\n";
  }
}

}  // namespace

std::string format_report(const EvalResult& r) {
  std::ostringstream o;
  put_header(o, r);
  o << "\n";
  o << "metric            value     95% CI\n";
  for (const MetricResult& m : r.headline) {
    put(o, "%-14s %8.4f   [%.4f, %.4f]\n", m.name.c_str(), m.ci.value, m.ci.low, m.ci.high);
  }
  const json& mj = r.summary["metrics"];
  if (mj.contains("per_class")) put_per_class(o, mj["per_class"]);
  if (mj.contains("confusion_matrix")) put_confusion(o, mj["confusion_matrix"]);
  return o.str();
}

}  // namespace ptune::eval
