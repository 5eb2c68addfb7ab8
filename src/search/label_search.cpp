// Label search; contract in include/ptune/search/label_search.h.
#include "ptune/search/label_search.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>

#include "ptune/tasks/prompt.h"
#include "ptune/util/random.h"

namespace ptune::search {
namespace {

constexpr double kPlausible = 3.0;  // nats below a label's likeliest candidate word

// s[l][w]: mean lp of w over examples of label l minus its mean over the other examples.
std::vector<std::vector<double>> indicativeness(const std::vector<std::vector<double>>& lp,
                                                const std::vector<size_t>& gold, size_t labels) {
  const size_t words = lp.empty() ? 0 : lp[0].size();
  std::vector<std::vector<double>> sum(labels, std::vector<double>(words, 0));
  std::vector<double> total(words, 0);
  std::vector<size_t> count(labels, 0);
  for (size_t i = 0; i < lp.size(); ++i) {
    ++count[gold[i]];
    for (size_t w = 0; w < words; ++w) {
      sum[gold[i]][w] += lp[i][w];
      total[w] += lp[i][w];
    }
  }
  std::vector<std::vector<double>> s(labels, std::vector<double>(words, 0));
  for (size_t l = 0; l < labels; ++l) {
    const size_t others = lp.size() - count[l];
    if (count[l] == 0 || others == 0) continue;
    for (size_t w = 0; w < words; ++w)
      s[l][w] = sum[l][w] / count[l] - (total[w] - sum[l][w]) / others;
  }
  return s;
}

// The label-balanced mean log-likelihood of the gold label when label l reads column choice[l]:
// per example log softmax over the labels' words at the gold one, averaged per label, then over
// labels. What rank classification rewards, smooth where accuracy on a few examples is not.
double balanced_likelihood(const std::vector<std::vector<double>>& lp,
                           const std::vector<size_t>& gold, const std::vector<size_t>& choice) {
  const size_t labels = choice.size();
  std::vector<double> sum(labels, 0);
  std::vector<size_t> count(labels, 0);
  for (size_t i = 0; i < lp.size(); ++i) {
    double top = -std::numeric_limits<double>::infinity();
    for (size_t l = 0; l < labels; ++l) top = std::max(top, lp[i][choice[l]]);
    double z = 0;
    for (size_t l = 0; l < labels; ++l) z += std::exp(lp[i][choice[l]] - top);
    sum[gold[i]] += lp[i][choice[gold[i]]] - top - std::log(z);
    ++count[gold[i]];
  }
  double total = 0;
  size_t present = 0;
  for (size_t l = 0; l < labels; ++l) {
    if (count[l] == 0) continue;
    total += sum[l] / count[l];
    ++present;
  }
  return present ? total / present : 0;
}

// Mean lp of each word over the examples of each label: [labels][words].
std::vector<std::vector<double>> mean_by_label(const std::vector<std::vector<double>>& lp,
                                               const std::vector<size_t>& gold, size_t labels) {
  const size_t words = lp.empty() ? 0 : lp[0].size();
  std::vector<std::vector<double>> m(labels, std::vector<double>(words, 0));
  std::vector<size_t> count(labels, 0);
  for (size_t i = 0; i < lp.size(); ++i) {
    ++count[gold[i]];
    for (size_t w = 0; w < words; ++w) m[gold[i]][w] += lp[i][w];
  }
  for (size_t l = 0; l < labels; ++l) {
    for (double& v : m[l]) v = count[l] ? v / count[l] : 0;
  }
  return m;
}

// Label l's candidates, most indicative first.
std::vector<size_t> ranked(const std::vector<double>& s_l, std::vector<size_t> candidates) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](size_t a, size_t b) { return s_l[a] > s_l[b]; });
  return candidates;
}

// Each label its most indicative word no other label took, the labels with the clearest word
// choosing first. Empty when some label is left without a word.
std::vector<size_t> indicative_choice(const std::vector<std::vector<size_t>>& by_label,
                                      const std::vector<std::vector<double>>& s) {
  const size_t labels = by_label.size();
  std::vector<size_t> order(labels);
  for (size_t l = 0; l < labels; ++l) order[l] = l;
  auto best = [&](size_t l) {
    return by_label[l].empty() ? -std::numeric_limits<double>::infinity()
                               : s[l][by_label[l].front()];
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return best(a) > best(b); });
  std::vector<size_t> choice(labels);
  std::set<size_t> taken;
  for (size_t l : order) {
    auto it = std::find_if(by_label[l].begin(), by_label[l].end(),
                           [&](size_t w) { return !taken.count(w); });
    if (it == by_label[l].end()) return {};
    choice[l] = *it;
    taken.insert(*it);
  }
  return choice;
}

// Coordinate ascent on balanced_likelihood from `choice` over each label's candidates, two
// passes; a word two labels would share is never tried.
std::vector<size_t> fitted_choice(const std::vector<std::vector<double>>& lp,
                                  const std::vector<size_t>& gold,
                                  const std::vector<std::vector<size_t>>& candidates,
                                  std::vector<size_t> choice) {
  double best = balanced_likelihood(lp, gold, choice);
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t l = 0; l < choice.size(); ++l) {
      size_t pick = choice[l];
      for (size_t w : candidates[l]) {
        if (std::find(choice.begin(), choice.end(), w) != choice.end()) continue;
        std::vector<size_t> trial = choice;
        trial[l] = w;
        const double v = balanced_likelihood(lp, gold, trial);
        if (v > best + 1e-12) {
          best = v;
          pick = w;
        }
      }
      choice[l] = pick;
    }
  }
  return choice;
}

