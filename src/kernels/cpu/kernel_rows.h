// Internal: which kernels each instruction set has, one table per instruction set with one row
// per type (as tensor/dtype.h has one DTypeInfo row per type). vec_dot.cpp and packed.cpp read
// them instead of switching on the type: an instruction set's table is laid over the tables of
// the ones below it (scalar, AVX2, AVX-512, AMX; scalar, NEON or NEON+DotProd), so a type, or one
// kernel of a type, that a table leaves out (nullptr) keeps the lower table's, down to the scalar
// reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/cpu/packed.h"
#include "kernels/cpu/vec_dot.h"

namespace lokal::kernels {

struct KernelRow {
    DType type = DType::F32;
    VecDotFn vec_dot = nullptr;
    VecDotX4Fn vec_dot_x4 = nullptr;
    GemmFn gemm = nullptr;
    PackedGemmFn packed_gemm = nullptr;    // on the 8-row groups of packed.h
    QuantizeActFn quantize_act = nullptr;  // to this type as an activation type
};

using KernelRows = std::span<const KernelRow>;

// t's row in rows; nullptr when the table has none.
constexpr const KernelRow* find_row(KernelRows rows, DType t) {
    for (const KernelRow& row : rows) {
        if (row.type == t) return &row;
    }
    return nullptr;
}

// What isa uses for t: its table laid over the ones below it (vec_dot.cpp). A row of nullptrs
// when t has no kernel at all.
const KernelRow& kernels_row(DType t, Isa isa);

// Each table is defined next to most of its kernels.
KernelRows scalar_rows();  // vec_dot_ref.cpp: the references (activations: quantize_row)
#if defined(__x86_64__) || defined(_M_X64)
KernelRows avx2_rows();             // vec_dot_avx2.cpp
KernelRows avx512_rows(bool vnni);  // vec_dot_avx512.cpp; vnni: the VPDPBUSD variants
KernelRows amx_rows();              // packed_amx.cpp
#elif defined(__aarch64__)
KernelRows neon_rows();     // packed_neon.cpp
KernelRows neondot_rows();  // packed_neondot.cpp
#endif

// The kernels that the tables name from other files than their own.
using PackedGemm = void(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups,
                        const uint8_t* act, size_t act_stride, const uint8_t* info,
                        size_t info_stride, int n_act, float* y, size_t ldy);

// packed.cpp: the scalar references of the packed layouts.
PackedGemm ref_packed_f16, ref_packed_bf16, ref_packed_q4_0, ref_packed_q5_0, ref_packed_q8_0,
    ref_packed_q4_K, ref_packed_q6_K;
// packed.cpp, with packed_kquants.cpp's steps.
PackedGemm ref_packed_q5_K, ref_packed_q3_K, ref_packed_q2_K;
// packed_q1_iq4.cpp.
PackedGemm ref_packed_q4_1, ref_packed_q5_1, ref_packed_iq4_nl, ref_packed_iq4_xs;

#if defined(__x86_64__) || defined(_M_X64)
// gemm_q8_avx2.cpp, for the blocks of Q8_0, Q4_0 and Q5_0.
template <typename Block>
void avx2_gemm_q8(int64_t n, const void* w, size_t w_stride, int n_w_rows, const void* act,
                  size_t act_stride, int n_act_rows, float* y, size_t ldy);

// quantize_act_avx2.cpp.
void avx2_quantize_f16(const float* x, void* dst, int64_t n);
void avx2_quantize_q8_0(const float* x, void* dst, int64_t n);
void avx2_quantize_q8_1(const float* x, void* dst, int64_t n);
void avx2_quantize_q8_K(const float* x, void* dst, int64_t n);

// packed_avx2.cpp.
PackedGemm avx2_packed_f16, avx2_packed_bf16, avx2_packed_q4_0, avx2_packed_q5_0, avx2_packed_q8_0,
    avx2_packed_q4_K, avx2_packed_q6_K;
// packed_q1_iq4_avx2.cpp.
PackedGemm avx2_packed_q4_1, avx2_packed_q5_1, avx2_packed_iq4_nl, avx2_packed_iq4_xs;
void avx2_widen_f16(const uint16_t* src, float* dst, int64_t n);
// packed_kquants_avx2.cpp.
PackedGemm avx2_packed_q5_K, avx2_packed_q3_K, avx2_packed_q2_K;
// packed_q32_avx512.cpp (VNNI only).
PackedGemm avx512_packed_q4_0, avx512_packed_q5_0, avx512_packed_q8_0, avx512_packed_iq4_nl,
    avx512_packed_q4_1, avx512_packed_q5_1;
// packed_kquants_avx512.cpp (VNNI only).
PackedGemm avx512_packed_q4_K, avx512_packed_q5_K, avx512_packed_q6_K, avx512_packed_q3_K,
    avx512_packed_q2_K;
// packed_iq4_avx512.cpp (VNNI only).
PackedGemm avx512_packed_iq4_xs;
#endif

// Runs the AMX packed kernels once against the scalar reference (packed_amx_check.cpp): the
// tile path is only chosen when they agree bit for bit. False without AMX.
bool amx_kernels_verified();

}  // namespace lokal::kernels
