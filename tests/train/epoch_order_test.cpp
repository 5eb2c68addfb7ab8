// Trainer::epoch_order with lengths (src/train/trainer.cpp): length-grouped batches checked
// against the documented algorithm rebuilt from the plain shuffle, deterministic per seed and
// epoch, and Trainer::set_lengths' count check.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <numeric>
#include <string>
#include <vector>

#include "ptune/train/trainer.h"

namespace ptune::train {
namespace {

using Ids = std::vector<int64_t>;

// --- length-grouped epoch order -----------------------------------------------------------------

// The documented grouping, rebuilt from the plain shuffle: windows of 16 batches of the shuffled
// order, each sorted by length (longest first, stable), cut into batches.
std::vector<Ids> expected_batches(uint64_t seed, int64_t epoch, const Ids& lengths, int64_t bs,
                                  Ids* partial) {
  const int64_t n = static_cast<int64_t>(lengths.size());
  Ids order = Trainer::epoch_order(seed, epoch, n);
  const int64_t window = 16 * bs;
  for (int64_t w = 0; w < n; w += window) {
    std::stable_sort(order.begin() + w, order.begin() + std::min(w + window, n),
                     [&](int64_t a, int64_t b) { return lengths[a] > lengths[b]; });
  }
  std::vector<Ids> batches;
  for (int64_t b = 0; b + bs <= n; b += bs)
    batches.emplace_back(order.begin() + b, order.begin() + b + bs);
  partial->assign(order.begin() + (n / bs) * bs, order.end());
  return batches;
}

int64_t spread_sum(const Ids& order, const Ids& lengths, int64_t bs) {
  int64_t total = 0;
  for (size_t b = 0; b + static_cast<size_t>(bs) <= order.size(); b += static_cast<size_t>(bs)) {
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t k = b; k < b + static_cast<size_t>(bs); ++k) {
      lo = std::min(lo, lengths[order[k]]);
      hi = std::max(hi, lengths[order[k]]);
    }
    total += hi - lo;
  }
  return total;
}

TEST(EpochOrder, LengthGroupedBatches) {
  const int64_t n = 150, bs = 4;  // 3 windows of 64, 37 full batches and a partial one of 2
  Ids lengths(n);
  for (int64_t i = 0; i < n; ++i) lengths[i] = i % 7;
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    SCOPED_TRACE("epoch " + std::to_string(epoch));
    const Ids order = Trainer::epoch_order(42, epoch, n, lengths, bs);
    // A permutation of 0..n-1, deterministic.
    Ids sorted = order;
    std::sort(sorted.begin(), sorted.end());
    Ids iota(n);
    std::iota(iota.begin(), iota.end(), 0);
    ASSERT_EQ(sorted, iota);
    EXPECT_EQ(order, Trainer::epoch_order(42, epoch, n, lengths, bs));
    // Every full batch is one batch of a length-sorted window; the partial one comes last.
    Ids partial;
    std::vector<Ids> want = expected_batches(42, epoch, lengths, bs, &partial);
    ASSERT_EQ(want.size(), static_cast<size_t>(n / bs));
    std::vector<Ids> got;
    for (int64_t b = 0; b < n / bs; ++b)
      got.emplace_back(order.begin() + b * bs, order.begin() + (b + 1) * bs);
    EXPECT_EQ(Ids(order.begin() + (n / bs) * bs, order.end()), partial);
    // Batches are shuffled: not the window order, but the same set.
    EXPECT_NE(got, want);
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(got, want);
    // So batches are length-homogeneous, unlike the plain shuffle.
    const int64_t grouped = spread_sum(order, lengths, bs);
    const int64_t plain = spread_sum(Trainer::epoch_order(42, epoch, n), lengths, bs);
    EXPECT_LT(grouped * 4, plain) << "grouped " << grouped << " plain " << plain;
  }
  EXPECT_NE(Trainer::epoch_order(42, 0, n, lengths, bs),
            Trainer::epoch_order(42, 1, n, lengths, bs));
  EXPECT_NE(Trainer::epoch_order(42, 0, n, lengths, bs),
            Trainer::epoch_order(43, 0, n, lengths, bs));
  // Without lengths, or with batches of one, the order is the plain shuffle.
  EXPECT_EQ(Trainer::epoch_order(42, 0, n, lengths, 1), Trainer::epoch_order(42, 0, n));
  EXPECT_EQ(Trainer::epoch_order(42, 0, n, {}, bs), Trainer::epoch_order(42, 0, n));
}

TEST(EpochOrder, SetLengthsChecksTheCount) {
  Trainer trainer(
      {torch::zeros({2}).requires_grad_(true)}, [](const Batch&) { return torch::zeros({}); }, 10,
      TrainOptions{});
  EXPECT_THROW(trainer.set_lengths(Ids(9, 1)), std::invalid_argument);
  EXPECT_NO_THROW(trainer.set_lengths(Ids(10, 1)));
}

}  // namespace
}  // namespace ptune::train
