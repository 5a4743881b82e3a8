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

DType act_type_for(DType w) {
    switch (w) {
        case DType::F32:
            return DType::F32;
        case DType::F16:
            return DType::F16;
        case DType::BF16:
            return DType::BF16;
        case DType::Q4_0:
        case DType::Q5_0:
        case DType::Q8_0:
        case DType::IQ4_NL:
            return DType::Q8_0;
        case DType::Q4_1:
        case DType::Q5_1:
            return DType::Q8_1;
        default:
            return DType::Q8_K;
    }
}

using Table = std::array<TypeKernels, kMaxTypeId>;

Table build_table(Isa isa) {
    Table t{};
    for (size_t id = 0; id < kMaxTypeId; ++id) {
        const DType w = static_cast<DType>(id);
        VecDotFn fn = ref_vec_dot(w);
        if (!fn) continue;
        VecDotX4Fn fn4 = nullptr;
#if defined(__x86_64__) || defined(_M_X64)
        if (isa == Isa::Avx2) {
            if (VecDotFn fast = avx2_vec_dot(w)) fn = fast;
            fn4 = avx2_vec_dot_x4(w);
        }
#else
        (void)isa;
#endif
        t[id] = TypeKernels{act_type_for(w), fn, fn4};
    }
    return t;
}

const Table& table(Isa isa) {
    static const Table scalar = build_table(Isa::Scalar);
    static const Table avx2 = build_table(Isa::Avx2);
    return isa == Isa::Avx2 ? avx2 : scalar;
}

Isa choose_isa() {
    if (const char* env = std::getenv("LOKAL_FORCE_ISA"); env && *env) {
        const std::string want = env;
        if (want == "scalar") return Isa::Scalar;
        if (want == "avx2") {
            if (!isa_supported(Isa::Avx2)) {
                throw Error("LOKAL_FORCE_ISA=avx2 but this CPU lacks AVX2/FMA/F16C");
            }
            return Isa::Avx2;
        }
        throw Error("LOKAL_FORCE_ISA=" + want + ": unknown instruction set (scalar|avx2)");
    }
    return isa_supported(Isa::Avx2) ? Isa::Avx2 : Isa::Scalar;
}

const TypeKernels& lookup(DType w, Isa isa) {
    const size_t id = static_cast<size_t>(w);
    if (id >= kMaxTypeId || !table(isa)[id].vec_dot) {
        throw Error("no matrix kernel for tensor type " + std::string(dtype_name(w)));
    }
    return table(isa)[id];
}

}  // namespace

const char* isa_name(Isa isa) {
    return isa == Isa::Avx2 ? "avx2" : "scalar";
}

bool isa_supported(Isa isa) {
    if (isa == Isa::Scalar) return true;
#if defined(__x86_64__) || defined(_M_X64)
    const CpuFeatures& f = cpu_features();
    return f.avx2 && f.fma && f.f16c;
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

void quantize_activations(DType act_type, const float* x, void* dst, int64_t n) {
    quantize_row(act_type, x, dst, n);
}

}  // namespace lokal::kernels
