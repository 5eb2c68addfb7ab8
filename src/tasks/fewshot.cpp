// Few-shot demo selection; contract in include/ptune/tasks/fewshot.h.
#include "ptune/tasks/fewshot.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "ptune/util/random.h"

namespace ptune::tasks {

// Okapi BM25 over the pool, built once. Postings instead of per-document term maps: a query
// touches only the documents that share one of its words, which for a short message in a large
// pool is a small fraction of it.
struct DemoSelector::Bm25 {
  static constexpr double kK1 = 1.2;
  static constexpr double kB = 0.75;

  struct Posting {
    size_t doc;
    double tf;
  };
  struct Term {
    double idf = 0.0;
    std::vector<Posting> postings;  // ascending doc
  };

  std::unordered_map<std::string, Term> terms;
  std::vector<double> length_norm;  // k1 * (1 - b + b * |d| / avgdl), per document

  explicit Bm25(const std::vector<std::vector<std::string>>& docs);
  std::vector<double> scores(const std::vector<std::string>& query_words) const;
};

namespace {

bool is_word_byte(unsigned char c) {
  return std::isalnum(c) || c >= 0x80;
}

// The text BM25 reads for `ex` (see the header for which fields).
std::vector<std::string> example_words(const Example& ex, const std::vector<std::string>& fields,
                                       const std::string& label_field) {
  std::vector<std::string> words;
  auto add = [&](const std::string& text) {
    for (auto& w : similarity_tokens(text)) words.push_back(std::move(w));
  };
  auto add_field = [&](const std::string& f) {
    if (auto it = ex.fields.find(f); it != ex.fields.end()) add(it->second);
    if (auto it = ex.lists.find(f); it != ex.lists.end()) {
      for (const auto& item : it->second) add(item);
    }
  };
  if (!fields.empty()) {
    for (const auto& f : fields) add_field(f);
    return words;
  }
  std::set<std::string> names;  // fields and lists may share a name; read it once
  for (const auto& [f, v] : ex.fields) names.insert(f);
  for (const auto& [f, v] : ex.lists) names.insert(f);
  names.erase(label_field);
  for (const auto& f : names) add_field(f);
  return words;
}

// Pool positions in the order demos are taken from (Fixed, Random, Stratified).
std::vector<size_t> candidate_order(const std::vector<Example>& pool, const FewShotSpec& spec,
                                    const std::string& label_field, util::Rng& rng) {
  if (spec.selection == DemoSelection::Fixed) {
    for (size_t i : spec.indices) {
      if (i >= pool.size()) {
        throw std::invalid_argument("few_shot.indices: position " + std::to_string(i) +
                                    " is outside the " + spec.split + " split (" +
                                    std::to_string(pool.size()) + " examples)");
      }
    }
    return spec.indices;
  }
  if (spec.selection == DemoSelection::Random) {
    auto order = util::iota_indices(pool.size());
    rng.shuffle(order);
    return order;
  }
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < pool.size(); ++i) groups[pool[i].get(label_field)].push_back(i);
  std::vector<std::vector<size_t>> queues;
  for (auto& [label, idx] : groups) {
    rng.shuffle(idx);
    queues.push_back(std::move(idx));
  }
  std::vector<size_t> order;
  for (size_t round = 0; order.size() < pool.size(); ++round) {
    for (const auto& q : queues) {
      if (round < q.size()) order.push_back(q[round]);
    }
  }
  return order;
}

// Takes candidates in the order offered, skipping the query's own row and labels at the cap.
class DemoTaker {
 public:
  DemoTaker(const std::vector<Example>& pool, const Example& query, const std::string& label_field,
            size_t per_label, size_t wanted)
      : pool_(pool),
        query_(query),
        label_field_(label_field),
        per_label_(per_label),
        wanted_(wanted) {}

  bool full() const { return demos_.size() >= wanted_; }
  void offer(size_t i) {
    if (full() || pool_[i].same_row(query_)) return;
    if (per_label_ > 0) {
      size_t& n = taken_[pool_[i].get(label_field_)];
      if (n >= per_label_) return;
      ++n;
    }
    demos_.push_back(&pool_[i]);
  }
  std::vector<const Example*>& demos() { return demos_; }

 private:
  const std::vector<Example>& pool_;
  const Example& query_;
  const std::string& label_field_;
  size_t per_label_;
  size_t wanted_;
  std::vector<const Example*> demos_;
  std::map<std::string, size_t> taken_;
};

void check_enough(const FewShotSpec& spec, size_t got) {
  if (got >= spec.k) return;
  std::string why = "few-shot k=" + std::to_string(spec.k) + " but the " + spec.split +
                    " split has only " + std::to_string(got) + " usable examples";
  if (spec.per_label > 0) why += " with at most " + std::to_string(spec.per_label) + " per label";
  throw std::invalid_argument(why);
}

}  // namespace

