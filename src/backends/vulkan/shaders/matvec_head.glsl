// The common part of the matvec_<type>.comp shaders: y = W x for n_vec vectors x, with W stored
// as raw GGUF rows (its block layout, quantized types stay quantized). One workgroup computes
// one row for one vector: its threads take the row's units (an element, a block or a 32-element
// part of a K super-block) in turn, each summing its own, then add the partial sums in shared
// memory. Each type's file defines units_in_row() and unit_dot(), then includes matvec_main.glsl.
//
// W is bound as 32-bit words: blocks are 2-byte aligned at best (q4_0 is 18 bytes), and words
// need no 8/16-bit storage feature, so these shaders run on any Vulkan 1.1 device.
#extension GL_GOOGLE_include_directive : require
#ifdef VARIANT_SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

#define WG_SIZE 64
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
