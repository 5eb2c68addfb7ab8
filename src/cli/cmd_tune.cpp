// ptune tune: learn a prompt for a task with the model frozen; writes a PEFT-format adapter.
#include <iostream>

#include "cli/common.h"
#include "ptune/tasks/task.h"
#include "ptune/train/tune.h"

namespace ptune::cli {

void register_tune(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "tune",
      "Learn a continuous prompt for a classification task with the model frozen: prompt tuning "
      "(Lester et al. 2021) or prefix tuning (Li & Liang 2021). Writes OUT/adapter_config.json + "
      "adapter_model.safetensors in PEFT's "
      "format, usable with `ptune eval|generate|chat --adapter OUT` and PEFT's "
      "PeftModel.from_pretrained. Loss: cross-entropy over the labels' first tokens at the last "
      "prompt position; dev accuracy through the eval harness every --eval-every steps.");
  static ModelOptions model_opts;
  static std::string method = "prompt-tuning", task_path, init = "vocab", metrics, checkpoint;
  static std::string schedule = "linear";
  static train::TuneOptions o;
  ModelOptions* mo = &model_opts;
  add_model_options(cmd, mo);
  train::TrainOptions& t = o.train;
  cmd->add_option("--method", method, "prompt-tuning or prefix-tuning (p-tuning: not yet)")
      ->check(CLI::IsMember({"prompt-tuning", "prefix-tuning"}))
      ->capture_default_str();
  cmd->add_option("-t,--task", task_path, "Task file (docs/task-file.md)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", o.out_dir, "Adapter output directory")->required();
  cmd->add_option("--template", o.template_name, "Prompt template")->capture_default_str();
  cmd->add_option("--virtual-tokens", o.virtual_tokens, "Soft prompt length")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--init", init, "random, vocab (sampled vocabulary rows) or text")
      ->check(CLI::IsMember({"random", "vocab", "text"}))
      ->capture_default_str();
  cmd->add_option("--init-text", o.init_text, "Text whose token embeddings start the prompt");
  cmd->add_option("--lr", t.lr, "Peak learning rate (AdamW)")->capture_default_str();
  cmd->add_option("--batch-size", t.batch_size, "Examples per step")->capture_default_str();
  cmd->add_option("--accumulation", t.accumulation, "Micro-batches per step")
      ->capture_default_str();
  cmd->add_option("--epochs", t.epochs, "Epochs (when --max-steps is 0)")->capture_default_str();
  cmd->add_option("--max-steps", t.max_steps, "Optimizer steps (0 = by epochs)")
      ->capture_default_str();
  cmd->add_option("--warmup-steps", t.warmup_steps, "Linear warmup steps")->capture_default_str();
  cmd->add_option("--schedule", schedule, "constant, linear or cosine decay after warmup")
      ->check(CLI::IsMember({"constant", "linear", "cosine"}))
      ->capture_default_str();
  cmd->add_option("--weight-decay", t.adam.weight_decay, "AdamW weight decay")
      ->capture_default_str();
  cmd->add_option("--max-grad-norm", t.max_grad_norm, "Gradient clipping (0 = off)")
      ->capture_default_str();
  cmd->add_option("--eval-every", t.eval_every, "Steps between dev evaluations (0 = end only)")
      ->capture_default_str();
  cmd->add_option("--dev-limit", o.dev_limit, "Evaluate on the first N dev examples (0 = all)")
      ->capture_default_str();
  cmd->add_option("--patience", t.patience, "Early stopping after N evaluations without gain")
      ->capture_default_str();
  cmd->add_option("--seed", t.seed, "Seed (data order, initialisation)")->capture_default_str();
  cmd->add_flag("--deterministic", t.deterministic, "Ask libtorch for deterministic kernels");
  cmd->add_option("--metrics", t.metrics_path, "JSONL log, one line per step");
  cmd->add_option(
      "--checkpoint", t.checkpoint_path,
      "Checkpoint file: written every --checkpoint-every steps, resumed from if present");
  cmd->add_option("--checkpoint-every", t.checkpoint_every, "Steps between checkpoints")
      ->capture_default_str();
  cmd->callback([mo] {
    o.init = init == "random" ? train::PromptInit::Random
             : init == "text" ? train::PromptInit::Text
                              : train::PromptInit::SampleVocab;
    o.train.schedule = train::schedule_from_name(schedule);
    o.method = method == "prefix-tuning" ? train::TuneMethod::PrefixTuning
                                         : train::TuneMethod::PromptTuning;
    const tasks::TaskSpec task = tasks::load_task(task_path);
    const tasks::TaskData data = tasks::load_task_data(task);
    Loaded l = load(*mo, /*with_model=*/true);
    o.base_model = mo->model.substr(mo->model.find_last_of('/') + 1);
    train::TuneResult r = train::tune_prompt(task, data, *l.model, *l.tokenizer, o);
    std::cout << "method " << method << "  virtual tokens " << o.virtual_tokens << "  steps "
              << r.train.steps << "  " << r.seconds << " s  peak RSS " << r.peak_rss_mb << " MiB\n"
              << "dev accuracy: " << r.dev_accuracy_before << " before, " << r.dev_accuracy
              << " after" << (r.train.has_best ? " (best step " : "")
              << (r.train.has_best ? std::to_string(r.train.best_step) + ")" : "") << "\n"
              << "wrote " << o.out_dir << "/adapter_config.json, adapter_model.safetensors\n";
  });
}

}  // namespace ptune::cli
