// Scalar reference dot products. Each computes the same integer block sums and applies the float
// scales in the same order as ggml's generic (scalar) vec_dot kernels, so results agree with
// llama.cpp's reference path to the last bit where the compiler keeps the expression order.
#include <cstring>

#include "base/fp16.h"
#include "kernels/cpu/gemm_tiles.h"
#include "kernels/cpu/vec_dot_tables.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

float dot_f32(int64_t n, const void* wv, const void* av) {
    const float* w = static_cast<const float*>(wv);
    const float* a = static_cast<const float*>(av);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += (double)(w[i] * a[i]);
    return (float)sum;
}

float dot_f16(int64_t n, const void* wv, const void* av) {
    const uint16_t* w = static_cast<const uint16_t*>(wv);
    const uint16_t* a = static_cast<const uint16_t*>(av);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += (double)(fp16_to_fp32(w[i]) * fp16_to_fp32(a[i]));
    return (float)sum;
}

float dot_bf16(int64_t n, const void* wv, const void* av) {
    const uint16_t* w = static_cast<const uint16_t*>(wv);
    const uint16_t* a = static_cast<const uint16_t*>(av);
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += (double)(bf16_to_fp32(w[i]) * bf16_to_fp32(a[i]));
    return (float)sum;
}

float dot_q4_0(int64_t n, const void* wv, const void* av) {
    const block_q4_0* w = static_cast<const block_q4_0*>(wv);
    const block_q8_0* a = static_cast<const block_q8_0*>(av);
    float sum = 0;
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        int s0 = 0, s1 = 0;
        for (int j = 0; j < 16; ++j) {
            s0 += ((w[ib].qs[j] & 0x0F) - 8) * a[ib].qs[j];
            s1 += ((w[ib].qs[j] >> 4) - 8) * a[ib].qs[j + 16];
        }
        sum += (s0 + s1) * fp16_to_fp32(w[ib].d) * fp16_to_fp32(a[ib].d);
    }
    return sum;
}

float dot_q4_1(int64_t n, const void* wv, const void* av) {
    const block_q4_1* w = static_cast<const block_q4_1*>(wv);
    const block_q8_1* a = static_cast<const block_q8_1*>(av);
    float sum = 0;
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        int s0 = 0, s1 = 0;
        for (int j = 0; j < 16; ++j) {
            s0 += (w[ib].qs[j] & 0x0F) * a[ib].qs[j];
            s1 += (w[ib].qs[j] >> 4) * a[ib].qs[j + 16];
        }
        sum += (fp16_to_fp32(w[ib].d) * fp16_to_fp32(a[ib].d)) * (s0 + s1) +
               fp16_to_fp32(w[ib].m) * fp16_to_fp32(a[ib].s);
    }
    return sum;
}

float dot_q5_0(int64_t n, const void* wv, const void* av) {
    const block_q5_0* w = static_cast<const block_q5_0*>(wv);
    const block_q8_0* a = static_cast<const block_q8_0*>(av);
    float sum = 0;
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        uint32_t qh;
        std::memcpy(&qh, w[ib].qh, 4);
        int s0 = 0, s1 = 0;
        for (int j = 0; j < 16; ++j) {
            const int x0 = ((w[ib].qs[j] & 0x0F) | (((qh >> j) & 1) << 4)) - 16;
            const int x1 = ((w[ib].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
            s0 += x0 * a[ib].qs[j];
            s1 += x1 * a[ib].qs[j + 16];
        }
        sum += (fp16_to_fp32(w[ib].d) * fp16_to_fp32(a[ib].d)) * (s0 + s1);
    }
    return sum;
}

float dot_q5_1(int64_t n, const void* wv, const void* av) {
    const block_q5_1* w = static_cast<const block_q5_1*>(wv);
    const block_q8_1* a = static_cast<const block_q8_1*>(av);
    float sum = 0;
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        uint32_t qh;
        std::memcpy(&qh, w[ib].qh, 4);
        int s0 = 0, s1 = 0;
        for (int j = 0; j < 16; ++j) {
            const int x0 = (w[ib].qs[j] & 0x0F) | (((qh >> j) & 1) << 4);
            const int x1 = (w[ib].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
            s0 += x0 * a[ib].qs[j];
            s1 += x1 * a[ib].qs[j + 16];
        }
        sum += (fp16_to_fp32(w[ib].d) * fp16_to_fp32(a[ib].d)) * (s0 + s1) +
               fp16_to_fp32(w[ib].m) * fp16_to_fp32(a[ib].s);
    }
    return sum;
}

float dot_q8_0(int64_t n, const void* wv, const void* av) {
    const block_q8_0* w = static_cast<const block_q8_0*>(wv);
    const block_q8_0* a = static_cast<const block_q8_0*>(av);
    float sum = 0;
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        int s = 0;
        for (int j = 0; j < kQK32; ++j) s += w[ib].qs[j] * a[ib].qs[j];
        sum += s * (fp16_to_fp32(w[ib].d) * fp16_to_fp32(a[ib].d));
    }
    return sum;
}

