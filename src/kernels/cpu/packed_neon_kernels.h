// Internal: the AArch64 Advanced SIMD kernels of the packed 8-row groups (layouts in packed.h),
// included by two files that differ only in their compile flags:
//   - packed_neon.cpp (Armv8.0, every AArch64 CPU): a four-byte dot product is two widening
//     multiplies and two pairwise adds;
//   - packed_neondot.cpp (Armv8.2 + DotProd, __ARM_FEATURE_DOTPROD): it is one SDOT.
// A 16-byte half of a packed load holds 4 bytes of each of 4 rows, exactly SDOT's by-element
// layout: vdotq_laneq_s32(acc, w, a, h) adds to lane r row r's 4 bytes times activation bytes
// 4h..4h + 3, so a group's 8 rows are two accumulators and no horizontal sum is needed.
//
// The integer sums are exact and the float steps are the scalar reference's (packed.cpp), with
// fused multiply-adds, so every result is bit for bit the reference's.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/cpu/packed_tiles.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels::neon {
namespace {  // NOLINT(cert-dcl59-cpp,google-build-namespaces): one copy per including file

using packed_tiles::ActRows;
using packed_tiles::gemm;

// f(std::integral_constant<int, i>) for i < n, unrolled (lane numbers must be constants).
template <class F, int... I>
inline void unroll_impl(F& f, std::integer_sequence<int, I...>) {
    (f(std::integral_constant<int, I>{}), ...);
}
template <int n, class F>
inline void unroll(F f) {
    unroll_impl(f, std::make_integer_sequence<int, n>{});
}

// acc[r] += sum over j < 4 of w[4r + j] * a[4 kLane + j].
template <int kLane>
inline int32x4_t dot_lane(int32x4_t acc, int8x16_t w, int8x16_t a) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_laneq_s32(acc, w, a, kLane);
#else
    const int8x16_t b = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(a), kLane));
    const int16x8_t lo = vmull_s8(vget_low_s8(w), vget_low_s8(b));
    const int16x8_t hi = vmull_high_s8(w, b);
    return vaddq_s32(acc, vpaddq_s32(vpaddlq_s16(lo), vpaddlq_s16(hi)));
#endif
}

// The 8 fp16 values at p as floats: rows 0..3 and 4..7.
struct F32x8 {
    float32x4_t v[2];
};
inline F32x8 load_f16x8(const uint16_t* p) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
    return {{vcvt_f32_f16(vget_low_f16(h)), vcvt_high_f32_f16(h)}};
}
inline F32x8 load_bf16x8(const uint16_t* p) {
    const uint16x8_t h = vld1q_u16(p);
    return {{vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)),
             vreinterpretq_f32_u32(vshll_high_n_u16(h, 16))}};
}

// Bytes 0, 2, .., 14 (kOdd: 1, 3, .., 15) of 16 signed bytes, widened: rows 0..3 and 4..7.
template <bool kOdd>
inline void pick_widen(int8x16_t pairs, int32x4_t out[2]) {
    const int8x16_t picked = kOdd ? vuzp2q_s8(pairs, pairs) : vuzp1q_s8(pairs, pairs);
    const int16x8_t w = vmovl_s8(vget_low_s8(picked));
    out[0] = vmovl_s16(vget_low_s16(w));
    out[1] = vmovl_high_s16(w);
}

// kRn activation rows' float accumulators of one group: acc[j].v[h] for rows 4h..4h + 3.
template <int kRn>
struct Accumulators {
    F32x8 acc[kRn];

    Accumulators() {
        for (int j = 0; j < kRn; ++j) acc[j] = {{vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)}};
    }
    // acc = fma(d_w * d_a, (float)isum, acc), the reference's block step.
    void add(int j, const F32x8& d_w, float d_a, const int32x4_t isum[2]) {
        for (int h = 0; h < 2; ++h) {
            const float32x4_t d = vmulq_n_f32(d_w.v[h], d_a);
            acc[j].v[h] = vfmaq_f32(acc[j].v[h], d, vcvtq_f32_s32(isum[h]));
        }
    }
    void store(float* y, size_t ldy) const {
        for (int j = 0; j < kRn; ++j) {
            vst1q_f32(y + j * ldy, acc[j].v[0]);
            vst1q_f32(y + j * ldy + 4, acc[j].v[1]);
        }
    }
};

