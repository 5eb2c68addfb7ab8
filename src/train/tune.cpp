#include "ptune/train/tune.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>

#include "digest.h"
#include "io/atomic_file.h"
#include "ptune/eval/evaluator.h"
#include "ptune/train/output_dir.h"
#include "ptune/train/training_set.h"

namespace ptune::train {

namespace {

// Peak resident set size of this process (VmHWM), in MiB.
int64_t peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      int64_t kb = 0;
      in >> kb;
      return kb / 1024;
    }
    in.ignore(1 << 12, '\n');
  }
  return 0;
}

// The method's trainable prompt, its config validated (defaults when none is given).
std::unique_ptr<methods::TrainablePrompt> make_prompt(const methods::Method& method,
                                                      const methods::MethodConfig& config,
                                                      const Model& model, const Tokenizer& tok,
                                                      uint64_t seed) {
  config.validate();
  return method.make_prompt(config, methods::BuildContext{model, tok, seed});
}

// The keys/values every row of a batch attends to: the prompt's state, then the tokens all rows
// start with run after it (batch 1), expanded to the batch. Causal attention lets nothing in a
// row change them, so this is exact, and it saves (B - 1) x (prompt + shared tokens) of the
// forward and backward work that recomputing them per row (as PEFT does) costs.
PastKV shared_state(const methods::TrainablePrompt& prompt, const Model& model,
                    const torch::Tensor& shared_ids, int64_t batch) {
  PastKV state = prompt.state(model, /*training=*/true);
  if (shared_ids.size(1) > 0) {
    ForwardArgs head;
    head.input_ids = shared_ids;
    head.past = &state;
    head.return_present = true;
    head.logits_at = LogitsAt::None;
    state = model.forward(head).present;
  }
  return expand_past(state, batch);
}

// The batch's loss with the prompt as past keys/values.
torch::Tensor batch_loss(const TrainingSet& set, const BatchInputs& in,
                         const methods::TrainablePrompt& prompt, const Model& model) {
  namespace F = torch::nn::functional;
  const int64_t B = in.ids.size(0);
  const torch::Device dev = model.device();
  const PastKV shared = shared_state(prompt, model, in.shared, B);
  ForwardArgs a;
  a.input_ids = in.ids.to(dev);
  a.past = &shared;
  a.attention_mask =
      torch::cat({torch::ones({B, shared.length()}, torch::kInt64), in.mask}, 1).to(dev);
  switch (set.loss) {
    case Loss::FirstToken:
      a.logits_at = LogitsAt::Last;
      a.vocab_subset = set.label_tokens.to(dev);
      return F::cross_entropy(model.forward(a).logits, in.labels.to(dev));
    case Loss::Sequence:
      a.tree_mask = in.tree.to(dev);
      a.position_ids = (in.position_ids + shared.length()).to(dev);
      a.logits_at = LogitsAt::Positions;
      a.logit_positions = in.positions.to(dev);
      return F::cross_entropy(label_scores(set.labels, model.forward(a).logits), in.labels.to(dev));
    case Loss::Lm:
    case Loss::Auto:
      break;
  }
  a.logits_at = LogitsAt::Positions;
  a.logit_positions = in.positions.to(dev);
  const torch::Tensor logits = model.forward(a).logits;  // [B, K, V]
  return F::cross_entropy(logits.reshape({-1, logits.size(-1)}), in.targets.reshape({-1}).to(dev),
                          F::CrossEntropyFuncOptions().ignore_index(-100));
}

// Every training row (the prompt's virtual tokens, the context, the target or the label trie)
// must fit the model's context: refused naming the first example that does not, before any
// training step.
void check_fits_context(const TrainingSet& set, const std::vector<tasks::Example>& train,
                        const methods::TrainablePrompt& prompt, const Model& model) {
  const int64_t n_ctx = model.config().n_ctx_train;
  if (n_ctx <= 0) return;
  torch::NoGradGuard no_grad;
  const int64_t virtual_tokens = prompt.state(model, /*training=*/false).length();
  const std::vector<int64_t> lengths = set.lengths();
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (virtual_tokens + lengths[i] <= n_ctx) continue;
    throw std::invalid_argument(
        "tune: " + train.at(i).location() + ": " + std::to_string(lengths[i]) +
        " tokens (prompt, target or labels) + " + std::to_string(virtual_tokens) +
        " virtual tokens exceed the model's context length of " + std::to_string(n_ctx));
  }
}

