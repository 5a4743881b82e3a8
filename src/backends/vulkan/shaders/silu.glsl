// SiLU as the CPU kernels compute it (kernels/cpu/row_ops.cpp, exp_poly.h): g / (1 + e^-g)
// with e^-g from the same degree-7 polynomial, its argument clamped to [-87, 88].

// e^x for x in [-87, 88]: x = k ln2 + r, e^r by its Taylor polynomial, times 2^k.
float exp_poly(float x) {
    const float k = roundEven(x * 1.44269502);
    // ln 2 in two parts: k times the first (15 bits) is exact, and so is x less it, fused or
    // not, so r is the CPU's fma(k, -lo, fma(k, -hi, x)) but for the rounding of k * lo.
    precise const float x_less_hi = x - k * 0.693145751953125;
    precise const float r = x_less_hi - k * 1.42860677e-06;
    precise float poly = 0.000198412701;
    poly = fma(poly, r, 0.00138888892);
    poly = fma(poly, r, 0.00833333377);
    poly = fma(poly, r, 0.0416666679);
    poly = fma(poly, r, 0.166666672);
    poly = fma(poly, r, 0.5);
    poly = fma(poly, r, 1.0);
    poly = fma(poly, r, 1.0);
    const float two_k = uintBitsToFloat(uint(int(k) + 127) << 23);
    precise const float y = poly * two_k;
    return y;
}

float silu(float g) {
    // Written as the CPU's comparisons, which also send NaN to the bounds.
    float x = 0.0 - g;
    x = x > -87.0 ? x : -87.0;
    x = x < 88.0 ? x : 88.0;
    precise const float y = g / (1.0 + exp_poly(x));
    return y;
}