// ---- 32-column blocks against Q8_0 activations -----------------------------------------------

// Q4_0, Q5_0 and Q8_0 share the frame: per block, Unpack::sums adds each activation row's exact
// dot products (with the stored offsets) to s[j], then the side data's offset is removed.
template <class Unpack, typename Packed, int kRn>
void q32_tile(int64_t nb, const Packed* w, const ActRows& ar, float* y, size_t ldy) {
    const block_q8_0* a[kRn];
    const ActInfoQ8_0* ai[kRn];
    for (int j = 0; j < kRn; ++j) {
        a[j] = ar.row<block_q8_0>(j);
        ai[j] = ar.info_row<ActInfoQ8_0>(j);
    }
    Accumulators<kRn> acc;
    for (int64_t ib = 0; ib < nb; ++ib) {
        int8x16_t av[kRn][2];
        int32x4_t s[kRn][2];
        for (int j = 0; j < kRn; ++j) {
            av[j][0] = vld1q_s8(a[j][ib].qs);
            av[j][1] = vld1q_s8(a[j][ib].qs + 16);
            const int32x4_t offset = vdupq_n_s32(-Unpack::kOffsetTimes8 * ai[j][ib].sum_x8);
            s[j][0] = offset;
            s[j][1] = offset;
        }
        Unpack::template sums<kRn>(w[ib], av, s);
        const F32x8 d_w = load_f16x8(w[ib].d);
        for (int j = 0; j < kRn; ++j) acc.add(j, d_w, ai[j][ib].d, s[j]);
    }
    acc.store(y, ldy);
}

struct UnpackQ4_0 {
    static constexpr int kOffsetTimes8 = 1;  // stored q + 8
    template <int kRn>
    static void sums(const block_q4_0x8& w, const int8x16_t (&av)[kRn][2], int32x4_t (&s)[kRn][2]) {
        const uint8x16_t m4 = vdupq_n_u8(0x0F);
        unroll<4>([&](auto hc) {
            constexpr int h = decltype(hc)::value;
            for (int half = 0; half < 2; ++half) {
                const uint8x16_t v = vld1q_u8(w.qs + 32 * h + 16 * half);
                const int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(v, m4));
                const int8x16_t hi = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
                for (int j = 0; j < kRn; ++j) {
                    s[j][half] = dot_lane<h>(s[j][half], lo, av[j][0]);
                    s[j][half] = dot_lane<h>(s[j][half], hi, av[j][1]);
                }
            }
        });
    }
};

struct UnpackQ5_0 {
    static constexpr int kOffsetTimes8 = 2;  // stored q + 16
    template <int kRn>
    static void sums(const block_q5_0x8& w, const int8x16_t (&av)[kRn][2], int32x4_t (&s)[kRn][2]) {
        const uint8x16_t m4 = vdupq_n_u8(0x0F);
        const uint8x16_t bit4 = vdupq_n_u8(0x10);
        const uint8x16_t qh[2] = {vld1q_u8(w.qh), vld1q_u8(w.qh + 16)};
        unroll<4>([&](auto hc) {
            constexpr int h = decltype(hc)::value;
            // Bits 2h and 2h + 1 of qh moved to bit 4 (a negative count shifts right).
            const int8x16_t to_lo = vdupq_n_s8(4 - 2 * h);
            const int8x16_t to_hi = vdupq_n_s8(3 - 2 * h);
            for (int half = 0; half < 2; ++half) {
                const uint8x16_t v = vld1q_u8(w.qs + 32 * h + 16 * half);
                const uint8x16_t lo5 = vandq_u8(vshlq_u8(qh[half], to_lo), bit4);
                const uint8x16_t hi5 = vandq_u8(vshlq_u8(qh[half], to_hi), bit4);
                const int8x16_t lo = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(v, m4), lo5));
                const int8x16_t hi = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(v, 4), hi5));
                for (int j = 0; j < kRn; ++j) {
                    s[j][half] = dot_lane<h>(s[j][half], lo, av[j][0]);
                    s[j][half] = dot_lane<h>(s[j][half], hi, av[j][1]);
                }
            }
        });
    }
};

