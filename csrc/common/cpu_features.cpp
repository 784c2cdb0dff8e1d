#include "common/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace fastvid {

bool cpu_has_avx2_fma() {
  // AVX2 + FMA + F16C: every AVX2 CPU has F16C, the AVX2 build uses it for float16 output.
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("f16c");
  }();
  return has;
#else
  return false;
#endif
}

const char* cpu_kernel_isa() {
  const char* forced = std::getenv("FASTVID_CPU_ISA");
  if (forced != nullptr && std::strcmp(forced, "baseline") == 0) {
    return "baseline";
  }
  return cpu_has_avx2_fma() ? "avx2" : "baseline";
}

}  // namespace fastvid
