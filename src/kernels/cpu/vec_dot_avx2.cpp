// AVX2 + FMA + F16C dot products (compiled with -mavx2 -mfma -mf16c; picked at run time).
#include "kernels/cpu/vec_dot_tables.h"

namespace lokal::kernels {

VecDotFn avx2_vec_dot(DType) {
    return nullptr;  // filled in below as kernels land
}

}  // namespace lokal::kernels
