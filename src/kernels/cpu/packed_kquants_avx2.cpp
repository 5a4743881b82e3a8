// AVX2 kernels for the packed Q5_K, Q3_K and Q2_K groups (layouts in packed_layout.h): four
// activation rows (prompts) or one (generation) against a group of 8 weight rows, every 32-byte
// weight load holding 4 quants of each row, lane r accumulating row r. The integer sums are
// exact and the float steps are those of packed_kquants.cpp's reference steps, so results are bit
// for bit the scalar reference's.
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed_avx2_common.h"
#include "kernels/cpu/packed_layout.h"
#include "kernels/cpu/packed_tiles.h"
#include "kernels/cpu/simd_avx2.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {
namespace {

using namespace avx2;  // NOLINT(google-build-using-namespace)
using packed_tiles::ActRows;
using packed_tiles::gemm;

inline __m128i load128(const void* p) {
    return _mm_loadu_si128(static_cast<const __m128i*>(p));
}

// The Q8_K activation rows of a tile with their float accumulators.
template <int kRn>
struct Q8KActs {
    const block_q8_K* a[kRn];
    __m256 acc[kRn];

    explicit Q8KActs(const ActRows& ar) {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            a[j] = ar.row<block_q8_K>(j);
            acc[j] = _mm256_setzero_ps();
        }
    }
    // acc = fma(d_w * d_act, (float)isum, acc), then acc = fma(-(dmin_w * d_act), imin, acc).
    void add(int64_t ib, __m256 dw, const __m256i* isum) {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m256 da = _mm256_set1_ps(a[j][ib].d);
            acc[j] = _mm256_fmadd_ps(_mm256_mul_ps(dw, da), _mm256_cvtepi32_ps(isum[j]), acc[j]);
        }
    }
    void sub_mins(int64_t ib, __m256 dmw, const __m256i* imin) {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            const __m256 da = _mm256_set1_ps(a[j][ib].d);
            acc[j] = _mm256_fnmadd_ps(_mm256_mul_ps(dmw, da), _mm256_cvtepi32_ps(imin[j]), acc[j]);
        }
    }
    void store(float* y, size_t ldy) const {
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) _mm256_storeu_ps(y + j * ldy, acc[j]);
    }
};

// sum over k < 8 of pairs(k) (16 int16: row r's values of sub-blocks 2k, 2k + 1) times the
// activation's two 16-element sums bsums[2k], bsums[2k + 1], per row.
template <int kRn, typename Pairs>
inline void add_bsum_products(const Pairs& pairs, const block_q8_K* const* a, int64_t ib,
                              __m256i* out) {
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) out[j] = _mm256_setzero_si256();
    LOKAL_UNROLL
    for (int k = 0; k < 8; ++k) {
        const __m256i v = pairs(k);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) {
            int32_t pair;
            std::memcpy(&pair, a[j][ib].bsums + 2 * k, 4);
            out[j] = _mm256_add_epi32(out[j], _mm256_madd_epi16(v, _mm256_set1_epi32(pair)));
        }
    }
}

// ---- Q5_K ------------------------------------------------------------------------------------

// Row quants 0..31 of sub-block 2k + half, elements 32 * (2k + half) + 4h + j, j < 4, of every row:
// the low (half 0) or high nibbles of load (k, h) with bit 2k + half of the fifth-bit vector h.
template <int kK, int kHalf>
inline __m256i q5_K_quants(const block_q5_Kx8& p, int h) {
    const __m256i v = load256(p.qs + 256 * kK + 32 * h);
    const __m256i fifth = move_bit<2 * kK + kHalf, 4>(load256(p.qh + 32 * h));
    return _mm256_or_si256(
        _mm256_and_si256(kHalf == 0 ? v : _mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F)),
        _mm256_and_si256(fifth, _mm256_set1_epi8(0x10)));
}

