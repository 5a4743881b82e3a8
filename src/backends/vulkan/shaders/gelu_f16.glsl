// GELU (tanh approximation) as the CPU kernels compute it: the input rounded to F16 looks up
// GELU of that F16 value, itself rounded to F16 (a table of 65536 floats at binding
// GELU_TABLE_BINDING); 0 at or below -10, the input itself from 10 up, NaN kept.
layout(std430, binding = GELU_TABLE_BINDING) readonly buffer GeluTable { float gelu_table[]; };

// The F16 bits of f rounded to nearest, ties to even, for |f| < 65504; in integers, as
// conversion instructions may round otherwise and flush subnormals.
uint f16_bits(float f) {
    const uint bits = floatBitsToUint(f);
    const uint sign = (bits >> 16) & 0x8000u;
    const uint mag = bits & 0x7fffffffu;
    if (mag >= 0x38800000u) {  // a normal F16: rebias the exponent, round off 13 bits
        const uint r = mag - 0x38000000u;
        return sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13);
    }
    if (mag < 0x33000000u) return sign;  // at most half the least subnormal: zero
    const uint shift = 126u - (mag >> 23);  // a subnormal F16: the mantissa shifted down
    const uint mant = (mag & 0x7fffffu) | 0x800000u;
    uint h = mant >> shift;
    const uint rest = mant & ((1u << shift) - 1u);
    const uint half_way = 1u << (shift - 1u);
    if (rest > half_way || (rest == half_way && (h & 1u) != 0u)) h += 1u;
    return sign | h;
}

float gelu_f16(float g) {
    if (g <= -10.0) return 0.0;
    if (g < 10.0) return gelu_table[f16_bits(g)];
    return g;
}
