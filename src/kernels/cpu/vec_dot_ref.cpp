// Scalar reference dot products: the oracle every SIMD row kernel must equal bit for bit.
//
// The integer part of a quantized dot product is exact in any order; only the float part can
// differ, so it is fixed here (vec_dot_order.h) in the shape of a 256-bit register: the block
// (or super-block) integer products are summed into 8 lanes, lane l holding elements 4l..4l+3
// of every 32-element run (what VPMADDUBSW + VPMADDWD or VPDPBUSD leave there), each block
// scales its lanes into 8 float accumulators with one fused multiply-add, and the accumulators
// meet in one fixed tree at the end. The float rows (F32/F16/BF16) use 32 (BF16: 16) fused
// accumulators over whole runs, then one for the 8-element steps, then plain products.
#include <cstring>
#include <type_traits>

#include "base/fp16.h"
#include "kernels/cpu/gemm_tiles.h"
#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/vec_dot_order.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

using order::FloatLanes;
using order::IntLanes;

// Float rows: kAccs accumulators of 8 lanes over runs of 8 * kAccs elements, then (kEightStep)
// 8-element steps into the first, then the pairwise sum of the accumulators, its tree, and the
// remaining elements one product at a time.
template <typename T, float (*kToF32)(T), int kAccs, bool kEightStep>
float dot_float_row(int64_t n, const void* wv, const void* av) {
    const T* w = static_cast<const T*>(wv);
    const T* a = static_cast<const T*>(av);
    FloatLanes acc[kAccs];
    int64_t i = 0;
    for (; i + 8 * kAccs <= n; i += 8 * kAccs) {
        for (int k = 0; k < kAccs; ++k) {
            for (int l = 0; l < 8; ++l) {
                const int64_t e = i + 8 * k + l;
                acc[k].v[l] = std::fma(kToF32(w[e]), kToF32(a[e]), acc[k].v[l]);
            }
        }
    }
    if constexpr (kEightStep) {
        for (; i + 8 <= n; i += 8) {
            for (int l = 0; l < 8; ++l) {
                acc[0].v[l] = std::fma(kToF32(w[i + l]), kToF32(a[i + l]), acc[0].v[l]);
            }
        }
    }
    float sum = order::sum_pairwise(acc, kAccs).sum();
    for (; i < n; ++i) sum += kToF32(w[i]) * kToF32(a[i]);
    return sum;
}

float f32_as_is(float x) {
    return x;
}

