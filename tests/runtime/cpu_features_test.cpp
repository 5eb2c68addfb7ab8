// CPU feature detection agrees with the kernel's view (/proc/cpuinfo's flags use the same names),
// and bfloat16 matmuls are reported exactly where AVX512-BF16 or AMX-BF16 is.
#include "ptune/runtime/cpu_features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace ptune {
namespace {

// The first processor's flags, or empty when /proc/cpuinfo has none (not Linux on x86).
std::set<std::string> cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string w; words >> w;) flags.insert(w);
    return flags;
  }
  return {};
}

TEST(CpuFeatures, AgreeWithProcCpuinfo) {
  const std::set<std::string> flags = cpuinfo_flags();
  if (flags.empty()) GTEST_SKIP() << "no flags line in /proc/cpuinfo";
  const std::vector<std::string> detected = cpu_features().names();
  for (const char* name : {"avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16",
                           "amx_bf16", "amx_int8"}) {
    const bool in_detected = std::count(detected.begin(), detected.end(), name) == 1;
    EXPECT_EQ(in_detected, flags.count(name) == 1) << name;
  }
  EXPECT_EQ(cpu_features().bf16_matmul(), flags.count("avx512_bf16") || flags.count("amx_bf16"));
}

}  // namespace
}  // namespace ptune
