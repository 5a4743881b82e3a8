// Dot products of one stored weight row with one activation row, per weight type.
//
// Activations are first converted to the weight type's "activation type" (ggml's vec_dot_type):
//   F32 -> F32, F16 -> F16, BF16 -> BF16, Q4_0/Q5_0/Q8_0/IQ4_NL -> Q8_0, Q4_1/Q5_1 -> Q8_1,
//   Q2_K..Q6_K/IQ4_XS -> Q8_K.
// then vec_dot(n, w_row, act_row) returns sum_i w[i] * act[i] over n elements.
//
// kernels_ref() are the scalar references (same integer sums and float scaling order as ggml's
// generic kernels); the per-ISA tables are picked once at start-up (see cpu_features.h), and the
// environment variable LOKAL_FORCE_ISA=scalar|avx2|avx512|amx|neon|neondot overrides the choice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "tensor/dtype.h"

namespace lokal::kernels {

// n elements; w_row stored as the weight type, act as the TypeKernels::act_type.
using VecDotFn = float (*)(int64_t n, const void* w_row, const void* act);

// Four activation rows against one weight row: out[r] = vec_dot(n, w_row, act[r]), bit for bit,
// but each weight block is unpacked once (prompt processing is compute-bound).
using VecDotX4Fn = void (*)(int64_t n, const void* w_row, const void* const act[4], float out[4]);

// Many weight rows against many activation rows (prompt processing):
//   y[b * ldy + r] = vec_dot(n, w + r * w_stride, act + b * act_stride)
// for r < n_w_rows, b < n_act_rows, bit for bit. Tiled so that a group of activation rows stays in
// L1 while a tile of weight rows (in L2) is streamed past it, each weight block unpacked once per
// group (through vec_dot_x4 where the type has one).
using GemmFn = void (*)(int64_t n, const void* w, size_t w_stride, int n_w_rows, const void* act,
                        size_t act_stride, int n_act_rows, float* y, size_t ldy);

// Converts n floats to the activation type (n a multiple of its block size).
using QuantizeActFn = void (*)(const float* x, void* dst, int64_t n);

struct TypeKernels {
    DType act_type = DType::F32;  // what activations must be converted to
    VecDotFn vec_dot = nullptr;
    VecDotX4Fn vec_dot_x4 = nullptr;  // optional
    GemmFn gemm = nullptr;            // always set where vec_dot is
};

// Avx2 needs AVX2+FMA+F16C; Avx512 needs those plus AVX-512 F/BW/VL/DQ (VNNI is used where
// present) and replaces the AVX2 kernels of Q8_0, Q4_0 and Q6_K. Amx is Avx512 plus the
// tile kernels of packed Q4_0/Q5_0/Q8_0/Q4_K/Q6_K prompt batches (AMX-TILE + AMX-INT8, the tile
// state granted by Linux, and a start-up check of the kernels against the reference).
// On AArch64, Neon (every AArch64 CPU) and NeonDot (with the SDOT dot-product instructions)
// serve the packed matrices; the other tables stay the scalar ones there.
enum class Isa { Scalar, Avx2, Avx512, Amx, Neon, NeonDot };
inline constexpr Isa kAllIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512,
                                   Isa::Amx,    Isa::Neon, Isa::NeonDot};

const char* isa_name(Isa isa);
std::optional<Isa> isa_named(std::string_view name);  // isa_name's inverse; nullopt if unknown
bool isa_supported(Isa isa);  // this CPU (and this build) can run the isa's kernels
Isa active_isa();             // the best supported, or LOKAL_FORCE_ISA; chosen once

// True when weight_type has a dot-product kernel.
bool has_kernels(DType weight_type);

// Throw lokal::Error when weight_type has no kernel (or isa is unsupported, for the 2-arg form).
const TypeKernels& kernels_ref(DType weight_type);           // scalar reference, always built
const TypeKernels& kernels_for(DType weight_type);           // for active_isa()
const TypeKernels& kernels_for(DType weight_type, Isa isa);  // for a given isa (tests)

// Converts n floats to act_type, bit-exact with quantize_row (the SIMD paths included); n must be
// a multiple of its block size. The 5-arg form uses a given supported isa (tests).
void quantize_activations(DType act_type, const float* x, void* dst, int64_t n);
void quantize_activations(DType act_type, const float* x, void* dst, int64_t n, Isa isa);

}  // namespace lokal::kernels
