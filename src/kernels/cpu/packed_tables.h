// Internal: the per-instruction-set packed kernels, gathered by packed.cpp into its choice per
// ISA (as vec_dot_tables.h is for the row-by-row kernels). nullptr: no kernel for that type.
#pragma once

#include <cstdint>

#include "kernels/cpu/packed.h"

namespace lokal::kernels {

#if defined(__x86_64__) || defined(_M_X64)
PackedGemmFn avx2_packed_gemm(DType weight_type);                 // packed_avx2.cpp
PackedGemmFn amx_packed_gemm(DType weight_type);                  // packed_amx.cpp
void avx2_widen_f16(const uint16_t* src, float* dst, int64_t n);  // packed_avx2.cpp
#elif defined(__aarch64__)
PackedGemmFn neon_packed_gemm(DType weight_type);     // packed_neon.cpp
PackedGemmFn neondot_packed_gemm(DType weight_type);  // packed_neondot.cpp
#endif

}  // namespace lokal::kernels
