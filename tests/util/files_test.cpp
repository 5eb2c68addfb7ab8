// util::read_file_bounded: the whole file, or a clear refusal for a folder, a missing file and a
// file past the cap, found while reading (an endless /dev/zero stops at the cap).
#include "ptune/util/files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ptune::util {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::string& path, size_t cap) {
  try {
    read_file_bounded(path, cap);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(ReadFileBounded, ReadsWholeFilesAndRefusesTheRest) {
  const std::string path = (std::filesystem::temp_directory_path() / "ptune_bounded.txt").string();
  std::ofstream(path, std::ios::binary) << std::string(100000, 'a');
  EXPECT_EQ(read_file_bounded(path, 100000), std::string(100000, 'a'));
  EXPECT_THAT(error_of(path, 99999), HasSubstr("is larger than"));
  std::filesystem::remove(path);
  EXPECT_THAT(error_of(path, 10), HasSubstr("cannot open"));
  EXPECT_THAT(error_of(std::filesystem::temp_directory_path().string(), 10),
              HasSubstr("is a folder"));
  EXPECT_THAT(error_of("/dev/zero", size_t{1} << 20), HasSubstr("is larger than 1 MiB"));
}

}  // namespace
}  // namespace ptune::util