struct UnpackQ8_0 {
    static constexpr int kOffsetTimes8 = 0;
    template <int kRn>
    static void sums(const block_q8_0x8& w, const int8x16_t (&av)[kRn][2], int32x4_t (&s)[kRn][2]) {
        unroll<8>([&](auto hc) {
            constexpr int h = decltype(hc)::value;
            for (int half = 0; half < 2; ++half) {
                const int8x16_t v = vld1q_s8(w.qs + 32 * h + 16 * half);
                for (int j = 0; j < kRn; ++j) {
                    s[j][half] = dot_lane<h % 4>(s[j][half], v, av[j][h / 4]);
                }
            }
        });
    }
};

// ---- K-quants against Q8_K activations --------------------------------------------------------

// Q4_K: per pair k of sub-blocks, the low nibbles (sub-block 2k) and high nibbles (2k + 1) give
// exact sums lo and hi per row; isum = sum lo * scale + hi * scale', imin = sum mins * the
// activation's sub-block sums; acc = fma(d, isum, acc), then acc = fma(-dmin, imin, acc).
template <int kRn>
void q4_K_tile(int64_t nb, const block_q4_Kx8* w, const ActRows& ar, float* y, size_t ldy) {
    const block_q8_K* a[kRn];
    const ActInfoQ8_K* ai[kRn];
    for (int j = 0; j < kRn; ++j) {
        a[j] = ar.row<block_q8_K>(j);
        ai[j] = ar.info_row<ActInfoQ8_K>(j);
    }
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    Accumulators<kRn> acc;
    for (int64_t ib = 0; ib < nb; ++ib) {
        const block_q4_Kx8& wb = w[ib];
        int32x4_t isum[kRn][2], imin[kRn][2];
        for (int j = 0; j < kRn; ++j) {
            for (int half = 0; half < 2; ++half) {
                isum[j][half] = vdupq_n_s32(0);
                imin[j][half] = vdupq_n_s32(0);
            }
        }
        for (int k = 0; k < 4; ++k) {
            int32x4_t lo[kRn][2], hi[kRn][2];
            int8x16_t av[kRn][4];  // columns 64k + 16i ..
            for (int j = 0; j < kRn; ++j) {
                for (int i = 0; i < 4; ++i) av[j][i] = vld1q_s8(a[j][ib].qs + 64 * k + 16 * i);
                for (int half = 0; half < 2; ++half) {
                    lo[j][half] = vdupq_n_s32(0);
                    hi[j][half] = vdupq_n_s32(0);
                }
            }
            unroll<8>([&](auto hc) {
                constexpr int h = decltype(hc)::value;
                for (int half = 0; half < 2; ++half) {
                    const uint8x16_t v = vld1q_u8(wb.qs + 256 * k + 32 * h + 16 * half);
                    const int8x16_t l = vreinterpretq_s8_u8(vandq_u8(v, m4));
                    const int8x16_t u = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
                    for (int j = 0; j < kRn; ++j) {
                        lo[j][half] = dot_lane<h % 4>(lo[j][half], l, av[j][h / 4]);
                        hi[j][half] = dot_lane<h % 4>(hi[j][half], u, av[j][2 + h / 4]);
                    }
                }
            });
            // The 6-bit scales and mins are below 64: as signed bytes they widen unchanged.
            int32x4_t sc_lo[2], sc_hi[2], mn_lo[2], mn_hi[2];
            const int8x16_t scales = vreinterpretq_s8_u8(vld1q_u8(wb.scales[k]));
            const int8x16_t mins = vreinterpretq_s8_u8(vld1q_u8(wb.mins[k]));
            pick_widen<false>(scales, sc_lo);
            pick_widen<true>(scales, sc_hi);
            pick_widen<false>(mins, mn_lo);
            pick_widen<true>(mins, mn_hi);
            for (int j = 0; j < kRn; ++j) {
                const int32_t sums_lo = ai[j][ib].sub_sums[2 * k];
                const int32_t sums_hi = ai[j][ib].sub_sums[2 * k + 1];
                for (int half = 0; half < 2; ++half) {
                    isum[j][half] = vmlaq_s32(isum[j][half], lo[j][half], sc_lo[half]);
                    isum[j][half] = vmlaq_s32(isum[j][half], hi[j][half], sc_hi[half]);
                    imin[j][half] = vmlaq_n_s32(imin[j][half], mn_lo[half], sums_lo);
                    imin[j][half] = vmlaq_n_s32(imin[j][half], mn_hi[half], sums_hi);
                }
            }
        }
        const F32x8 d_w = load_f16x8(wb.d);
        const F32x8 dmin_w = load_f16x8(wb.dmin);
        for (int j = 0; j < kRn; ++j) {
            for (int half = 0; half < 2; ++half) {
                const float32x4_t d = vmulq_n_f32(d_w.v[half], a[j][ib].d);
                const float32x4_t dmin = vmulq_n_f32(dmin_w.v[half], a[j][ib].d);
                float32x4_t& r = acc.acc[j].v[half];
                r = vfmaq_f32(r, d, vcvtq_f32_s32(isum[j][half]));
                r = vfmsq_f32(r, dmin, vcvtq_f32_s32(imin[j][half]));
            }
        }
    }
    acc.store(y, ldy);
}

