// Option bounds and resource checks; contract in ptune/methods/limits.h.
#include "ptune/methods/limits.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "ptune/util/errors.h"

namespace ptune::methods {

namespace {

std::string not_between(const std::string& value, const std::string& lo, const std::string& hi) {
  return value + " is not between " + lo + " and " + hi;
}

}  // namespace

bool is_decimal_text(const std::string& text) {
  const size_t start = !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
  return text.size() > start && text.find_first_not_of("0123456789", start) == std::string::npos;
}

bool parse_decimal(const std::string& text, int64_t* value) {
  if (!is_decimal_text(text)) return false;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), nullptr, 10);
  if (errno == ERANGE) return false;
  *value = v;
  return true;
}

std::string integer_range_error(const std::string& text, int64_t lo, int64_t hi) {
  if (!is_decimal_text(text)) return "expected an integer, got '" + util::clipped(text) + "'";
  // Digits that do not fit 64 bits are a number out of range, like any other.
  int64_t v = 0;
  if (parse_decimal(text, &v) && v >= lo && v <= hi) return "";
  return not_between(util::clipped(text), std::to_string(lo), std::to_string(hi));
}

std::string number_range_error(const std::string& text, double lo, double hi) {
  char* end = nullptr;
  const double v = text.empty() ? NAN : std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || std::isspace(static_cast<unsigned char>(text[0]))) {
    return "expected a number, got '" + util::clipped(text) + "'";
  }
  if (std::isfinite(v) && v >= lo && v <= hi) return "";
  return not_between(util::clipped(text), number_text(lo), number_text(hi));
}

void check_integer_range(const std::string& name, int64_t value, int64_t lo, int64_t hi) {
  if (value >= lo && value <= hi) return;
  throw std::invalid_argument(
      "--" + name + ": " +
      not_between(std::to_string(value), std::to_string(lo), std::to_string(hi)));
}

void check_number_range(const std::string& name, double value, double lo, double hi) {
  if (std::isfinite(value) && value >= lo && value <= hi) return;
  throw std::invalid_argument("--" + name + ": " +
                              not_between(number_text(value), number_text(lo), number_text(hi)));
}

std::string number_text(double v) {
  char buf[32];
  if (std::fabs(v) < 1e15 && v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

std::string bytes_text(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  size_t u = 0;
  while (bytes >= 1024 && u + 1 < sizeof units / sizeof units[0]) bytes /= 1024, ++u;
  char buf[48];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

void check_fits_memory(const std::string& what, double bytes, const std::string& for_what) {
  const uint64_t ram = physical_memory_bytes();
  if (ram == 0 || bytes <= static_cast<double>(ram)) return;
  throw std::invalid_argument(what + ": needs about " + bytes_text(bytes) + " (" + for_what +
                              "), more than the " + bytes_text(static_cast<double>(ram)) +
                              " of memory this machine has");
}

double adamw_training_bytes(double parameters) {
  // The value, its gradient, exp_avg and exp_avg_sq, and two more of the same size that
  // libtorch's element-wise step makes on the way (measured: an MLP encoder of 0.9e9 parameters
  // peaked above 20 GiB, 22 bytes per parameter, before its first step ended).
  return parameters * 6.0 * sizeof(float);
}

void check_virtual_tokens_fit(int64_t n, const ModelConfig& model) {
  if (model.n_ctx_train <= 0 || n < model.n_ctx_train) return;
  throw std::invalid_argument("--virtual-tokens " + std::to_string(n) +
                              ": leaves no room for the input in the model's context of " +
                              std::to_string(model.n_ctx_train) + " tokens");
}

}  // namespace ptune::methods