// The 32 signed weight values of one block whose activations are Q8_0, in element order.
void values(const block_q8_0& b, int8_t* q) {
    std::memcpy(q, b.qs, 32);
}
void values(const block_q4_0& b, int8_t* q) {
    for (int j = 0; j < 16; ++j) {
        q[j] = (int8_t)((b.qs[j] & 0x0F) - 8);
        q[j + 16] = (int8_t)((b.qs[j] >> 4) - 8);
    }
}
void values(const block_q5_0& b, int8_t* q) {
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    for (int j = 0; j < 16; ++j) {
        q[j] = (int8_t)(((b.qs[j] & 0x0F) | (((qh >> j) & 1) << 4)) - 16);
        q[j + 16] = (int8_t)(((b.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16);
    }
}
void values(const block_iq4_nl& b, int8_t* q) {
    for (int j = 0; j < 16; ++j) {
        q[j] = kIq4nlValues[b.qs[j] & 0x0F];
        q[j + 16] = kIq4nlValues[b.qs[j] >> 4];
    }
}
// Q4_1 / Q5_1: the unsigned levels (the minimum is added separately).
void values(const block_q4_1& b, int8_t* q) {
    for (int j = 0; j < 16; ++j) {
        q[j] = (int8_t)(b.qs[j] & 0x0F);
        q[j + 16] = (int8_t)(b.qs[j] >> 4);
    }
}
void values(const block_q5_1& b, int8_t* q) {
    uint32_t qh;
    std::memcpy(&qh, b.qh, 4);
    for (int j = 0; j < 16; ++j) {
        q[j] = (int8_t)((b.qs[j] & 0x0F) | (((qh >> j) & 1) << 4));
        q[j + 16] = (int8_t)((b.qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
    }
}

// Q8_0, Q4_0, Q5_0, IQ4_NL: one fused step per block with the product of the two scales.
template <typename Block>
float dot_q8_family(int64_t n, const void* wv, const void* av) {
    const Block* w = static_cast<const Block*>(wv);
    const block_q8_0* a = static_cast<const block_q8_0*>(av);
    FloatLanes acc;
    int8_t q[32];
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        values(w[ib], q);
        IntLanes s;
        s.add_run(q, a[ib].qs, 1, 1);
        acc.fma(fp16_to_fp32(w[ib].d) * fp16_to_fp32(a[ib].d), s);
    }
    return acc.sum();
}

// Q4_1 / Q5_1 against Q8_1: the scaled lanes, plus m * s summed in block order beside them.
template <typename Block>
float dot_q51_1(int64_t n, const void* wv, const void* av) {
    const Block* w = static_cast<const Block*>(wv);
    const block_q8_1* a = static_cast<const block_q8_1*>(av);
    FloatLanes acc;
    float acc_m = 0;
    int8_t q[32];
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        values(w[ib], q);
        IntLanes s;
        s.add_run(q, a[ib].qs, 1, 1);
        acc.fma(fp16_to_fp32(w[ib].d) * fp16_to_fp32(a[ib].d), s);
        acc_m += fp16_to_fp32(w[ib].m) * fp16_to_fp32(a[ib].s);
    }
    return acc.sum() + acc_m;
}

// ---------------------------------------------------------------------------------------------
// K formats: one super-block of 256 is 8 runs of 32; scales per run (or per half run of 16).

float dot_q2_K(int64_t n, const void* wv, const void* av) {
    const block_q2_K* w = static_cast<const block_q2_K*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    FloatLanes acc;
    float acc_min = 0;
    int8_t vals[kQKK];
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const uint8_t* sc = w[i].scales;
        for (int e = 0; e < kQKK; ++e) {
            const int half = e / 128, grp = (e % 128) / 32, l = e % 32;
            vals[e] = (int8_t)((w[i].qs[32 * half + l] >> (2 * grp)) & 3);
        }
        int summs = 0;
        for (int j = 0; j < 16; ++j) summs += a[i].bsums[j] * (sc[j] >> 4);
        IntLanes s;
        for (int r = 0; r < 8; ++r) {
            s.add_run(vals + 32 * r, a[i].qs + 32 * r, sc[2 * r] & 0xF, sc[2 * r + 1] & 0xF);
        }
        const float dall = a[i].d * fp16_to_fp32(w[i].d);
        const float dmin = a[i].d * fp16_to_fp32(w[i].dmin);
        acc.fma(dall, s);
        acc_min += dmin * summs;
    }
    return acc.sum() - acc_min;
}

float dot_q3_K(int64_t n, const void* wv, const void* av) {
    const block_q3_K* w = static_cast<const block_q3_K*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    FloatLanes acc;
    int8_t vals[kQKK];
    int8_t scales[16];
    for (int64_t i = 0; i < n / kQKK; ++i) {
        // The 3-bit values as -4..3 in element order.
        for (int e = 0; e < kQKK; ++e) {
            const int half = e / 128, grp = (e % 128) / 32, l = e % 32;
            const int lo = (w[i].qs[32 * half + l] >> (2 * grp)) & 3;
            const bool hi = w[i].hmask[l] & (1u << (e / 32));
            vals[e] = (int8_t)(lo - (hi ? 0 : 4));
        }
        unpack_q3_K_scales(w[i].scales, scales);
        IntLanes s;
        for (int r = 0; r < 8; ++r) {
            s.add_run(vals + 32 * r, a[i].qs + 32 * r, scales[2 * r], scales[2 * r + 1]);
        }
        acc.fma(fp16_to_fp32(w[i].d) * a[i].d, s);
    }
    return acc.sum();
}

// q4_K and q5_K: unsigned levels in element order, minimums against the block sums.
template <bool kFive>
float dot_q45_K(int64_t n, const void* wv, const void* av) {
    using Block = std::conditional_t<kFive, block_q5_K, block_q4_K>;
    const Block* w = static_cast<const Block*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    FloatLanes acc;
    float acc_min = 0;
    int8_t vals[kQKK];
    for (int64_t i = 0; i < n / kQKK; ++i) {
        for (int c = 0; c < 4; ++c) {  // chunks of 64: low nibbles, then high nibbles
            for (int l = 0; l < 32; ++l) {
                int lo = w[i].qs[32 * c + l] & 0xF;
                int hi = w[i].qs[32 * c + l] >> 4;
                if constexpr (kFive) {
                    lo += (w[i].qh[l] >> (2 * c)) & 1 ? 16 : 0;
                    hi += (w[i].qh[l] >> (2 * c + 1)) & 1 ? 16 : 0;
                }
                vals[64 * c + l] = (int8_t)lo;
                vals[64 * c + 32 + l] = (int8_t)hi;
            }
        }
        uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; ++j) get_scale_min_k4(j, w[i].scales, &sc[j], &mn[j]);
        int summ = 0;
        for (int j = 0; j < 16; ++j) summ += a[i].bsums[j] * mn[j / 2];
        IntLanes s;
        for (int r = 0; r < 8; ++r) s.add_run(vals + 32 * r, a[i].qs + 32 * r, sc[r], sc[r]);
        acc.fma(fp16_to_fp32(w[i].d) * a[i].d, s);
        acc_min += fp16_to_fp32(w[i].dmin) * a[i].d * summ;
    }
    return acc.sum() - acc_min;
}

