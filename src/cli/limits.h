// The bounds of the CLI's numeric flags (docs/limits.md lists them all): the static ranges every
// flag is checked against while parsing (common.h: in_range), and the resource checks that need
// the machine or the model, run before anything large is allocated.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ptune/model/config.h"

namespace ptune::cli {

// Examples per forward (--batch-size): 4096 rows is past what any of our tasks' batches gain
// from on a CPU or one GPU; the memory check below decides under it.
inline constexpr int64_t kMaxBatchSize = 4096;
// Counts of rows and steps (--limit, --dev-limit, --max-steps, --warmup-steps, --eval-every,
// --checkpoint-every, --last): a billion is beyond any data set or run ptune can hold or finish,
// and keeps the values far inside every integer type they are stored in.
inline constexpr int64_t kMaxCount = 1'000'000'000;
// Seeds: any non-negative 64-bit signed value, the range torch::manual_seed and the run store
// keep without a sign change.
inline constexpr int64_t kMaxSeed = std::numeric_limits<int64_t>::max();
// Run ids in the store: SQLite row ids, from 1.
inline constexpr int64_t kMaxRunId = std::numeric_limits<int64_t>::max();
// New tokens to generate (--max-tokens): 2^20, more than any model's context; the model's own
// context is checked once it is known (check_new_tokens).
inline constexpr int64_t kMaxNewTokens = 1 << 20;
// Few-shot demonstrations (--shots): 1024 demos of even a few tokens fill any context.
inline constexpr int64_t kMaxShots = 1024;
// Tokens printed per position (--top) and the top-k cut (--top-k): past any vocabulary.
inline constexpr int64_t kMaxTopTokens = 1'000'000;
// Bootstrap resamples (--bootstrap): 10^5 give the CI ends to ~1e-3; more only costs time.
inline constexpr int64_t kMaxBootstrap = 100'000;
// Early-stopping patience in evaluations (--patience).
inline constexpr int64_t kMaxPatience = 1'000'000;
// Epochs (--epochs).
inline constexpr int64_t kMaxEpochs = 1'000'000;
// Peak learning rate (--lr): AdamW moves each parameter by about lr per step, and prompt
// parameters are O(0.01-1); 10 is far past divergence.
inline constexpr double kMaxLr = 10.0;
// AdamW's decoupled weight decay (--weight-decay): each step scales parameters by (1 - lr * wd),
// so past 1 it only erases what was learned.
inline constexpr double kMaxWeightDecay = 1.0;
// Gradient clipping norm (--max-grad-norm; 0 = off): 1000 is effectively no clipping.
inline constexpr double kMaxGradNorm = 1000.0;
// Sampling temperature (--temperature): at 100 the distribution is already uniform in practice.
inline constexpr double kMaxTemperature = 100.0;
// API calls in flight (--concurrency): a thread and a connection each; hosted APIs rate-limit
// far below 256.
inline constexpr int64_t kMaxConcurrency = 256;
// Seconds per call attempt (--timeout): a day is already "never".
inline constexpr double kMaxTimeoutSeconds = 86'400.0;
// Retries of a failed call (--retries): with a 30 s backoff cap, 100 is close to an hour.
inline constexpr int64_t kMaxRetries = 100;

// --threads: at most 4 x the hardware threads (std::thread::hardware_concurrency, 1 when
// unknown). libtorch's intra-op pool gains nothing past the cores; a few times their number
// still lets one try oversubscription, while 100000 threads only exhaust memory and the
// kernel's thread limit.
int max_threads();

// One batch as memory sees it: `rows` rows of `tokens` tokens in all, each position attending
// to at most `width` positions (the longest row plus a prompt's virtual tokens).
struct BatchShape {
  int64_t rows = 0, tokens = 0, width = 0;
};
// The batch of the `rows` longest of `lengths` (tokens per row), each row after `prompt`
// virtual tokens: what a length-grouped batch holds at its worst.
BatchShape longest_batch(std::vector<int64_t> lengths, int64_t rows, int64_t prompt);

// Throws std::invalid_argument "FLAG: needs about X GiB (...), more than the Y GiB of memory
// this machine has" when the model's weights plus one batch's activations exceed physical
// memory. The activation estimate is float32: per token and layer the hidden states, q/k/v,
// attention output, the feed-forward's gate/up/product, and one attention row of `width`;
// training keeps every layer's for the backward pass, inference one layer's plus the key/value
// cache; one vocabulary row of logits per row. `flag` names the flag and value
// ("--batch-size 512").
void check_batch_memory(const std::string& flag, const ModelConfig& model, const BatchShape& batch,
                        bool training);

// Throws std::invalid_argument when `n` new tokens (--max-tokens) exceed the model's context
// (n_ctx_train); nothing when the model does not say it.
void check_new_tokens(int64_t n, const ModelConfig& model);

}  // namespace ptune::cli
