// The Q4_1, Q5_1, IQ4_NL and IQ4_XS group layouts (packed.h): packing, its exact inverse, the
// Q8_1 activations' side data and the scalar reference kernels that fix every path's float order.
#include "kernels/cpu/packed_q1_iq4.h"

#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "base/fp16.h"
#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/cpu/packed_pieces.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {

namespace {

using namespace pieces;  // NOLINT(google-build-using-namespace)

// ---- pack / unpack ---------------------------------------------------------------------------

// Q4_1 and Q5_1: scale, minimum and nibbles (and Q5_1's fifth bits).
template <typename Block, typename Packed>
void pack_with_min(const uint8_t* rows, uint64_t stride, int64_t nb, Packed* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        const uint8_t* qs[8];
        for (int r = 0; r < 8; ++r) {
            const Block& b = reinterpret_cast<const Block*>(rows + r * stride)[ib];
            out[ib].d[r] = b.d;
            out[ib].m[r] = b.m;
            qs[r] = b.qs;
            if constexpr (std::is_same_v<Block, block_q5_1>)
                regroup_fifth_bits(b.qh, r, out[ib].qh);
        }
        interleave4(qs, 4, out[ib].qs);
    }
}

template <typename Block, typename Packed>
void unpack_with_min(const Packed* in, int r, int64_t nb, Block* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        out[ib].d = in[ib].d[r];
        out[ib].m = in[ib].m[r];
        deinterleave4(in[ib].qs, r, 4, out[ib].qs);
        if constexpr (std::is_same_v<Block, block_q5_1>)
            restore_fifth_bits(in[ib].qh, r, out[ib].qh);
    }
}

// IQ4_XS's 6-bit scale of sub-block s: the low 4 bits in nibble s % 2 of scales_l[s / 2], the
// high 2 bits at bits 2s, 2s + 1 of scales_h.
int iq4_xs_scale(const block_iq4_xs& b, int s) {
    const int lo = (b.scales_l[s / 2] >> (4 * (s % 2))) & 0xF;
    const int hi = (b.scales_h >> (2 * s)) & 3;
    return lo | (hi << 4);
}

void pack_iq4_xs(const uint8_t* rows, uint64_t stride, int64_t nb, block_iq4_xsx8* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        const uint8_t* qs[8];
        for (int r = 0; r < 8; ++r) {
            const block_iq4_xs& b = reinterpret_cast<const block_iq4_xs*>(rows + r * stride)[ib];
            out[ib].d[r] = b.d;
            for (int s = 0; s < 8; ++s) out[ib].scales[s][r] = (int8_t)(iq4_xs_scale(b, s) - 32);
            qs[r] = b.qs;
        }
        interleave4(qs, 32, out[ib].qs);
    }
}

void unpack_iq4_xs(const block_iq4_xsx8* in, int r, int64_t nb, block_iq4_xs* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        block_iq4_xs& b = out[ib];
        b.d = in[ib].d[r];
        b.scales_h = 0;
        std::memset(b.scales_l, 0, sizeof b.scales_l);
        for (int s = 0; s < 8; ++s) {
            const int ls = in[ib].scales[s][r] + 32;
            b.scales_l[s / 2] = (uint8_t)(b.scales_l[s / 2] | (ls & 0xF) << (4 * (s % 2)));
            b.scales_h = (uint16_t)(b.scales_h | (ls >> 4) << (2 * s));
        }
        deinterleave4(in[ib].qs, r, 32, b.qs);
    }
}

// ---- scalar reference kernels ----------------------------------------------------------------

// Row r's exact integer dot product with one 32-column block laid out as Q4_0x8's qs (plus the
// fifth bits of Q5_0x8's qh when given), each quant mapped through kValue.
template <int (*kValue)(int)>
int32_t block_isum(const uint8_t* qs, const uint8_t* qh, int r, const int8_t* a) {
    int32_t isum = 0;
    for (int h = 0; h < 4; ++h) {
        for (int j = 0; j < 4; ++j) {
            const uint8_t q = qs[32 * h + 4 * r + j];
            int lo = q & 0xF, hi = q >> 4;
            if (qh) {
                lo |= ((qh[4 * r + j] >> (2 * h)) & 1) << 4;
                hi |= ((qh[4 * r + j] >> (2 * h + 1)) & 1) << 4;
            }
            isum += kValue(lo) * a[4 * h + j] + kValue(hi) * a[16 + 4 * h + j];
        }
    }
    return isum;
}

int as_is(int q) {
    return q;
}

int iq4_value(int q) {
    return kIq4nlValues[q];
}

