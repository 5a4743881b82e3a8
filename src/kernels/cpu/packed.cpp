// Packing and unpacking of 8-row groups, activation side data, the scalar reference kernels and
// the choice of kernel per instruction set.
#include "kernels/cpu/packed.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

#include "base/error.h"
#include "base/fp16.h"
#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed_kquants.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/cpu/packed_pieces.h"
#include "kernels/cpu/packed_q1_iq4.h"
#include "kernels/cpu/vec_dot.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {

namespace {

using namespace pieces;  // NOLINT(google-build-using-namespace)

// ---- pack / unpack ---------------------------------------------------------------------------

template <typename Block, typename Packed>
void pack_q_32(const uint8_t* rows, uint64_t stride, int64_t nb, Packed* out) {
    constexpr int kPieces = sizeof(Block::qs) / 4;
    for (int64_t ib = 0; ib < nb; ++ib) {
        const uint8_t* qs[8];
        for (int r = 0; r < 8; ++r) {
            const Block& b = reinterpret_cast<const Block*>(rows + r * stride)[ib];
            out[ib].d[r] = b.d;
            qs[r] = reinterpret_cast<const uint8_t*>(b.qs);
        }
        interleave4(qs, kPieces, reinterpret_cast<uint8_t*>(out[ib].qs));
    }
}

template <typename Block, typename Packed>
void unpack_q_32(const Packed* in, int r, int64_t nb, Block* out) {
    constexpr int kPieces = sizeof(Block::qs) / 4;
    for (int64_t ib = 0; ib < nb; ++ib) {
        out[ib].d = in[ib].d[r];
        deinterleave4(reinterpret_cast<const uint8_t*>(in[ib].qs), r, kPieces,
                      reinterpret_cast<uint8_t*>(out[ib].qs));
    }
}

void pack_16bit(const uint8_t* rows, uint64_t stride, int64_t nb, block_16bit_x8* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        for (int r = 0; r < 8; ++r) {
            const auto* row = reinterpret_cast<const uint16_t*>(rows + r * stride) + 8 * ib;
            for (int c = 0; c < 8; ++c) out[ib].v[8 * c + r] = row[c];
        }
    }
}

void unpack_16bit(const block_16bit_x8* in, int r, int64_t nb, uint16_t* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        for (int c = 0; c < 8; ++c) out[8 * ib + c] = in[ib].v[8 * c + r];
    }
}

void pack_q5_0(const uint8_t* rows, uint64_t stride, int64_t nb, block_q5_0x8* out) {
    pack_q_32<block_q5_0>(rows, stride, nb, out);
    for (int64_t ib = 0; ib < nb; ++ib) {
        for (int r = 0; r < 8; ++r) {
            const block_q5_0& b = reinterpret_cast<const block_q5_0*>(rows + r * stride)[ib];
            regroup_fifth_bits(b.qh, r, out[ib].qh);
        }
    }
}

void unpack_q5_0(const block_q5_0x8* in, int r, int64_t nb, block_q5_0* out) {
    unpack_q_32(in, r, nb, out);
    for (int64_t ib = 0; ib < nb; ++ib) {
        restore_fifth_bits(in[ib].qh, r, out[ib].qh);
    }
}

void pack_q4_K(const uint8_t* rows, uint64_t stride, int64_t nb, block_q4_Kx8* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        block_q4_Kx8& p = out[ib];
        const uint8_t* qs[8];
        for (int r = 0; r < 8; ++r) {
            const block_q4_K& b = reinterpret_cast<const block_q4_K*>(rows + r * stride)[ib];
            p.d[r] = b.d;
            p.dmin[r] = b.dmin;
            for (int s = 0; s < 8; ++s) {
                uint8_t sc = 0, m = 0;
                get_scale_min_k4(s, b.scales, &sc, &m);
                p.scales[s / 2][2 * r + s % 2] = sc;
                p.mins[s / 2][2 * r + s % 2] = m;
            }
            qs[r] = b.qs;
        }
        for (int k = 0; k < 4; ++k) {
            const uint8_t* chunk[8];
            for (int r = 0; r < 8; ++r) chunk[r] = qs[r] + 32 * k;
            interleave4(chunk, 8, p.qs + 256 * k);
        }
    }
}

