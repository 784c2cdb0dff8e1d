// Which CPU instruction set the CPU kernels run with, chosen once at run time.
#pragma once

namespace fastvid {

// True when this CPU can run the AVX2+FMA(+F16C) build of the CPU kernels.
bool cpu_has_avx2_fma();

// "avx2" or "baseline": the variant of the CPU kernels that runs on this machine. The environment
// variable FASTVID_CPU_ISA=baseline forces the portable variant (used by the tests to cover both).
const char* cpu_kernel_isa();

}  // namespace fastvid
