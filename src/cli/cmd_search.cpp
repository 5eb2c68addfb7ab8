// ptune search: find a better prompt for a task (instruction, demos, verbalizer, calibration,
// normalization) within a budget of example evaluations, and keep it only when a paired test on
// held-out examples says it is better. The library does the work (include/ptune/search/); this
// file maps flags to its options, loads the model and proposer, and writes OUT.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/common.h"
#include "cli/limits.h"
#include "cli/recording.h"
#include "ptune/client/openai_client.h"
#include "ptune/search/model_objective.h"
#include "ptune/search/output.h"
#include "ptune/search/search.h"

namespace ptune::cli {
namespace {

struct SearchCmdOptions {
  ModelOptions model;
  RecordOptions record;
  search::SearchOptions search;
  search::SplitOptions splits;
  std::string task_path, out_dir, budget = "light", progress, instructions_file;
  std::string vary = "instruction,demos,verbalizer,calibration,normalize";
  std::string proposer = "local", proposer_endpoint, proposer_model, api_key_env;
  std::vector<size_t> shots = {2, 4};
  int64_t seed = 0;
  size_t batch_size = 8;
  int64_t dev_limit = -1;  // -1: search::auto_dev_limit
  bool no_shared_prefix = false;
};

void add_search_options(CLI::App* cmd, SearchCmdOptions* o) {
  add_task_option(cmd, &o->task_path);
  add_out_option(cmd, &o->out_dir,
                 "task.json (the chosen prompt), candidate_task.json, leaderboard.json/.md, "
                 "result.json and journal.jsonl (a rerun with the same folder resumes)",
                 /*required=*/true);
  cmd->add_option("--budget", o->budget,
                  "light (1500), medium (5000), heavy (15000) or a number of example evaluations "
                  "on the pool, search and dev splits (the test split is extra)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the splits, candidates and bootstrap")
      ->check(in_range(0, kMaxSeed))
      ->capture_default_str();
  cmd->add_option("--vary", o->vary,
                  "Parts of the prompt to search, comma-separated: instruction, demos, "
                  "verbalizer, calibration, normalize")
      ->capture_default_str();
  cmd->add_option("--instructions", o->instructions_file,
                  "A file of candidate instructions, one per line, raced with the rest");
  cmd->add_option("--shots", o->shots, "k of the demo sets tried (several: --shots 2 4 8)")
      ->check(in_range(1, kMaxShots))
      ->capture_default_str();
  cmd->add_option("--search-size", o->splits.search_size,
                  "Train examples held out as the search split (the rest is the demo pool; "
                  "default 128, or half the train split when that is smaller)")
      ->check(in_range(2, kMaxCount));
  cmd->add_option("--dev-limit", o->dev_limit,
                  "Dev examples the finalists are compared on (0 = all; default: all, or a "
                  "sample small enough that this takes at most half the budget)")
      ->check(in_range(0, kMaxCount));
  cmd->add_option("--test-limit", o->splits.test_limit, "Test examples used (0 = all)")
      ->check(in_range(0, kMaxCount));
  cmd->add_option("--label-neighbours", o->search.label_search.neighbours,
                  "Label search: words near each label word in embedding space tried as its "
                  "verbalizer (0 = no label search)")
      ->check(in_range(0, 256))
      ->capture_default_str();
  cmd->add_option("--first-rung", o->search.halving.first,
                  "Search examples every candidate is scored on first")
      ->check(in_range(1, kMaxCount))
      ->capture_default_str();
  cmd->add_option("--eta", o->search.halving.eta,
                  "Successive halving: keep 1/eta of the candidates on eta times the examples")
      ->check(in_range(2, 16))
      ->capture_default_str();
  cmd->add_option("--finalists", o->search.halving.keep, "Candidates compared on the dev split")
      ->check(in_range(1, 64))
      ->capture_default_str();
  cmd->add_option("--alpha", o->search.alpha,
                  "Significance level of the paired test that accepts the winner")
      ->check(real_in_range(1e-9, 0.5))
      ->capture_default_str();
}

void add_proposer_options(CLI::App* cmd, SearchCmdOptions* o) {
  const char* group = "Proposer (model-written instructions: APE, paraphrase, OPRO)";
  cmd->add_option("--proposer", o->proposer,
                  "local (the model under search, through its chat template) or none")
      ->check(CLI::IsMember({"local", "none"}))
      ->capture_default_str()
      ->group(group);
  auto* ep = cmd->add_option("--proposer-endpoint", o->proposer_endpoint,
                             "An OpenAI-compatible API base URL whose model proposes instead")
                 ->group(group);
  cmd->add_option("--proposer-model", o->proposer_model, "The endpoint's model id")
      ->needs(ep)
      ->group(group);
  cmd->add_option("--api-key-env", o->api_key_env,
                  "Environment variable holding the endpoint's API key (never printed or "
                  "recorded)")
      ->needs(ep)
      ->group(group);
}

void apply_vary(const std::string& list, search::SearchOptions& s) {
  s.vary_instruction = s.vary_demos = s.vary_verbalizer = s.vary_calibration = s.vary_normalize =
      false;
  std::istringstream in(list);
  for (std::string part; std::getline(in, part, ',');) {
    if (part == "instruction")
      s.vary_instruction = true;
    else if (part == "demos")
      s.vary_demos = true;
    else if (part == "verbalizer")
      s.vary_verbalizer = true;
    else if (part == "calibration")
      s.vary_calibration = true;
    else if (part == "normalize")
      s.vary_normalize = true;
    else
      throw std::invalid_argument("--vary: unknown part '" + part +
                                  "' (instruction, demos, verbalizer, calibration, normalize)");
  }
}

std::vector<std::string> read_instructions(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream f(path);
  if (!f) throw std::invalid_argument("--instructions: cannot read " + path);
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line.find_first_of("{}") != std::string::npos) {
      throw std::invalid_argument("--instructions " + path + ": '" + line +
                                  "' has template braces; an instruction is plain text");
    }
    out.push_back(line);
  }
  return out;
}

