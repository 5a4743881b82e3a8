// Internal: packing, unpacking and activation side data of the Q4_1, Q5_1, IQ4_NL and IQ4_XS
// group layouts (packed.h), for their rows in packed.cpp's table. Byte-pointer signatures as the
// table's: rows are `stride` apart, nb blocks of columns; a group holds nb group-blocks.
#pragma once

#include <cstdint>

namespace lokal::kernels {

void pack_q4_1_groups(const uint8_t* rows, uint64_t stride, int64_t nb, uint8_t* out);
void unpack_q4_1_row(const uint8_t* group, int r, int64_t nb, uint8_t* dst);
void pack_q5_1_groups(const uint8_t* rows, uint64_t stride, int64_t nb, uint8_t* out);
void unpack_q5_1_row(const uint8_t* group, int r, int64_t nb, uint8_t* dst);
void pack_iq4_xs_groups(const uint8_t* rows, uint64_t stride, int64_t nb, uint8_t* out);
void unpack_iq4_xs_row(const uint8_t* group, int r, int64_t nb, uint8_t* dst);

// Q4_1 / Q5_1: each Q8_1 activation block's d and s as floats (ActInfoQ8_1).
void q8_1_scales(const uint8_t* act_row, int64_t cols, uint8_t* info);

}  // namespace lokal::kernels
