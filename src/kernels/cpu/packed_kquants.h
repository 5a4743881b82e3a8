// Internal: packing, unpacking and the scalar reference steps of the packed Q5_K, Q3_K and Q2_K
// groups (layouts in packed.h and packed_layout.h); packed.cpp's kLayouts table names them.
#pragma once

#include <cstdint>

#include "kernels/cpu/packed_layout.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {

void pack_q5_K(const uint8_t* rows, uint64_t stride, int64_t nb, block_q5_Kx8* out);
void unpack_q5_K(const block_q5_Kx8* in, int r, int64_t nb, block_q5_K* out);
void pack_q3_K(const uint8_t* rows, uint64_t stride, int64_t nb, block_q3_Kx8* out);
void unpack_q3_K(const block_q3_Kx8* in, int r, int64_t nb, block_q3_K* out);
void pack_q2_K(const uint8_t* rows, uint64_t stride, int64_t nb, block_q2_Kx8* out);
void unpack_q2_K(const block_q2_Kx8* in, int r, int64_t nb, block_q2_K* out);

// Row r's accumulator after one super-block: exact integer sums, then the float steps
// acc = fma(d_w * d_act, (float)isum, acc) (Q3_K: isum - 4 * sum(sc * bsum)) and, with mins,
// acc = fma(-(dmin_w * d_act), (float)imin, acc).
float q5_K_step(float acc, const block_q5_Kx8& p, int r, const block_q8_K& a,
                const ActInfoQ8_K& ai);
float q3_K_step(float acc, const block_q3_Kx8& p, int r, const block_q8_K& a, const NoInfo&);
float q2_K_step(float acc, const block_q2_Kx8& p, int r, const block_q8_K& a, const NoInfo&);

}  // namespace lokal::kernels
