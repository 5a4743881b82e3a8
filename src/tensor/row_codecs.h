// Internal to tensor/: the row converters of each type, n elements (a multiple of the type's
// block size) at a time. The type table (dtype.cpp) holds them; dequantize.cpp defines the
// *_to_float ones and quantize.cpp the *_from_float ones.
#pragma once

#include <cstdint>

namespace lokal::codecs {

#define LOKAL_TO_FLOAT(name) void name##_to_float(const void* src, float* dst, int64_t n);
#define LOKAL_FROM_FLOAT(name) void name##_from_float(const float* src, void* dst, int64_t n);
#define LOKAL_BOTH(name) LOKAL_TO_FLOAT(name) LOKAL_FROM_FLOAT(name)
LOKAL_BOTH(f32)
LOKAL_BOTH(f16)
LOKAL_BOTH(bf16)
LOKAL_BOTH(q4_0)
LOKAL_BOTH(q4_1)
LOKAL_BOTH(q5_0)
LOKAL_BOTH(q5_1)
LOKAL_BOTH(q8_0)
LOKAL_BOTH(q8_1)
LOKAL_BOTH(q2_K)
LOKAL_BOTH(q3_K)
LOKAL_BOTH(q4_K)
LOKAL_BOTH(q5_K)
LOKAL_BOTH(q6_K)
LOKAL_BOTH(q8_K)
LOKAL_BOTH(iq4_nl)
LOKAL_BOTH(iq4_xs)
#undef LOKAL_BOTH
#undef LOKAL_FROM_FLOAT
#undef LOKAL_TO_FLOAT

}  // namespace lokal::codecs