float dot_iq4_nl(int64_t n, const void* wv, const void* av) {
    const block_iq4_nl* w = static_cast<const block_iq4_nl*>(wv);
    const block_q8_0* a = static_cast<const block_q8_0*>(av);
    float sum = 0;
    for (int64_t ib = 0; ib < n / kQK32; ++ib) {
        const float d = fp16_to_fp32(a[ib].d) * fp16_to_fp32(w[ib].d);
        int s0 = 0, s1 = 0;
        for (int j = 0; j < 16; ++j) {
            s0 += a[ib].qs[j] * kIq4nlValues[w[ib].qs[j] & 0xF];
            s1 += a[ib].qs[j + 16] * kIq4nlValues[w[ib].qs[j] >> 4];
        }
        sum += d * (s0 + s1);
    }
    return sum;
}

// ---------------------------------------------------------------------------------------------
// K formats. Like ggml's generic kernels, the integer products are accumulated in 8 lanes
// (element index mod 8) and scaled into 8 float partial sums that are added at the end.

float dot_q2_K(int64_t n, const void* wv, const void* av) {
    const block_q2_K* w = static_cast<const block_q2_K*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    float sum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const uint8_t* sc = w[i].scales;
        int summs = 0;
        for (int j = 0; j < 16; ++j) summs += a[i].bsums[j] * (sc[j] >> 4);
        const float dall = a[i].d * fp16_to_fp32(w[i].d);
        const float dmin = a[i].d * fp16_to_fp32(w[i].dmin);
        const uint8_t* q2 = w[i].qs;
        const int8_t* q8 = a[i].qs;
        int isum = 0, is = 0;
        for (int half = 0; half < 2; ++half, q2 += 32) {
            for (int shift = 0; shift < 8; shift += 2, q8 += 32) {
                int s = 0;
                for (int l = 0; l < 16; ++l) s += q8[l] * ((q2[l] >> shift) & 3);
                isum += (sc[is++] & 0xF) * s;
                s = 0;
                for (int l = 16; l < 32; ++l) s += q8[l] * ((q2[l] >> shift) & 3);
                isum += (sc[is++] & 0xF) * s;
            }
        }
        sum += dall * isum - dmin * summs;
    }
    return sum;
}

// Adds scale * (a[l] * q8[l]) for one group of 16 into the 8 integer lanes.
inline void lanes_add16(int32_t* lanes, int scale, const int8_t* a, const int8_t* q8) {
    for (int l = 0; l < 16; ++l) lanes[l % 8] += scale * (int16_t)(a[l] * q8[l]);
}

float dot_q3_K(int64_t n, const void* wv, const void* av) {
    const block_q3_K* w = static_cast<const block_q3_K*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    float sums[8] = {};
    int8_t vals[kQKK];
    int8_t scales[16];
    for (int64_t i = 0; i < n / kQKK; ++i) {
        // Unpack the 3-bit values to -4..3 in element order.
        for (int e = 0; e < kQKK; ++e) {
            const int half = e / 128, grp = (e % 128) / 32, l = e % 32;
            const int lo = (w[i].qs[32 * half + l] >> (2 * grp)) & 3;
            const bool hi = w[i].hmask[l] & (1u << (e / 32));
            vals[e] = (int8_t)(lo - (hi ? 0 : 4));
        }
        unpack_q3_K_scales(w[i].scales, scales);
        int32_t lanes[8] = {};
        for (int j = 0; j < 16; ++j) lanes_add16(lanes, scales[j], vals + 16 * j, a[i].qs + 16 * j);
        const float d = fp16_to_fp32(w[i].d) * a[i].d;
        for (int l = 0; l < 8; ++l) sums[l] += d * lanes[l];
    }
    float sum = 0;
    for (int l = 0; l < 8; ++l) sum += sums[l];
    return sum;
}

// q4_K and q5_K: vals are the unsigned levels in element order.
template <bool kFive>
float dot_q45_K(int64_t n, const void* wv, const void* av) {
    using Block = std::conditional_t<kFive, block_q5_K, block_q4_K>;
    const Block* w = static_cast<const Block*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    float sums[8] = {};
    float sum = 0;
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
        int32_t lanes[8] = {};
        for (int j = 0; j < 8; ++j) {
            lanes_add16(lanes, sc[j], vals + 32 * j, a[i].qs + 32 * j);
            lanes_add16(lanes, sc[j], vals + 32 * j + 16, a[i].qs + 32 * j + 16);
        }
        const float d = fp16_to_fp32(w[i].d) * a[i].d;
        for (int l = 0; l < 8; ++l) sums[l] += d * lanes[l];
        const float dmin = fp16_to_fp32(w[i].dmin) * a[i].d;
        sum -= dmin * summ;
    }
    for (int l = 0; l < 8; ++l) sum += sums[l];
    return sum;
}

