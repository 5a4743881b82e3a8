// Float conversions done with integer arithmetic, so every device gives the bits the CPU does
// (base/fp16.h, tensor/quantize.cpp): GLSL leaves packHalf2x16's rounding and the precision of
// division to the implementation.

// IEEE half bits of f, round-to-nearest-even (base/fp16.h's fp32_to_fp16, step for step).
uint f32_to_f16_bits(float f) {
    const uint x = floatBitsToUint(f);
    const uint sign = (x >> 16) & 0x8000u;
    const uint a = x & 0x7FFFFFFFu;
    if (a >= 0x7F800000u) return sign | 0x7C00u | (a > 0x7F800000u ? 0x200u : 0u);  // inf, nan
    if (a >= 0x477FF000u) return sign | 0x7C00u;                                     // to inf
    if (a < 0x38800000u) {  // subnormal or zero in half
        if (a < 0x33000000u) return sign;
        const uint shift = 126u - (a >> 23);
        const uint mant = (a & 0x7FFFFFu) | 0x800000u;
        uint h = mant >> shift;
        const uint rem = mant & ((1u << shift) - 1u);
        const uint halfway = 1u << (shift - 1u);
        if (rem > halfway || (rem == halfway && (h & 1u) == 1u)) h++;
        return sign | h;
    }
    uint r = a - 0x38000000u;
    r += 0xFFFu + ((r >> 13) & 1u);
    return sign | (r >> 13);
}

// a / b correctly rounded (to nearest even), for a >= 0 and b > 0 normal, by long division of
// the significands. Results below the normal range come back as 0, above it as infinity.
float div_rn(float a, float b) {
    if (a == 0.0) return 0.0;
    const uint ua = floatBitsToUint(a), ub = floatBitsToUint(b);
    uint ma = (ua & 0x7FFFFFu) | 0x800000u;
    const uint mb = (ub & 0x7FFFFFu) | 0x800000u;
    int e = int(ua >> 23) - int(ub >> 23) + 127;
    if (ma < mb) {  // so that ma / mb lies in [1, 2)
        ma <<= 1;
        e -= 1;
    }
    // 25 quotient bits: 24 significand bits and the rounding bit; the remainder is the sticky.
    uint q = 0u, r = ma;
    for (int i = 0; i < 25; ++i) {
        q <<= 1;
        if (r >= mb) {
            r -= mb;
            q |= 1u;
        }
        r <<= 1;
    }
    const bool round_bit = (q & 1u) == 1u;
    q >>= 1;
    if (round_bit && (r != 0u || (q & 1u) == 1u)) q++;
    if (q == 0x1000000u) {
        q >>= 1;
        e += 1;
    }
    if (e <= 0) return 0.0;
    if (e >= 255) return uintBitsToFloat(0x7F800000u);
    return uintBitsToFloat((uint(e) << 23) | (q & 0x7FFFFFu));
}

// std::round (halves away from zero) of v, to int; v - trunc(v) is exact.
int round_away(float v) {
    const float t = trunc(v);
    const float frac = abs(v - t);
    return int(t) + (frac >= 0.5 ? (v < 0.0 ? -1 : 1) : 0);
}