void decode_q5_K(const block_q5_Kx8& p, Vec256* out) {
    decode_in_order<4, 2>(out, [&](auto k_c, auto half_c, int h) {
        return q5_K_quants<decltype(k_c)::value, decltype(half_c)::value>(p, h);
    });
}

// quants(ib, k, half, h) gives the quant vector of load h of sub-block 2k + half.
template <int kRn, typename Quants>
void q5_K_tile_with(int64_t nb, const block_q5_Kx8* w, const Quants& quants, const ActRows& ar,
                    float* y, size_t ldy) {
    Q8KActs<kRn> acts(ar);
    const auto& a = acts.a;
    const ActInfoQ8_K* ai[kRn];
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) ai[j] = ar.info_row<ActInfoQ8_K>(j);
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        const block_q5_Kx8& p = w[ib];
        __m256i isum[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) isum[j] = _mm256_setzero_si256();
        // Quants reach 31, so four loads' products (at most 4 * 2 * 31 * 128 per 16-bit lane) are
        // widened before the next four are added.
        for_const<4>([&](auto k_c) {
            constexpr int k = decltype(k_c)::value;
            const __m128i pairs = load128(p.scales[k]);
            for_const<2>([&](auto half_c) {
                constexpr int half = decltype(half_c)::value;
                const __m256i sc =
                    _mm256_cvtepu8_epi16(_mm_shuffle_epi8(pairs, pick_pair_half(half)));
                LOKAL_UNROLL
                for (int quarter = 0; quarter < 2; ++quarter) {
                    __m256i s[kRn];
                    LOKAL_UNROLL
                    for (int j = 0; j < kRn; ++j) s[j] = _mm256_setzero_si256();
                    over_weight_vectors<kRn, 4>([&](int hq) {
                        const int h = 4 * quarter + hq;
                        const __m256i q = quants(ib, k_c, half_c, h);
                        LOKAL_UNROLL
                        for (int j = 0; j < kRn; ++j) {
                            const int8_t* x = a[j][ib].qs + 64 * k + 32 * half + 4 * h;
                            s[j] = _mm256_add_epi16(s[j], _mm256_maddubs_epi16(q, bcast4(x)));
                        }
                    });
                    LOKAL_UNROLL
                    for (int j = 0; j < kRn; ++j) {
                        isum[j] = _mm256_add_epi32(isum[j], _mm256_madd_epi16(s[j], sc));
                    }
                }
            });
        });
        __m256i imin[kRn];
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j) imin[j] = _mm256_setzero_si256();
        LOKAL_UNROLL
        for (int k = 0; k < 4; ++k) {
            const __m256i m16 = _mm256_cvtepu8_epi16(load128(p.mins[k]));
            LOKAL_UNROLL
            for (int j = 0; j < kRn; ++j) {
                int32_t pair;
                std::memcpy(&pair, ai[j][ib].sub_sums + 2 * k, 4);
                imin[j] =
                    _mm256_add_epi32(imin[j], _mm256_madd_epi16(m16, _mm256_set1_epi32(pair)));
            }
        }
        acts.add(ib, load_f16x8(p.d), isum);
        acts.sub_mins(ib, load_f16x8(p.dmin), imin);
    }
    acts.store(y, ldy);
}

template <int kRn>
void q5_K_tile(int64_t nb, const block_q5_Kx8* w, const ActRows& ar, float* y, size_t ldy) {
    const auto quants = [&](int64_t ib, auto k_c, auto half_c, int h) {
        return q5_K_quants<decltype(k_c)::value, decltype(half_c)::value>(w[ib], h);
    };
    q5_K_tile_with<kRn>(nb, w, quants, ar, y, ldy);
}

template <int kRn>
void q5_K_tile_decoded(int64_t nb, const block_q5_Kx8* w, const Vec256* decoded, const ActRows& ar,
                       float* y, size_t ldy) {
    q5_K_tile_with<kRn>(nb, w, KDecoded<2>{decoded}, ar, y, ldy);
}

// ---- Q3_K and Q2_K ---------------------------------------------------------------------------