// Q4_1, Q5_1: acc = fma(d_w * d_a, isum, acc), then acc = fma(m_w, s_a, acc).
template <typename Packed>
float with_min_step(float acc, const Packed& p, int r, const block_q8_1& a, const ActInfoQ8_1& ai) {
    const uint8_t* qh = nullptr;
    if constexpr (std::is_same_v<Packed, block_q5_1x8>) qh = p.qh;
    const int32_t isum = block_isum<as_is>(p.qs, qh, r, a.qs);
    acc = std::fma(fp16_to_fp32(p.d[r]) * ai.d, (float)isum, acc);
    return std::fma(fp16_to_fp32(p.m[r]), ai.s, acc);
}

float iq4_nl_step(float acc, const block_iq4_nlx8& p, int r, const block_q8_0& a,
                  const ActInfoQ8_0& ai) {
    const int32_t isum = block_isum<iq4_value>(p.qs, nullptr, r, a.qs);
    return std::fma(fp16_to_fp32(p.d[r]) * ai.d, (float)isum, acc);
}

// IQ4_XS: isum = sum over sub-blocks of scale * (exact dot product), then one fma.
float iq4_xs_step(float acc, const block_iq4_xsx8& p, int r, const block_q8_K& a, const NoInfo&) {
    int32_t isum = 0;
    for (int s = 0; s < 8; ++s) {
        isum += p.scales[s][r] * block_isum<iq4_value>(p.qs + 128 * s, nullptr, r, a.qs + 32 * s);
    }
    return std::fma(fp16_to_fp32(p.d[r]) * a.d, (float)isum, acc);
}

}  // namespace

void pack_q4_1_groups(const uint8_t* rows, uint64_t stride, int64_t nb, uint8_t* out) {
    pack_with_min<block_q4_1>(rows, stride, nb, reinterpret_cast<block_q4_1x8*>(out));
}

void unpack_q4_1_row(const uint8_t* group, int r, int64_t nb, uint8_t* dst) {
    unpack_with_min(reinterpret_cast<const block_q4_1x8*>(group), r, nb,
                    reinterpret_cast<block_q4_1*>(dst));
}

void pack_q5_1_groups(const uint8_t* rows, uint64_t stride, int64_t nb, uint8_t* out) {
    pack_with_min<block_q5_1>(rows, stride, nb, reinterpret_cast<block_q5_1x8*>(out));
}

void unpack_q5_1_row(const uint8_t* group, int r, int64_t nb, uint8_t* dst) {
    unpack_with_min(reinterpret_cast<const block_q5_1x8*>(group), r, nb,
                    reinterpret_cast<block_q5_1*>(dst));
}

void pack_iq4_xs_groups(const uint8_t* rows, uint64_t stride, int64_t nb, uint8_t* out) {
    pack_iq4_xs(rows, stride, nb, reinterpret_cast<block_iq4_xsx8*>(out));
}

void unpack_iq4_xs_row(const uint8_t* group, int r, int64_t nb, uint8_t* dst) {
    unpack_iq4_xs(reinterpret_cast<const block_iq4_xsx8*>(group), r, nb,
                  reinterpret_cast<block_iq4_xs*>(dst));
}

void q8_1_scales(const uint8_t* act_row, int64_t cols, uint8_t* info) {
    const auto* a = reinterpret_cast<const block_q8_1*>(act_row);
    auto* out = reinterpret_cast<ActInfoQ8_1*>(info);
    for (int64_t ib = 0; ib < cols / kQK32; ++ib) {
        out[ib] = {fp16_to_fp32(a[ib].d), fp16_to_fp32(a[ib].s)};
    }
}

// The scalar table's packed kernels (vec_dot_ref.cpp).
void ref_packed_q4_1(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    ref_gemm<block_q4_1x8, block_q8_1, ActInfoQ8_1, with_min_step<block_q4_1x8>>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void ref_packed_q5_1(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                     const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                     int n_act, float* y, size_t ldy) {
    ref_gemm<block_q5_1x8, block_q8_1, ActInfoQ8_1, with_min_step<block_q5_1x8>>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void ref_packed_iq4_nl(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                       const uint8_t* act, size_t act_stride, const uint8_t* info,
                       size_t info_stride, int n_act, float* y, size_t ldy) {
    ref_gemm<block_iq4_nlx8, block_q8_0, ActInfoQ8_0, iq4_nl_step>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void ref_packed_iq4_xs(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                       const uint8_t* act, size_t act_stride, const uint8_t* info,
                       size_t info_stride, int n_act, float* y, size_t ldy) {
    ref_gemm<block_iq4_xsx8, block_q8_K, NoInfo, iq4_xs_step>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

}  // namespace lokal::kernels
