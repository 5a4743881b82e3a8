// Packing, unpacking and the scalar reference steps of the packed Q5_K, Q3_K and Q2_K groups.
#include "kernels/cpu/packed_kquants.h"

#include <cmath>
#include <cstring>

#include "base/fp16.h"
#include "kernels/cpu/packed_pieces.h"

namespace lokal::kernels {

namespace {

using namespace pieces;  // NOLINT(google-build-using-namespace)

template <typename Block>
const Block& stored_block(const uint8_t* rows, uint64_t stride, int r, int64_t ib) {
    return reinterpret_cast<const Block*>(rows + r * stride)[ib];
}

// Interleaves one byte array of the 8 stored blocks ib (field(block) gives it): chunk c of
// chunk_bytes bytes of every row lands at dst + 8 * chunk_bytes * c, 4 bytes of each row side by
// side.
template <typename Block, typename Field>
void interleave_field(const uint8_t* rows, uint64_t stride, int64_t ib, int chunk_bytes,
                      int n_chunks, const Field& field, uint8_t* dst) {
    for (int c = 0; c < n_chunks; ++c) {
        const uint8_t* src[8];
        for (int r = 0; r < 8; ++r) {
            src[r] = field(stored_block<Block>(rows, stride, r, ib)) + chunk_bytes * c;
        }
        interleave4(src, chunk_bytes / 4, dst + 8 * chunk_bytes * c);
    }
}

void deinterleave_field(const uint8_t* src, int r, int chunk_bytes, int n_chunks, uint8_t* dst) {
    for (int c = 0; c < n_chunks; ++c) {
        deinterleave4(src + 8 * chunk_bytes * c, r, chunk_bytes / 4, dst + chunk_bytes * c);
    }
}

}  // namespace

// ---- Q5_K ------------------------------------------------------------------------------------

void pack_q5_K(const uint8_t* rows, uint64_t stride, int64_t nb, block_q5_Kx8* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        block_q5_Kx8& p = out[ib];
        for (int r = 0; r < 8; ++r) {
            const auto& b = stored_block<block_q5_K>(rows, stride, r, ib);
            p.d[r] = b.d;
            p.dmin[r] = b.dmin;
            for (int s = 0; s < 8; ++s) {
                uint8_t sc = 0, m = 0;
                get_scale_min_k4(s, b.scales, &sc, &m);
                p.scales[s / 2][2 * r + s % 2] = sc;
                p.mins[s / 2][2 * r + s % 2] = m;
            }
        }
        interleave_field<block_q5_K>(
            rows, stride, ib, 32, 1, [](const block_q5_K& b) { return b.qh; }, p.qh);
        interleave_field<block_q5_K>(
            rows, stride, ib, 32, 4, [](const block_q5_K& b) { return b.qs; }, p.qs);
    }
}

void unpack_q5_K(const block_q5_Kx8* in, int r, int64_t nb, block_q5_K* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        const block_q5_Kx8& p = in[ib];
        block_q5_K& b = out[ib];
        b.d = p.d[r];
        b.dmin = p.dmin[r];
        std::memset(b.scales, 0, sizeof b.scales);
        for (int s = 0; s < 8; ++s) {
            put_scale_min_k4(s, p.scales[s / 2][2 * r + s % 2], p.mins[s / 2][2 * r + s % 2],
                             b.scales);
        }
        deinterleave_field(p.qh, r, 32, 1, b.qh);
        deinterleave_field(p.qs, r, 32, 4, b.qs);
    }
}

