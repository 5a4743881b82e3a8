// The constants of our own exp: x = n ln2 + r with |r| <= ln2 / 2, a degree-7 Taylor polynomial
// of e^r (within about 2 ulp of exp), times 2^n. The scalar version (softmax_exp,
// attention_internal.h) and the 8-lane one (exp_poly_avx2.h) share them, so they agree bit for
// bit where std::exp could not be vectorized exactly.
#pragma once

namespace lokal::model::detail::exp_consts {

constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693145751953125f;       // ln 2 = kLn2Hi + kLn2Lo, kLn2Hi exact with
constexpr float kLn2Lo = 1.42860682030941723e-6f;  // few bits, so n * kLn2Hi is exact
constexpr float kMin = -87.0f;                     // the range is [kMin, kMax]
constexpr float kMax = 88.0f;
constexpr float kC[8] = {1.0f,      1.0f,       1.0f / 2,   1.0f / 6,
                         1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040};

}  // namespace lokal::model::detail::exp_consts