void unpack_q4_K(const block_q4_Kx8* in, int r, int64_t nb, block_q4_K* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        const block_q4_Kx8& p = in[ib];
        block_q4_K& b = out[ib];
        b.d = p.d[r];
        b.dmin = p.dmin[r];
        std::memset(b.scales, 0, sizeof b.scales);
        for (int s = 0; s < 8; ++s) {
            put_scale_min_k4(s, p.scales[s / 2][2 * r + s % 2], p.mins[s / 2][2 * r + s % 2],
                             b.scales);
        }
        for (int k = 0; k < 4; ++k) deinterleave4(p.qs + 256 * k, r, 8, b.qs + 32 * k);
    }
}

// The stored block's bytes for half c2 and l = 4 h + j: ql[64 c2 + l] has q_0 and q_2's low
// nibbles, ql[64 c2 + 32 + l] q_1 and q_3's, qh[32 c2 + l] the four high 2-bit fields in order.
// Regrouped four bytes (j < 4) at a time.
constexpr uint32_t kLowNibbles = 0x0F0F0F0F;
constexpr uint32_t kHighNibbles = 0xF0F0F0F0;

void pack_q6_K(const uint8_t* rows, uint64_t stride, int64_t nb, block_q6_Kx8* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        block_q6_Kx8& p = out[ib];
        for (int r = 0; r < 8; ++r) {
            const block_q6_K& b = reinterpret_cast<const block_q6_K*>(rows + r * stride)[ib];
            p.d[r] = b.d;
            for (int s = 0; s < 16; ++s) p.scale_pairs[s / 2][2 * r + s % 2] = b.scales[s];
            for (int c2 = 0; c2 < 2; ++c2) {
                for (int h = 0; h < 8; ++h) {
                    uint32_t lo, hi, qh;
                    std::memcpy(&lo, b.ql + 64 * c2 + 4 * h, 4);
                    std::memcpy(&hi, b.ql + 64 * c2 + 32 + 4 * h, 4);
                    std::memcpy(&qh, b.qh + 32 * c2 + 4 * h, 4);
                    const uint32_t x = (lo & kLowNibbles) | ((qh << 4) & kHighNibbles);
                    const uint32_t y = ((lo >> 4) & kLowNibbles) | (qh & kHighNibbles);
                    uint8_t* at = p.qs + q6_at(c2, h, r);
                    std::memcpy(at, &x, 4);
                    std::memcpy(at + 32, &y, 4);
                    std::memcpy(at + 64, &hi, 4);
                }
            }
        }
    }
}

void unpack_q6_K(const block_q6_Kx8* in, int r, int64_t nb, block_q6_K* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        const block_q6_Kx8& p = in[ib];
        block_q6_K& b = out[ib];
        b.d = p.d[r];
        for (int s = 0; s < 16; ++s) b.scales[s] = p.scale_pairs[s / 2][2 * r + s % 2];
        for (int c2 = 0; c2 < 2; ++c2) {
            for (int h = 0; h < 8; ++h) {
                const uint8_t* at = p.qs + q6_at(c2, h, r);
                uint32_t x, y;
                std::memcpy(&x, at, 4);
                std::memcpy(&y, at + 32, 4);
                const uint32_t lo = (x & kLowNibbles) | ((y & kLowNibbles) << 4);
                const uint32_t qh = ((x >> 4) & kLowNibbles) | (y & kHighNibbles);
                std::memcpy(b.ql + 64 * c2 + 4 * h, &lo, 4);
                std::memcpy(b.ql + 64 * c2 + 32 + 4 * h, at + 64, 4);
                std::memcpy(b.qh + 32 * c2 + 4 * h, &qh, 4);
            }
        }
    }
}

// ---- scalar reference kernels ----------------------------------------------------------------

// Each step returns row r's accumulator after one (super-)block: the exact integer dot product,
// then the float steps every kernel shares.