// The 2-bit quants (bits 2s, 2s + 1) of load h of half c2, as bytes 0..3.
template <int kS>
inline __m256i low_bits(const uint8_t* qs, int c2, int h) {
    return _mm256_and_si256(move_bit<2 * kS, 0>(load256(qs + k2_at(c2, h, 0))),
                            _mm256_set1_epi8(3));
}

// Q3_K's quants 0..7 of elements 128 c2 + 32 s + 4 h + j: the low bits and the hmask bit
// 4 c2 + s at bit 2.
template <int kC2, int kS>
inline __m256i q3_quants(const block_q3_Kx8& p, int h) {
    const __m256i high = move_bit<4 * kC2 + kS, 2>(load256(p.hmask + 32 * h));
    return _mm256_or_si256(low_bits<kS>(p.qs, kC2, h), _mm256_and_si256(high, _mm256_set1_epi8(4)));
}

// sum over the 16 sub-blocks of sc * (quants . activations), with quants(c2, s, h) giving 32
// bytes 0..7 for load h of half c2 at bit pair s and scales(k, odd) the 16-bit scales of
// sub-block 2k + odd in row pairs. Each sub-block's four loads fit in 16-bit sums
// (4 * 2 * 7 * 128 per lane).
template <int kRn, typename Quants, typename Scales>
inline void k2_dot(const Quants& quants, const Scales& scales, const block_q8_K* const* a,
                   int64_t ib, __m256i* isum) {
    LOKAL_UNROLL
    for (int j = 0; j < kRn; ++j) isum[j] = _mm256_setzero_si256();
    for_const<2>([&](auto c2_c) {
        constexpr int c2 = decltype(c2_c)::value;
        for_const<4>([&](auto s_c) {
            constexpr int s = decltype(s_c)::value;
            LOKAL_UNROLL
            for (int hh = 0; hh < 2; ++hh) {
                const __m256i sc = scales(4 * c2 + s, hh == 1);
                __m256i t[kRn];
                LOKAL_UNROLL
                for (int j = 0; j < kRn; ++j) t[j] = _mm256_setzero_si256();
                over_weight_vectors<kRn, 4>([&](int hq) {
                    const int h = 4 * hh + hq;
                    const __m256i q = quants(c2_c, s_c, h);
                    LOKAL_UNROLL
                    for (int j = 0; j < kRn; ++j) {
                        const int8_t* x = a[j][ib].qs + 128 * c2 + 32 * s + 4 * h;
                        t[j] = _mm256_add_epi16(t[j], _mm256_maddubs_epi16(q, bcast4(x)));
                    }
                });
                LOKAL_UNROLL
                for (int j = 0; j < kRn; ++j) {
                    isum[j] = _mm256_add_epi32(isum[j], _mm256_madd_epi16(t[j], sc));
                }
            }
        });
    });
}

void decode_q3_K(const block_q3_Kx8& p, Vec256* out) {
    decode_in_order<2, 4>(out, [&](auto c2_c, auto s_c, int h) {
        return q3_quants<decltype(c2_c)::value, decltype(s_c)::value>(p, h);
    });
}

// quants(ib, c2, s, h) gives q3_quants<c2, s> of load h of super-block ib.
template <int kRn, typename Quants>
void q3_K_tile_with(int64_t nb, const block_q3_Kx8* w, const Quants& quants, const ActRows& ar,
                    float* y, size_t ldy) {
    Q8KActs<kRn> acts(ar);
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        const block_q3_Kx8& p = w[ib];
        const auto scales = [&](int k, bool odd) {
            return _mm256_cvtepi8_epi16(
                _mm_shuffle_epi8(load128(p.scale_pairs[k]), pick_pair_half(odd)));
        };
        __m256i isum[kRn];
        __m256i corr[kRn];
        k2_dot<kRn>([&](auto c2_c, auto s_c, int h) { return quants(ib, c2_c, s_c, h); }, scales,
                    acts.a, ib, isum);
        // The quants are stored as q + 4: subtract 4 * sum over sub-blocks of sc * bsum.
        add_bsum_products<kRn>(
            [&](int k) { return _mm256_cvtepi8_epi16(load128(p.scale_pairs[k])); }, acts.a, ib,
            corr);
        LOKAL_UNROLL
        for (int j = 0; j < kRn; ++j)
            isum[j] = _mm256_sub_epi32(isum[j], _mm256_slli_epi32(corr[j], 2));
        acts.add(ib, load_f16x8(p.d), isum);
    }
    acts.store(y, ldy);
}

