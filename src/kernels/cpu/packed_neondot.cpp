// The packed-group kernels for AArch64 CPUs with the DotProd extension (Armv8.2+: Apple M1 and
// later, Neoverse, Cortex-A76 and later): packed_neon_kernels.h on SDOT. Compiled with
// +dotprod and chosen only when the CPU reports it.
#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed_neon_kernels.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "packed_neondot.cpp must be compiled with the DotProd extension (-march=armv8.2-a+dotprod)"
#endif

namespace lokal::kernels {

KernelRows neondot_rows() {
    return neon::kRows;
}

}  // namespace lokal::kernels