float q4_0_step(float acc, const block_q4_0x8& p, int r, const block_q8_0& a,
                const ActInfoQ8_0& ai) {
    int32_t isum = -ai.sum_x8;
    for (int h = 0; h < 4; ++h) {
        for (int j = 0; j < 4; ++j) {
            const uint8_t q = p.qs[32 * h + 4 * r + j];
            isum += (q & 0xF) * a.qs[4 * h + j];
            isum += (q >> 4) * a.qs[16 + 4 * h + j];
        }
    }
    return std::fma(fp16_to_fp32(p.d[r]) * ai.d, (float)isum, acc);
}

float q5_0_step(float acc, const block_q5_0x8& p, int r, const block_q8_0& a,
                const ActInfoQ8_0& ai) {
    int32_t isum = -2 * ai.sum_x8;
    for (int h = 0; h < 4; ++h) {
        for (int j = 0; j < 4; ++j) {
            const uint8_t q = p.qs[32 * h + 4 * r + j];
            const uint8_t b = p.qh[4 * r + j];
            isum += ((q & 0xF) | ((b >> (2 * h)) & 1) << 4) * a.qs[4 * h + j];
            isum += ((q >> 4) | ((b >> (2 * h + 1)) & 1) << 4) * a.qs[16 + 4 * h + j];
        }
    }
    return std::fma(fp16_to_fp32(p.d[r]) * ai.d, (float)isum, acc);
}

float q8_0_step(float acc, const block_q8_0x8& p, int r, const block_q8_0& a,
                const ActInfoQ8_0& ai) {
    int32_t isum = 0;
    for (int h = 0; h < 8; ++h) {
        for (int j = 0; j < 4; ++j) isum += p.qs[32 * h + 4 * r + j] * a.qs[4 * h + j];
    }
    return std::fma(fp16_to_fp32(p.d[r]) * ai.d, (float)isum, acc);
}

float q4_K_step(float acc, const block_q4_Kx8& p, int r, const block_q8_K& a,
                const ActInfoQ8_K& ai) {
    int32_t isum = 0, imin = 0;
    for (int k = 0; k < 4; ++k) {
        int32_t lo = 0, hi = 0;
        for (int h = 0; h < 8; ++h) {
            for (int j = 0; j < 4; ++j) {
                const uint8_t q = p.qs[256 * k + 32 * h + 4 * r + j];
                lo += (q & 0xF) * a.qs[64 * k + 4 * h + j];
                hi += (q >> 4) * a.qs[64 * k + 32 + 4 * h + j];
            }
        }
        isum += lo * p.scales[k][2 * r] + hi * p.scales[k][2 * r + 1];
        imin +=
            p.mins[k][2 * r] * ai.sub_sums[2 * k] + p.mins[k][2 * r + 1] * ai.sub_sums[2 * k + 1];
    }
    const float d = fp16_to_fp32(p.d[r]) * a.d;
    const float dmin = fp16_to_fp32(p.dmin[r]) * a.d;
    acc = std::fma(d, (float)isum, acc);
    return std::fma(-dmin, (float)imin, acc);
}

float q6_K_step(float acc, const block_q6_Kx8& p, int r, const block_q8_K& a, const NoInfo&) {
    int32_t isum = 0, corr = 0;
    for (int s = 0; s < 16; ++s) {
        // NOLINTNEXTLINE(bugprone-signed-char-misuse): Q6_K's sub-block scales are signed
        const int32_t sc = p.scale_pairs[s / 2][2 * r + s % 2];
        int32_t dot = 0;
        for (int e = 16 * s; e < 16 * s + 16; ++e) {
            dot += q6_quant(p, e, r) * a.qs[e];
        }
        isum += sc * dot;
        corr += sc * a.bsums[s];
    }
    return std::fma(fp16_to_fp32(p.d[r]) * a.d, (float)(isum - 32 * corr), acc);
}

