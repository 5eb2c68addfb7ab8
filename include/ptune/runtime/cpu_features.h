// The x86 features that decide which precision runs fast here (issue 17: int8 and bfloat16
// matmuls need AVX-512 VNNI / AVX-VNNI, AVX512-BF16 or AMX). Detected once, by the compiler's
// CPUID builtins; every field is false on other architectures.
#pragma once

#include <string>
#include <vector>

namespace ptune {

struct CpuFeatures {
  bool avx2 = false, fma = false;
  bool avx512f = false, avx512_vnni = false, avx_vnni = false;
  bool avx512_bf16 = false, amx_bf16 = false, amx_int8 = false;

  // The detected features' names as /proc/cpuinfo spells them ("avx2", "avx512_bf16", ...),
  // in the order above.
  std::vector<std::string> names() const;
  // bfloat16 matmuls in hardware (AVX512-BF16 or AMX-BF16). Without them libtorch falls back
  // to a scalar GEMM: a SmolLM2 prefill measured over 10 minutes against seconds in float32,
  // so the CLI refuses --dtype bfloat16 on such CPUs and the benches skip it. False on other
  // architectures, the conservative answer.
  bool bf16_matmul() const { return avx512_bf16 || amx_bf16; }
};

// This CPU's features (detected on the first call).
const CpuFeatures& cpu_features();

}  // namespace ptune
