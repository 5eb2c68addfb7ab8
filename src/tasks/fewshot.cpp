#include "ptune/tasks/fewshot.h"

#include <map>
#include <stdexcept>

#include "ptune/util/random.h"

namespace ptune::tasks {
namespace {

// Pool positions in the order demos are taken from.
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

}  // namespace

std::vector<const Example*> select_demos(const std::vector<Example>& pool, const FewShotSpec& spec,
                                         const Example& query, const std::string& label_field,
                                         size_t query_index) {
  if (spec.k == 0) return {};
  util::Rng rng(spec.resample ? util::mix_seed(spec.seed, query_index) : spec.seed);
  const auto order = candidate_order(pool, spec, label_field, rng);
  std::vector<const Example*> demos;
  const size_t wanted = spec.selection == DemoSelection::Fixed ? spec.indices.size() : spec.k;
  for (size_t i : order) {
    if (demos.size() == std::min(wanted, spec.k)) break;
    if (pool[i].same_row(query)) continue;
    demos.push_back(&pool[i]);
  }
  if (spec.selection != DemoSelection::Fixed && demos.size() < spec.k) {
    throw std::invalid_argument("few-shot k=" + std::to_string(spec.k) + " but the " + spec.split +
                                " split has only " + std::to_string(demos.size()) +
                                " usable examples");
  }
  if (spec.selection == DemoSelection::Stratified) {
    // Round-robin fixes the label sequence (a, b, a, b); shuffle so the label nearest the
    // query is not always the same one (recency bias).
    std::vector<const Example*> shuffled = demos;
    rng.shuffle(shuffled);
    return shuffled;
  }
  return demos;
}

}  // namespace ptune::tasks