// F16 or BF16 weights against F32 activations (the activation row rounded to the weight type,
// widened in its side data).
template <float (*kToF32)(uint16_t)>
void ref_gemm_16bit(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                    const uint8_t* /*act*/, size_t /*act_stride*/, const uint8_t* info,
                    size_t info_stride, int n_act, float* y, size_t ldy) {
    for (int g = 0; g < n_groups; ++g) {
        const auto* wg = reinterpret_cast<const block_16bit_x8*>(w + g * group_stride);
        for (int b = 0; b < n_act; ++b) {
            const auto* a = reinterpret_cast<const float*>(info + b * info_stride);
            for (int r = 0; r < 8; ++r) {
                float acc = 0.0f;
                for (int64_t c = 0; c < cols; ++c) {
                    const block_16bit_x8& blk = wg[c / kF16BlockElems];
                    acc = std::fma(kToF32(blk.v[8 * (c % kF16BlockElems) + r]), a[c], acc);
                }
                y[b * ldy + 8 * g + r] = acc;
            }
        }
    }
}

// ---- activation side data ---------------------------------------------------------------------

// F16 / BF16 weights: the activation row (already rounded to the weight type) widened to floats.
void widen_f16(const uint8_t* act_row, int64_t cols, uint8_t* info) {
    const auto* a = reinterpret_cast<const uint16_t*>(act_row);
    auto* out = reinterpret_cast<float*>(info);
#if defined(__x86_64__) || defined(_M_X64)
    static const bool f16c = active_isa() != Isa::Scalar;
    if (f16c) {
        avx2_widen_f16(a, out, cols);
        return;
    }
#endif
    for (int64_t c = 0; c < cols; ++c) out[c] = fp16_to_fp32(a[c]);
}

void widen_bf16(const uint8_t* act_row, int64_t cols, uint8_t* info) {
    const auto* a = reinterpret_cast<const uint16_t*>(act_row);
    auto* out = reinterpret_cast<float*>(info);
    for (int64_t c = 0; c < cols; ++c) out[c] = bf16_to_fp32(a[c]);
}

// Q4_K: the sums of each 32-element sub-block's quants. (Q6_K reads the Q8_K blocks' own sums.)
void q8_K_sub_sums(const uint8_t* act_row, int64_t cols, uint8_t* info) {
    const auto* a = reinterpret_cast<const block_q8_K*>(act_row);
    auto* out = reinterpret_cast<ActInfoQ8_K*>(info);
    for (int64_t ib = 0; ib < cols / kQKK; ++ib) {
        for (int s = 0; s < 8; ++s) {
            out[ib].sub_sums[s] = (int16_t)(a[ib].bsums[2 * s] + a[ib].bsums[2 * s + 1]);
        }
    }
}

// Q4_0 / Q5_0 / Q8_0: each block's scale as a float and 8 times the sum of its quants.
void q8_0_sums(const uint8_t* act_row, int64_t cols, uint8_t* info) {
    const auto* a = reinterpret_cast<const block_q8_0*>(act_row);
    auto* out = reinterpret_cast<ActInfoQ8_0*>(info);
    for (int64_t ib = 0; ib < cols / kQK32; ++ib) {
        int32_t sum = 0;
        for (int j = 0; j < kQK32; ++j) sum += a[ib].qs[j];
        out[ib] = {fp16_to_fp32(a[ib].d), 8 * sum};
    }
}

// ---- one row per packed type ----------------------------------------------------------------

using PackFn = void (*)(const uint8_t* rows, uint64_t stride, int64_t nb, uint8_t* out);
using UnpackFn = void (*)(const uint8_t* group, int r, int64_t nb, uint8_t* dst);
using PrepareFn = void (*)(const uint8_t* act_row, int64_t cols, uint8_t* info);

template <typename Packed, void (*kPack)(const uint8_t*, uint64_t, int64_t, Packed*)>
void pack_bytes(const uint8_t* rows, uint64_t stride, int64_t nb, uint8_t* out) {
    kPack(rows, stride, nb, reinterpret_cast<Packed*>(out));
}

template <typename Packed, typename Stored, void (*kUnpack)(const Packed*, int, int64_t, Stored*)>
void unpack_bytes(const uint8_t* group, int r, int64_t nb, uint8_t* dst) {
    kUnpack(reinterpret_cast<const Packed*>(group), r, nb, reinterpret_cast<Stored*>(dst));
}