template <int kRn>
void q3_K_tile(int64_t nb, const block_q3_Kx8* w, const ActRows& ar, float* y, size_t ldy) {
    const auto quants = [&](int64_t ib, auto c2_c, auto s_c, int h) {
        return q3_quants<decltype(c2_c)::value, decltype(s_c)::value>(w[ib], h);
    };
    q3_K_tile_with<kRn>(nb, w, quants, ar, y, ldy);
}

template <int kRn>
void q3_K_tile_decoded(int64_t nb, const block_q3_Kx8* w, const Vec256* decoded, const ActRows& ar,
                       float* y, size_t ldy) {
    q3_K_tile_with<kRn>(nb, w, KDecoded<4>{decoded}, ar, y, ldy);
}

template <int kRn>
void q2_K_tile(int64_t nb, const block_q2_Kx8* w, const ActRows& ar, float* y, size_t ldy) {
    const __m128i m4 = _mm_set1_epi8(0x0F);
    Q8KActs<kRn> acts(ar);
    for (int64_t ib = 0; ib < nb; ++ib) {
        prefetch_ahead<kRn>(w + ib);
        const block_q2_Kx8& p = w[ib];
        const auto quants = [&](auto c2_c, auto s_c, int h) {
            return low_bits<decltype(s_c)::value>(p.qs, decltype(c2_c)::value, h);
        };
        const auto scales = [&](int k, bool odd) {
            const __m128i sc = _mm_and_si128(load128(p.scale_pairs[k]), m4);
            return _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sc, pick_pair_half(odd)));
        };
        __m256i isum[kRn];
        __m256i imin[kRn];
        k2_dot<kRn>(quants, scales, acts.a, ib, isum);
        add_bsum_products<kRn>(
            [&](int k) {
                const __m128i m = _mm_and_si128(_mm_srli_epi16(load128(p.scale_pairs[k]), 4), m4);
                return _mm256_cvtepu8_epi16(m);
            },
            acts.a, ib, imin);
        acts.add(ib, load_f16x8(p.d), isum);
        acts.sub_mins(ib, load_f16x8(p.dmin), imin);
    }
    acts.store(y, ldy);
}

}  // namespace

// The kernels of the AVX2 table (vec_dot_avx2.cpp).
void avx2_packed_q5_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                      const uint8_t* act, size_t act_stride, const uint8_t* info,
                      size_t info_stride, int n_act, float* y, size_t ldy) {
    packed_tiles::gemm_decoded<block_q5_Kx8, Vec256, kKDecodedVectors, decode_q5_K, 4,
                               q5_K_tile_decoded<4>, q5_K_tile<4>, q5_K_tile<1>, kQKK>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void avx2_packed_q3_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                      const uint8_t* act, size_t act_stride, const uint8_t* info,
                      size_t info_stride, int n_act, float* y, size_t ldy) {
    packed_tiles::gemm_decoded<block_q3_Kx8, Vec256, kKDecodedVectors, decode_q3_K, 4,
                               q3_K_tile_decoded<4>, q3_K_tile<4>, q3_K_tile<1>, kQKK>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

void avx2_packed_q2_K(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                      const uint8_t* act, size_t act_stride, const uint8_t* info,
                      size_t info_stride, int n_act, float* y, size_t ldy) {
    gemm<block_q2_Kx8, 4, q2_K_tile<4>, q2_K_tile<1>, kQKK>(
        cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
}

}  // namespace lokal::kernels