// Q6_K: the quants of elements 128 c2 + 32 i + 4 h + j (packed_layout.h) for fixed c2, i and
// half hh = h / 4 form sub-block s = 8 c2 + 2 i + hh; isum = sum dot_s * scale_s and
// corr = sum scale_s * bsums_s per row, acc = fma(d_w * d_a, isum - 32 corr, acc).
template <int kI>
inline void q6_quants(const uint8_t* at, int8x16_t out[2]) {
    const uint8x16_t m6 = vdupq_n_u8(0x3F);
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    for (int half = 0; half < 2; ++half) {
        const uint8_t* p = at + 16 * half;
        uint8x16_t q;
        if constexpr (kI == 0) {
            q = vandq_u8(vld1q_u8(p), m6);
        } else if constexpr (kI == 1) {
            q = vorrq_u8(vandq_u8(vld1q_u8(p + 64), m4), vshlq_n_u8(vshrq_n_u8(vld1q_u8(p), 6), 4));
        } else if constexpr (kI == 2) {
            q = vandq_u8(vld1q_u8(p + 32), m6);
        } else {
            q = vorrq_u8(vshrq_n_u8(vld1q_u8(p + 64), 4),
                         vshlq_n_u8(vshrq_n_u8(vld1q_u8(p + 32), 6), 4));
        }
        out[half] = vreinterpretq_s8_u8(q);
    }
}

template <int kRn>
void q6_K_tile(int64_t nb, const block_q6_Kx8* w, const ActRows& ar, float* y, size_t ldy) {
    const block_q8_K* a[kRn];
    for (int j = 0; j < kRn; ++j) a[j] = ar.row<block_q8_K>(j);
    Accumulators<kRn> acc;
    for (int64_t ib = 0; ib < nb; ++ib) {
        const block_q6_Kx8& wb = w[ib];
        int32x4_t isum[kRn][2], corr[kRn][2];
        for (int j = 0; j < kRn; ++j) {
            for (int half = 0; half < 2; ++half) {
                isum[j][half] = vdupq_n_s32(0);
                corr[j][half] = vdupq_n_s32(0);
            }
        }
        for (int c2 = 0; c2 < 2; ++c2) {
            unroll<4>([&](auto ic) {
                constexpr int i = decltype(ic)::value;
                for (int hh = 0; hh < 2; ++hh) {
                    const int s = 8 * c2 + 2 * i + hh;
                    int32x4_t dot[kRn][2];
                    int8x16_t av[kRn];
                    for (int j = 0; j < kRn; ++j) {
                        av[j] = vld1q_s8(a[j][ib].qs + 128 * c2 + 32 * i + 16 * hh);
                        dot[j][0] = vdupq_n_s32(0);
                        dot[j][1] = vdupq_n_s32(0);
                    }
                    unroll<4>([&](auto hc) {
                        constexpr int h4 = decltype(hc)::value;
                        int8x16_t q[2];
                        q6_quants<i>(wb.qs + q6_at(c2, 4 * hh + h4, 0), q);
                        for (int j = 0; j < kRn; ++j) {
                            dot[j][0] = dot_lane<h4>(dot[j][0], q[0], av[j]);
                            dot[j][1] = dot_lane<h4>(dot[j][1], q[1], av[j]);
                        }
                    });
                    int32x4_t sc[2];
                    const int8x16_t pairs = vld1q_s8(wb.scale_pairs[s / 2]);
                    if (hh == 0) {
                        pick_widen<false>(pairs, sc);
                    } else {
                        pick_widen<true>(pairs, sc);
                    }
                    for (int j = 0; j < kRn; ++j) {
                        for (int half = 0; half < 2; ++half) {
                            isum[j][half] = vmlaq_s32(isum[j][half], dot[j][half], sc[half]);
                            corr[j][half] = vmlaq_n_s32(corr[j][half], sc[half], a[j][ib].bsums[s]);
                        }
                    }
                }
            });
        }
        const F32x8 d_w = load_f16x8(wb.d);
        for (int j = 0; j < kRn; ++j) {
            int32x4_t total[2];
            for (int half = 0; half < 2; ++half) {
                total[half] = vsubq_s32(isum[j][half], vshlq_n_s32(corr[j][half], 5));
            }
            acc.add(j, d_w, a[j][ib].d, total);
        }
    }
    acc.store(y, ldy);
}

