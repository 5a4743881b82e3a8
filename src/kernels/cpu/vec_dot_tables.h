// Internal: per-ISA kernel entry points, gathered into tables by vec_dot.cpp.
#pragma once

#include "kernels/cpu/vec_dot.h"

namespace lokal::kernels {

VecDotFn ref_vec_dot(DType weight_type);  // vec_dot_ref.cpp; nullptr when no kernel
GemmFn ref_gemm(DType weight_type);       // tiles of ref_vec_dot
#if defined(__x86_64__) || defined(_M_X64)
VecDotFn avx2_vec_dot(DType weight_type);         // vec_dot_avx2.cpp; nullptr falls back to ref
VecDotX4Fn avx2_vec_dot_x4(DType weight_type);    // nullptr: no four-row kernel
GemmFn avx2_gemm_q8_family(DType weight_type);    // Q8_0/Q4_0/Q5_0, else nullptr
GemmFn avx2_gemm(DType weight_type);              // nullptr exactly where avx2_vec_dot is
QuantizeActFn avx2_quantize_act(DType act_type);  // quantize_act_avx2.cpp; nullptr: use ref

// vec_dot_avx512.cpp (needs F/BW/VL/DQ); vnni picks the VPDPBUSD variants. nullptr: use AVX2's
// (each measured: only where these are faster).
VecDotFn avx512_vec_dot(DType weight_type, bool vnni);
GemmFn avx512_gemm(DType weight_type, bool vnni);
#endif

// Runs the AMX packed kernels once against the scalar reference (packed_amx_check.cpp): the
// tile path is only chosen when they agree bit for bit. False without AMX.
bool amx_kernels_verified();

}  // namespace lokal::kernels
