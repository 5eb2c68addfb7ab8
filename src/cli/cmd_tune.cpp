// ptune tune: learn a prompt for a task with the model frozen, by any registered method; writes
// the method's artifact (PEFT's format for the continuous methods) and the run's record.
//
// The method options come from the registry: every option any method declares is a flag here
// (grouped under "Method options", each saying which methods take it), and after parsing the
// chosen method's config gets the values given. An option the chosen method does not take is an
// error, not silently ignored.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <variant>

#include "cli/common.h"
#include "cli/limits.h"
#include "cli/recording.h"
#include "ptune/methods/registry.h"
#include "ptune/tasks/task.h"
#include "ptune/train/training_set.h"
#include "ptune/train/tune.h"

namespace ptune::cli {

namespace {

struct TuneCli {
  ModelOptions model;
  RecordOptions record;
  std::string task_path, schedule = "linear", progress = "auto", loss = "auto";
  bool no_grouping = false, no_sharing = false;
  train::TuneOptions tune;
  std::map<std::string, std::string> method_values;  // option name -> text given
  std::map<std::string, CLI::Option*> method_options;
};

std::string method_list() {
  std::string s;
  for (const methods::Method* m : methods::registered_methods()) {
    s += "\n  " + m->name + ": " + m->description;
  }
  return s;
}

// What --help shows for a field's value: INT, FLOAT, TEXT or {a,b}.
std::string type_name(const methods::ConfigField& f) {
  if (std::holds_alternative<int64_t*>(f.value)) return "INT";
  if (std::holds_alternative<double*>(f.value)) return "FLOAT";
  if (f.choices.empty()) return "TEXT";
  std::string s;
  for (const std::string& c : f.choices) s += (s.empty() ? "" : ",") + c;
  return "{" + s + "}";
}

// One flag per option name across all methods; the help says which methods take it.
void add_method_options(CLI::App* cmd, TuneCli& cli) {
  struct Union {
    std::string help, methods, default_text, type;
    bool flag = false;
  };
  std::map<std::string, Union> all;
  for (const methods::Method* m : methods::registered_methods()) {
    auto config = m->make_config();
    methods::ConfigFields fields;
    config->describe(fields);
    for (const methods::ConfigField& f : fields.all()) {
      Union& u = all[f.name];
      if (u.help.empty()) u.help = f.help, u.default_text = fields.value_text(f);
      u.methods += (u.methods.empty() ? "" : ", ") + m->name;
      u.flag = std::holds_alternative<bool*>(f.value);
      u.type = type_name(f);
    }
  }
  for (const auto& [name, u] : all) {
    if (cmd->get_option_no_throw("--" + name)) {
      throw std::logic_error("tune: method option --" + name + " clashes with a tune option");
    }
    const std::string help = "[" + u.methods + "] " + u.help;
    std::string& value = cli.method_values[name];
    CLI::Option* opt =
        u.flag ? cmd->add_flag_function(
                     "--" + name, [&value](int64_t) { value = "true"; }, help)
               : cmd->add_option("--" + name, value, help + " (default " + u.default_text + ")")
                     ->type_name(u.type);
    cli.method_options[name] = opt->group("Method options");
  }
}

// The chosen method's config with the options given on the command line.
std::shared_ptr<methods::MethodConfig> method_config(const TuneCli& cli) {
  const methods::Method& m = methods::method_named(cli.tune.method);
  std::shared_ptr<methods::MethodConfig> config = m.make_config();
  methods::ConfigFields fields;
  config->describe(fields);
  for (const auto& [name, opt] : cli.method_options) {
    if (opt->count() == 0) continue;
    if (!fields.find(name)) {
      throw std::invalid_argument("--" + name + " does not apply to --method " + m.name);
    }
    fields.set(name, cli.method_values.at(name));
  }
  config->validate();
  return config;
}

void add_training_options(CLI::App* cmd, TuneCli& cli) {
  train::TrainOptions& t = cli.tune.train;
  cmd->add_option("--loss", cli.loss,
                  "Classification loss: first-token (the labels' first tokens), sequence (whole "
                  "labels, through a token trie), lm (the gold label's tokens, PEFT's recipe); "
                  "auto = first-token when the labels' first tokens differ, else sequence")
      ->check(CLI::IsMember({"auto", "first-token", "sequence", "lm"}))
      ->capture_default_str();
  cmd->add_option("--lr", t.lr, "Peak learning rate (AdamW); 0 = the method's default")
      ->check(real_in_range(0, kMaxLr))
      ->capture_default_str();
  cmd->add_option("--batch-size", t.batch_size, "Examples per step")
      ->check(in_range(1, kMaxBatchSize))
      ->capture_default_str();
  cmd->add_option("--accumulation", t.accumulation, "Micro-batches per step")
      ->check(in_range(1, kMaxBatchSize))
      ->capture_default_str();
  cmd->add_option("--epochs", t.epochs, "Epochs (when --max-steps is 0)")
      ->check(in_range(1, kMaxEpochs))
      ->capture_default_str();
  cmd->add_option("--max-steps", t.max_steps, "Optimizer steps (0 = by epochs)")
      ->check(in_range(0, kMaxCount))
      ->capture_default_str();
  cmd->add_option("--warmup-steps", t.warmup_steps, "Linear warmup steps")
      ->check(in_range(0, kMaxCount))
      ->capture_default_str();
  cmd->add_option("--schedule", cli.schedule, "constant, linear or cosine decay after warmup")
      ->check(CLI::IsMember({"constant", "linear", "cosine"}))
      ->capture_default_str();
  cmd->add_option("--weight-decay", t.adam.weight_decay, "AdamW weight decay")
      ->check(real_in_range(0, kMaxWeightDecay))
      ->capture_default_str();
  cmd->add_option("--max-grad-norm", t.max_grad_norm, "Gradient clipping (0 = off)")
      ->check(real_in_range(0, kMaxGradNorm))
      ->capture_default_str();
  cmd->add_option("--patience", t.patience, "Early stopping after N evaluations without gain")
      ->check(in_range(0, kMaxPatience))
      ->capture_default_str();
  cmd->add_option("--seed", t.seed, "Seed (data order, initialisation)")
      ->check(in_range(0, kMaxSeed))
      ->capture_default_str();
  cmd->add_flag("--deterministic", t.deterministic, "Ask libtorch for deterministic kernels");
  cmd->add_flag("--no-length-grouping", cli.no_grouping,
                "Batches in plain shuffled order (default: grouped by length, less padding)");
  add_shared_prefix_flag(cmd, &cli.no_sharing);
  cmd->add_option("--metrics-log", t.metrics_path, "JSONL log, one line per step");
  cmd->add_option(
      "--checkpoint", t.checkpoint_path,
      "Checkpoint file: written every --checkpoint-every steps, resumed from if present");
  cmd->add_option("--checkpoint-every", t.checkpoint_every,
                  "Steps between checkpoints (0 = only at the end)")
      ->check(in_range(0, kMaxCount))
      ->capture_default_str();
}

void add_dev_options(CLI::App* cmd, TuneCli& cli) {
  train::TuneOptions& o = cli.tune;
  cmd->add_option("--eval-every", o.train.eval_every,
                  "Steps between dev evaluations (0 = end only)")
      ->check(in_range(0, kMaxCount))
      ->capture_default_str();
  cmd->add_option("--eval-metric", o.eval_metric,
                  "Dev metric (default: accuracy for classification, else the task's first "
                  "metric; nll and perplexity are minimised)");
  cmd->add_option("--dev-limit", o.dev_limit,
                  "Evaluate on a seeded stratified sample of N dev examples (0 = all)")
      ->check(in_range(0, kMaxCount))
      ->capture_default_str();
}

void print_result(const train::TuneResult& r, const TuneCli& cli) {
  const double ex_s = r.record.at("train_examples_per_s").get<double>();
  std::cout << "method " << cli.tune.method << "  loss " << r.record.at("loss").get<std::string>()
            << "  trainable " << r.trainable_parameters << "  steps " << r.train.steps << "  "
            << r.seconds << " s (training " << r.train.train_seconds << " s, " << ex_s
            << " examples/s)  peak RSS " << r.peak_rss_mb << " MiB\n"
            << "dev " << r.metric << ": " << r.dev_before << " before, " << r.dev_after << " after"
            << (r.train.has_best ? " (best step " + std::to_string(r.train.best_step) + ")" : "")
            << "\nwrote " << cli.tune.out_dir
            << "/adapter_config.json, adapter_model.safetensors, ptune_train.json\n";
}

// A step of the trainer's log as the run store keeps it.
nlohmann::json step_record(const train::StepLog& s) {
  nlohmann::json j = {{"step", s.step},      {"epoch", s.epoch},         {"loss", s.loss},
                      {"lr", s.lr},          {"grad_norm", s.grad_norm}, {"examples", s.examples},
                      {"seconds", s.seconds}};
  if (s.evaluated) j["eval"] = s.metric;
  return j;
}

// The settings known before training, for the record (the rest arrives with ptune_train.json).
nlohmann::json start_settings(const TuneCli& cli, const tasks::TaskSpec& task) {
  const train::TuneOptions& o = cli.tune;
  methods::ConfigFields fields;
  o.config->describe(fields);
  return {{"method", o.method},
          {"method_config", fields.to_json()},
          {"template", o.template_name},
          {"loss", cli.loss},
          {"prompt", prompt_text(task, o.template_name, nullptr)},
          {"out", o.out_dir},
          {"max_steps", o.train.max_steps},
          {"epochs", o.train.epochs},
          {"batch_size", o.train.batch_size},
          {"seed", o.train.seed},
          {"eval_every", o.train.eval_every},
          {"dev_limit", o.dev_limit}};
}

void finish_record(runs::Recorder& rec, const train::TuneResult& r, const std::string& out) {
  std::vector<runs::Artifact> files;
  for (const char* f : {"adapter_config.json", "adapter_model.safetensors"}) {
    files.push_back(rec.artifact(out + "/" + f, "adapter"));
  }
  files.push_back(rec.artifact(out + "/ptune_train.json", "record"));
  const nlohmann::json metrics = r.dev.summary.is_object()
                                     ? r.dev.summary.value("metrics", nlohmann::json::object())
                                     : nlohmann::json::object();
  nlohmann::json settings = r.record;
  settings["split"] = "dev";  // the per-example records are the final dev evaluation's
  rec.finish(metrics, r.dev.records, files, settings);
}

// The prompt's length in virtual tokens: its config's --virtual-tokens (0 for a method without).
int64_t virtual_tokens(methods::MethodConfig& config) {
  methods::ConfigFields fields;
  config.describe(fields);
  const methods::ConfigField* f = fields.find("virtual-tokens");
  if (!f || !std::holds_alternative<int64_t*>(f->value)) return 0;
  return *std::get<int64_t*>(f->value);
}

// Refuses, before the weights load, a --batch-size whose worst micro-batch (its longest rows,
// as length grouping puts them together) cannot be trained in this machine's memory.
void check_training_memory(const TuneCli& cli, const tasks::TaskSpec& task,
                           const tasks::TaskData& data, const Loaded& l) {
  const train::TuneOptions& o = cli.tune;
  const train::TrainingSet set =
      train::TrainingSet::build(task, data.train, *l.tokenizer, o.template_name, o.loss);
  const int64_t rows = o.train.batch_size / std::max<int64_t>(1, o.train.accumulation);
  check_batch_memory("--batch-size " + std::to_string(o.train.batch_size),
                     ModelConfig::from_gguf(*l.file),
                     longest_batch(set.lengths(), rows, virtual_tokens(*o.config)),
                     /*training=*/true);
}

void run(TuneCli& cli) {
  train::TuneOptions& o = cli.tune;
  o.config = method_config(cli);
  o.group_by_length = !cli.no_grouping;
  o.share_prefix = !cli.no_sharing;
  o.train.progress = progress_mode(cli.progress);
  o.train.schedule = train::schedule_from_name(cli.schedule);
  o.loss = train::loss_from_name(cli.loss);
  const tasks::TaskSpec task = tasks::load_task(cli.task_path);
  const tasks::TaskData data = tasks::load_task_data(task);
  const auto rec = start_recording(
      cli.record,
      {"tune", {}, cli.model.model, cli.task_path, task.name, start_settings(cli, task), ""});
  if (rec) o.on_step = [&rec](const train::StepLog& s) { rec->step(step_record(s)); };
  recorded(rec.get(), [&] {
    Loaded l = load(cli.model, /*with_model=*/false);
    check_training_memory(cli, task, data, l);
    load_model(l, cli.model);
    o.base_model = cli.model.model.substr(cli.model.model.find_last_of('/') + 1);
    const train::TuneResult r = train::tune_prompt(task, data, *l.model, *l.tokenizer, o);
    print_result(r, cli);
    if (rec) {
      finish_record(*rec, r, o.out_dir);
      say_recorded(*rec);
    }
  });
}

std::string tune_help() {
  return "Learn a prompt for a task with the model frozen. Writes OUT/adapter_config.json + "
         "adapter_model.safetensors in PEFT's format, usable with `ptune eval|generate|chat "
         "--adapter OUT` and PEFT's PeftModel.from_pretrained, and OUT/ptune_train.json (the "
         "run's record). Loss: classification tasks, --loss (cross-entropy over the labels' first "
         "tokens, over whole labels, or LM on the gold label); generation and qa tasks, LM "
         "cross-entropy on the reference. The dev metric runs through the eval harness every "
         "--eval-every steps and "
         "the best prompt is kept. Methods:" +
         method_list();
}

}  // namespace

void register_tune(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("tune", tune_help());
  auto cli = std::make_shared<TuneCli>();
  add_model_options(cmd, &cli->model);
  std::vector<std::string> names;
  for (const methods::Method* m : methods::registered_methods()) names.push_back(m->name);
  cmd->add_option("--method", cli->tune.method, "The method (listed above)")
      ->check(CLI::IsMember(names))
      ->capture_default_str();
  cmd->add_option("-t,--task", cli->task_path, "Task file (docs/task-file.md)")
      ->required()
      ->check(CLI::ExistingFile);
  add_out_option(cmd, &cli->tune.out_dir, "the adapter and ptune_train.json", /*required=*/true);
  cmd->add_flag("--force", cli->tune.force, "Replace an adapter already in the -o folder");
  cmd->add_option("--template", cli->tune.template_name, "Prompt template")->capture_default_str();
  add_progress_option(cmd, &cli->progress);
  add_training_options(cmd, *cli);
  add_dev_options(cmd, *cli);
  add_method_options(cmd, *cli);
  add_record_options(cmd, &cli->record, /*measuring=*/true);
  cmd->callback([cli] { run(*cli); });
}

}  // namespace ptune::cli
