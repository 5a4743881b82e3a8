// Weight matrices repacked at load time into groups of 8 interleaved rows.
//
// In the stored (GGUF) layout every weight row is a run of blocks, so a dot product of one row
// with one activation row ends in a horizontal sum and pays a scale conversion per pair of
// blocks. Packed, the same block of 8 consecutive rows lies together with 4 bytes of each row
// side by side, so one 32-byte load holds 8 rows x 4 (or 8 nibbles) columns: multiplied by 4
// activation bytes broadcast to all lanes it yields one partial sum per row, lane r for row r.
// The 8 block scales of a group convert in one instruction and no horizontal sum is ever needed.
//
// Packed types and their group-block layouts (one group-block per block of columns):
//   F16, BF16 -> 16bit_x8: per 8 columns v[64], v[8c + r] = row r's column c (a column of the
//           8 rows per load).
//   Q4_0 -> Q4_0x8: d[8] (fp16), qs[128]: qs[32h + 4r + j] = row r's qs[4h + j], h < 4, j < 4
//           (low nibbles: columns 4h + j; high nibbles: columns 16 + 4h + j; unsigned 0..15).
//   Q5_0 -> Q5_0x8: d[8], qh[32] (the fifth bits, regrouped: packed_layout.h), qs[128] as Q4_0x8.
//   Q8_0 -> Q8_0x8: d[8] (fp16), qs[256]: qs[32h + 4r + j] = row r's qs[4h + j], h < 8.
//   Q4_K -> Q4_Kx8: per 256 columns d[8], dmin[8] (fp16); scales[4][16] and mins[4][16]: bytes
//           2r, 2r + 1 of pair k = row r's 6-bit scales (mins) of sub-blocks 2k, 2k + 1;
//           qs[1024]: qs[256k + 32h + 4r + j] = row r's qs[32k + 4h + j] (low nibbles:
//           sub-block 2k, high nibbles: sub-block 2k + 1). 3% larger than the stored rows.
//   Q6_K -> Q6_Kx8: every four 6-bit quants in three bytes interleaved the same way, and the
//           scales in pairs (packed_layout.h); as large as the 8 stored rows.
//   Q5_K -> Q5_Kx8: d, dmin, scales, mins and qs as Q4_Kx8; qh[256]: the stored fifth-bit bytes
//           interleaved 4 per row, qh[32h + 4r + j] = row r's qh[4h + j] (bit 2k: sub-block 2k's
//           element 64k + 4h + j, bit 2k + 1: sub-block 2k + 1's). 2% larger than the stored rows.
//   Q3_K -> Q3_Kx8: d[8]; scale_pairs[8][16]: bytes 2r, 2r + 1 of pair k = row r's scales
//           (-32..31) of 16-element sub-blocks 2k, 2k + 1; hmask[256] interleaved as Q5_Kx8's
//           qh; qs[512]: qs[256c2 + 32h + 4r + j] = row r's qs[32c2 + 4h + j] (bits 2s, 2s + 1:
//           element 128c2 + 32s + 4h + j). 4% larger than the stored rows.
//   Q2_K -> Q2_Kx8: d[8], dmin[8]; scale_pairs[8][16] as Q3_Kx8's but the stored bytes
//           (scale | min << 4); qs[512] as Q3_Kx8's. As large as the 8 stored rows.
//
//   Q4_1 -> Q4_1x8: d[8], m[8] (fp16), qs[128] as Q4_0x8.
//   Q5_1 -> Q5_1x8: d[8], m[8], qh[32] and qs[128] as Q5_0x8.
//   IQ4_NL -> Q4_0x8 (the same bytes; a nibble indexes kIq4nlValues).
//   IQ4_XS -> IQ4_XSx8: per 256 columns d[8] (fp16); scales[8][8]: [s][r] = row r's scale of
//           sub-block s minus 32, as int8; qs[1024]: each sub-block of 32 columns as Q4_0x8's qs.
//           1.5% larger than the stored rows.
//
// Results per (row, activation row): F16/BF16 is acc = fma(w, a, acc) over the columns in order
// (a is the activation rounded to the weight type). Quantized types: each block's integer dot
// product is exact; the float part is acc = fma(d_w * d_act, (float)isum, acc) per block in
// column order (Q4_K, Q5_K, Q2_K: then acc = fma(-(dmin_w * d_act), (float)imins, acc) per
// super-block; Q4_1, Q5_1: then acc = fma(m_w, s_act, acc) per block, s_act the Q8_1 block's
// d * sum).
// The scalar reference and the SIMD kernels compute exactly this, so every path and every batch
// size gives identical bits.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace lokal::kernels {

inline constexpr int kPackRows = 8;

// Bumped whenever a packed layout changes: repacked weights saved on disk by an older lokal
// (model/repack_cache.h) are then packed again instead of read.
inline constexpr uint32_t kPackedLayoutVersion = 1;

// Bumped whenever kernels get measurably faster or slower (new SIMD kernels, new packed types):
// `lokal fit`'s cached speed calibrations of an older lokal are then measured again.
inline constexpr uint32_t kKernelsRevision = 2;

// True when weight_type has a packed layout and kernels, and rows and cols suit it.
bool can_pack(DType weight_type, int64_t rows, int64_t cols);

// Bytes of one group of 8 packed rows of cols columns.
uint64_t packed_group_bytes(DType weight_type, int64_t cols);

// Packs groups [g0, g1) of a (rows, cols) matrix stored with src_row_stride into dst (which holds
// all groups back to back, packed_group_bytes apart). can_pack must hold.
void pack_groups(DType weight_type, const uint8_t* src, uint64_t src_row_stride, int64_t cols,
                 int64_t g0, int64_t g1, uint8_t* dst);

// Writes row r (within its group at `group`) back in the stored block format: the exact inverse.
void unpack_row(DType weight_type, const uint8_t* group, int r, int64_t cols, uint8_t* dst);

// Bytes of per-activation-row side data the packed kernels need (block scales as floats and
// block sums), written by prepare_packed_act from a quantized activation row.
uint64_t packed_act_info_bytes(DType weight_type, int64_t cols);
void prepare_packed_act(DType weight_type, const uint8_t* act_row, int64_t cols, uint8_t* info);

// y[b * ldy + 8g + r] = row (8g + r) . activation row b, for groups g < n_groups, b < n_act.
// act rows are act_stride apart (the weight type's activation format), their side data
// info_stride apart.
using PackedGemmFn = void (*)(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                              const uint8_t* act, size_t act_stride, const uint8_t* info,
                              size_t info_stride, int n_act, float* y, size_t ldy);

enum class Isa;
PackedGemmFn packed_gemm_for(DType weight_type);           // the active isa's kernel
PackedGemmFn packed_gemm_for(DType weight_type, Isa isa);  // a given isa (tests)

// LOKAL_REPACK=0 turns load-time repacking off (to compare, or to save the copy's memory).
bool repack_enabled();

}  // namespace lokal::kernels
