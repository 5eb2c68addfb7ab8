// Choosing few-shot demonstrations for a query.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ptune/tasks/dataset.h"
#include "ptune/tasks/task.h"

namespace ptune::tasks {

// Picks spec.k demos from `pool` for `query`, never the query's own row (same file, line and
// fields):
//   Fixed:      the first k of pool[spec.indices] that are not the query (fewer when the
//               list runs out: list one spare index to always get k).
//   Random:     a seeded shuffle of the pool, first k.
//   Stratified: a seeded round-robin over the values of `label_field` (labels balanced within
//               one), then shuffled so the last demo's label does not follow a fixed pattern.
// Unless spec.resample, every query gets the same demos (one shared prompt prefix, cacheable);
// with resample the seed is mixed with `query_index`. Throws std::invalid_argument when the pool
// has fewer than k usable examples or a fixed index is out of range, DataError when a pool
// example lacks the label (Stratified).
std::vector<const Example*> select_demos(const std::vector<Example>& pool, const FewShotSpec& spec,
                                         const Example& query, const std::string& label_field,
                                         size_t query_index = 0);

}  // namespace ptune::tasks
