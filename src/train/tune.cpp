#include "ptune/train/tune.h"

#include <chrono>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>

#include "ptune/eval/evaluator.h"
#include "ptune/methods/prefix_tuning.h"
#include "ptune/methods/prompt_tuning.h"
#include "ptune/tasks/prompt.h"

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

torch::Tensor initial_prompt(const LlamaModel& model, const Tokenizer& tok, const TuneOptions& o) {
  const int64_t N = o.virtual_tokens, V = model.config().n_vocab;
  const torch::Tensor& table = model.token_embedding();
  torch::manual_seed(static_cast<int64_t>(o.train.seed));
  switch (o.init) {
    case PromptInit::Random:  // PEFT's RANDOM: N(0, 1)-like scale of the embedding rows
      return torch::randn({N, model.config().n_embd}) * table.std();
    case PromptInit::SampleVocab:
      return table.index_select(0, torch::randint(0, V, {N}, torch::kInt64)).clone();
    case PromptInit::Text: {
      std::vector<int32_t> ids = tok.encode(o.init_text, false, false);
      if (ids.empty()) throw std::invalid_argument("--init-text encodes to no tokens");
      std::vector<int64_t> rows;
      for (int64_t i = 0; i < N; ++i) rows.push_back(ids[i % ids.size()]);  // PEFT repeats it
      return table.index_select(0, torch::tensor(rows)).clone();
    }
  }
  return {};
}

// A prefix [N, L * 2 * Hkv * D] holding the keys/values the model computes for N embeddings
// (PEFT's layout: per row [L0 K, L0 V, L1 K, ...]), so training starts from realistic values.
torch::Tensor prefix_from_embeddings(const LlamaModel& model, const torch::Tensor& embeds) {
  torch::NoGradGuard no_grad;
  PastKV p = methods::soft_prompt_state(model, embeds);
  std::vector<torch::Tensor> blocks;  // each [N, Hkv * D]
  for (size_t l = 0; l < p.keys.size(); ++l) {
    for (const torch::Tensor& t : {p.keys[l][0], p.values[l][0]}) {  // [Hkv, N, D]
      blocks.push_back(t.permute({1, 0, 2}).reshape({t.size(1), -1}));
    }
  }
  return torch::cat(blocks, 1).contiguous();
}

}  // namespace

TuneResult tune_prompt(const tasks::TaskSpec& task, const tasks::TaskData& data,
                       const LlamaModel& model, const Tokenizer& tok, const TuneOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (task.type != tasks::TaskType::Classification) {
    throw std::invalid_argument("tune: only classification tasks are supported so far");
  }
  if (task.format != tasks::PromptFormat::Completion) {
    throw std::invalid_argument("tune: only completion-format tasks are supported so far");
  }
  if (o.virtual_tokens < 1) throw std::invalid_argument("tune: --virtual-tokens must be >= 1");
  if (data.train.empty()) throw std::invalid_argument("tune: the task has no training examples");
  o.train.validate();

  // Each training example as (prompt ids, gold label); labels scored by their first token.
  tasks::PromptBuilder prompts(task, o.template_name);
  std::vector<std::vector<int32_t>> contexts;
  std::vector<int64_t> gold;
  std::vector<int64_t> label_tokens;
  for (const tasks::Example& ex : data.train) {
    contexts.push_back(tok.encode(prompts.render(ex, {}).text()));
    gold.push_back(static_cast<int64_t>(prompts.gold_index(ex)));
    if (label_tokens.empty()) {
      const size_t n_labels = prompts.class_names(ex).size();
      label_tokens.assign(n_labels, -1);
      for (const tasks::Candidate& c : prompts.candidates(ex)) {
        if (label_tokens[c.label] < 0)
          label_tokens[c.label] = tok.encode(c.continuation, false, false).at(0);
      }
      if (std::set<int64_t>(label_tokens.begin(), label_tokens.end()).size() != n_labels) {
        throw std::invalid_argument(
            "tune: two labels start with the same token; the verbalizer "
            "loss needs distinct first tokens");
      }
    }
  }
  const torch::Tensor subset = torch::tensor(label_tokens);

  // The trainable tensor: prompt embeddings [N, C] or a prefix [N, L * 2 * Hkv * D].
  const bool prefix_method = o.method == TuneMethod::PrefixTuning;
  torch::Tensor param = prefix_method ? prefix_from_embeddings(model, initial_prompt(model, tok, o))
                                      : initial_prompt(model, tok, o);
  param.requires_grad_(true);
  methods::PromptTuning pt(param);
  std::optional<methods::PrefixTuning> pre;
  if (prefix_method) pre.emplace(param, model.config());

  auto loss = [&](const Batch& b) {
    const int64_t B = static_cast<int64_t>(b.indices.size());
    int64_t T = 0;
    for (int64_t i : b.indices) T = std::max<int64_t>(T, contexts[i].size());
    torch::Tensor ids = torch::zeros({B, T}, torch::kInt64);
    torch::Tensor mask = torch::zeros({B, T}, torch::kInt64);
    torch::Tensor target = torch::empty({B}, torch::kInt64);
    for (int64_t r = 0; r < B; ++r) {
      const auto& c = contexts[b.indices[r]];
      const int64_t n = static_cast<int64_t>(c.size());
      ids[r].narrow(0, 0, n).copy_(torch::tensor(std::vector<int64_t>(c.begin(), c.end())));
      mask[r].narrow(0, 0, n).fill_(1);
      target[r] = gold[b.indices[r]];
    }
    ForwardArgs a;
    PastKV past;
    if (pre) {
      past = pre->past(B);
      a.input_ids = ids;
      a.past = &past;
      a.attention_mask = pre->extend_mask(mask, B, T);
    } else {
      auto in = pt.prepend(model, ids, mask);
      a.input_embeds = in.embeds;
      a.attention_mask = in.mask;
    }
    a.logits_at = LogitsAt::Last;
    a.vocab_subset = subset;
    return torch::nn::functional::cross_entropy(model.forward(a).logits, target.to(model.device()));
  };

  // Dev accuracy through the eval harness, with the current prompt as the adapter.
  auto dev_accuracy = [&]() {
    torch::InferenceMode guard;
    PastKV state;
    if (pre) {
      state = methods::PrefixTuning(param.detach(), model.config()).past(1);
    } else {
      state = methods::soft_prompt_state(model, param);
    }
    eval::EvalOptions eo;
    eo.template_name = o.template_name;
    eo.split = "dev";
    eo.shots = 0;
    eo.limit = o.dev_limit;
    eo.bootstrap_resamples = 1;
    eo.scorer.base = &state;
    for (const auto& m : eval::run_eval(task, data, model, tok, eo, nullptr).headline) {
      if (m.name == "accuracy") return m.ci.value;
    }
    throw std::invalid_argument("tune: the task's metrics must include accuracy");
  };

  TuneResult res;
  res.dev_accuracy_before = dev_accuracy();
  Trainer trainer({param}, loss, static_cast<int64_t>(contexts.size()), o.train);
  trainer.set_eval([&](int64_t) { return dev_accuracy(); });
  if (!o.train.checkpoint_path.empty()) trainer.resume(o.train.checkpoint_path);
  res.train = trainer.run();
  res.dev_accuracy = dev_accuracy();
  if (!o.out_dir.empty()) {
    if (pre) {
      pre->save(o.out_dir, model.config(), o.base_model);
    } else {
      pt.save(o.out_dir, model.config(), o.base_model);
    }
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.peak_rss_mb = peak_rss_mb();
  return res;
}

}  // namespace ptune::train