// Adds `w` to `words` (once) and its column to `column`.
void add_word(const std::string& w, std::vector<std::string>& words, std::vector<size_t>& columns) {
  if (w.empty()) return;
  const auto it = std::find(words.begin(), words.end(), w);
  const size_t col = static_cast<size_t>(it - words.begin());
  if (it == words.end()) words.push_back(w);
  if (std::find(columns.begin(), columns.end(), col) == columns.end()) columns.push_back(col);
}

}  // namespace

WordChoice choose_label_words(const std::vector<std::vector<double>>& lp,
                              const std::vector<size_t>& gold,
                              const std::vector<std::vector<size_t>>& candidates) {
  const size_t labels = candidates.size();
  WordChoice out;
  if (lp.empty() || labels < 2) return out;
  for (const auto& c : candidates) {
    if (c.empty()) return out;
  }
  const auto s = indicativeness(lp, gold, labels);
  const auto own = mean_by_label(lp, gold, labels);
  // Indicative words must be plausible answers: within kPlausible nats of the label's most
  // likely candidate after its own examples (a rare word's log-prob moves a lot for nothing).
  std::vector<std::vector<size_t>> by_label;
  for (size_t l = 0; l < labels; ++l) {
    double top = -std::numeric_limits<double>::infinity();
    for (size_t w : candidates[l]) top = std::max(top, own[l][w]);
    std::vector<size_t> plausible;
    for (size_t w : candidates[l]) {
      if (own[l][w] >= top - kPlausible) plausible.push_back(w);
    }
    by_label.push_back(ranked(s[l], plausible));
  }
  out.indicative = indicative_choice(by_label, s);
  std::vector<size_t> current;
  for (size_t l = 0; l < labels; ++l) current.push_back(candidates[l].front());
  if (std::set<size_t>(current.begin(), current.end()).size() == labels)
    out.fitted = fitted_choice(lp, gold, candidates, current);
  return out;
}

LabelSearchResult search_label_words(const tasks::TaskSpec& task, const SearchData& data,
                                     const Candidate& start, LabelWords& model, Evaluations& evals,
                                     const LabelSearchOptions& o) {
  LabelSearchResult r;
  const size_t labels = task.labels.size();
  if (task.type != tasks::TaskType::Classification || labels < 2 || labels > o.max_labels) return r;
  // A seeded sample of each label's pool examples.
  const tasks::TaskSpec start_task = apply_candidate(task, start);
  const tasks::PromptBuilder builder(start_task);
  std::vector<std::vector<size_t>> of_label(labels);
  for (size_t i = 0; i < data.pool.size(); ++i)
    of_label[builder.gold_index(data.pool[i])].push_back(i);
  util::Rng rng(util::mix_seed(o.seed, 81));
  std::vector<size_t> sample, gold;
  for (size_t l = 0; l < labels; ++l) {
    if (of_label[l].empty()) return r;
    rng.shuffle(of_label[l]);
    of_label[l].resize(std::min(of_label[l].size(), o.examples_per_label));
    for (size_t i : of_label[l]) {
      sample.push_back(i);
      gold.push_back(l);
    }
  }
  // Candidates: each label's words, its name's words, and their neighbours.
  std::vector<std::string> words;
  std::vector<std::vector<size_t>> candidates(labels);
  for (size_t l = 0; l < labels; ++l) {
    std::vector<std::string> seeds = start_task.labels[l].words;
    // A name like "0" or "1" (SST-2's) names nothing: its neighbours would be noise.
    const std::string name = tasks::label_words_for(task.labels[l].name);
    if (std::any_of(name.begin(), name.end(),
                    [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)); }))
      seeds.push_back(name);
    for (const std::string& seed : seeds) {
      add_word(seed, words, candidates[l]);
      for (const std::string& w : model.neighbour_words(seed, o.neighbours))
        add_word(w, words, candidates[l]);
    }
  }
  Candidate plain = start;
  plain.calibration = false;
  const auto lp = model.word_log_probs(plain, Split::Pool, sample, words);
  evals.charge(Split::Pool, sample.size());
  r.examples = sample.size();
  const WordChoice choice = choose_label_words(lp, gold, candidates);
  auto add = [&](const std::vector<size_t>& cols, const std::string& what) {
    if (cols.empty()) return;
    std::vector<std::vector<std::string>> v;
    for (size_t col : cols) v.push_back({words[col]});
    r.verbalizers.push_back(v);
    r.origins.push_back("verbalizer: label search (" + what + ")");
  };
  std::vector<size_t> current;
  for (const auto& c : candidates) current.push_back(c.front());
  if (choice.indicative != current) add(choice.indicative, "indicative");
  if (choice.fitted != choice.indicative && choice.fitted != current) add(choice.fitted, "fitted");
  return r;
}

}  // namespace ptune::search
