// Per-ISA kernel tables and the start-up choice between them.
#include "kernels/cpu/vec_dot.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fp16.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/kernel_rows.h"
#include "tensor/quantize.h"

namespace lokal::kernels {
namespace {

constexpr size_t kMaxTypeId = 40;

// One ISA's kernels per type: its table laid over the ones below it.
struct Merged {
    std::array<KernelRow, kMaxTypeId> rows{};
    std::array<TypeKernels, kMaxTypeId> kernels{};  // the rows that have a vec_dot
};

// Each kernel the upper row has replaces the lower row's.
void lay_over(KernelRow& row, const KernelRow& upper) {
    if (upper.vec_dot) row.vec_dot = upper.vec_dot;
    if (upper.vec_dot_x4) row.vec_dot_x4 = upper.vec_dot_x4;
    if (upper.gemm) row.gemm = upper.gemm;
    if (upper.packed_gemm) row.packed_gemm = upper.packed_gemm;
    if (upper.quantize_act) row.quantize_act = upper.quantize_act;
}

// The tables isa stacks, lowest first. Every kernel gives the reference's bits, so each one
// takes the fastest: AVX-512 replaces only the AVX2 kernels it beats, and AMX only adds packed
// kernels (Neon and NeonDot too).
std::vector<KernelRows> tables_of(Isa isa) {
    std::vector<KernelRows> tables = {scalar_rows()};
#if defined(__x86_64__) || defined(_M_X64)
    if (isa == Isa::Avx2 || isa == Isa::Avx512 || isa == Isa::Amx) tables.push_back(avx2_rows());
    if (isa == Isa::Avx512 || isa == Isa::Amx) {
        tables.push_back(avx512_rows(cpu_features().avx512vnni));
    }
    if (isa == Isa::Amx) tables.push_back(amx_rows());
#elif defined(__aarch64__)
    if (isa == Isa::Neon) tables.push_back(neon_rows());
    // Not even its table is touched without the instructions it was compiled for.
    if (isa == Isa::NeonDot && cpu_features().neon_dotprod) tables.push_back(neondot_rows());
#endif
    return tables;
}

Merged merge(Isa isa) {
    Merged m;
    for (size_t id = 0; id < kMaxTypeId; ++id) m.rows[id].type = static_cast<DType>(id);
    for (KernelRows table : tables_of(isa)) {
        for (const KernelRow& row : table) lay_over(m.rows.at(static_cast<size_t>(row.type)), row);
    }
    for (const KernelRow& r : m.rows) {
        if (!r.vec_dot) continue;  // not a weight type (or not a type at all)
        m.kernels[static_cast<size_t>(r.type)] = {dtype_info(r.type).act_type, r.vec_dot,
                                                  r.vec_dot_x4, r.gemm};
    }
    return m;
}

const Merged& merged(Isa isa) {
    static const auto all = [] {
        std::array<Merged, std::size(kAllIsas)> m;
        for (Isa i : kAllIsas) m[static_cast<size_t>(i)] = merge(i);
        return m;
    }();
    return all[static_cast<size_t>(isa)];
}

Isa choose_isa() {
    if (const char* env = std::getenv("LOKAL_FORCE_ISA"); env && *env) {
        const std::optional<Isa> isa = isa_named(env);
        if (!isa) {
            throw Error(std::string("LOKAL_FORCE_ISA=") + env +
                        ": unknown instruction set (scalar|avx2|avx512|amx|neon|neondot)");
        }
        if (!isa_supported(*isa)) {
            throw Error(std::string("LOKAL_FORCE_ISA=") + env +
                        " but this CPU lacks its instructions");
        }
        return *isa;
    }
    if (isa_supported(Isa::NeonDot)) return Isa::NeonDot;
    if (isa_supported(Isa::Neon)) return Isa::Neon;
    if (isa_supported(Isa::Amx)) return Isa::Amx;
    if (isa_supported(Isa::Avx512)) return Isa::Avx512;
    return isa_supported(Isa::Avx2) ? Isa::Avx2 : Isa::Scalar;
}

const TypeKernels& lookup(DType w, Isa isa) {
    const size_t id = static_cast<size_t>(w);
    if (id >= kMaxTypeId || !merged(isa).kernels[id].vec_dot) {
        throw Error("no matrix kernel for tensor type " + std::string(dtype_name(w)),
                    ErrorKind::Unsupported);
    }
    return merged(isa).kernels[id];
}

}  // namespace

const KernelRow& kernels_row(DType t, Isa isa) {
    static const KernelRow none{};
    const size_t id = static_cast<size_t>(t);
    return id < kMaxTypeId ? merged(isa).rows[id] : none;
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::Avx2:
            return "avx2";
        case Isa::Avx512:
            return "avx512";
        case Isa::Amx:
            return "amx";
        case Isa::Neon:
            return "neon";
        case Isa::NeonDot:
            return "neondot";
        default:
            return "scalar";
    }
}

std::optional<Isa> isa_named(std::string_view name) {
    for (Isa isa : kAllIsas) {
        if (name == isa_name(isa)) return isa;
    }
    return std::nullopt;
}

bool isa_supported(Isa isa) {
    if (isa == Isa::Scalar) return true;
#if defined(__aarch64__)
    if (isa == Isa::Neon) return true;  // Advanced SIMD is part of every AArch64 CPU
    return isa == Isa::NeonDot && cpu_features().neon_dotprod;
#elif defined(__x86_64__) || defined(_M_X64)
    if (isa == Isa::Neon || isa == Isa::NeonDot) return false;
    const CpuFeatures& f = cpu_features();
    const bool avx2 = f.avx2 && f.fma && f.f16c;
    if (isa == Isa::Avx2) return avx2;
    const bool avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
    if (isa == Isa::Avx512) return avx512;
    return avx512 && f.amx_tile && f.amx_int8 && amx_kernels_verified();
#else
    return false;
#endif
}

Isa active_isa() {
    static const Isa isa = choose_isa();
    return isa;
}

bool has_kernels(DType weight_type) {
    return kernels_row(weight_type, Isa::Scalar).vec_dot != nullptr;
}

const TypeKernels& kernels_ref(DType weight_type) {
    return lookup(weight_type, Isa::Scalar);
}

const TypeKernels& kernels_for(DType weight_type) {
    return lookup(weight_type, active_isa());
}

const TypeKernels& kernels_for(DType weight_type, Isa isa) {
    if (!isa_supported(isa)) {
        throw Error(std::string("instruction set not supported here: ") + isa_name(isa));
    }
    return lookup(weight_type, isa);
}

void quantize_activations(DType act_type, const float* x, void* dst, int64_t n, Isa isa) {
    if (isa_supported(isa)) {
        if (QuantizeActFn fast = kernels_row(act_type, isa).quantize_act) {
            if (n % dtype_info(act_type).block_elems != 0) {
                throw Error("quantize_activations: row length not a multiple of the block size");
            }
            fast(x, dst, n);
            return;
        }
    }
    quantize_row(act_type, x, dst, n);
}

void quantize_activations(DType act_type, const float* x, void* dst, int64_t n) {
    static const Isa isa = active_isa();
    quantize_activations(act_type, x, dst, n, isa);
}

}  // namespace lokal::kernels