float dot_q6_K(int64_t n, const void* wv, const void* av) {
    const block_q6_K* w = static_cast<const block_q6_K*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    float sums[8] = {};
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
        int32_t lanes[8] = {};
        for (int j = 0; j < 16; ++j) {
            lanes_add16(lanes, w[i].scales[j], vals + 16 * j, a[i].qs + 16 * j);
        }
        const float d = fp16_to_fp32(w[i].d) * a[i].d;
        for (int l = 0; l < 8; ++l) sums[l] += d * lanes[l];
    }
    float sum = 0;
    for (int l = 0; l < 8; ++l) sum += sums[l];
    return sum;
}

float dot_iq4_xs(int64_t n, const void* wv, const void* av) {
    const block_iq4_xs* w = static_cast<const block_iq4_xs*>(wv);
    const block_q8_K* a = static_cast<const block_q8_K*>(av);
    float sum = 0;
    for (int64_t i = 0; i < n / kQKK; ++i) {
        const float d4d8 = fp16_to_fp32(w[i].d) * a[i].d;
        const uint8_t* qs = w[i].qs;
        const int8_t* q8 = a[i].qs;
        for (int ib = 0; ib < 8; ++ib, qs += 16, q8 += 32) {
            const int ls = ((w[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xF) |
                           (((w[i].scales_h >> 2 * ib) & 3) << 4);
            const float dl = d4d8 * (ls - 32);
            int s0 = 0, s1 = 0;
            for (int j = 0; j < 16; ++j) {
                s0 += q8[j] * kIq4nlValues[qs[j] & 0xF];
                s1 += q8[j + 16] * kIq4nlValues[qs[j] >> 4];
            }
            sum += dl * (s0 + s1);
        }
    }
    return sum;
}

template <VecDotFn kDot>
constexpr GemmFn gemm_of() {
    return gemm_tiled<kDot, nullptr>;
}

}  // namespace

GemmFn ref_gemm(DType weight_type) {
    switch (weight_type) {
        case DType::F32:
            return gemm_of<dot_f32>();
        case DType::F16:
            return gemm_of<dot_f16>();
        case DType::BF16:
            return gemm_of<dot_bf16>();
        case DType::Q4_0:
            return gemm_of<dot_q4_0>();
        case DType::Q4_1:
            return gemm_of<dot_q4_1>();
        case DType::Q5_0:
            return gemm_of<dot_q5_0>();
        case DType::Q5_1:
            return gemm_of<dot_q5_1>();
        case DType::Q8_0:
            return gemm_of<dot_q8_0>();
        case DType::IQ4_NL:
            return gemm_of<dot_iq4_nl>();
        case DType::Q2_K:
            return gemm_of<dot_q2_K>();
        case DType::Q3_K:
            return gemm_of<dot_q3_K>();
        case DType::Q4_K:
            return gemm_of<dot_q45_K<false>>();
        case DType::Q5_K:
            return gemm_of<dot_q45_K<true>>();
        case DType::Q6_K:
            return gemm_of<dot_q6_K>();
        case DType::IQ4_XS:
            return gemm_of<dot_iq4_xs>();
        default:
            return nullptr;
    }
}

VecDotFn ref_vec_dot(DType weight_type) {
    switch (weight_type) {
        case DType::F32:
            return dot_f32;
        case DType::F16:
            return dot_f16;
        case DType::BF16:
            return dot_bf16;
        case DType::Q4_0:
            return dot_q4_0;
        case DType::Q4_1:
            return dot_q4_1;
        case DType::Q5_0:
            return dot_q5_0;
        case DType::Q5_1:
            return dot_q5_1;
        case DType::Q8_0:
            return dot_q8_0;
        case DType::IQ4_NL:
            return dot_iq4_nl;
        case DType::Q2_K:
            return dot_q2_K;
        case DType::Q3_K:
            return dot_q3_K;
        case DType::Q4_K:
            return dot_q45_K<false>;
        case DType::Q5_K:
            return dot_q45_K<true>;
        case DType::Q6_K:
            return dot_q6_K;
        case DType::IQ4_XS:
            return dot_iq4_xs;
        default:
            return nullptr;
    }
}

}  // namespace lokal::kernels
