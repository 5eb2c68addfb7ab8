// The search driver; contract in include/ptune/search/search.h.
#include "ptune/search/search.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "ptune/search/edits.h"
#include "ptune/tasks/prompt.h"
#include "ptune/tasks/template.h"
#include "ptune/util/random.h"

namespace ptune::search {
namespace {

using tasks::Example;

// What the task lets the search vary, after the options.
struct Parts {
  bool instruction, demos, verbalizer, calibration, normalize;
};

Parts parts_of(const tasks::TaskSpec& t, const SearchOptions& o) {
  const auto tmpl = tasks::Template::parse(t.templates.at("default"));
  Parts p{};
  p.instruction = o.vary_instruction && tmpl.uses("instruction");
  p.demos = o.vary_demos && tmpl.uses("demos") && !t.few_shot.demo_template.empty();
  p.verbalizer = o.vary_verbalizer && t.type == tasks::TaskType::Classification;
  p.calibration = o.vary_calibration && ranked_task(t);
  p.normalize = o.vary_normalize && ranked_task(t);
  if (!(p.instruction || p.demos || p.verbalizer || p.calibration || p.normalize)) {
    throw std::invalid_argument(
        "search: nothing to vary (the template has no {instruction} or {demos} slot, and the "
        "task is not ranked)");
  }
  return p;
}

// The pool positions grouped by label value (one group for tasks without labels).
std::map<std::string, std::vector<size_t>> by_label(const tasks::TaskSpec& t,
                                                    const std::vector<Example>& pool,
                                                    const std::vector<size_t>& allowed) {
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i : allowed) groups[ranked_task(t) ? pool[i].get(t.target_field()) : ""].push_back(i);
  return groups;
}

// k demos, labels taken in turn (a seeded order within each), then shuffled.
std::vector<size_t> stratified_demos(std::map<std::string, std::vector<size_t>> groups, size_t k,
                                     util::Rng& rng) {
  for (auto& [label, v] : groups) rng.shuffle(v);
  std::vector<size_t> out;
  for (size_t round = 0; out.size() < k; ++round) {
    bool any = false;
    for (auto& [label, v] : groups) {
      if (round < v.size() && out.size() < k) {
        out.push_back(v[round]);
        any = true;
      }
    }
    if (!any) break;
  }
  rng.shuffle(out);
  return out;
}

class Search {
 public:
  Search(const tasks::TaskSpec& task, const SearchData& data, Evaluations& evals,
         Proposer* proposer, LabelWords* label_words, const SearchOptions& o,
         const StepCallback& on_step)
      : task_(task),
        data_(data),
        evals_(evals),
        proposer_(proposer),
        label_words_(label_words),
        o_(o),
        on_step_(on_step),
        parts_(parts_of(task, o)),
        start_(start_candidate(task)) {
    halving_ = o.halving;
    halving_.max_examples = data.search.size();
    halving_.first = std::min(halving_.first, data.search.size());
  }

  SearchResult run();

 private:
  std::vector<Candidate> first_round();
  std::vector<Candidate> refinements(const Candidate& best, const std::vector<Entry>& scored);
  HalvingResult race(const std::vector<Candidate>& arms, int round);
  void select_on_dev(SearchResult& r);
  void accept_on_test(SearchResult& r);
  std::vector<Candidate> instruction_variants();
  std::vector<DemoChoice> demo_variants();
  std::vector<size_t> bootstrapped_pool();
  std::vector<ShownExample> shown_demos(size_t n, uint64_t seed) const;
  void add(std::vector<Candidate>& arms, Candidate c) const;
  void step(const std::string& stage);
  // Keeps the first `keep` arms (the start, or round 1's survivors, of which the first `paid`
  // have their first-rung scores already) and a seeded sample of the rest that the first rung
  // can pay for.
  void fit_first_rung(std::vector<Candidate>& arms, size_t keep, size_t paid, uint64_t seed);
  // What racing may still spend: the budget less what the finalists' dev scoring will take.
  size_t budget_left() const {
    const size_t reserved = (halving_.keep + 1) * data_.dev.size();
    const size_t spent = evals_.spent_on_search() + reserved;
    return spent >= o_.budget ? 0 : o_.budget - spent;
  }

