#include "ptune/train/tune.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "io/atomic_file.h"
#include "ptune/eval/evaluator.h"
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

std::unique_ptr<methods::TrainablePrompt> make_prompt(const TuneOptions& o, const LlamaModel& model,
                                                      const Tokenizer& tok) {
  switch (o.method) {
    case TuneMethod::PromptTuning:
      return std::make_unique<methods::PromptEmbedding>(o.prompt_tuning, model, tok, o.train.seed);
    case TuneMethod::PTuning:
      return std::make_unique<methods::PromptEncoder>(o.p_tuning, model, o.train.seed);
    case TuneMethod::PrefixTuning:
      return std::make_unique<methods::PrefixEncoder>(o.prefix_tuning, model, o.train.seed);
  }
  throw std::invalid_argument("tune: unknown method");
}

std::string default_metric(const tasks::TaskSpec& task) {
  if (task.type == tasks::TaskType::Classification) return "accuracy";
  if (task.metrics.empty()) throw std::invalid_argument("tune: the task lists no metrics");
  return task.metrics.front();
}

bool lower_is_better(const std::string& metric) {
  return metric == "nll" || metric == "perplexity";
}

}  // namespace

const char* method_name(TuneMethod m) {
  switch (m) {
    case TuneMethod::PromptTuning:
      return "prompt-tuning";
    case TuneMethod::PTuning:
      return "p-tuning";
    case TuneMethod::PrefixTuning:
      return "prefix-tuning";
  }
  return "?";
}

TuneResult tune_prompt(const tasks::TaskSpec& task, const tasks::TaskData& data,
                       const LlamaModel& model, const Tokenizer& tok, const TuneOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  TrainOptions train_opts = o.train;
  TuneResult res;
  res.metric = o.eval_metric.empty() ? default_metric(task) : o.eval_metric;
  train_opts.higher_is_better = !lower_is_better(res.metric);
  train_opts.validate();

  const TrainingSet set = TrainingSet::build(task, data.train, tok, o.template_name);
  std::unique_ptr<methods::TrainablePrompt> prompt = make_prompt(o, model, tok);
  const bool prefix = prompt->form() == methods::TrainablePrompt::Form::Prefix;
  for (const torch::Tensor& p : prompt->parameters()) res.trainable_parameters += p.numel();

  // Causal attention lets nothing in a row change the prompt's keys/values, nor those of the
  // tokens all rows start with, so a batch runs them once (batch 1, with gradients) and every row
  // attends to them as `past`: exact, and it saves (B - 1) x (prompt + shared tokens) of the
  // forward and backward work that recomputing them per row (as PEFT does) costs.
  auto loss = [&](const Batch& b) {
    const BatchInputs in = collate(set, b.indices, o.share_prefix);
    const int64_t B = in.ids.size(0), S = in.shared.size(1);
    const torch::Tensor out = prompt->output(/*training=*/true);
    ForwardArgs head;  // the prompt and the shared tokens, for one row
    head.return_present = true;
    head.logits_at = LogitsAt::None;
    PastKV prompt_kv;
    if (prefix) {
      prompt_kv = methods::PrefixTuning(out, model.config()).past(1);
      head.past = &prompt_kv;
      head.input_ids = in.shared;
    } else {
      head.input_embeds = torch::cat({out, model.embed(in.shared)[0]}).unsqueeze(0);
    }
    PastKV shared = prefix && S == 0 ? prompt_kv : model.forward(head).present;
    for (auto* kv : {&shared.keys, &shared.values}) {
      for (torch::Tensor& t : *kv) t = t.expand({B, -1, -1, -1});
    }
    const int64_t P = shared.keys.front().size(2);
    ForwardArgs a;
    a.input_ids = in.ids;
    a.past = &shared;
    a.attention_mask = torch::cat({torch::ones({B, P}, torch::kInt64), in.mask}, 1);
    if (!set.lm_loss) {
      a.logits_at = LogitsAt::Last;
      a.vocab_subset = set.label_tokens;
      return torch::nn::functional::cross_entropy(model.forward(a).logits,
                                                  in.labels.to(model.device()));
    }
    a.logits_at = LogitsAt::Positions;
    a.logit_positions = in.positions;
    const torch::Tensor logits = model.forward(a).logits;  // [B, K, V]
    return torch::nn::functional::cross_entropy(
        logits.reshape({-1, logits.size(-1)}), in.targets.reshape({-1}).to(model.device()),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
  };

  // The dev metric through the eval harness, with the current prompt as the adapter.
  tasks::TaskSpec eval_task = task;
  eval_task.metrics = {res.metric};
  auto dev_metric = [&]() {
    torch::InferenceMode guard;
    const torch::Tensor out = prompt->output(/*training=*/false).detach();
    PastKV state = prefix ? methods::PrefixTuning(out, model.config()).past(1)
                          : methods::soft_prompt_state(model, out);
    eval::EvalOptions eo;
    eo.template_name = o.template_name;
    eo.split = "dev";
    eo.shots = 0;
    eo.limit = o.dev_limit;
    eo.bootstrap_resamples = 1;
    eo.scorer.base = &state;
    for (const auto& m : eval::run_eval(eval_task, data, model, tok, eo, nullptr).headline) {
      if (m.name == res.metric) return m.ci.value;
    }
    throw std::invalid_argument("tune: metric '" + res.metric + "' does not fit the task");
  };

  if (!data.dev.empty()) res.dev_before = dev_metric();
  Trainer trainer(prompt->parameters(), loss, static_cast<int64_t>(set.items.size()), train_opts);
  if (o.group_by_length) trainer.set_lengths(set.lengths());
  if (!data.dev.empty()) trainer.set_eval([&](int64_t) { return dev_metric(); });
  if (!o.train.checkpoint_path.empty()) trainer.resume(o.train.checkpoint_path);
  res.train = trainer.run();
  if (!data.dev.empty()) res.dev_after = dev_metric();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.peak_rss_mb = peak_rss_mb();

  const TrainResult& tr = res.train;
  const double ex_per_s = tr.train_seconds > 0 ? tr.train_examples / tr.train_seconds : 0.0;
  res.record = {{"method", method_name(o.method)},
                {"task", task.name},
                {"template", o.template_name},
                {"loss", set.lm_loss ? "lm" : "verbalizer"},
                {"trainable_parameters", res.trainable_parameters},
                {"train_examples_available", set.items.size()},
                {"batch_size", o.train.batch_size},
                {"lr", o.train.lr},
                {"seed", o.train.seed},
                {"steps", tr.steps},
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
  if (!o.out_dir.empty()) {
    prompt->save(o.out_dir, model.config(), o.base_model);
    const std::string text = res.record.dump(2) + "\n";
    const std::string err =
        io::write_file_atomically(o.out_dir + "/ptune_train.json", text.data(), text.size());
    if (!err.empty()) throw std::runtime_error(err);
  }
  return res;
}

}  // namespace ptune::train
