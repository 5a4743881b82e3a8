// Internal: the float order of every row-by-row dot product, written out in scalar code for
// vec_dot_ref.cpp. The SIMD kernels (vec_dot_avx2.cpp, vec_dot_avx512.cpp, gemm_q8_avx2.cpp)
// produce exactly these bits because their registers hold exactly these lanes:
//   - IntLanes: lane l of a 256-bit integer register after VPMADDUBSW + VPMADDWD (or VPDPBUSD,
//     or the low + high halves of a 512-bit one) holds elements 4l..4l+3 of each 32-element run;
//   - FloatLanes::fma is one VFMADD of a broadcast scale with those lanes converted to float;
//   - FloatLanes::sum is avx2::hsum's tree.
#pragma once

#include <cmath>
#include <cstdint>

namespace lokal::kernels::order {

// Exact integer partial sums of scale * q[e] * a[e], lane (e % 32) / 4.
struct IntLanes {
    int32_t v[8] = {};

    // One run of 32 elements: the first 16 with scale_lo, the last 16 with scale_hi.
    void add_run(const int8_t* q, const int8_t* a, int scale_lo, int scale_hi) {
        for (int e = 0; e < 32; ++e) v[e / 4] += (e < 16 ? scale_lo : scale_hi) * q[e] * a[e];
    }
};

struct FloatLanes {
    float v[8] = {};

    // v[l] = d * s[l] + v[l], rounded once.
    void fma(float d, const IntLanes& s) {
        for (int l = 0; l < 8; ++l) v[l] = std::fma(d, (float)s.v[l], v[l]);
    }

    // ((v0 + v4) + (v2 + v6)) + ((v1 + v5) + (v3 + v7)).
    float sum() const {
        const float s0 = v[0] + v[4], s1 = v[1] + v[5], s2 = v[2] + v[6], s3 = v[3] + v[7];
        return (s0 + s2) + (s1 + s3);
    }
};

// Lane-wise (a0 + a1) for two accumulators, ((a0 + a1) + (a2 + a3)) for four.
inline FloatLanes sum_pairwise(const FloatLanes* acc, int n) {
    FloatLanes out;
    for (int l = 0; l < 8; ++l) {
        out.v[l] = n == 4 ? (acc[0].v[l] + acc[1].v[l]) + (acc[2].v[l] + acc[3].v[l])
                          : acc[0].v[l] + acc[1].v[l];
    }
    return out;
}

}  // namespace lokal::kernels::order
