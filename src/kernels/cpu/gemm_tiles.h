// Internal: the tiled driver behind every TypeKernels::gemm, instantiated per ISA file with that
// file's own vec_dot and (optional) four-row kernel. Plain C++; the kernels carry the SIMD.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/vec_dot.h"

namespace lokal::kernels {

// Weight rows per tile: 16 rows of a 4096-wide Q4_K matrix are 37 KB (L2), while the four
// activation rows they meet (4096 Q8_K: 18 KB) stay in L1.
inline constexpr int kGemmRowTile = 16;

template <VecDotFn kDot, VecDotX4Fn kDot4>
void gemm_tiled(int64_t n, const void* wv, size_t w_stride, int n_w_rows, const void* actv,
                size_t act_stride, int n_act_rows, float* y, size_t ldy) {
    const uint8_t* w = static_cast<const uint8_t*>(wv);
    const uint8_t* act = static_cast<const uint8_t*>(actv);
    for (int r0 = 0; r0 < n_w_rows; r0 += kGemmRowTile) {
        const int r1 = std::min(n_w_rows, r0 + kGemmRowTile);
        int b = 0;
        if constexpr (kDot4 != nullptr) {
            for (; b + 4 <= n_act_rows; b += 4) {
                const void* rows[4] = {act + b * act_stride, act + (b + 1) * act_stride,
                                       act + (b + 2) * act_stride, act + (b + 3) * act_stride};
                for (int r = r0; r < r1; ++r) {
                    float out[4];
                    kDot4(n, w + r * w_stride, rows, out);
                    for (int i = 0; i < 4; ++i) y[(b + i) * ldy + r] = out[i];
                }
            }
        }
        for (; b < n_act_rows; ++b) {
            for (int r = r0; r < r1; ++r)
                y[b * ldy + r] = kDot(n, w + r * w_stride, act + b * act_stride);
        }
    }
}

}  // namespace lokal::kernels
