// The AMX prompt-processing kernels of the packed Q4_0, Q5_0, Q8_0, Q4_K and Q6_K groups: the tile
// kernel of packed_amx_kernel.h on the real tile registers. Compiled with AMX-TILE/AMX-INT8 and
// chosen only when the CPU has them, Linux granted the tile state and amx_kernels_verified()
// passed.
#include <immintrin.h>

#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed_amx_kernel.h"

namespace lokal::kernels {

namespace {

// The tile instructions with their tile numbers as template arguments. The compiler's
// _tile_loadd & co. paste the number into the mnemonic by macro, so they need literals; "%c"
// prints an immediate operand bare, which gives the same instructions (tmm<N>) for any N.
struct HardwareTiles {
    static void configure(const amx::TileConfig& c) { _tile_loadconfig(&c); }
    static void release() { _tile_release(); }
    template <int t>
    static void zero() {
        __asm__ volatile("tilezero %%tmm%c0" ::"i"(t));
    }
    template <int t>
    static void load(const void* p, size_t stride) {
        __asm__ volatile("tileloadd (%0,%1,1), %%tmm%c2" ::"r"(p), "r"(stride), "i"(t) : "memory");
    }
    template <int t>
    static void store(void* p, size_t stride) {
        __asm__ volatile("tilestored %%tmm%c2, (%0,%1,1)" ::"r"(p), "r"(stride), "i"(t) : "memory");
    }
    // C += A x B, signed bytes (AT&T order: B, A, C).
    template <int c, int a, int b>
    static void dot() {
        __asm__ volatile("tdpbssd %%tmm%c2, %%tmm%c1, %%tmm%c0" ::"i"(c), "i"(a), "i"(b));
    }
};

template <class Rows, amx::OperandsFn kOperands, DType kType>
void gemm(int64_t cols, const uint8_t* w, size_t group_stride, int n_groups, const uint8_t* act,
          size_t act_stride, const uint8_t* info, size_t info_stride, int n_act, float* y,
          size_t ldy) {
    static const PackedGemmFn rest = find_row(avx2_rows(), kType)->packed_gemm;
    amx::gemm<HardwareTiles, Rows>(kOperands, rest, cols, w, group_stride, n_groups, act,
                                   act_stride, info, info_stride, n_act, y, ldy);
}

// F16 and BF16 keep AVX2's packed kernels.
constexpr KernelRow kRows[] = {
    {.type = DType::Q4_0, .packed_gemm = gemm<amx::Q32Rows, amx::q4_0_operands, DType::Q4_0>},
    {.type = DType::Q5_0, .packed_gemm = gemm<amx::Q32Rows, amx::q5_0_operands, DType::Q5_0>},
    {.type = DType::Q8_0, .packed_gemm = gemm<amx::Q32Rows, amx::q8_0_operands, DType::Q8_0>},
    {.type = DType::Q4_K, .packed_gemm = gemm<amx::Q4KRows, amx::q4_K_operands, DType::Q4_K>},
    {.type = DType::Q6_K, .packed_gemm = gemm<amx::Q6KRows, amx::q6_K_operands, DType::Q6_K>},
};

}  // namespace

KernelRows amx_rows() {
    return kRows;
}

}  // namespace lokal::kernels
