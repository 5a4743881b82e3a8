// Internal: per-ISA vec_dot entry points, gathered into tables by vec_dot.cpp.
#pragma once

#include "kernels/cpu/vec_dot.h"

namespace lokal::kernels {

VecDotFn ref_vec_dot(DType weight_type);  // vec_dot_ref.cpp; nullptr when no kernel
#if defined(__x86_64__) || defined(_M_X64)
VecDotFn avx2_vec_dot(DType weight_type);       // vec_dot_avx2.cpp; nullptr falls back to ref
VecDotX4Fn avx2_vec_dot_x4(DType weight_type);  // nullptr: no four-row kernel
#endif

}  // namespace lokal::kernels
