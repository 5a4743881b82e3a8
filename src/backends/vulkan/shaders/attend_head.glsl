// The common part of the attention shaders (attend_main.glsl has the algorithm): the query and
// output rows at bindings 0 and 1, and the push constants every variant starts with; the
// including file defines PUSH_EXTRA, its own fields.
#extension GL_GOOGLE_include_directive : require

layout(std430, binding = 0) readonly buffer Queries { float queries[]; };
layout(std430, binding = 1) writeonly buffer Output { float outputs[]; };

// Offsets and strides in floats. Query head h of token t is at q_offset + t * q_stride +
// h * head_dim; `group` query heads share a key/value head (h / group).
layout(push_constant) uniform Push {
    uint n;
    uint q_offset;
    uint q_stride;
    uint o_offset;
    uint o_stride;
    uint head_dim;
    uint group;
    float scale;
    float softcap;  // 0: none
    PUSH_EXTRA
} p;