struct Layout {
    DType type;
    int64_t block_elems;  // columns per group-block
    uint64_t group_block_bytes;
    uint64_t info_block_bytes;  // activation side data per block of columns
    PackFn pack;
    UnpackFn unpack;
    PrepareFn prepare;  // writes the side data; nullptr: none
};

constexpr Layout layout_16bit(DType t, PrepareFn widen) {
    return {t,
            kF16BlockElems,
            sizeof(block_16bit_x8),
            kF16BlockElems * sizeof(float),
            pack_bytes<block_16bit_x8, pack_16bit>,
            unpack_bytes<block_16bit_x8, uint16_t, unpack_16bit>,
            widen};
}

template <typename Block, typename Packed>
constexpr Layout q32_layout(DType t) {
    return {t,
            kQK32,
            sizeof(Packed),
            sizeof(ActInfoQ8_0),
            pack_bytes<Packed, pack_q_32<Block, Packed>>,
            unpack_bytes<Packed, Block, unpack_q_32<Block, Packed>>,
            q8_0_sums};
}

constexpr Layout kLayouts[] = {
    layout_16bit(DType::F16, widen_f16),
    layout_16bit(DType::BF16, widen_bf16),
    q32_layout<block_q4_0, block_q4_0x8>(DType::Q4_0),
    {DType::Q5_0, kQK32, sizeof(block_q5_0x8), sizeof(ActInfoQ8_0),
     pack_bytes<block_q5_0x8, pack_q5_0>, unpack_bytes<block_q5_0x8, block_q5_0, unpack_q5_0>,
     q8_0_sums},
    q32_layout<block_q8_0, block_q8_0x8>(DType::Q8_0),
    {DType::Q4_K, kQKK, sizeof(block_q4_Kx8), sizeof(ActInfoQ8_K),
     pack_bytes<block_q4_Kx8, pack_q4_K>, unpack_bytes<block_q4_Kx8, block_q4_K, unpack_q4_K>,
     q8_K_sub_sums},
    {DType::Q6_K, kQKK, sizeof(block_q6_Kx8), 0, pack_bytes<block_q6_Kx8, pack_q6_K>,
     unpack_bytes<block_q6_Kx8, block_q6_K, unpack_q6_K>, nullptr},
    {DType::Q5_K, kQKK, sizeof(block_q5_Kx8), sizeof(ActInfoQ8_K),
     pack_bytes<block_q5_Kx8, pack_q5_K>, unpack_bytes<block_q5_Kx8, block_q5_K, unpack_q5_K>,
     q8_K_sub_sums},
    {DType::Q3_K, kQKK, sizeof(block_q3_Kx8), 0, pack_bytes<block_q3_Kx8, pack_q3_K>,
     unpack_bytes<block_q3_Kx8, block_q3_K, unpack_q3_K>, nullptr},
    {DType::Q2_K, kQKK, sizeof(block_q2_Kx8), 0, pack_bytes<block_q2_Kx8, pack_q2_K>,
     unpack_bytes<block_q2_Kx8, block_q2_K, unpack_q2_K>, nullptr},
    // packed_q1_iq4.cpp
    {DType::Q4_1, kQK32, sizeof(block_q4_1x8), sizeof(ActInfoQ8_1), pack_q4_1_groups,
     unpack_q4_1_row, q8_1_scales},
    {DType::Q5_1, kQK32, sizeof(block_q5_1x8), sizeof(ActInfoQ8_1), pack_q5_1_groups,
     unpack_q5_1_row, q8_1_scales},
    q32_layout<block_iq4_nl, block_iq4_nlx8>(DType::IQ4_NL),
    {DType::IQ4_XS, kQKK, sizeof(block_iq4_xsx8), 0, pack_iq4_xs_groups, unpack_iq4_xs_row,
     nullptr},
};

const Layout* find_layout(DType t) {
    for (const Layout& l : kLayouts) {
        if (l.type == t) return &l;
    }
    return nullptr;
}

const Layout& layout_of(DType t) {
    const Layout* l = find_layout(t);
    if (!l) throw Error("no packed layout for " + std::string(dtype_name(t)));
    return *l;
}