// The dev split through the eval harness, with the current prompt as the adapter; `resamples`
// bootstrap resamples (1 while training: only the value is used).
eval::EvalResult dev_eval(const tasks::TaskSpec& task, const tasks::TaskData& data,
                          const methods::TrainablePrompt& prompt, const Model& model,
                          const Tokenizer& tok, const TuneOptions& o, size_t resamples) {
  torch::InferenceMode guard;
  const PastKV state = prompt.state(model, /*training=*/false);
  eval::EvalOptions eo;
  eo.template_name = o.template_name;
  eo.split = "dev";
  eo.shots = 0;
  eo.limit = o.dev_limit;
  eo.bootstrap_resamples = resamples;
  eo.scorer.base = &state;
  eo.model_name = o.base_model;
  eo.adapter = "(tuned by " + o.method + ")";
  return eval::run_eval(task, data, model, tok, eo, nullptr);
}

double metric_value(const eval::EvalResult& r, const std::string& metric) {
  for (const auto& m : r.headline) {
    if (m.name == metric) return m.ci.value;
  }
  throw std::invalid_argument("tune: metric '" + metric + "' does not fit the task");
}

// What the trainer sees of the train split: every item's tokens and label, and the labels'
// tokens, so the template, the data and the tokenizer all show in it.
std::string train_digest(const TrainingSet& set) {
  Digest d;
  for (const TrainingSet::Item& it : set.items) d.add(it.context).add(it.label).add(it.target);
  if (set.label_tokens.defined()) {
    const torch::Tensor t = set.label_tokens.to(torch::kCPU, torch::kInt64).contiguous();
    d.add(std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel()));
  }
  for (const std::vector<int32_t>& c : set.labels.tokens) d.add(c);
  d.add(set.labels.label).add(static_cast<int64_t>(set.labels.mean));
  return d.hex();
}

// The dev split's rows (they pick the best step, so they decide the result too).
std::string dev_digest(const std::vector<tasks::Example>& dev) {
  Digest d;
  d.add(static_cast<int64_t>(dev.size()));
  for (const tasks::Example& ex : dev) {
    for (const auto& [k, v] : ex.fields) d.add(k).add(v);
    for (const auto& [k, values] : ex.lists) {
      d.add(k).add(static_cast<int64_t>(values.size()));
      for (const std::string& v : values) d.add(v);
    }
  }
  return d.hex();
}

// The settings this file adds to the trainer's in a checkpoint: a resume that differs in one is
// refused (TrainOptions::fingerprint).
std::map<std::string, std::string> run_settings(const tasks::TaskSpec& task,
                                                const tasks::TaskData& data, const TrainingSet& set,
                                                const TuneOptions& o, methods::MethodConfig& config,
                                                const std::string& metric) {
  std::map<std::string, std::string> s = {
      {"method", o.method},
      {"template", o.template_name},
      {"loss", loss_name(set.loss)},
      {"task", task.name},
      {"train_data", train_digest(set)},
      {"dev_data", dev_digest(data.dev)},
      {"dev_limit", std::to_string(o.dev_limit)},
      {"dev_metric", metric},
      {"share_prefix", o.share_prefix ? "true" : "false"},
      {"base_model", o.base_model},
  };
  methods::ConfigFields fields;
  config.describe(fields);
  for (const methods::ConfigField& f : fields.all())
    s["method." + f.name] = methods::ConfigFields::value_text(f);
  return s;
}

// An adapter already in `dir` is kept unless the caller asked to replace it; checked at start,
// so the refusal costs no training.
void refuse_existing_adapter(const std::string& dir, bool force) {
  if (std::filesystem::exists(dir) && !std::filesystem::is_directory(dir))
    throw std::invalid_argument("tune: " + dir + " is not a folder");
  if (force) return;
  for (const char* name :
       {"adapter_config.json", "adapter_model.safetensors", "ptune_train.json"}) {
    if (std::filesystem::exists(std::filesystem::path(dir) / name)) {
      throw std::invalid_argument("tune: " + dir + " already holds an adapter (" + name +
                                  "); pass --force to replace it, or choose another folder");
    }
  }
}

// What OUT/ptune_train.json holds.
nlohmann::json run_record(const TuneResult& res, const tasks::TaskSpec& task,
                          const TrainingSet& set, const TuneOptions& o, const TrainOptions& train,
                          methods::MethodConfig& config) {
  methods::ConfigFields fields;
  config.describe(fields);
  const TrainResult& tr = res.train;
  const double ex_per_s = tr.train_seconds > 0 ? tr.train_examples / tr.train_seconds : 0.0;
  return {{"method", o.method},
          {"method_config", fields.to_json()},
          {"task", task.name},
          {"template", o.template_name},
          {"loss", loss_name(set.loss)},
          {"trainable_parameters", res.trainable_parameters},
          {"train_examples_available", set.items.size()},
          {"batch_size", train.batch_size},
          {"lr", train.lr},
          {"seed", train.seed},
          {"steps", tr.steps},
          {"resumed_at_step", tr.resumed_step > 0 ? nlohmann::json(tr.resumed_step) : nullptr},
          {"stopped_early", tr.stopped_early},
          {"best_step", tr.has_best ? nlohmann::json(tr.best_step) : nlohmann::json()},
          {"train_seconds", tr.train_seconds},
          {"train_examples", tr.train_examples},
          {"train_examples_per_s", ex_per_s},
          {"seconds", res.seconds},
          {"peak_rss_mb", res.peak_rss_mb},
          {"dev_metric", res.metric},
          {"dev_" + res.metric + "_before", res.dev_before},
          {"dev_" + res.metric, res.dev_after}};
}

