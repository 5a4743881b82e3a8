// The packed-group kernels for every AArch64 CPU (Armv8.0 Advanced SIMD): packed_neon_kernels.h
// with its four-byte dot products made of widening multiplies.
#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed_neon_kernels.h"

namespace lokal::kernels {

KernelRows neon_rows() {
    return neon::kRows;
}

}  // namespace lokal::kernels
