// The packed-group kernels for AArch64 CPUs with the DotProd extension (Armv8.2+: Apple M1 and
// later, Neoverse, Cortex-A76 and later): packed_neon_kernels.h on SDOT. Compiled with
// +dotprod and chosen only when the CPU reports it.
#include "kernels/cpu/packed_neon_kernels.h"
#include "kernels/cpu/packed_tables.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "packed_neondot.cpp must be compiled with the DotProd extension (-march=armv8.2-a+dotprod)"
#endif

namespace lokal::kernels {

PackedGemmFn neondot_packed_gemm(DType weight_type) {
    return neon::packed_gemm(weight_type);
}

}  // namespace lokal::kernels
