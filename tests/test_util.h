// Shared helpers for the test binaries.
#pragma once

#include <string>

namespace ptune::test {

// Absolute path of a file under tests/data.
std::string data_path(const std::string& relative);

// Path of the real default model (fetched by scripts/setup). When it is missing the calling test
// is skipped, unless PTUNE_REQUIRE_MODEL=1 (set by scripts/test and CI), where it fails instead.
// Use as:
//   std::string model;
//   if (!ptune::test::default_model(&model)) GTEST_SKIP() << "default model missing";
bool default_model(std::string* path);

// Reads a whole file; throws std::runtime_error when it cannot.
std::string read_file(const std::string& path);

}  // namespace ptune::test
