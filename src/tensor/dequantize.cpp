#include "tensor/dequantize.h"

#include <cstring>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"
#include "tensor/quant_blocks.h"
#include "tensor/row_codecs.h"

// The arithmetic (operand order, int/float conversions) follows ggml's reference dequantizers
// so the results are bit-identical; do not "simplify" the expressions.

namespace lokal {
namespace {

void deq_q4_0(const block_q4_0* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK32) {
        const float d = fp16_to_fp32(b[i].d);
        for (int j = 0; j < 16; ++j) {
            const int lo = (b[i].qs[j] & 0x0F) - 8;
            const int hi = (b[i].qs[j] >> 4) - 8;
            y[j] = lo * d;
            y[j + 16] = hi * d;
        }
    }
}

void deq_q4_1(const block_q4_1* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK32) {
        const float d = fp16_to_fp32(b[i].d);
        const float m = fp16_to_fp32(b[i].m);
        for (int j = 0; j < 16; ++j) {
            const int lo = b[i].qs[j] & 0x0F;
            const int hi = b[i].qs[j] >> 4;
            y[j] = lo * d + m;
            y[j + 16] = hi * d + m;
        }
    }
}

inline uint32_t load_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

void deq_q5_0(const block_q5_0* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK32) {
        const float d = fp16_to_fp32(b[i].d);
        const uint32_t qh = load_u32(b[i].qh);
        for (int j = 0; j < 16; ++j) {
            const int h0 = ((qh >> j) & 1) << 4;
            const int h1 = ((qh >> (j + 16)) & 1) << 4;
            const int lo = ((b[i].qs[j] & 0x0F) | h0) - 16;
            const int hi = ((b[i].qs[j] >> 4) | h1) - 16;
            y[j] = lo * d;
            y[j + 16] = hi * d;
        }
    }
}

void deq_q5_1(const block_q5_1* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK32) {
        const float d = fp16_to_fp32(b[i].d);
        const float m = fp16_to_fp32(b[i].m);
        const uint32_t qh = load_u32(b[i].qh);
        for (int j = 0; j < 16; ++j) {
            const int h0 = ((qh >> j) & 1) << 4;
            const int h1 = ((qh >> (j + 16)) & 1) << 4;
            const int lo = (b[i].qs[j] & 0x0F) | h0;
            const int hi = (b[i].qs[j] >> 4) | h1;
            y[j] = lo * d + m;
            y[j + 16] = hi * d + m;
        }
    }
}

void deq_q8_0(const block_q8_0* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK32) {
        const float d = fp16_to_fp32(b[i].d);
        for (int j = 0; j < kQK32; ++j) y[j] = b[i].qs[j] * d;
    }
}

// Not in ggml (q8_1 is an activation-only type), provided for tests and tools.
void deq_q8_1(const block_q8_1* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK32) {
        const float d = fp16_to_fp32(b[i].d);
        for (int j = 0; j < kQK32; ++j) y[j] = b[i].qs[j] * d;
    }
}

void deq_q2_K(const block_q2_K* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(b[i].d);
        const float dmin = fp16_to_fp32(b[i].dmin);
        const uint8_t* q = b[i].qs;
        int is = 0;
        for (int half = 0; half < 2; ++half, q += 32) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int part = 0; part < 2; ++part) {  // two sub-blocks of 16 per shift
                    const uint8_t sc = b[i].scales[is++];
                    const float dl = d * (sc & 0xF);
                    const float ml = dmin * (sc >> 4);
                    const uint8_t* qq = q + 16 * part;
                    for (int l = 0; l < 16; ++l) *y++ = dl * ((qq[l] >> shift) & 3) - ml;
                }
            }
        }
    }
}

void deq_q3_K(const block_q3_K* b, float* y, int64_t nb) {
    int8_t scales[16];
    for (int64_t i = 0; i < nb; ++i) {
        const float d_all = fp16_to_fp32(b[i].d);
        unpack_q3_K_scales(b[i].scales, scales);
        const uint8_t* q = b[i].qs;
        const uint8_t* hm = b[i].hmask;
        uint8_t m = 1;
        int is = 0;
        for (int half = 0; half < 2; ++half, q += 32) {
            for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
                for (int part = 0; part < 2; ++part) {
                    const float dl = d_all * scales[is++];
                    const uint8_t* qq = q + 16 * part;
                    const uint8_t* hh = hm + 16 * part;
                    for (int l = 0; l < 16; ++l) {
                        *y++ = dl * (((qq[l] >> shift) & 3) - ((hh[l] & m) ? 0 : 4));
                    }
                }
            }
        }
    }
}

