// The examples a search works on, split four ways that never share a row (objective.h's Split):
//   pool    the task's train split minus the search split: where demos come from
//   search  a seeded, label-stratified sample of `search_size` train rows, in a seeded shuffled
//           order (successive halving's minibatches are its prefixes, so each is a random sample)
//   dev     the task's dev split (a sample of `dev_limit` when given, the one `ptune eval
//           --split dev --limit N --seed SEED` draws): selection
//   test    the task's test split (`test_limit` likewise): the acceptance test, used once
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ptune/search/objective.h"
#include "ptune/tasks/task.h"

namespace ptune::search {

constexpr size_t kDefaultSearchSize = 128;

struct SplitOptions {
  size_t search_size = 0;  // 0: kDefaultSearchSize, or half the train split when that is smaller
  size_t dev_limit = 0;    // 0 = all
  size_t test_limit = 0;
  uint64_t seed = 0;
};

struct SearchData {
  std::vector<tasks::Example> pool, search, dev, test;
  std::vector<size_t> pool_rows;  // pool[i] is train[pool_rows[i]] (demo indices in task files)
  const std::vector<tasks::Example>& split(Split s) const;
};

// Throws std::invalid_argument naming what is missing: a dev or test split, a train split too
// small for the search split and at least one demo, demos drawn from a split other than train,
// or a row that appears in two splits (the same file given twice).
SearchData make_search_data(const tasks::TaskSpec& task, const tasks::TaskData& data,
                            const SplitOptions& options);

}  // namespace ptune::search
