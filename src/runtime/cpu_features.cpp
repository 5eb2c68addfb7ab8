// CPU feature detection; contract in ptune/runtime/cpu_features.h.
#include "ptune/runtime/cpu_features.h"

#include <utility>

namespace ptune {

namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512_vnni = __builtin_cpu_supports("avx512vnni");
  f.avx_vnni = __builtin_cpu_supports("avxvnni");
  f.avx512_bf16 = __builtin_cpu_supports("avx512bf16");
  f.amx_bf16 = __builtin_cpu_supports("amx-bf16");
  f.amx_int8 = __builtin_cpu_supports("amx-int8");
#endif
  return f;
}

}  // namespace

std::vector<std::string> CpuFeatures::names() const {
  const std::pair<bool, const char*> all[] = {{avx2, "avx2"},         {fma, "fma"},
                                              {avx512f, "avx512f"},   {avx512_vnni, "avx512_vnni"},
                                              {avx_vnni, "avx_vnni"}, {avx512_bf16, "avx512_bf16"},
                                              {amx_bf16, "amx_bf16"}, {amx_int8, "amx_int8"}};
  std::vector<std::string> out;
  for (const auto& [has, name] : all)
    if (has) out.push_back(name);
  return out;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

}  // namespace ptune
