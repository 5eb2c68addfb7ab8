// ptune tune: learn a prompt for a task with the model frozen; writes a PEFT-format adapter.
#include <iostream>

#include "cli/common.h"
#include "ptune/tasks/task.h"
#include "ptune/train/tune.h"

namespace ptune::cli {

void register_tune(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "tune",
      "Learn a continuous prompt for a task with the model frozen: prompt tuning (Lester et al. "
      "2021), P-tuning (Liu et al. 2021) or prefix tuning (Li & Liang 2021). Writes "
      "OUT/adapter_config.json + adapter_model.safetensors in PEFT's format, usable with `ptune "
      "eval|generate|chat --adapter OUT` and PEFT's PeftModel.from_pretrained, and "
      "OUT/ptune_train.json (the run's record). Loss: classification tasks, cross-entropy over "
      "the labels' first tokens at the last prompt position; generation and qa tasks, LM "
      "cross-entropy on the reference. The dev metric runs through the eval harness every "
      "--eval-every steps and the best prompt is kept.");
  static ModelOptions model_opts;
  static std::string method = "prompt-tuning", task_path, init = "vocab", metrics, checkpoint;
  static std::string schedule = "linear", encoder = "mlp";
  static int64_t virtual_tokens = 20, encoder_hidden = 0;
  static double lr = 0.0;
  static bool no_grouping = false, no_sharing = false;
  static std::string progress = "on";
  static train::TuneOptions o;
  ModelOptions* mo = &model_opts;
  add_model_options(cmd, mo);
  train::TrainOptions& t = o.train;
  cmd->add_option("--method", method, "prompt-tuning, p-tuning or prefix-tuning")
      ->check(CLI::IsMember({"prompt-tuning", "p-tuning", "prefix-tuning"}))
      ->capture_default_str();
  cmd->add_option("-t,--task", task_path, "Task file (docs/task-file.md)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--out", o.out_dir, "Adapter output directory")->required();
  cmd->add_option("--template", o.template_name, "Prompt template")->capture_default_str();
  cmd->add_option("--virtual-tokens", virtual_tokens, "Prompt length in virtual tokens")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--init", init,
                  "prompt-tuning: how the prompt starts: random, vocab (sampled vocabulary rows) "
                  "or text")
      ->check(CLI::IsMember({"random", "vocab", "text"}))
      ->capture_default_str();
  cmd->add_option("--init-text", o.prompt_tuning.init_text,
                  "prompt-tuning with --init text: text whose token embeddings start the prompt");
  cmd->add_option("--encoder", encoder, "p-tuning: prompt encoder, mlp or lstm (bidirectional)")
      ->check(CLI::IsMember({"mlp", "lstm"}))
      ->capture_default_str();
  cmd->add_option("--encoder-hidden", encoder_hidden,
                  "p-tuning and --prefix-projection: encoder hidden size (0 = PEFT's default: "
                  "the model's hidden size for p-tuning, kv_heads * head_dim for prefix)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--encoder-layers", o.p_tuning.lstm_layers,
                  "p-tuning with --encoder lstm: layers")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--encoder-dropout", o.p_tuning.dropout,
                  "p-tuning with --encoder lstm: dropout between layers")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  cmd->add_flag("--prefix-projection", o.prefix_tuning.projection,
                "prefix-tuning: learn the prefix through an MLP (Li & Liang's reparameterisation)");
  cmd->add_option("--lr", lr,
                  "Peak learning rate (AdamW); 0 = the method's default: 0.03 for prompt and "
                  "prefix tuning (PEFT's docs), 0.003 for p-tuning, 0.0003 with "
                  "--prefix-projection (0.001 already diverged in our runs)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
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
  cmd->add_option("--eval-metric", o.eval_metric,
                  "Dev metric (default: accuracy for classification, else the task's first "
                  "metric; nll and perplexity are minimised)");
  cmd->add_option("--dev-limit", o.dev_limit, "Evaluate on the first N dev examples (0 = all)")
      ->capture_default_str();
  cmd->add_option("--patience", t.patience, "Early stopping after N evaluations without gain")
      ->capture_default_str();
  cmd->add_option("--seed", t.seed, "Seed (data order, initialisation)")->capture_default_str();
  cmd->add_flag("--deterministic", t.deterministic, "Ask libtorch for deterministic kernels");
  cmd->add_option("--progress", progress, "Progress line per step on stderr: on or off")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_flag("--no-length-grouping", no_grouping,
                "Batches in plain shuffled order (default: grouped by length, less padding)");
  cmd->add_flag("--no-shared-prefix", no_sharing,
                "Run every row's tokens in full (default: the tokens all rows of a batch start "
                "with run once per batch; same result, less work)");
  cmd->add_option("--metrics", t.metrics_path, "JSONL log, one line per step");
  cmd->add_option(
      "--checkpoint", t.checkpoint_path,
      "Checkpoint file: written every --checkpoint-every steps, resumed from if present");
  cmd->add_option("--checkpoint-every", t.checkpoint_every,
                  "Steps between checkpoints (0 = only at the end)")
      ->capture_default_str();
  cmd->callback([mo] {
    o.method = method == "prefix-tuning" ? train::TuneMethod::PrefixTuning
               : method == "p-tuning"    ? train::TuneMethod::PTuning
                                         : train::TuneMethod::PromptTuning;
    o.prompt_tuning.virtual_tokens = o.p_tuning.virtual_tokens = o.prefix_tuning.virtual_tokens =
        virtual_tokens;
    o.prompt_tuning.init = init == "random" ? methods::PromptInit::Random
                           : init == "text" ? methods::PromptInit::Text
                                            : methods::PromptInit::SampleVocab;
    o.p_tuning.encoder = encoder == "lstm" ? peft::EncoderType::LSTM : peft::EncoderType::MLP;
    o.p_tuning.hidden_size = o.prefix_tuning.hidden_size = encoder_hidden;
    o.train.lr = lr > 0                                   ? lr
                 : o.method == train::TuneMethod::PTuning ? 3e-3
                 : o.prefix_tuning.projection             ? 3e-4
                                                          : 3e-2;
    o.group_by_length = !no_grouping;
    o.share_prefix = !no_sharing;
    o.train.progress = progress == "on";
    o.train.schedule = train::schedule_from_name(schedule);
    const tasks::TaskSpec task = tasks::load_task(task_path);
    const tasks::TaskData data = tasks::load_task_data(task);
    Loaded l = load(*mo, /*with_model=*/true);
    o.base_model = mo->model.substr(mo->model.find_last_of('/') + 1);
    train::TuneResult r = train::tune_prompt(task, data, *l.model, *l.tokenizer, o);
    const double ex_s = r.record.at("train_examples_per_s").get<double>();
    std::cout << "method " << method << "  virtual tokens " << virtual_tokens << "  trainable "
              << r.trainable_parameters << "  steps " << r.train.steps << "  " << r.seconds
              << " s (training " << r.train.train_seconds << " s, " << ex_s
              << " examples/s)  peak RSS " << r.peak_rss_mb << " MiB\n"
              << "dev " << r.metric << ": " << r.dev_before << " before, " << r.dev_after
              << " after" << (r.train.has_best ? " (best step " : "")
              << (r.train.has_best ? std::to_string(r.train.best_step) + ")" : "") << "\n"
              << "wrote " << o.out_dir
              << "/adapter_config.json, adapter_model.safetensors, ptune_train.json\n";
  });
}

}  // namespace ptune::cli
