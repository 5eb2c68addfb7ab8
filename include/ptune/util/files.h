// Small filesystem helpers shared by the layers that read user files and write folders (the
// CLI's -o, the run store).
#pragma once

#include <cstddef>
#include <string>

namespace ptune::util {

// mkdir -p: makes `dir` and every missing folder above it; throws std::runtime_error
// "cannot create PART: reason" naming the part that cannot be made. An existing folder (or
// file) is left as it is.
void make_dirs(const std::string& dir);

// The whole file at `path`, refusing (std::runtime_error, the reason only: callers add the path
// and their error type) a folder, a file that cannot be opened, and one longer than `max_bytes`,
// found while reading, so /dev/zero or a runaway file stops at the cap instead of filling memory.
std::string read_file_bounded(const std::string& path, size_t max_bytes);

// Limits of what ptune reads (docs/limits.md).
inline constexpr size_t kMaxDataFileBytes = size_t{1} << 30;   // a data split: 1 GiB
inline constexpr size_t kMaxSpecFileBytes = size_t{16} << 20;  // task / prompt files: 16 MiB
inline constexpr size_t kMaxLineBytes = size_t{8} << 20;       // a JSONL line or CSV field

}  // namespace ptune::util