// The model's identity in score keys: file name, size and the matmul dtype.
std::string model_identity(const ModelOptions& m) {
  const std::filesystem::path p(m.model);
  return p.filename().string() + ":" + std::to_string(std::filesystem::file_size(p)) + ":" +
         m.dtype;
}

void run(SearchCmdOptions& c) {
  c.search.budget = search::parse_budget(c.budget);
  c.search.seed = static_cast<uint64_t>(c.seed);
  c.splits.seed = c.search.seed;
  c.search.shots = c.shots;
  apply_vary(c.vary, c.search);
  c.search.instructions = read_instructions(c.instructions_file);
  const eval::Progress::Mode mode = progress_mode(c.progress);
  const tasks::TaskSpec task = tasks::load_task(c.task_path);
  const tasks::TaskData data = tasks::load_task_data(task);
  c.splits.dev_limit = c.dev_limit >= 0 ? static_cast<size_t>(c.dev_limit)
                                        : search::auto_dev_limit(data.dev.size(), c.search);
  if (c.dev_limit < 0 && c.splits.dev_limit > 0) {
    std::cerr << "search: the finalists are compared on " << c.splits.dev_limit << " of "
              << data.dev.size() << " dev examples (ptune eval --split dev --limit "
              << c.splits.dev_limit << " --seed " << c.seed << " scores the same; --dev-limit "
              << "to change)\n";
  }
  const search::SearchData splits = search::make_search_data(task, data, c.splits);
  std::unique_ptr<client::OpenAiClient> api;
  if (!c.proposer_endpoint.empty()) {
    if (c.proposer_model.empty())
      throw std::invalid_argument("--proposer-endpoint needs --proposer-model");
    client::ClientOptions co;
    co.endpoint = c.proposer_endpoint;
    co.api_key_env = c.api_key_env;
    api = std::make_unique<client::OpenAiClient>(co);
  }
  const auto rec = start_recording(
      c.record, {"search", {}, c.model.model, c.task_path, task.name, {{"budget", c.budget}}, ""});
  recorded(rec.get(), [&] {
    Loaded l = load(c.model, /*with_model=*/true);
    eval::EvalOptions eo;
    eo.scorer.batch_size = c.batch_size;
    eo.scorer.prefix_cache = !c.no_shared_prefix;
    search::ModelObjective objective(task, splits, *l.model, *l.tokenizer, eo,
                                     model_identity(c.model));
    search::Journal journal(c.out_dir + "/journal.jsonl");
    if (journal.score_count() > 0) {
      std::cerr << "search: resuming from " << journal.path() << " (" << journal.score_count()
                << " scores";
      if (journal.dropped_bytes()) std::cerr << "; a cut-short last line dropped";
      std::cerr << ")\n";
    }
    search::Evaluations evals(objective, journal);
    std::unique_ptr<search::Proposer> proposer;
    if (api) {
      proposer = search::endpoint_proposer(*api, c.proposer_model);
    } else if (c.proposer == "local") {
      const std::string name = std::filesystem::path(c.model.model).stem().string();
      proposer = search::local_proposer(*l.model, *l.tokenizer, name);
    }
    const auto on_step = [&](const nlohmann::json& s) {
      if (mode != eval::Progress::Mode::Off) {
        std::cerr << "search: " << s["stage"].get<std::string>() << ": budget "
                  << s["budget"].get<size_t>() << "/" << c.search.budget << ", best "
                  << s["best"].get<double>() << "\n";
      }
      if (rec) rec->step(s);
    };
    const search::SearchResult r = search::run_search(
        task, splits, evals, proposer.get(),
        c.search.label_search.neighbours ? &objective : nullptr, c.search, on_step);
    const std::vector<std::string> files =
        search::write_search_outputs(c.out_dir, task, splits, r, objective.metric());
    std::cout << search::format_search_report(r, objective.metric());
    const eval::PrefixMemo& memo = objective.prefix_memo();
    std::cout << "shared prompt heads (instruction + demos): " << memo.misses() << " computed, "
              << memo.hits() << " reused across candidates and rungs\n";
    std::cout << "\nwrote " << c.out_dir << "/task.json ("
              << (r.accepted ? "the winner" : "the start")
              << "), candidate_task.json, leaderboard.md, result.json\n";
    if (rec) {
      std::vector<runs::Artifact> artifacts;
      for (const std::string& f : files) artifacts.push_back(rec->artifact(f, "search"));
      nlohmann::json metrics = search::result_json(r, objective.metric());
      rec->finish(
          metrics, {}, artifacts,
          {{"prompt", prompt_text(search::apply_candidate(task, r.chosen()), "default", nullptr)}});
      say_recorded(*rec);
    }
  });
}

}  // namespace

void register_search(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "search",
      "Search a task's prompt (instruction, few-shot demos, verbalizer, calibration, "
      "normalization) within a budget: candidates raced by successive halving on a search split "
      "held out of train, finalists compared on dev, the winner kept only if a paired test on "
      "test says it is better. Writes OUT/task.json; resumes from OUT/journal.jsonl. See "
      "docs/search.md.");
  auto opts = std::make_shared<SearchCmdOptions>();
  add_model_options(cmd, &opts->model);
  add_search_options(cmd, opts.get());
  add_proposer_options(cmd, opts.get());
  cmd->add_option("--batch-size", opts->batch_size, "Prompts per forward pass")
      ->check(in_range(1, kMaxBatchSize))
      ->capture_default_str();
  add_shared_prefix_flag(cmd, &opts->no_shared_prefix);
  add_progress_option(cmd, &opts->progress);
  add_record_options(cmd, &opts->record, /*measuring=*/true);
  cmd->callback([opts] { run(*opts); });
}

}  // namespace ptune::cli