float q5_K_step(float acc, const block_q5_Kx8& p, int r, const block_q8_K& a,
                const ActInfoQ8_K& ai) {
    int32_t isum = 0, imin = 0;
    for (int k = 0; k < 4; ++k) {
        int32_t lo = 0, hi = 0;
        for (int h = 0; h < 8; ++h) {
            for (int j = 0; j < 4; ++j) {
                const int q = p.qs[256 * k + 32 * h + 4 * r + j];
                const int fifth = p.qh[32 * h + 4 * r + j] >> (2 * k);
                lo += ((q & 0xF) | (fifth & 1) << 4) * a.qs[64 * k + 4 * h + j];
                hi += ((q >> 4) | (fifth & 2) << 3) * a.qs[64 * k + 32 + 4 * h + j];
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

// ---- Q3_K ------------------------------------------------------------------------------------

void pack_q3_K(const uint8_t* rows, uint64_t stride, int64_t nb, block_q3_Kx8* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        block_q3_Kx8& p = out[ib];
        for (int r = 0; r < 8; ++r) {
            const auto& b = stored_block<block_q3_K>(rows, stride, r, ib);
            p.d[r] = b.d;
            int8_t sc[16];
            unpack_q3_K_scales(b.scales, sc);
            for (int s = 0; s < 16; ++s) p.scale_pairs[s / 2][2 * r + s % 2] = sc[s];
        }
        interleave_field<block_q3_K>(
            rows, stride, ib, 32, 1, [](const block_q3_K& b) { return b.hmask; }, p.hmask);
        interleave_field<block_q3_K>(
            rows, stride, ib, 32, 2, [](const block_q3_K& b) { return b.qs; }, p.qs);
    }
}

void unpack_q3_K(const block_q3_Kx8* in, int r, int64_t nb, block_q3_K* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        const block_q3_Kx8& p = in[ib];
        block_q3_K& b = out[ib];
        b.d = p.d[r];
        int8_t sc[16];
        for (int s = 0; s < 16; ++s) sc[s] = p.scale_pairs[s / 2][2 * r + s % 2];
        pack_q3_K_scales(sc, b.scales);
        deinterleave_field(p.hmask, r, 32, 1, b.hmask);
        deinterleave_field(p.qs, r, 32, 2, b.qs);
    }
}

float q3_K_step(float acc, const block_q3_Kx8& p, int r, const block_q8_K& a, const NoInfo&) {
    int32_t isum = 0, corr = 0;
    for (int s = 0; s < 16; ++s) {
        // NOLINTNEXTLINE(bugprone-signed-char-misuse): Q3_K's scales are signed
        const int32_t sc = p.scale_pairs[s / 2][2 * r + s % 2];
        int32_t dot = 0;
        for (int e = 16 * s; e < 16 * s + 16; ++e) dot += q3_quant(p, e, r) * a.qs[e];
        isum += sc * dot;
        corr += sc * a.bsums[s];
    }
    // The quants are stored as q + 4.
    return std::fma(fp16_to_fp32(p.d[r]) * a.d, (float)(isum - 4 * corr), acc);
}

// ---- Q2_K ------------------------------------------------------------------------------------

void pack_q2_K(const uint8_t* rows, uint64_t stride, int64_t nb, block_q2_Kx8* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        block_q2_Kx8& p = out[ib];
        for (int r = 0; r < 8; ++r) {
            const auto& b = stored_block<block_q2_K>(rows, stride, r, ib);
            p.d[r] = b.d;
            p.dmin[r] = b.dmin;
            for (int s = 0; s < 16; ++s) p.scale_pairs[s / 2][2 * r + s % 2] = b.scales[s];
        }
        interleave_field<block_q2_K>(
            rows, stride, ib, 32, 2, [](const block_q2_K& b) { return b.qs; }, p.qs);
    }
}

void unpack_q2_K(const block_q2_Kx8* in, int r, int64_t nb, block_q2_K* out) {
    for (int64_t ib = 0; ib < nb; ++ib) {
        const block_q2_Kx8& p = in[ib];
        block_q2_K& b = out[ib];
        b.d = p.d[r];
        b.dmin = p.dmin[r];
        for (int s = 0; s < 16; ++s) b.scales[s] = p.scale_pairs[s / 2][2 * r + s % 2];
        deinterleave_field(p.qs, r, 32, 2, b.qs);
    }
}

float q2_K_step(float acc, const block_q2_Kx8& p, int r, const block_q8_K& a, const NoInfo&) {
    int32_t isum = 0, imin = 0;
    for (int s = 0; s < 16; ++s) {
        const int sm = p.scale_pairs[s / 2][2 * r + s % 2];
        int32_t dot = 0;
        for (int e = 16 * s; e < 16 * s + 16; ++e) dot += k2_low_bits(p.qs, e, r) * a.qs[e];
        isum += (sm & 0xF) * dot;
        imin += (sm >> 4) * a.bsums[s];
    }
    const float d = fp16_to_fp32(p.d[r]) * a.d;
    const float dmin = fp16_to_fp32(p.dmin[r]) * a.d;
    acc = std::fma(d, (float)isum, acc);
    return std::fma(-dmin, (float)imin, acc);
}

}  // namespace lokal::kernels
