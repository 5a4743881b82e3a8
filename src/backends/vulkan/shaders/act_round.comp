#version 450
// Rounds activation rows as the CPU's matrix products do before their dot products, and writes
// them back as floats: the CPU converts x to the weight type's activation format (8-bit blocks
// for quantized weights, f16 or bf16 for 16-bit ones), so a shader that multiplies with these
// values sums the very terms the CPU sums. One thread per block of 32 (Q8_0) or 256 (Q8_K)
// elements, or per 32 elements (f16, bf16).
#extension GL_GOOGLE_include_directive : require
#include "float_bits.glsl"

layout(local_size_x = 64) in;

layout(std430, binding = 0) readonly buffer Input { float x[]; };
layout(std430, binding = 1) writeonly buffer Output { float y[]; };

#define MODE_Q8_0 0u  // blocks of 32: d = amax / 127 kept as f16, q = round-half-away(x / d)
#define MODE_Q8_K 1u  // blocks of 256: d = max / -127 as f32, q = round-half-even(x / d) <= 127
#define MODE_F16 2u
#define MODE_BF16 3u

layout(push_constant) uniform Push {
    uint n;
    uint cols;
    uint x_offset;
    uint x_stride;
    uint mode;
} p;

float f16_round(float v) {
    return unpackHalf2x16(f32_to_f16_bits(v)).x;  // f16 -> f32 is exact
}

// base/fp16.h's fp32_to_bf16: nearest even, NaN kept quiet.
float bf16_round(float v) {
    uint b = floatBitsToUint(v);
    if ((b & 0x7FFFFFFFu) > 0x7F800000u) return uintBitsToFloat((b | 0x400000u) & 0xFFFF0000u);
    b += 0x7FFFu + ((b >> 16) & 1u);
    return uintBitsToFloat(b & 0xFFFF0000u);
}

void main() {
    const uint row = gl_WorkGroupID.y;
    const uint block_elems = p.mode == MODE_Q8_K ? 256u : 32u;
    const uint block = gl_GlobalInvocationID.x;
    const uint first = block * block_elems;
    if (row >= p.n || first >= p.cols) return;
    const uint end = min(first + block_elems, p.cols);
    const uint xo = p.x_offset + row * p.x_stride;
    const uint yo = row * p.cols;
    if (p.mode == MODE_F16 || p.mode == MODE_BF16) {
        for (uint i = first; i < end; ++i) {
            y[yo + i] = p.mode == MODE_F16 ? f16_round(x[xo + i]) : bf16_round(x[xo + i]);
        }
        return;
    }
    float amax = 0.0, max_v = 0.0;
    for (uint i = first; i < end; ++i) {
        const float a = abs(x[xo + i]);
        if (a > amax) {
            amax = a;
            max_v = x[xo + i];
        }
    }
    if (p.mode == MODE_Q8_0) {
        const float d = div_rn(amax, 127.0);
        const float id = d != 0.0 ? div_rn(1.0, d) : 0.0;
        const float d16 = f16_round(d);
        for (uint i = first; i < end; ++i) y[yo + i] = float(round_away(x[xo + i] * id)) * d16;
        return;
    }
    if (amax == 0.0) {  // the CPU zeroes the block
        for (uint i = first; i < end; ++i) y[yo + i] = 0.0;
        return;
    }
    // iscale = -127 / max and d = 1 / iscale, each rounded once as on the CPU.
    const float iscale_abs = div_rn(127.0, amax);
    const float iscale = max_v > 0.0 ? -iscale_abs : iscale_abs;
    const float d_abs = div_rn(1.0, iscale_abs);
    const float d = max_v > 0.0 ? -d_abs : d_abs;
    for (uint i = first; i < end; ++i) {
        const float q = float(int(min(127.0, roundEven(iscale * x[xo + i]))));  // no -0, as on the CPU
        y[yo + i] = q * d;
    }
}