void deq_q4_K(const block_q4_K* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(b[i].d);
        const float dmin = fp16_to_fp32(b[i].dmin);
        const uint8_t* q = b[i].qs;
        for (int is = 0; is < 8; is += 2, q += 32) {
            uint8_t sc, m;
            get_scale_min_k4(is, b[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            get_scale_min_k4(is + 1, b[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

void deq_q5_K(const block_q5_K* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(b[i].d);
        const float dmin = fp16_to_fp32(b[i].dmin);
        const uint8_t* ql = b[i].qs;
        const uint8_t* qh = b[i].qh;
        uint8_t u1 = 1, u2 = 2;
        for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            uint8_t sc, m;
            get_scale_min_k4(is, b[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            get_scale_min_k4(is + 1, b[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

void deq_q6_K(const block_q6_K* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(b[i].d);
        const uint8_t* ql = b[i].ql;
        const uint8_t* qh = b[i].qh;
        const int8_t* sc = b[i].scales;
        for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}

void deq_q8_K(const block_q8_K* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        for (int j = 0; j < kQKK; ++j) *y++ = b[i].d * b[i].qs[j];
    }
}

void deq_iq4_nl(const block_iq4_nl* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i, y += kQK32) {
        const float d = fp16_to_fp32(b[i].d);
        for (int j = 0; j < 16; ++j) {
            y[j] = d * kIq4nlValues[b[i].qs[j] & 0xF];
            y[j + 16] = d * kIq4nlValues[b[i].qs[j] >> 4];
        }
    }
}

void deq_iq4_xs(const block_iq4_xs* b, float* y, int64_t nb) {
    for (int64_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(b[i].d);
        const uint8_t* qs = b[i].qs;
        for (int ib = 0; ib < 8; ++ib, y += 32, qs += 16) {
            const int ls = ((b[i].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xF) |
                           (((b[i].scales_h >> 2 * ib) & 3) << 4);
            const float dl = d * (ls - 32);
            for (int j = 0; j < 16; ++j) {
                y[j] = dl * kIq4nlValues[qs[j] & 0xF];
                y[j + 16] = dl * kIq4nlValues[qs[j] >> 4];
            }
        }
    }
}

}  // namespace

}  // namespace lokal

// One row converter per type, for the type table (dtype.cpp): n elements, n / block blocks.
namespace lokal::codecs {

void f32_to_float(const void* src, float* dst, int64_t n) {
    std::memcpy(dst, src, (size_t)n * sizeof(float));
}

namespace {

// Every half's float, built once: a lookup is several times faster than fp16_to_fp32's
// branches, and weights use few distinct halves, so the table mostly stays in cache.
const float* f16_table() {
    static const std::vector<float> table = [] {
        std::vector<float> t(1u << 16);
        for (uint32_t h = 0; h < (1u << 16); ++h) t[h] = fp16_to_fp32((uint16_t)h);
        return t;
    }();
    return table.data();
}

}  // namespace

void f16_to_float(const void* src, float* dst, int64_t n) {
    const uint16_t* h = static_cast<const uint16_t*>(src);
    const float* table = f16_table();
    for (int64_t i = 0; i < n; ++i) dst[i] = table[h[i]];
}

void bf16_to_float(const void* src, float* dst, int64_t n) {
    const uint16_t* h = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(h[i]);
}

#define LOKAL_BLOCKS_TO_FLOAT(name, elems)                                   \
    void name##_to_float(const void* src, float* dst, int64_t n) {           \
        deq_##name(static_cast<const block_##name*>(src), dst, n / (elems)); \
    }
LOKAL_BLOCKS_TO_FLOAT(q4_0, kQK32)
LOKAL_BLOCKS_TO_FLOAT(q4_1, kQK32)
LOKAL_BLOCKS_TO_FLOAT(q5_0, kQK32)
LOKAL_BLOCKS_TO_FLOAT(q5_1, kQK32)
LOKAL_BLOCKS_TO_FLOAT(q8_0, kQK32)
LOKAL_BLOCKS_TO_FLOAT(q8_1, kQK32)
LOKAL_BLOCKS_TO_FLOAT(iq4_nl, kQK32)
LOKAL_BLOCKS_TO_FLOAT(q2_K, kQKK)
LOKAL_BLOCKS_TO_FLOAT(q3_K, kQKK)
LOKAL_BLOCKS_TO_FLOAT(q4_K, kQKK)
LOKAL_BLOCKS_TO_FLOAT(q5_K, kQKK)
LOKAL_BLOCKS_TO_FLOAT(q6_K, kQKK)
LOKAL_BLOCKS_TO_FLOAT(q8_K, kQKK)
LOKAL_BLOCKS_TO_FLOAT(iq4_xs, kQKK)
#undef LOKAL_BLOCKS_TO_FLOAT

}  // namespace lokal::codecs

namespace lokal {

bool can_dequantize(DType t) {
    return dtype_info(t).to_float != nullptr;
}

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
    const DTypeInfo& info = dtype_info(t);
    if (!info.to_float) {
        throw Error("cannot dequantize tensor type " + std::string(info.name),
                    ErrorKind::Unsupported);
    }
    if (n < 0 || n % info.block_elems != 0) {
        throw Error("dequantize_row: " + std::to_string(n) + " elements is not a multiple of " +
                    std::to_string(info.block_elems) + " for type " + std::string(info.name));
    }
    info.to_float(src, dst, n);
}

}  // namespace lokal