// The artifact and the record, all or nothing: a failure (a full disk) leaves `dir` as it was.
void write_outputs(const std::string& dir, const methods::TrainablePrompt& prompt,
                   const Model& model, const std::string& base_model,
                   const nlohmann::json& record) {
  const std::string text = record.dump(2) + "\n";  // fails (bad UTF-8) before anything is written
  replace_dir(dir, [&](const std::string& tmp) {
    prompt.save(tmp, model.config(), base_model);
    const std::string err =
        io::write_file_atomically(tmp + "/ptune_train.json", text.data(), text.size());
    if (!err.empty()) throw std::runtime_error(err);
  });
}

}  // namespace

TuneResult tune_prompt(const tasks::TaskSpec& task, const tasks::TaskData& data, const Model& model,
                       const Tokenizer& tok, const TuneOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const methods::Method& method = methods::method_named(o.method);
  std::shared_ptr<methods::MethodConfig> config = o.config ? o.config : method.make_config();
  TuneResult res;
  res.metric = o.eval_metric.empty() ? tasks::default_dev_metric(task) : o.eval_metric;
  TrainOptions train_opts = o.train;
  const eval::Metric* metric = eval::find_metric(res.metric);
  if (!metric || !metric->applies_to(task.type) || metric->report_only()) {
    throw std::invalid_argument("tune: --eval-metric '" + res.metric + "' does not fit a " +
                                tasks::to_string(task.type) + " task");
  }
  train_opts.higher_is_better = metric->higher_is_better();
  if (train_opts.lr <= 0) train_opts.lr = config->default_lr();
  train_opts.validate();
  // Held to the end: no other run writes these paths meanwhile.
  std::optional<PathLock> out_lock, checkpoint_lock;
  if (!o.out_dir.empty()) {
    out_lock.emplace(o.out_dir);
    refuse_existing_adapter(o.out_dir, o.force);
  }
  if (!o.train.checkpoint_path.empty()) checkpoint_lock.emplace(o.train.checkpoint_path);

  const TrainingSet set = TrainingSet::build(task, data.train, tok, o.template_name, o.loss);
  for (auto& [name, value] : run_settings(task, data, set, o, *config, res.metric))
    train_opts.fingerprint[name] = value;
  const std::unique_ptr<methods::TrainablePrompt> prompt =
      make_prompt(method, *config, model, tok, o.train.seed);
  for (const torch::Tensor& p : prompt->parameters()) res.trainable_parameters += p.numel();
  check_fits_context(set, data.train, *prompt, model);
  auto loss = [&](const Batch& b) {
    return batch_loss(set, collate(set, b.indices, o.share_prefix), *prompt, model);
  };
  tasks::TaskSpec eval_task = task;  // while training: only the dev metric
  eval_task.metrics = {res.metric};
  tasks::TaskSpec final_task = task;  // at the end: every metric the task lists, and that one
  if (std::find(task.metrics.begin(), task.metrics.end(), res.metric) == task.metrics.end()) {
    final_task.metrics.push_back(res.metric);
  }
  auto dev = [&] {
    return metric_value(dev_eval(eval_task, data, *prompt, model, tok, o, 1), res.metric);
  };

  if (!data.dev.empty()) res.dev_before = dev();
  Trainer trainer(prompt->parameters(), loss, static_cast<int64_t>(set.items.size()), train_opts);
  if (o.group_by_length) trainer.set_lengths(set.lengths());
  if (!data.dev.empty()) trainer.set_eval([&](int64_t) { return dev(); });
  if (o.on_step) trainer.set_on_step(o.on_step);
  if (!o.train.checkpoint_path.empty()) trainer.resume(o.train.checkpoint_path);
  res.train = trainer.run();
  if (!data.dev.empty()) {  // every task metric, with CIs and per-example records
    res.dev = dev_eval(final_task, data, *prompt, model, tok, o, 1000);
    res.dev_after = metric_value(res.dev, res.metric);
  }
  // The whole run: this call, and the training of the calls it resumed.
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() +
                res.train.resumed_seconds;
  res.peak_rss_mb = peak_rss_mb();
  res.record = run_record(res, task, set, o, train_opts, *config);
  if (!o.out_dir.empty()) write_outputs(o.out_dir, *prompt, model, o.base_model, res.record);
  return res;
}

}  // namespace ptune::train
