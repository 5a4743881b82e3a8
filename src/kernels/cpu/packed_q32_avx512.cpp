// AVX-512 VNNI kernels for the packed 32-column block types Q4_0, Q5_0, Q8_0, IQ4_NL, Q4_1 and
// Q5_1 (layouts in packed.h). Two groups side by side fill a 512-bit register: lanes 0..7 hold 4
// bytes of each row of group g, lanes 8..15 those of group g + 1, so 4 activation bytes,
// broadcast straight from memory as VPDPBUSD's operand, meet 16 weight rows in one instruction
// that also adds the products into 32-bit sums. A tile of up to 8 activation rows shares every
// weight load and unpack; the 16 output rows of a group pair are contiguous in y, one store per
// activation row.
//
// VPDPBUSD multiplies unsigned by signed bytes: Q4_0 and Q5_0 quants are stored unsigned
// (q + 8, q + 16), Q8_0's are flipped to q + 128 and IQ4_NL's levels looked up as v + 128; each
// block's isum then subtracts the offset times the activation block's sum
// (ActInfoQ8_0::sum_x8). Q4_1 and Q5_1 need no offset and add their blocks' minimum terms. The
// integer sums are exact and the float steps are the scalar reference's (packed.cpp,
// packed_q1_iq4.cpp), so results equal it bit for bit. GCC 12's AVX-512 headers trip
// -Wuninitialized in _mm512_undefined_*() (see vec_dot_avx512.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/cpu/packed_pairs_avx512.h"
#include "kernels/cpu/packed_tiles.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

using packed_tiles::ActRows;

#define LOKAL_UNROLL _Pragma("GCC unroll 8")

// Bytes [off, off + 32) of one group's block and of the next group's, as one register.
inline __m512i join_groups(const uint8_t* g0, const uint8_t* g1) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g0));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g1));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

// 4 activation bytes at p in every lane (the compiler folds it into VPDPBUSD's {1to16} operand).
inline __m512i bcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// The 16 block scales of a group pair, group g's in lanes 0..7.
inline __m512 load_scales(const uint16_t* d0, const uint16_t* d1) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d0));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d1));
    return _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
}

// Each type: kVectors unsigned weight vectors per block of a group pair; vector v meets the
// activation bytes from act_offset(v); isum = sum of products - kSumX8 * sum_x8.
// Q4_0: load h's low nibbles (columns 4h + j) and high nibbles (16 + 4h + j).
struct Q4_0Weights {
    using Packed = block_q4_0x8;
    static constexpr int kVectors = 8;
    static constexpr int kSumX8 = 1;
    static constexpr int act_offset(int v) { return (v % 2) * 16 + 4 * (v / 2); }
    struct Unpacker {
        __m512i m4 = _mm512_set1_epi8(0x0F);
        __m512i v = _mm512_setzero_si512();
        template <typename Block>  // block_q4_0x8 or block_q4_1x8 (the same qs)
        __m512i get(const Block& b0, const Block& b1, int i) {
            if (i % 2 == 0) {
                v = join_groups(b0.qs + 32 * (i / 2), b1.qs + 32 * (i / 2));
                return _mm512_and_si512(v, m4);
            }
            return _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        }
    };
};

// Q5_0: as Q4_0 with each fifth bit moved to bit 4 (packed_layout.h: one shift per nibble set).
struct Q5_0Weights {
    using Packed = block_q5_0x8;
    static constexpr int kVectors = 8;
    static constexpr int kSumX8 = 2;
    static constexpr int act_offset(int v) { return Q4_0Weights::act_offset(v); }
    struct Unpacker {
        __m512i m4 = _mm512_set1_epi8(0x0F);
        __m512i bit4 = _mm512_set1_epi8(0x10);
        __m512i v = _mm512_setzero_si512();
        __m512i qh = _mm512_setzero_si512();
        template <typename Block>  // block_q5_0x8 or block_q5_1x8 (the same qh and qs)
        __m512i get(const Block& b0, const Block& b1, int i) {
            if (i == 0) qh = join_groups(b0.qh, b1.qh);
            // Bit i of qh (2h for the low nibbles of load h, 2h + 1 for the high) to bit 4.
            const __m512i hb = i <= 4 ? _mm512_slli_epi16(qh, (unsigned)(4 - i))
                                      : _mm512_srli_epi16(qh, (unsigned)(i - 4));
            __m512i nib;
            if (i % 2 == 0) {
                v = join_groups(b0.qs + 32 * (i / 2), b1.qs + 32 * (i / 2));
                nib = v;
            } else {
                nib = _mm512_srli_epi16(v, 4);
            }
            // (nib & 0x0F) | (hb & 0x10): B | (A & C) for A = hb, B = nib & 0x0F, C = 0x10.
            return _mm512_ternarylogic_epi32(hb, _mm512_and_si512(nib, m4), bit4, 0xEC);
        }
    };
};

