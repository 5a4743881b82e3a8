// The start-up check of the AMX kernels: this machine has no AMX to test them on, so before the
// tile path is chosen it must reproduce the scalar reference, bit for bit, on a small problem of
// each type (one pair of 16-row tiles, a single one and a tail; a pair of groups and a single one).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "base/fp16.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/kernel_rows.h"
#include "kernels/cpu/packed.h"
#include "tensor/quantize.h"

namespace lokal::kernels {

#if defined(__x86_64__) || defined(_M_X64)
namespace {

std::vector<float> pseudo_random(size_t n, uint32_t seed) {
    std::vector<float> v(n);
    uint32_t s = seed;
    for (float& x : v) {
        s = s * 1664525u + 1013904223u;
        x = (float)((int32_t)(s >> 8) - (1 << 23)) / (float)(1 << 23);
    }
    return v;
}

bool agrees(DType t) {
    constexpr int64_t kRows = 24, kCols = 512;
    constexpr int kActs = 53;  // 2 x 16 + 16 + a tail of 5
    const uint64_t row_stride = row_bytes(t, kCols);
    const std::vector<float> wf = pseudo_random(kRows * kCols, 7);
    std::vector<uint8_t> stored(kRows * row_stride);
    for (int64_t r = 0; r < kRows; ++r) {
        quantize_row(t, wf.data() + r * kCols, stored.data() + r * row_stride, kCols);
    }
    const uint64_t group_stride = packed_group_bytes(t, kCols);
    std::vector<uint8_t> packed(group_stride * kRows / kPackRows);
    pack_groups(t, stored.data(), row_stride, kCols, 0, kRows / kPackRows, packed.data());

    const DType act_type = kernels_ref(t).act_type;
    const uint64_t act_stride = row_bytes(act_type, kCols);
    const uint64_t info_stride = packed_act_info_bytes(t, kCols);
    const std::vector<float> xf = pseudo_random(kActs * kCols, 11);
    std::vector<uint8_t> act(kActs * act_stride), info(kActs * info_stride);
    for (int b = 0; b < kActs; ++b) {
        quantize_row(act_type, xf.data() + b * kCols, act.data() + b * act_stride, kCols);
        prepare_packed_act(t, act.data() + b * act_stride, kCols, info.data() + b * info_stride);
    }
    std::vector<float> want(kActs * kRows), got(kActs * kRows);
    packed_gemm_for(t, Isa::Scalar)(kCols, packed.data(), group_stride, kRows / kPackRows,
                                    act.data(), act_stride, info.data(), info_stride, kActs,
                                    want.data(), kRows);
    find_row(amx_rows(), t)
        ->packed_gemm(kCols, packed.data(), group_stride, kRows / kPackRows, act.data(), act_stride,
                      info.data(), info_stride, kActs, got.data(), kRows);
    return want == got;
}

bool check() {
    const CpuFeatures& f = cpu_features();
    if (!f.amx_tile || !f.amx_int8) return false;
    for (DType t : {DType::Q4_0, DType::Q5_0, DType::Q8_0, DType::Q4_K, DType::Q6_K}) {
        if (!agrees(t)) {
            std::fprintf(stderr,
                         "lokal: warning: the AMX kernel for %s disagrees with the reference on "
                         "this CPU; using the AVX-512 kernels instead\n",
                         std::string(dtype_name(t)).c_str());
            return false;
        }
    }
    return true;
}

}  // namespace

bool amx_kernels_verified() {
    static const bool ok = check();
    return ok;
}

#else

bool amx_kernels_verified() {
    return false;
}

#endif

}  // namespace lokal::kernels
