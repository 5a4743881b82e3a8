// The constants of our own exp: x = n ln2 + r with |r| <= ln2 / 2, a degree-7 Taylor polynomial
// of e^r (within about 2 ulp of exp), times 2^n. The scalar version (softmax_exp,
// attention_internal.h) and the 8-lane one (exp_poly_avx2.h) share them, so they agree bit for
// bit where std::exp could not be vectorized exactly.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace lokal::kernels::detail::exp_consts {

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;       // ln 2 = kLn2Hi + kLn2Lo, kLn2Hi exact with
constexpr float kLn2Lo = 1.42860682030941723e-6f;  // few bits, so n * kLn2Hi is exact
constexpr float kMin = -87.0f;                     // the range is [kMin, kMax]
constexpr float kMax = 88.0f;
constexpr float kC[8] = {1.0f,      1.0f,       1.0f / 2,   1.0f / 6,
                         1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040};

}  // namespace lokal::kernels::detail::exp_consts

namespace lokal::kernels::detail {

// Header functions with floating-point code are always inlined: attention.cpp (baseline x86-64)
// and the *_avx2.cpp files (-mfma) both include them, and a single out-of-line copy chosen by the
// linker could carry AVX2 instructions into the baseline path.
#define LOKAL_INLINE_EVERYWHERE [[gnu::always_inline]] inline

// exp(x) for the softmax and SiLU, our own so that the AVX2 kernels repeat it lane by lane bit
// for bit. Arguments below -87 (the weights of keys far below the running maximum) give 0.
// Valid for x <= 88.
LOKAL_INLINE_EVERYWHERE float softmax_exp(float x) {
    using namespace exp_consts;  // NOLINT(google-build-using-namespace)
    if (!(x >= kMin)) return 0.0f;
    const float n = std::nearbyint(x * kLog2e);
    const float r = std::fma(n, -kLn2Lo, std::fma(n, -kLn2Hi, x));
    float p = kC[7];
    for (int k = 6; k >= 0; --k) p = std::fma(p, r, kC[k]);
    const uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, 4);
    return p * scale;
}

}  // namespace lokal::kernels::detail
