#include "test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ptune::test {

std::string data_path(const std::string& relative) {
  return std::string(PTUNE_TEST_DATA_DIR) + "/" + relative;
}

bool default_model(std::string* path) {
  const char* env = std::getenv("PTUNE_MODEL");
  *path = env && *env ? env : PTUNE_DEFAULT_MODEL_PATH;
  if (std::filesystem::exists(*path)) return true;
  const char* require = std::getenv("PTUNE_REQUIRE_MODEL");
  if (require && std::string(require) == "1") {
    ADD_FAILURE() << "default model missing at " << *path << " (run scripts/setup)";
  }
  return false;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ptune::test
