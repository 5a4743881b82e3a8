// Register-blocked gemm for the weight types whose activations are Q8_0 (Q8_0, Q4_0, Q5_0): one
// weight block is unpacked once and met by up to eight activation rows held in registers, and
// the activation scales are converted to float once per call instead of once per pair.
//
// Per (weight row, activation row) pair the arithmetic is exactly the single-row kernels' in
// vec_dot_avx2.cpp (8 int32 lanes per block, scaled by the float product of the two block
// scales, accumulated in block order, one horizontal sum at the end), so results are bit for
// bit those of vec_dot: a sequence decodes the same alone or batched with others.
#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/simd_avx2.h"
#include "kernels/cpu/unpack_q8_avx2.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

using namespace avx2;  // NOLINT(google-build-using-namespace)

constexpr int64_t kQK = 32;
// 16 weight rows of 4096 Q8_0 are 70 KB: they stream from L2 while 8 activation rows (35 KB)
// are revisited from L1.
constexpr int kRowTile = 16;

// Weight rows [r0, r1) against kRn activation rows (act, act + act_stride, ...) whose block
// scales are act_scale[j * nb + ib].
template <typename Block, int kRn>
void row_block(int64_t nb, const uint8_t* w, size_t w_stride, int r0, int r1, const uint8_t* act,
               size_t act_stride, const float* act_scale, float* y, size_t ldy) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int r = r0; r < r1; ++r) {
        const Block* wr = reinterpret_cast<const Block*>(w + r * w_stride);
        __m256 acc[kRn];
        for (int j = 0; j < kRn; ++j) acc[j] = _mm256_setzero_ps();
        for (int64_t ib = 0; ib < nb; ++ib) {
            const __m256i q = unpack_block(wr[ib]);
            const __m256i aq = _mm256_sign_epi8(q, q);
            const __m256 dw = _mm256_set1_ps(h2f(wr[ib].d));
            const uint8_t* a = act + ib * sizeof(block_q8_0) + offsetof(block_q8_0, qs);
            for (int j = 0; j < kRn; ++j) {
                const __m256i sy = _mm256_sign_epi8(load256(a + j * act_stride), q);
                const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(aq, sy), ones);
                const __m256 d = _mm256_mul_ps(dw, _mm256_broadcast_ss(act_scale + j * nb + ib));
                acc[j] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc[j]);
            }
        }
        for (int j = 0; j < kRn; ++j) y[j * ldy + r] = hsum(acc[j]);
    }
}

}  // namespace

template <typename Block>
void avx2_gemm_q8(int64_t n, const void* wv, size_t w_stride, int n_w_rows, const void* actv,
                  size_t act_stride, int n_act_rows, float* y, size_t ldy) {
    const int64_t nb = n / kQK;
    const uint8_t* w = static_cast<const uint8_t*>(wv);
    const uint8_t* a = static_cast<const uint8_t*>(actv);
    // Grows to the largest call once per thread; no allocation in the steady state.
    thread_local std::vector<float> scales;
    if (scales.size() < (size_t)(nb * n_act_rows)) scales.resize(nb * n_act_rows);
    for (int b = 0; b < n_act_rows; ++b) {
        const block_q8_0* row = reinterpret_cast<const block_q8_0*>(a + b * act_stride);
        for (int64_t ib = 0; ib < nb; ++ib) scales[b * nb + ib] = h2f(row[ib].d);
    }
    for (int r0 = 0; r0 < n_w_rows; r0 += kRowTile) {
        const int r1 = std::min(n_w_rows, r0 + kRowTile);
        auto block = [&](int b, auto rn) {
            row_block<Block, decltype(rn)::value>(nb, w, w_stride, r0, r1, a + b * act_stride,
                                                  act_stride, scales.data() + b * nb, y + b * ldy,
                                                  ldy);
        };
        // Activation rows in groups of 8, then one of 4, then single rows.
        int b = 0;
        for (; b + 8 <= n_act_rows; b += 8) block(b, std::integral_constant<int, 8>{});
        if (b + 4 <= n_act_rows) {
            block(b, std::integral_constant<int, 4>{});
            b += 4;
        }
        for (; b < n_act_rows; ++b) block(b, std::integral_constant<int, 1>{});
    }
}

template void avx2_gemm_q8<block_q8_0>(int64_t, const void*, size_t, int, const void*, size_t, int,
                                       float*, size_t);
template void avx2_gemm_q8<block_q4_0>(int64_t, const void*, size_t, int, const void*, size_t, int,
                                       float*, size_t);
template void avx2_gemm_q8<block_q5_0>(int64_t, const void*, size_t, int, const void*, size_t, int,
                                       float*, size_t);

}  // namespace lokal::kernels