// Q8_0: load h (columns 4h + j), flipped from signed q to unsigned q + 128.
struct Q8_0Weights {
    using Packed = block_q8_0x8;
    static constexpr int kVectors = 8;
    static constexpr int kSumX8 = 16;
    static constexpr int act_offset(int v) { return 4 * v; }
    struct Unpacker {
        __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
        __m512i get(const Packed& b0, const Packed& b1, int i) {
            const auto* p0 = reinterpret_cast<const uint8_t*>(b0.qs) + 32 * i;
            const auto* p1 = reinterpret_cast<const uint8_t*>(b1.qs) + 32 * i;
            return _mm512_xor_si512(join_groups(p0, p1), flip);
        }
    };
};

// IQ4_NL: Q4_0's nibbles as indices into the levels shifted by +128 (avx512_pairs), whose
// offset comes back off as 128 * sum = 16 * sum_x8.
struct IQ4_NLWeights {
    using Packed = block_iq4_nlx8;
    static constexpr int kVectors = 8;
    static constexpr int kSumX8 = 16;
    static constexpr int act_offset(int v) { return Q4_0Weights::act_offset(v); }
    struct Unpacker {
        __m512i table = avx512_pairs::shifted_iq4_table();
        Q4_0Weights::Unpacker nibbles;
        __m512i get(const Packed& b0, const Packed& b1, int i) {
            return _mm512_shuffle_epi8(table, nibbles.get(b0, b1, i));
        }
    };
};

// Q4_1 and Q5_1: Q4_0's and Q5_0's quants, stored without an offset; against Q8_1 activations,
// each block then adds m_w * s_a (kWithMin).
template <typename Block, typename Base>
struct WithMinWeights {
    using Packed = Block;
    static constexpr bool kWithMin = true;
    static constexpr int kVectors = Base::kVectors;
    static constexpr int kSumX8 = 0;
    static constexpr int act_offset(int v) { return Base::act_offset(v); }
    using Unpacker = typename Base::Unpacker;
};
using Q4_1Weights = WithMinWeights<block_q4_1x8, Q4_0Weights>;
using Q5_1Weights = WithMinWeights<block_q5_1x8, Q5_0Weights>;

template <typename W>
constexpr bool with_min() {
    if constexpr (requires { W::kWithMin; }) {
        return W::kWithMin;
    } else {
        return false;
    }
}

// One block of columns of a tile of kRn activation rows, side by side (TileActs): the kernel
// then reads every row through one pointer, where 2 kRn pointers to the rows and their side data
// spilled to the stack, and each row's isum starts from the offset correction ready-made.
template <int kRn>
struct TileBlock {
    int8_t qs[kRn][kQK32];
    int32_t isum0[kRn];  // -kSumX8 * sum_x8
    float d[kRn];
    float s[kRn];  // Q8_1's d * sum(quants) (with_min types; else 0)
};

// Groups w0 and w1 against a tile of kRn activation rows.
template <typename W, int kRn>
void pair_tile(int64_t nb, const typename W::Packed* w0, const typename W::Packed* w1,
               const TileBlock<kRn>* t, float* y, size_t ldy) {
    __m512 acc[kRn];
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) acc[j] = _mm512_setzero_ps();
    typename W::Unpacker un;
    for (int64_t ib = 0; ib < nb; ++ib) {
        __m512i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm512_set1_epi32(t[ib].isum0[j]);
        LOKAL_UNROLL
        for (int v = 0; v < W::kVectors; ++v) {
            const __m512i wv = un.get(w0[ib], w1[ib], v);
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                isum[j] = _mm512_dpbusd_epi32(isum[j], wv, bcast4(t[ib].qs[j] + W::act_offset(v)));
            }
        }
        const __m512 dw = load_scales(w0[ib].d, w1[ib].d);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(t[ib].d[j]));
            acc[j] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(isum[j]), acc[j]);
        }
        if constexpr (with_min<W>()) {
            const __m512 mw = load_scales(w0[ib].m, w1[ib].m);
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                acc[j] = _mm512_fmadd_ps(mw, _mm512_set1_ps(t[ib].s[j]), acc[j]);
            }
        }
    }
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) _mm512_storeu_ps(y + j * ldy, acc[j]);
}

// A call's activation rows in tiles of 8, the rest in tiles of 4, 2 and 1, each tile's blocks
// interleaved once (TileBlock) for every group pair to read.
template <typename W>
class TileActs {
  public:
    TileActs(int64_t nb, const ActRows& ar, int n_act) : nb_(nb) {
        int b = 0;
        for (; b + 8 <= n_act; b += 8) add(ar, b, 8);
        for (int size : {4, 2, 1}) {
            if (b + size <= n_act) {
                add(ar, b, size);
                b += size;
            }
        }
    }

    // Calls fn(tile start row, TileBlock<kRn>* blocks) for each tile (kRn as a constant).
    template <typename Fn>
    void each(const Fn& fn) const {
        for (const Tile& t : tiles_) {
            const uint8_t* p = buf_.data() + t.offset;
            switch (t.size) {
                case 8:
                    fn(t.start, reinterpret_cast<const TileBlock<8>*>(p));
                    break;
                case 4:
                    fn(t.start, reinterpret_cast<const TileBlock<4>*>(p));
                    break;
                case 2:
                    fn(t.start, reinterpret_cast<const TileBlock<2>*>(p));
                    break;
                default:
                    fn(t.start, reinterpret_cast<const TileBlock<1>*>(p));
            }
        }
    }