std::vector<std::string> similarity_tokens(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_word_byte(c)) {
      word += c < 0x80 ? static_cast<char>(std::tolower(c)) : ch;
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

DemoSelector::Bm25::Bm25(const std::vector<std::vector<std::string>>& docs) {
  const size_t n = docs.size();
  double total_len = 0.0;
  for (size_t d = 0; d < n; ++d) {
    total_len += static_cast<double>(docs[d].size());
    std::map<std::string, size_t> tf;
    for (const auto& w : docs[d]) ++tf[w];
    for (const auto& [w, count] : tf) terms[w].postings.push_back({d, static_cast<double>(count)});
  }
  for (auto& [w, term] : terms) {
    const double df = static_cast<double>(term.postings.size());
    term.idf = std::log(1.0 + (static_cast<double>(n) - df + 0.5) / (df + 0.5));
  }
  // An all-empty pool has avgdl 0; no document then has a term, so any finite norm will do.
  const double avgdl = n > 0 && total_len > 0 ? total_len / static_cast<double>(n) : 1.0;
  length_norm.resize(n);
  for (size_t d = 0; d < n; ++d) {
    length_norm[d] = kK1 * (1.0 - kB + kB * static_cast<double>(docs[d].size()) / avgdl);
  }
}

std::vector<double> DemoSelector::Bm25::scores(const std::vector<std::string>& query_words) const {
  std::vector<double> out(length_norm.size(), 0.0);
  // A word repeated in the query counts once: it says the same thing again, and counting it
  // would let one long query word list outweigh the rare words that matter.
  const std::set<std::string> distinct(query_words.begin(), query_words.end());
  for (const auto& w : distinct) {
    const auto it = terms.find(w);
    if (it == terms.end()) continue;
    for (const Posting& p : it->second.postings) {
      out[p.doc] += it->second.idf * p.tf * (kK1 + 1.0) / (p.tf + length_norm[p.doc]);
    }
  }
  return out;
}

DemoSelector::DemoSelector(const std::vector<Example>& pool, const FewShotSpec& spec,
                           const std::string& label_field, std::vector<std::string> text_fields)
    : pool_(&pool), spec_(spec), label_field_(label_field), text_fields_(std::move(text_fields)) {
  if (spec_.selection != DemoSelection::Similar || spec_.k == 0) return;
  std::vector<std::vector<std::string>> docs;
  docs.reserve(pool.size());
  for (const auto& ex : pool) docs.push_back(example_words(ex, text_fields_, label_field_));
  bm25_ = std::make_shared<const Bm25>(docs);
}

std::vector<double> DemoSelector::similarity(const Example& query) const {
  if (spec_.selection != DemoSelection::Similar) {
    throw std::logic_error("DemoSelector::similarity: selection is not \"similar\"");
  }
  if (!bm25_) return std::vector<double>(pool_->size(), 0.0);  // k = 0: no index was built
  return bm25_->scores(example_words(query, text_fields_, label_field_));
}

// Pool positions best first: positive scores descending (ties in pool order), then the
// examples sharing no word with the query, in pool order, so a short or unusual query still
// gets k demos.
std::vector<size_t> DemoSelector::similar_order(const Example& query) const {
  const std::vector<double> s = similarity(query);
  std::vector<size_t> order, rest;
  for (size_t i = 0; i < s.size(); ++i) (s[i] > 0.0 ? order : rest).push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

std::vector<const Example*> DemoSelector::select(const Example& query, size_t query_index) const {
  if (spec_.k == 0) return {};
  const auto& pool = *pool_;
  if (spec_.selection == DemoSelection::Similar) {
    DemoTaker take(pool, query, label_field_, spec_.per_label, spec_.k);
    for (size_t i : similar_order(query)) {
      if (take.full()) break;
      take.offer(i);
    }
    check_enough(spec_, take.demos().size());
    std::vector<const Example*> demos = std::move(take.demos());
    std::reverse(demos.begin(), demos.end());  // most similar last, nearest the query
    return demos;
  }
  util::Rng rng(spec_.resample ? util::mix_seed(spec_.seed, query_index) : spec_.seed);
  const auto order = candidate_order(pool, spec_, label_field_, rng);
  const bool fixed = spec_.selection == DemoSelection::Fixed;
  DemoTaker take(pool, query, label_field_, fixed ? 0 : spec_.per_label,
                 std::min(fixed ? spec_.indices.size() : spec_.k, spec_.k));
  for (size_t i : order) {
    if (take.full()) break;
    take.offer(i);
  }
  if (!fixed) check_enough(spec_, take.demos().size());
  std::vector<const Example*> demos = std::move(take.demos());
  if (spec_.selection == DemoSelection::Stratified) {
    // Round-robin fixes the label sequence (a, b, a, b); shuffle so the label nearest the
    // query is not always the same one (recency bias).
    rng.shuffle(demos);
  }
  return demos;
}

std::vector<const Example*> select_demos(const std::vector<Example>& pool, const FewShotSpec& spec,
                                         const Example& query, const std::string& label_field,
                                         size_t query_index) {
  return DemoSelector(pool, spec, label_field).select(query, query_index);
}

}  // namespace ptune::tasks
