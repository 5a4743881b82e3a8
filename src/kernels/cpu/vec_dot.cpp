// Per-ISA kernel tables and the start-up choice between them.
#include "kernels/cpu/vec_dot.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/error.h"
#include "base/fp16.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/vec_dot_tables.h"
#include "tensor/quantize.h"

namespace lokal::kernels {
namespace {

constexpr size_t kMaxTypeId = 40;

using Table = std::array<TypeKernels, kMaxTypeId>;

Table build_table(Isa isa) {
    Table t{};
    for (size_t id = 0; id < kMaxTypeId; ++id) {
        const DType w = static_cast<DType>(id);
        if (!ref_vec_dot(w)) continue;  // not a weight type (or not a type at all)
        TypeKernels k{dtype_info(w).act_type, ref_vec_dot(w), nullptr, ref_gemm(w)};
#if defined(__x86_64__) || defined(_M_X64)
        if (isa != Isa::Scalar) {
            if (VecDotFn fast = avx2_vec_dot(w)) {
                k.vec_dot = fast;
                k.vec_dot_x4 = avx2_vec_dot_x4(w);
                k.gemm = avx2_gemm(w);
            }
        }
        if (isa == Isa::Avx512 || isa == Isa::Amx) {
            const bool vnni = cpu_features().avx512vnni;
            // Every kernel gives the reference's bits, so each slot takes the fastest: the
            // AVX-512 single-row kernels, and the AVX2 gemm where it is the faster one.
            if (VecDotFn fast = avx512_vec_dot(w, vnni)) k.vec_dot = fast;
            if (GemmFn fast = avx512_gemm(w, vnni)) k.gemm = fast;
        }
#else
        (void)isa;
#endif
        t[id] = k;
    }
    return t;
}

const Table& table(Isa isa) {
    static const Table scalar = build_table(Isa::Scalar);
    static const Table avx2 = build_table(Isa::Avx2);
    static const Table avx512 = build_table(Isa::Avx512);
    static const Table amx = build_table(Isa::Amx);  // the same: AMX only adds packed kernels
    switch (isa) {                                   // Neon and NeonDot only add packed kernels
        case Isa::Avx2:
            return avx2;
        case Isa::Avx512:
            return avx512;
        case Isa::Amx:
            return amx;
        default:
            return scalar;
    }
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
    if (id >= kMaxTypeId || !table(isa)[id].vec_dot) {
        throw Error("no matrix kernel for tensor type " + std::string(dtype_name(w)),
                    ErrorKind::Unsupported);
    }
    return table(isa)[id];
}

}  // namespace

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
    return ref_vec_dot(weight_type) != nullptr;
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
#if defined(__x86_64__) || defined(_M_X64)
    if (isa != Isa::Scalar && isa_supported(isa)) {
        if (QuantizeActFn fast = avx2_quantize_act(act_type)) {
            if (n % dtype_info(act_type).block_elems != 0) {
                throw Error("quantize_activations: row length not a multiple of the block size");
            }
            fast(x, dst, n);
            return;
        }
    }
#else
    (void)isa;
#endif
    quantize_row(act_type, x, dst, n);
}

void quantize_activations(DType act_type, const float* x, void* dst, int64_t n) {
    static const Isa isa = active_isa();
    quantize_activations(act_type, x, dst, n, isa);
}

}  // namespace lokal::kernels