  const tasks::TaskSpec& task_;
  const SearchData& data_;
  Evaluations& evals_;
  Proposer* proposer_;
  LabelWords* label_words_;
  const SearchOptions& o_;
  const StepCallback& on_step_;
  const Parts parts_;
  const Candidate start_;
  HalvingOptions halving_;
  std::map<std::string, Entry> entries_;  // by id
  std::vector<std::string> deleted_;      // phrases edits removed (GrIPS "add" puts them back)
  ProposalStats proposals_;
  size_t over_budget_ = 0;
  double best_so_far_ = 0;
  int steps_ = 0;
};

void Search::add(std::vector<Candidate>& arms, Candidate c) const {
  const std::string id = candidate_id(c);
  for (const Candidate& a : arms) {
    if (candidate_id(a) == id) return;
  }
  if (entries_.count(id)) return;
  arms.push_back(std::move(c));
}

void Search::step(const std::string& stage) {
  if (!on_step_) return;
  on_step_({{"step", ++steps_},
            {"stage", stage},
            {"budget", evals_.spent_on_search()},
            {"best", best_so_far_}});
}

void Search::fit_first_rung(std::vector<Candidate>& arms, size_t keep, size_t paid, uint64_t seed) {
  const size_t afford = std::max<size_t>({2, keep, paid + budget_left() / halving_.first});
  if (arms.size() <= afford) return;
  std::vector<size_t> rest;
  for (size_t i = keep; i < arms.size(); ++i) rest.push_back(i);
  util::Rng rng(seed);
  rng.shuffle(rest);
  rest.resize(afford > keep ? afford - keep : 0);
  std::sort(rest.begin(), rest.end());
  std::vector<Candidate> kept(arms.begin(), arms.begin() + static_cast<std::ptrdiff_t>(keep));
  for (size_t i : rest) kept.push_back(arms[i]);
  over_budget_ += arms.size() - kept.size();
  arms = std::move(kept);
}

std::vector<ShownExample> Search::shown_demos(size_t n, uint64_t seed) const {
  util::Rng rng(seed);
  auto groups = by_label(task_, data_.pool, util::iota_indices(data_.pool.size()));
  std::vector<ShownExample> out;
  for (size_t i : stratified_demos(groups, n, rng))
    out.push_back(shown_example(task_, data_.pool[i]));
  return out;
}

std::vector<Candidate> Search::instruction_variants() {
  std::vector<Candidate> out;
  auto with = [&](const std::string& text, const std::string& origin) {
    Candidate c = start_;
    c.instruction = text;
    c.origin = origin;
    out.push_back(c);
  };
  for (const std::string& s : o_.instructions) with(s, "user's list");
  for (const Edit& e :
       phrase_edits(start_.instruction, {}, o_.edits, util::mix_seed(o_.seed, 11))) {
    with(e.text, "edit: " + e.operation);
    if (!e.deleted.empty()) deleted_.push_back(e.deleted);
  }
  if (!proposer_) return out;
  for (size_t i = 0; i < o_.proposals; ++i) {
    const uint64_t seed = util::mix_seed(o_.seed, 100 + i);
    if (auto s = propose(*proposer_, evals_.journal(), ape_question(shown_demos(6, seed)), seed,
                         proposals_))
      with(*s, "ape");
    if (!start_.instruction.empty()) {
      if (auto s = propose(*proposer_, evals_.journal(), paraphrase_question(start_.instruction),
                           seed, proposals_))
        with(*s, "paraphrase");
    }
  }
  return out;
}

// Pool examples the start prompt, zero-shot, answers correctly: demos the model "agrees with"
// (DSPy's bootstrapped demos). At most 8 per label are scored, labels in turn, and no more than
// a tenth of the budget (at least 16): with 77 labels, 8 each would be 616 evaluations.
std::vector<size_t> Search::bootstrapped_pool() {
  util::Rng rng(util::mix_seed(o_.seed, 21));
  auto groups = by_label(task_, data_.pool, util::iota_indices(data_.pool.size()));
  const size_t cap = std::min(8 * groups.size(), std::max<size_t>(16, o_.budget / 10));
  std::vector<size_t> tried = stratified_demos(groups, cap, rng);
  std::sort(tried.begin(), tried.end());
  Candidate zero = start_;
  zero.demos = {DemoChoice::Kind::Fixed, {}, 0, 0};
  const std::vector<double> s = evals_.scores(zero, Split::Pool, tried);
  std::vector<size_t> good;
  for (size_t i = 0; i < tried.size(); ++i) {
    if (s[i] >= 1.0) good.push_back(tried[i]);
  }
  return good;
}

std::vector<DemoChoice> Search::demo_variants() {
  std::vector<DemoChoice> out;
  if (task_.few_shot.k > 0) out.push_back({DemoChoice::Kind::Fixed, {}, 0, 0});  // zero-shot
  const auto all = util::iota_indices(data_.pool.size());
  const std::vector<size_t> good = bootstrapped_pool();
  for (size_t k : o_.shots) {
    if (k == 0 || k > data_.pool.size()) continue;
    for (size_t s = 0; s < o_.demo_sets; ++s) {
      util::Rng rng(util::mix_seed(o_.seed, 31 + 7 * k + s));
      out.push_back({DemoChoice::Kind::Fixed,
                     stratified_demos(by_label(task_, data_.pool, all), k, rng), 0, 0});
    }
    if (good.size() >= k) {
      util::Rng rng(util::mix_seed(o_.seed, 41 + k));
      out.push_back({DemoChoice::Kind::Fixed,
                     stratified_demos(by_label(task_, data_.pool, good), k, rng), 0, 0});
    }
    const size_t per_label = ranked_task(task_) ? std::max<size_t>(1, (k + 1) / 2) : 0;
    out.push_back({DemoChoice::Kind::Similar, {}, k, per_label});
  }
  return out;
}

std::vector<Candidate> Search::first_round() {
  std::vector<Candidate> arms = {start_};
  std::vector<Candidate> instructions = {start_};
  if (parts_.instruction) {
    for (Candidate& c : instruction_variants()) {
      add(arms, c);
      instructions.push_back(c);
    }
  }
  std::vector<DemoChoice> demos = {start_.demos};
  if (parts_.demos) {
    for (const DemoChoice& d : demo_variants()) {
      Candidate c = start_;
      c.demos = d;
      c.origin = d.kind == DemoChoice::Kind::Similar ? "demos: similar" : "demos";
      add(arms, c);
      demos.push_back(d);
    }
  }
  std::vector<std::vector<std::vector<std::string>>> verbalizers = {{}};
  if (parts_.verbalizer) {
    std::vector<std::vector<std::string>> names;
    bool differs = false;
    for (const tasks::LabelSpec& l : task_.labels) {
      names.push_back({tasks::label_words_for(l.name)});
      differs = differs || names.back() != l.words;
    }
    if (differs) {
      Candidate c = start_;
      c.words = names;
      c.origin = "verbalizer: label names";
      add(arms, c);
      verbalizers.push_back(names);
    }
    if (label_words_) {
      LabelSearchOptions lo = o_.label_search;
      lo.seed = util::mix_seed(o_.seed, 81);
      const LabelSearchResult found =
          search_label_words(task_, data_, start_, *label_words_, evals_, lo);
      for (size_t i = 0; i < found.verbalizers.size(); ++i) {
        Candidate c = start_;
        c.words = found.verbalizers[i];
        c.origin = found.origins[i];
        add(arms, c);
        verbalizers.push_back(found.verbalizers[i]);
      }
    }
  }
  if (parts_.calibration) {
    Candidate c = start_;
    c.calibration = !c.calibration;
    c.origin = "calibration flipped";
    add(arms, c);
  }
  if (parts_.normalize) {
    Candidate c = start_;
    c.normalize = c.normalize == tasks::ScoreNormalization::Sum ? tasks::ScoreNormalization::Mean
                                                                : tasks::ScoreNormalization::Sum;
    c.origin = "normalization flipped";
    add(arms, c);
  }
  // Random combinations, as many as the budget pays for.
  const size_t target = std::min(o_.max_arms, arms_for_budget(budget_left(), halving_));
  util::Rng rng(util::mix_seed(o_.seed, 51));
  for (size_t tries = 0; arms.size() < target && tries < 20 * target; ++tries) {
    Candidate c = instructions[rng.below(instructions.size())];
    c.demos = demos[rng.below(demos.size())];
    c.words = verbalizers[rng.below(verbalizers.size())];
    if (parts_.calibration) c.calibration = rng.below(2) == 1;
    if (parts_.normalize)
      c.normalize = rng.below(2) ? tasks::ScoreNormalization::Mean : tasks::ScoreNormalization::Sum;
    c.origin = "combination";
    add(arms, c);
  }
  return arms;
}

std::vector<Candidate> Search::refinements(const Candidate& best,
                                           const std::vector<Entry>& scored) {
  std::vector<Candidate> out;
  auto with_instruction = [&](const std::string& text, const std::string& origin) {
    Candidate c = best;
    c.instruction = text;
    c.origin = origin;
    add(out, c);
  };
  if (parts_.instruction) {
    for (const Edit& e :
         phrase_edits(best.instruction, deleted_, o_.edits, util::mix_seed(o_.seed, 61)))
      with_instruction(e.text, "edit: " + e.operation);
    if (proposer_) {
      std::vector<std::pair<std::string, double>> history;
      std::set<std::string> seen;
      for (const Entry& e : scored) {
        if (seen.insert(e.candidate.instruction).second && !e.candidate.instruction.empty())
          history.emplace_back(e.candidate.instruction, e.search_mean);
        if (history.size() >= 8) break;
      }
      for (size_t i = 0; i < o_.proposals; ++i) {
        const uint64_t seed = util::mix_seed(o_.seed, 200 + i);
        if (auto s = propose(*proposer_, evals_.journal(),
                             opro_question(task_.description, history, shown_demos(3, seed)), seed,
                             proposals_))
          with_instruction(*s, "opro");
      }
    }
  }
  if (parts_.demos && best.demos.kind == DemoChoice::Kind::Fixed && best.demos.indices.size() > 1) {
    for (size_t s = 0; s < 2; ++s) {
      Candidate c = best;
      util::Rng rng(util::mix_seed(o_.seed, 71 + s));
      rng.shuffle(c.demos.indices);
      c.origin = "demos reordered";
      add(out, c);
    }
  }
  if (parts_.calibration) {
    Candidate c = best;
    c.calibration = !c.calibration;
    c.origin = "calibration flipped";
    add(out, c);
  }
  return out;
}

HalvingResult Search::race(const std::vector<Candidate>& arms, int round) {
  const HalvingResult h = successive_halving(
      arms.size(), halving_,
      [&](size_t arm, size_t n) { return evals_.mean(arms[arm], Split::Search, n); },
      [&](size_t cost) { return cost <= budget_left(); });
  // Each arm's last rung.
  for (const Rung& rung : h.rungs) {
    for (size_t i = 0; i < rung.arms.size(); ++i) {
      const Candidate& c = arms[rung.arms[i]];
      Entry& e = entries_[candidate_id(c)];
      if (e.id.empty()) {
        e.candidate = c;
        e.id = candidate_id(c);
        e.round = round;
        e.tokens = evals_.objective().mean_prompt_tokens(
            c, Split::Search, util::iota_indices(std::min<size_t>(8, data_.search.size())));
      }
      e.examples = rung.examples;
      e.search_mean = rung.means[i];
    }
  }
  best_so_far_ = std::max(best_so_far_, h.rungs.back().means.front());
  step("round " + std::to_string(round));
  return h;
}

void Search::select_on_dev(SearchResult& r) {
  eval::BootstrapOptions boot;
  boot.resamples = o_.bootstrap_resamples;
  boot.seed = o_.seed;
  double best_mean = -1;
  std::vector<std::string> finalists;
  for (const Entry& e : r.leaderboard) finalists.push_back(e.id);
  for (const std::string& id : finalists) {
    Entry& e = entries_.at(id);
    const auto s = evals_.scores(e.candidate, Split::Dev, util::iota_indices(data_.dev.size()));
    e.dev = eval::bootstrap_mean(s, boot);
    if (e.dev->value > best_mean) {  // strictly: the start (listed first) wins ties
      best_mean = e.dev->value;
      r.best = e.candidate;
    }
  }
  best_so_far_ = best_mean;
  step("dev");
}

void Search::accept_on_test(SearchResult& r) {
  r.best_is_start = candidate_id(r.best) == candidate_id(r.start);
  const auto all = util::iota_indices(data_.test.size());
  const std::vector<double> a = evals_.scores(r.start, Split::Test, all);
  const std::vector<double> b = r.best_is_start ? a : evals_.scores(r.best, Split::Test, all);
  eval::BootstrapOptions boot;
  boot.resamples = o_.bootstrap_resamples;
  boot.seed = o_.seed;
  r.test = eval::compare_paired(a, b, boot);
  r.test_start = eval::bootstrap_mean(a, boot);
  r.test_best = eval::bootstrap_mean(b, boot);
  r.test_name = r.test.p_mcnemar ? "mcnemar" : "bootstrap";
  r.p_value = r.test.p_mcnemar ? *r.test.p_mcnemar : r.test.p_bootstrap;
  r.accepted = !r.best_is_start && r.test.gain.value > 0 && r.p_value < o_.alpha;
  if (r.best_is_start) {
    r.verdict = "no candidate beat the start prompt on dev; the start prompt is kept";
  } else if (r.accepted) {
    r.verdict = "significant improvement on test (" + r.test_name +
                " p < alpha): the searched prompt replaces the start";
  } else {
    r.verdict = "no significant improvement on test: the start prompt is kept";
  }
  step("test");
}

SearchResult Search::run() {
  SearchResult r;
  r.start = start_;
  std::vector<Candidate> arms = first_round();
  fit_first_rung(arms, 1, 0, util::mix_seed(o_.seed, 91));
  step("candidates");
  const HalvingResult h1 = race(arms, 1);
  std::vector<Candidate> second;
  for (size_t i = 0; i < h1.ranking().size() && i < halving_.keep; ++i)
    second.push_back(arms[h1.ranking()[i]]);
  if (budget_left() > 0) {
    std::vector<Entry> scored;
    for (const auto& [id, e] : entries_) scored.push_back(e);
    std::stable_sort(scored.begin(), scored.end(), [](const Entry& a, const Entry& b) {
      return a.examples != b.examples ? a.examples > b.examples : a.search_mean > b.search_mean;
    });
    const size_t survivors = second.size();
    for (Candidate& c : refinements(second.front(), scored)) second.push_back(c);
    fit_first_rung(second, survivors, survivors, util::mix_seed(o_.seed, 92));
    const HalvingResult h2 = race(second, 2);
    std::vector<Candidate> keep;
    for (size_t i = 0; i < h2.ranking().size() && i < halving_.keep; ++i)
      keep.push_back(second[h2.ranking()[i]]);
    second = keep;
  } else {
    second.resize(std::min(second.size(), halving_.keep));
  }
  // Finalists: the start first (it wins dev ties), then the survivors.
  r.leaderboard.push_back(entries_.at(candidate_id(start_)));
  for (const Candidate& c : second) {
    if (candidate_id(c) != candidate_id(start_))
      r.leaderboard.push_back(entries_.at(candidate_id(c)));
  }
  select_on_dev(r);
  accept_on_test(r);
  // The leaderboard: finalists by dev mean, then the rest by how far and how well they raced.
  r.leaderboard.clear();
  for (const auto& [id, e] : entries_) r.leaderboard.push_back(e);
  std::stable_sort(r.leaderboard.begin(), r.leaderboard.end(), [](const Entry& a, const Entry& b) {
    if (a.dev.has_value() != b.dev.has_value()) return a.dev.has_value();
    if (a.dev && a.dev->value != b.dev->value) return a.dev->value > b.dev->value;
    if (a.examples != b.examples) return a.examples > b.examples;
    return a.search_mean > b.search_mean;
  });
  r.spent = evals_.spent_on_search();
  r.spent_test = evals_.spent(Split::Test);
  r.computed = evals_.computed();
  r.replayed = evals_.replayed();
  r.proposals = proposals_;
  r.over_budget = over_budget_;
  r.dev_examples = data_.dev.size();
  return r;
}

}  // namespace

SearchResult run_search(const tasks::TaskSpec& task, const SearchData& data, Evaluations& evals,
                        Proposer* proposer, LabelWords* label_words, const SearchOptions& options,
                        const StepCallback& on_step) {
  return Search(task, data, evals, proposer, label_words, options, on_step).run();
}

size_t auto_dev_limit(size_t dev_size, const SearchOptions& o) {
  const size_t fits = o.budget / (2 * (o.halving.keep + 1));
  return dev_size <= fits ? 0 : std::max<size_t>(20, fits);
}

size_t parse_budget(const std::string& text) {
  if (text == "light") return 1500;
  if (text == "medium") return 5000;
  if (text == "heavy") return 15000;
  size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || text[0] == '-' || v == 0 || v > 100000000) {
    throw std::invalid_argument("--budget '" + text +
                                "': light, medium, heavy or a number of example evaluations "
                                "(1 to 100000000)");
  }
  return static_cast<size_t>(v);
}

}  // namespace ptune::search
