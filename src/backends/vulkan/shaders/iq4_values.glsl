// The 16 levels of iq4_nl and iq4_xs (kIq4nlValues in tensor/quant_blocks.h).
const float kIq4Levels[16] = float[16](-127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0,
                                       1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);

// The levels named by the low (shift 0) or high (shift 4) nibbles of four bytes.
vec4 iq4_levels(uint q4, uint shift) {
    const uvec4 q = (uvec4(q4) >> (uvec4(0u, 8u, 16u, 24u) + shift)) & 0xFu;
    return vec4(kIq4Levels[q.x], kIq4Levels[q.y], kIq4Levels[q.z], kIq4Levels[q.w]);
}