// ---- F16 and BF16 -----------------------------------------------------------------------------

// Each 8-value load is one column of the group's 8 rows; acc = fma(w, a, acc) per row over the
// columns in order, kRn activation rows (widened to floats in their side data) at a time.
template <F32x8 (*kLoad)(const uint16_t*), int kRn>
void tile_16bit(int64_t nb, const block_16bit_x8* w, const ActRows& ar, float* y, size_t ldy) {
    const float* a[kRn];
    for (int j = 0; j < kRn; ++j) a[j] = ar.info_row<float>(j);
    Accumulators<kRn> acc;
    for (int64_t ib = 0; ib < nb; ++ib) {
        for (int c = 0; c < kF16BlockElems; ++c) {
            const F32x8 wc = kLoad(w[ib].v + 8 * c);
            for (int j = 0; j < kRn; ++j) {
                const float32x4_t x = vdupq_n_f32(a[j][ib * kF16BlockElems + c]);
                for (int half = 0; half < 2; ++half) {
                    acc.acc[j].v[half] = vfmaq_f32(acc.acc[j].v[half], wc.v[half], x);
                }
            }
        }
    }
    acc.store(y, ldy);
}

// ---- driver -----------------------------------------------------------------------------------

template <class Unpack, typename Packed>
constexpr PackedGemmFn q32_gemm() {
    return gemm<Packed, 4, q32_tile<Unpack, Packed, 4>, q32_tile<Unpack, Packed, 1>, kQK32>;
}

// The table of packed_neon.cpp or packed_neondot.cpp, whichever includes this.
constexpr KernelRow kRows[] = {
    {.type = DType::F16,
     .packed_gemm = gemm<block_16bit_x8, 4, tile_16bit<load_f16x8, 4>, tile_16bit<load_f16x8, 1>,
                         kF16BlockElems>},
    {.type = DType::BF16,
     .packed_gemm = gemm<block_16bit_x8, 4, tile_16bit<load_bf16x8, 4>, tile_16bit<load_bf16x8, 1>,
                         kF16BlockElems>},
    {.type = DType::Q4_0, .packed_gemm = q32_gemm<UnpackQ4_0, block_q4_0x8>()},
    {.type = DType::Q5_0, .packed_gemm = q32_gemm<UnpackQ5_0, block_q5_0x8>()},
    {.type = DType::Q8_0, .packed_gemm = q32_gemm<UnpackQ8_0, block_q8_0x8>()},
    {.type = DType::Q4_K, .packed_gemm = gemm<block_q4_Kx8, 2, q4_K_tile<2>, q4_K_tile<1>, kQKK>},
    {.type = DType::Q6_K, .packed_gemm = gemm<block_q6_Kx8, 4, q6_K_tile<4>, q6_K_tile<1>, kQKK>},
};

}  // namespace
}  // namespace lokal::kernels::neon
