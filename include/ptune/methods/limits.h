// Bounds on options, and the checks behind them, shared by the method configs (validate() and
// validate_for()) and the command line (cli/common.h wraps the range checks as CLI11
// validators), so every numeric option is refused with one kind of message:
//   "--batch-size: 0 is not between 1 and 4096"
//   "--encoder-hidden 60000: the prompt encoder needs about 2.1 TiB ..., more than the 23 GiB
//    of memory this machine has"
// Every bound is listed in docs/limits.md.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "ptune/model/config.h"

namespace ptune::methods {

// Static caps of the method options. The model-based checks come on top, when the model is
// known (MethodConfig::validate_for).
// Virtual tokens: 4096 is the whole context of many small models and far past the 10-100 tokens
// the prompt-tuning papers use; the prompt must also leave room for the input (n_ctx_train).
inline constexpr int64_t kMaxVirtualTokens = 4096;
// Encoder hidden size: 4x the widest hidden size of today's large models (16384). Below it the
// memory check (validate_for) decides: an encoder has ~H^2 x layers parameters.
inline constexpr int64_t kMaxEncoderHidden = 65536;
// LSTM layers: PEFT's default is 2; deeper ones add nothing to a 4-100 token sequence.
inline constexpr int64_t kMaxEncoderLayers = 64;

// An optional sign, then one or more digits, and nothing else (of any size).
bool is_decimal_text(const std::string& text);
// Strict decimal integer: optional sign, then digits only (no spaces, no 0x, no exponent).
// False for anything else and for text outside int64 (overflow is an error, never wrapped or
// clamped).
bool parse_decimal(const std::string& text, int64_t* value);

// "" when `text` is a decimal integer in [lo, hi]; else why not, written to follow the
// option's name: "0 is not between 1 and 4096", "-1 is not between 0 and 100",
// "99999999999999999999 is not between 0 and 1000000000", "expected an integer, got 'x'".
std::string integer_range_error(const std::string& text, int64_t lo, int64_t hi);
// The same for a finite number in [lo, hi] (NaN and infinities are refused).
std::string number_range_error(const std::string& text, double lo, double hi);

// Throws std::invalid_argument "--NAME: VALUE is not between LO and HI" when `value` is outside
// [lo, hi]: for validate() of configs set in code, with the CLI's message.
void check_integer_range(const std::string& name, int64_t value, int64_t lo, int64_t hi);
void check_number_range(const std::string& name, double value, double lo, double hi);

// A number as messages print it: integers in full ("4096"), others in %g ("0.5", "1e-08").
std::string number_text(double value);

// Physical memory of this machine: sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE); 0 when the
// system does not say.
uint64_t physical_memory_bytes();
// "1.5 GiB", "2.1 TiB": a byte count for messages.
std::string bytes_text(double bytes);
// Throws std::invalid_argument "WHAT: needs about X (FOR), more than the Y of memory this
// machine has" when `bytes` exceeds physical memory (nothing when that is unknown). Call it
// before allocating.
void check_fits_memory(const std::string& what, double bytes, const std::string& for_what);

// Bytes to train `parameters` float32 parameters with AdamW: the values, their gradients, the
// two moment estimates and the step's temporaries (6 copies).
double adamw_training_bytes(double parameters);

// Throws std::invalid_argument when a prompt of `n` virtual tokens leaves no room for any input
// in the model's context (n >= n_ctx_train); nothing when the model does not say its context.
void check_virtual_tokens_fit(int64_t n, const ModelConfig& model);

}  // namespace ptune::methods
