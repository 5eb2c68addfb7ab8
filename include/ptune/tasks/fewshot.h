// Choosing few-shot demonstrations for a query.
//
// Demos are picked from a pool (one split) by a FewShotSpec. Every mode keeps the query's own row
// out of its demos (Example::same_row: a demo that is the query leaks its gold answer), and asking
// for more demos than the pool can give is an error, never a silent shorter prompt: a k-shot
// number must mean k shots.
//
// "similar" selection (Liu et al. 2022, "What makes good in-context examples"): demos that look
// like the query help most when there are many labels, because the nearest demos are the few
// labels the query could plausibly be. Similarity is Okapi BM25 over words, not the model's
// hidden states: it needs no forward pass, is exact and reproducible across devices and dtypes,
// and favours the rare words (product names, "pin", "refund") that tell intents apart.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ptune/tasks/dataset.h"
#include "ptune/tasks/task.h"

namespace ptune::tasks {

// The words BM25 compares: maximal runs of ASCII letters and digits, lowercased, and of bytes >=
// 0x80 (so UTF-8 text outside ASCII still forms words); everything else separates words.
std::vector<std::string> similarity_tokens(std::string_view text);

// Picks demos for each query of a run. Built once per run: for "similar" the constructor builds
// the BM25 index of the pool (term postings, document lengths), which is the costly part, so
// each select() only scores the query's words against it. `pool` must outlive the selector.
//
//   Fixed:      the first k of pool[spec.indices] that are not the query (fewer when the
//               list runs out: list one spare index to always get k). per_label does not apply.
//   Random:     a seeded shuffle of the pool, first k.
//   Stratified: a seeded round-robin over the values of `label_field` (labels balanced within
//               one), then shuffled so the last demo's label does not follow a fixed pattern.
//   Similar:    the k pool examples with the highest BM25 score for the query (k1 = 1.2,
//               b = 0.75, idf = ln(1 + (N - df + 0.5) / (df + 0.5)), each distinct query word
//               counted once). Equal scores keep pool order, so the result is deterministic
//               and seed and resample do not apply. The most similar demo comes LAST, next to
//               the query: models weigh the nearest demo most (recency bias, Zhao et al. 2021),
//               so it should be the most relevant one.
// spec.per_label > 0 caps the demos sharing one label value (Random, Stratified, Similar): the
// cap is applied while taking candidates in order, so a capped label's next-best candidate is
// skipped for the best of another label. Without it, "similar" demos for a query are often all
// one label, and the model copies that label.
//
// Text BM25 reads: `text_fields` in order (a list field contributes every item; a field the
// example lacks contributes nothing). Empty = every field and list field of the example except
// `label_field`, in name order. The eval loop passes the query template's fields, i.e. what the
// model reads, so ids and metadata columns do not count as similarity.
//
// Unless spec.resample, Fixed / Random / Stratified give every query the same demos (one shared
// prompt prefix, cacheable); with resample the seed is mixed with `query_index`. Similar demos
// differ per query, so only the instruction before {demos} is a shared prefix.
// select() throws std::invalid_argument when the pool has fewer than k usable examples (after
// the query and the per-label cap) or a fixed index is out of range, DataError when a pool
// example lacks the label (Stratified, or per_label).
class DemoSelector {
 public:
  DemoSelector(const std::vector<Example>& pool, const FewShotSpec& spec,
               const std::string& label_field, std::vector<std::string> text_fields = {});

  std::vector<const Example*> select(const Example& query, size_t query_index = 0) const;

  // The BM25 score of every pool example (pool order) for `query`'s text; 0 for an example that
  // shares no word with it. Only for spec.selection == Similar (std::logic_error otherwise).
  std::vector<double> similarity(const Example& query) const;

 private:
  struct Bm25;
  std::vector<size_t> similar_order(const Example& query) const;

  const std::vector<Example>* pool_;
  FewShotSpec spec_;
  std::string label_field_;
  std::vector<std::string> text_fields_;
  std::shared_ptr<const Bm25> bm25_;  // Similar only
};

// One query's demos: DemoSelector(pool, spec, label_field).select(query, query_index). Builds
// the BM25 index on every call; for many queries build one DemoSelector instead.
std::vector<const Example*> select_demos(const std::vector<Example>& pool, const FewShotSpec& spec,
                                         const Example& query, const std::string& label_field,
                                         size_t query_index = 0);

}  // namespace ptune::tasks