// A SIMD instruction set packs only the types it has packed kernels of its own for: the scalar
// reference is slower than its row-by-row kernels (a type whose packed kernels exist for AVX2
// only stays unpacked on NEON).
bool has_own_packed_kernel(DType t) {
    const Isa isa = active_isa();
    return isa == Isa::Scalar ||
           kernels_row(t, isa).packed_gemm != kernels_row(t, Isa::Scalar).packed_gemm;
}

}  // namespace

// The scalar table's packed kernels (vec_dot_ref.cpp).
void ref_packed_f16(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                    const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                    int n_act, float* y, size_t ldy) {
    ref_gemm_16bit<fp16_to_fp32>(cols, w, group_stride, n_groups, act, act_stride, info,
                                 info_stride, n_act, y, ldy);
}

void ref_packed_bf16(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    ref_gemm_16bit<bf16_to_fp32>(cols, w, group_stride, n_groups, act, act_stride, info,
                                 info_stride, n_act, y, ldy);
}

void ref_packed_q4_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    ref_gemm<block_q4_0x8, block_q8_0, ActInfoQ8_0, q4_0_step>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void ref_packed_q5_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    ref_gemm<block_q5_0x8, block_q8_0, ActInfoQ8_0, q5_0_step>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void ref_packed_q8_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    ref_gemm<block_q8_0x8, block_q8_0, ActInfoQ8_0, q8_0_step>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void ref_packed_q4_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    ref_gemm<block_q4_Kx8, block_q8_K, ActInfoQ8_K, q4_K_step>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void ref_packed_q6_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    ref_gemm<block_q6_Kx8, block_q8_K, NoInfo, q6_K_step>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void ref_packed_q5_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    ref_gemm<block_q5_Kx8, block_q8_K, ActInfoQ8_K, q5_K_step>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void ref_packed_q3_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    ref_gemm<block_q3_Kx8, block_q8_K, NoInfo, q3_K_step>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void ref_packed_q2_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    ref_gemm<block_q2_Kx8, block_q8_K, NoInfo, q2_K_step>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

bool can_pack(DType weight_type, int64_t rows, int64_t cols) {
    const Layout* l = find_layout(weight_type);
    return l && rows > 0 && rows % kPackRows == 0 && cols > 0 && cols % l->block_elems == 0 &&
           has_own_packed_kernel(weight_type);
}

uint64_t packed_group_bytes(DType weight_type, int64_t cols) {
    const Layout& l = layout_of(weight_type);
    return cols / l.block_elems * l.group_block_bytes;
}

void pack_groups(DType weight_type, const uint8_t* src, uint64_t src_row_stride, int64_t cols,
                 int64_t g0, int64_t g1, uint8_t* dst) {
    const Layout& l = layout_of(weight_type);
    const int64_t nb = cols / l.block_elems;
    const uint64_t gbytes = nb * l.group_block_bytes;
    for (int64_t g = g0; g < g1; ++g) {
        l.pack(src + g * kPackRows * src_row_stride, src_row_stride, nb, dst + g * gbytes);
    }
}

void unpack_row(DType weight_type, const uint8_t* group, int r, int64_t cols, uint8_t* dst) {
    const Layout& l = layout_of(weight_type);
    l.unpack(group, r, cols / l.block_elems, dst);
}

uint64_t packed_act_info_bytes(DType weight_type, int64_t cols) {
    const Layout& l = layout_of(weight_type);
    return cols / l.block_elems * l.info_block_bytes;
}

void prepare_packed_act(DType weight_type, const uint8_t* act_row, int64_t cols, uint8_t* info) {
    const Layout& l = layout_of(weight_type);
    if (l.prepare) l.prepare(act_row, cols, info);
}

PackedGemmFn packed_gemm_for(DType weight_type, Isa isa) {
    return kernels_row(weight_type, isa_supported(isa) ? isa : Isa::Scalar).packed_gemm;
}

PackedGemmFn packed_gemm_for(DType weight_type) {
    return packed_gemm_for(weight_type, active_isa());
}

bool repack_enabled() {
    static const bool enabled = [] {
        const char* env = std::getenv("LOKAL_REPACK");
        return !(env && std::string(env) == "0");
    }();
    return enabled;
}

}  // namespace lokal::kernels
