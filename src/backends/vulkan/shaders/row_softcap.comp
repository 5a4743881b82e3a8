#version 450
// x = cap * tanh(x / cap), in place (tanh itself with cap = 1, which changes no bit).
#include "row_elementwise.glsl"

layout(std430, binding = 0) buffer X { float x[]; };

layout(push_constant) uniform Push {
    uint n;
    uint width;
    uint offset;
    uint stride;
    float cap;
} p;

void main() {
    uint row, col;
    if (!this_element(p.n, p.width, row, col)) return;
    const uint i = p.offset + row * p.stride + col;
    // tanh is 1 to the last bit beyond |10|; clamping spares drivers that build it from exp
    // an overflow to inf / inf.
    precise const float y = p.cap * tanh(clamp(x[i] / p.cap, -10.0, 10.0));
    x[i] = y;
}
