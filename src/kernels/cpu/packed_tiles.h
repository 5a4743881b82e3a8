// Internal: what every SIMD kernel of the packed groups shares, whatever its instruction set: the
// view of a tile of activation rows, and the driver that runs a group against tiles of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lokal::kernels::packed_tiles {

// Activation rows (and their side data) from row 0 of a tile, act_stride (info_stride) apart.
struct ActRows {
    const uint8_t* act;
    size_t act_stride;
    const uint8_t* info;
    size_t info_stride;

    template <typename Block>
    const Block* row(int j) const {
        return reinterpret_cast<const Block*>(act + j * act_stride);
    }
    template <typename Info>
    const Info* info_row(int j) const {
        return reinterpret_cast<const Info*>(info + j * info_stride);
    }
};

// Calls tile(ar, b) for each whole tile of kTile activation rows from row b, then one(ar, b) for
// each remaining row b.
template <int kTile, typename Tile, typename One>
void over_act_tiles(const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                    int n_act, const Tile& tile, const One& one) {
    int b = 0;
    for (; b + kTile <= n_act; b += kTile) {
        tile(ActRows{act + b * act_stride, act_stride, info + b * info_stride, info_stride}, b);
    }
    for (; b < n_act; ++b) {
        one(ActRows{act + b * act_stride, act_stride, info + b * info_stride, info_stride}, b);
    }
}

// A PackedGemmFn body: every group against activation rows in tiles of kTile (kTileFn), then the
// remaining rows one by one (kOneFn).
template <typename Packed, int kTile,
          void (*kTileFn)(int64_t, const Packed*, const ActRows&, float*, size_t),
          void (*kOneFn)(int64_t, const Packed*, const ActRows&, float*, size_t), int kBlockElems>
void gemm(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups, const uint8_t* act,
          size_t act_stride, const uint8_t* info, size_t info_stride, int n_act, float* y,
          size_t ldy) {
    const int64_t nb = cols / kBlockElems;
    for (int g = 0; g < n_groups; ++g) {
        const Packed* wg = reinterpret_cast<const Packed*>(w + g * group_stride);
        float* yg = y + 8 * g;
        over_act_tiles<kTile>(
            act, act_stride, info, info_stride, n_act,
            [&](const ActRows& ar, int b) { kTileFn(nb, wg, ar, yg + b * ldy, ldy); },
            [&](const ActRows& ar, int b) { kOneFn(nb, wg, ar, yg + b * ldy, ldy); });
    }
}

// A prompt meets each group once per tile of activation rows, and a kernel that assembles quants
// from split bits (the fifth bits of Q5_K, Q5_0 and Q5_1, the high bits of Q6_K and Q3_K) repeats
// that work per tile. When at least kMinDecodedRows rows pass, gemm_decoded instead assembles
// each group once into kPerBlock Decoded units per block (kDecode, in the order kDecodedFn reads
// them) and runs the tiles on those; fewer rows take the plain gemm. The arithmetic on the quants
// is the same, so the results are the same bits.
constexpr int kMinDecodedRows = 8;

template <typename Packed, typename Decoded, int kPerBlock,
          void (*kDecode)(const Packed&, Decoded*), int kTile,
          void (*kDecodedFn)(int64_t, const Packed*, const Decoded*, const ActRows&, float*,
                             size_t),
          void (*kTileFn)(int64_t, const Packed*, const ActRows&, float*, size_t),
          void (*kOneFn)(int64_t, const Packed*, const ActRows&, float*, size_t), int kBlockElems>
void gemm_decoded(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                  const uint8_t* act, size_t act_stride, const uint8_t* info, size_t info_stride,
                  int n_act, float* y, size_t ldy) {
    if (n_act < kMinDecodedRows) {
        gemm<Packed, kTile, kTileFn, kOneFn, kBlockElems>(
            cols, w, group_stride, n_groups, act, act_stride, info, info_stride, n_act, y, ldy);
        return;
    }
    const int64_t nb = cols / kBlockElems;
    // Grows to the widest matrix once per thread (64 KiB for Q5_K at 8192 columns).
    thread_local std::vector<Decoded> decoded;
    if (decoded.size() < (size_t)(nb * kPerBlock)) decoded.resize(nb * kPerBlock);
    for (int g = 0; g < n_groups; ++g) {
        const Packed* wg = reinterpret_cast<const Packed*>(w + g * group_stride);
        for (int64_t ib = 0; ib < nb; ++ib) kDecode(wg[ib], decoded.data() + ib * kPerBlock);
        float* yg = y + 8 * g;
        over_act_tiles<kTile>(
            act, act_stride, info, info_stride, n_act,
            [&](const ActRows& ar, int b) {
                kDecodedFn(nb, wg, decoded.data(), ar, yg + b * ldy, ldy);
            },
            [&](const ActRows& ar, int b) { kOneFn(nb, wg, ar, yg + b * ldy, ldy); });
    }
}

}  // namespace lokal::kernels::packed_tiles