float dot_q6_K(int64_t n, const void* wv, const void* av) {
    const block_q6_K* w = static_cast<const block_q6_K*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    FloatLanes acc;
    int8_t vals[kQKK];
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const uint8_t* ql = w[i].ql;
        const uint8_t* qh = w[i].qh;
        for (int half = 0; half < 2; ++half, ql += 64, qh += 32) {
            int8_t* v = vals + 128 * half;
            for (int l = 0; l < 32; ++l) {
                v[l] = (int8_t)(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                v[l + 32] = (int8_t)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                v[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                v[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        IntLanes s;
        for (int r = 0; r < 8; ++r) {
            s.add_run(vals + 32 * r, a[i].qs + 32 * r, w[i].scales[2 * r], w[i].scales[2 * r + 1]);
        }
        acc.fma(fp16_to_fp32(w[i].d) * a[i].d, s);
    }
    return acc.sum();
}

float dot_iq4_xs(int64_t n, const void* wv, const void* av) {
    const block_iq4_xs* w = static_cast<const block_iq4_xs*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    FloatLanes acc;
    int8_t q[32];
    for (int64_t i = 0; i < n / kQKK; ++i) {
        IntLanes s;
        for (int ib = 0; ib < 8; ++ib) {
            const int ls = ((w[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xF) |
                           (((w[i].scales_h >> 2 * ib) & 3) << 4);
            const uint8_t* qs = w[i].qs + 16 * ib;
            for (int j = 0; j < 16; ++j) {
                q[j] = kIq4nlValues[qs[j] & 0xF];
                q[j + 16] = kIq4nlValues[qs[j] >> 4];
            }
            s.add_run(q, a[i].qs + 32 * ib, ls - 32, ls - 32);
        }
        acc.fma(fp16_to_fp32(w[i].d) * a[i].d, s);
    }
    return acc.sum();
}

// Every weight type the runtime computes with; activations are quantized by quantize_row.
template <VecDotFn kDot>
constexpr KernelRow ref_row(DType t, PackedGemmFn packed = nullptr) {
    return {t, kDot, nullptr, gemm_tiled<kDot, nullptr>, packed, nullptr};
}

constexpr KernelRow kRows[] = {
    ref_row<dot_float_row<float, f32_as_is, 4, true>>(DType::F32),
    ref_row<dot_float_row<uint16_t, fp16_to_fp32, 4, true>>(DType::F16, ref_packed_f16),
    ref_row<dot_float_row<uint16_t, bf16_to_fp32, 2, false>>(DType::BF16, ref_packed_bf16),
    ref_row<dot_q8_family<block_q4_0>>(DType::Q4_0, ref_packed_q4_0),
    ref_row<dot_q51_1<block_q4_1>>(DType::Q4_1, ref_packed_q4_1),
    ref_row<dot_q8_family<block_q5_0>>(DType::Q5_0, ref_packed_q5_0),
    ref_row<dot_q51_1<block_q5_1>>(DType::Q5_1, ref_packed_q5_1),
    ref_row<dot_q8_family<block_q8_0>>(DType::Q8_0, ref_packed_q8_0),
    ref_row<dot_q8_family<block_iq4_nl>>(DType::IQ4_NL, ref_packed_iq4_nl),
    ref_row<dot_q2_K>(DType::Q2_K, ref_packed_q2_K),
    ref_row<dot_q3_K>(DType::Q3_K, ref_packed_q3_K),
    ref_row<dot_q45_K<false>>(DType::Q4_K, ref_packed_q4_K),
    ref_row<dot_q45_K<true>>(DType::Q5_K, ref_packed_q5_K),
    ref_row<dot_q6_K>(DType::Q6_K, ref_packed_q6_K),
    ref_row<dot_iq4_xs>(DType::IQ4_XS, ref_packed_iq4_xs),
};

}  // namespace

KernelRows scalar_rows() {
    return kRows;
}

}  // namespace lokal::kernels