  private:
    struct Tile {
        int start, size;
        size_t offset;
    };

    // TileBlock<size>: qs[size][32], isum0[size], d[size], s[size].
    static constexpr size_t block_bytes(int size) { return (size_t)size * (kQK32 + 12); }
    static_assert(sizeof(TileBlock<8>) == block_bytes(8) && sizeof(TileBlock<1>) == block_bytes(1));

    void add(const ActRows& ar, int start, int size) {
        const Tile t{start, size, buf_.size()};
        tiles_.push_back(t);
        buf_.resize(buf_.size() + nb_ * block_bytes(size));
        uint8_t* p = buf_.data() + t.offset;
        for (int64_t ib = 0; ib < nb_; ++ib, p += block_bytes(size)) {
            for (int j = 0; j < size; ++j) {
                const int8_t* qs = nullptr;
                int32_t isum0 = 0;
                float d = 0.0f, sum = 0.0f;
                if constexpr (with_min<W>()) {
                    qs = ar.row<block_q8_1>(start + j)[ib].qs;
                    const ActInfoQ8_1& ai = ar.info_row<ActInfoQ8_1>(start + j)[ib];
                    d = ai.d;
                    sum = ai.s;
                } else {
                    qs = ar.row<block_q8_0>(start + j)[ib].qs;
                    const ActInfoQ8_0& ai = ar.info_row<ActInfoQ8_0>(start + j)[ib];
                    isum0 = -W::kSumX8 * ai.sum_x8;
                    d = ai.d;
                }
                std::memcpy(p + kQK32 * j, qs, kQK32);
                std::memcpy(p + kQK32 * size + 4 * j, &isum0, 4);
                std::memcpy(p + (kQK32 + 4) * size + 4 * j, &d, 4);
                std::memcpy(p + (kQK32 + 8) * size + 4 * j, &sum, 4);
            }
        }
    }

    int64_t nb_;
    std::vector<Tile> tiles_;
    // Reused from call to call: a fresh prompt-sized buffer would be new pages every time.
    static std::vector<uint8_t>& scratch() {
        thread_local std::vector<uint8_t> buf;
        buf.clear();
        return buf;
    }
    std::vector<uint8_t>& buf_ = scratch();
};

// Group pairs against the tiles of TileActs; an odd last group, and generation's single
// activation row, on the AVX2 kernel (kOdd).
template <typename W, PackedGemm kOdd>
void gemm_pairs(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                int n_act, float* y, size_t ldy) {
    using Packed = typename W::Packed;
    if (n_act == 1) {
        // Generation is bound by memory bandwidth, and the pairs' two interleaved weight streams
        // measure slower there than AVX2's one (`lokal bench -n 128`, 1B Q4_0: 48-64 t/s vs 69).
        kOdd(cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
        return;
    }
    const int64_t nb = cols / kQK32;
    const TileActs<W> tiles(nb, ActRows{act, act_stride, info, info_stride}, n_act);
    int g = 0;
    for (; g + 2 <= n_groups; g += 2) {
        const auto* w0 = reinterpret_cast<const Packed*>(w + g * group_stride);
        const auto* w1 = reinterpret_cast<const Packed*>(w + (g + 1) * group_stride);
        tiles.each([&](int b, const auto* t) {
            constexpr int kRn = sizeof(t->d) / sizeof(float);
            pair_tile<W, kRn>(nb, w0, w1, t, y + 8 * g + b * ldy, ldy);
        });
    }
    if (g < n_groups) {
        kOdd(cols, w + g * group_stride, group_stride, 1, act, act_stride, info, info_stride, n_act,
             y + 8 * g, ldy);
    }
}

}  // namespace

void avx512_packed_q4_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<Q4_0Weights, avx2_packed_q4_0>(cols, w, group_stride, n_groups, act, act_stride,
                                              info, info_stride, n_act, y, ldy);
}

void avx512_packed_q5_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<Q5_0Weights, avx2_packed_q5_0>(cols, w, group_stride, n_groups, act, act_stride,
                                              info, info_stride, n_act, y, ldy);
}

void avx512_packed_q8_0(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<Q8_0Weights, avx2_packed_q8_0>(cols, w, group_stride, n_groups, act, act_stride,
                                              info, info_stride, n_act, y, ldy);
}

void avx512_packed_iq4_nl(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                          const uint8_t* act, size_t act_stride, const uint8_t* info,
                          size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<IQ4_NLWeights, avx2_packed_iq4_nl>(cols, w, group_stride, n_groups, act, act_stride,
                                                  info, info_stride, n_act, y, ldy);
}

void avx512_packed_q4_1(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<Q4_1Weights, avx2_packed_q4_1>(cols, w, group_stride, n_groups, act, act_stride,
                                              info, info_stride, n_act, y, ldy);
}

void avx512_packed_q5_1(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm_pairs<Q5_1Weights, avx2_packed_q5_1>(cols, w, group_stride, n_groups, act, act_stride,
                                              info, info_stride, n_act, y, ldy);
}

}  // namespace lokal::kernels
