// The packed-group kernels for every AArch64 CPU (Armv8.0 Advanced SIMD): packed_neon_kernels.h
// with its four-byte dot products made of widening multiplies.
#include "kernels/cpu/packed_neon_kernels.h"
#include "kernels/cpu/packed_tables.h"

namespace lokal::kernels {

PackedGemmFn neon_packed_gemm(DType weight_type) {
    return neon::packed_gemm(weight_type);
}

}  // namespace lokal::kernels
