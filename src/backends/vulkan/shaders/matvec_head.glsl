// The common part of the matvec_<type>.comp shaders: y = W x for n_vec vectors x, with W stored
// as raw GGUF rows (its block layout, quantized types stay quantized). Each type's file defines
// dequant_unit(): 32 consecutive elements of a row as floats (a block, or a 32-element part of a
// K super-block), then includes matvec_main.glsl, which builds one of two mains on it:
// matvec_rows_main.glsl (a few rows of one vector per workgroup: few vectors, generation) or,
// in the TILED variant, matvec_tiled_main.glsl (a tile of rows x vectors per workgroup, each
// weight unit dequantized once per tile: batches, prompt processing).
//
// Both add every output in one canonical order, so an output's bits do not depend on the path
// or on the other vectors of the batch (continuous batching and speculative decoding stay
// exact). A row is cut into units (32 elements; one element for the plain types), and its
// units into LANES runs of consecutive ones, one per lane (lane_begin). Each lane is one chain
// of fma()s over its units' elements in order, from 0; then the LANES lane sums are added in
// lane order, ((l0 + l1) + l2) + .... All of it is `precise`: a precise fma is one rounding
// everywhere, and no addition is contracted or reassociated.
//
// W is bound as 32-bit words: blocks are 2-byte aligned at best (q4_0 is 18 bytes), and words
// need no 8/16-bit storage feature, so these shaders run on any Vulkan 1.1 device.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require

#define LANES 8  // of the canonical order; the per-row main gives a row this many threads
#ifdef VARIANT_TILED
#define WG_SIZE 128
#else
#define WG_SIZE 64
#endif
layout(local_size_x = WG_SIZE) in;

layout(std430, binding = 0) readonly buffer Weights { uint w[]; };
layout(std430, binding = 1) readonly buffer Input { float x[]; };
layout(std430, binding = 2) writeonly buffer Output { float y[]; };

// Offsets and strides in elements (w_offset in bytes, a multiple of 4).
layout(push_constant) uniform Push {
    uint rows;
    uint cols;
    uint row_bytes;
    uint w_offset;
    uint x_offset;
    uint x_stride;
    uint y_offset;
    uint y_stride;
    uint n_vec;
} p;

uint w_byte(uint off) { return (w[off >> 2] >> ((off & 3u) << 3)) & 0xFFu; }

// Two bytes at an even offset.
uint w_u16(uint off) { return (w[off >> 2] >> ((off & 2u) << 3)) & 0xFFFFu; }

float w_half(uint off) { return unpackHalf2x16(w_u16(off)).x; }

// Four bytes at any offset, little-endian. The second word is read only when the four bytes
// straddle two words, so a read ending at the buffer's last byte stays inside it.
uint w_u32(uint off) {
    const uint s = (off & 3u) << 3;
    const uint lo = w[off >> 2] >> s;
    return s == 0u ? lo : lo | (w[(off >> 2) + 1u] << (32u - s));
}

// Four bytes as a vec4 of their low (shift 0) or high (shift 4) nibbles.
vec4 nibbles(uint q4, uint shift) {
    return vec4((uvec4(q4) >> (uvec4(0u, 8u, 16u, 24u) + shift)) & 0xFu);
}

// Bit `bit` of each of four bytes, as 0 or 1.
vec4 byte_bits(uint b4, uint bit) {
    return vec4((uvec4(b4) >> (uvec4(0u, 8u, 16u, 24u) + bit)) & 1u);
}


// Lane l's units are [lane_begin(l), lane_begin(l + 1)): runs of ceil(n_units / LANES), the
// last ones shorter or empty.
uint lane_begin(uint lane, uint n_units) {
    return min(lane * ((n_units + LANES - 1u) / LANES), n_units);
}
