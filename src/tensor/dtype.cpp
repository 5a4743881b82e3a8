#include "tensor/dtype.h"

#include <array>

#include "base/error.h"
#include "tensor/row_codecs.h"

namespace lokal {
namespace {

struct Entry {
    uint32_t id;
    DTypeInfo info;
};

// Block geometry follows ggml's block structs (see quant_blocks.h for the layouts).
constexpr DType F32 = DType::F32, F16 = DType::F16, BF16 = DType::BF16, Q8_0 = DType::Q8_0,
                Q8_1 = DType::Q8_1, Q8_K = DType::Q8_K;
using namespace codecs;  // NOLINT(google-build-using-namespace): the converters of each row

constexpr std::array kTable = {
    // id, name, block elements, block bytes, runs models, activation type, converters
    Entry{0, {"f32", 1, 4, true, F32, f32_to_float, f32_from_float}},
    Entry{1, {"f16", 1, 2, true, F16, f16_to_float, f16_from_float}},
    Entry{2, {"q4_0", 32, 18, true, Q8_0, q4_0_to_float, q4_0_from_float}},
    Entry{3, {"q4_1", 32, 20, true, Q8_1, q4_1_to_float, q4_1_from_float}},
    Entry{6, {"q5_0", 32, 22, true, Q8_0, q5_0_to_float, q5_0_from_float}},
    Entry{7, {"q5_1", 32, 24, true, Q8_1, q5_1_to_float, q5_1_from_float}},
    Entry{8, {"q8_0", 32, 34, true, Q8_0, q8_0_to_float, q8_0_from_float}},
    Entry{9, {"q8_1", 32, 36, false, Q8_1, q8_1_to_float, q8_1_from_float}},
    Entry{10, {"q2_K", 256, 84, true, Q8_K, q2_K_to_float, q2_K_from_float}},
    Entry{11, {"q3_K", 256, 110, true, Q8_K, q3_K_to_float, q3_K_from_float}},
    Entry{12, {"q4_K", 256, 144, true, Q8_K, q4_K_to_float, q4_K_from_float}},
    Entry{13, {"q5_K", 256, 176, true, Q8_K, q5_K_to_float, q5_K_from_float}},
    Entry{14, {"q6_K", 256, 210, true, Q8_K, q6_K_to_float, q6_K_from_float}},
    Entry{15, {"q8_K", 256, 292, true, Q8_K, q8_K_to_float, q8_K_from_float}},
    Entry{16, {"iq2_xxs", 256, 66, false}},
    Entry{17, {"iq2_xs", 256, 74, false}},
    Entry{18, {"iq3_xxs", 256, 98, false}},
    Entry{19, {"iq1_s", 256, 50, false}},
    Entry{20, {"iq4_nl", 32, 18, true, Q8_0, iq4_nl_to_float, iq4_nl_from_float}},
    Entry{21, {"iq3_s", 256, 110, false}},
    Entry{22, {"iq2_s", 256, 82, false}},
    Entry{23, {"iq4_xs", 256, 136, true, Q8_K, iq4_xs_to_float, iq4_xs_from_float}},
    Entry{24, {"i8", 1, 1, false}},
    Entry{25, {"i16", 1, 2, false}},
    Entry{26, {"i32", 1, 4, false}},
    Entry{27, {"i64", 1, 8, false}},
    Entry{28, {"f64", 1, 8, false}},
    Entry{29, {"iq1_m", 256, 56, false}},
    Entry{30, {"bf16", 1, 2, true, BF16, bf16_to_float, bf16_from_float}},
    Entry{34, {"tq1_0", 256, 54, false}},
    Entry{35, {"tq2_0", 256, 66, false}},
};

}  // namespace

std::optional<DTypeInfo> dtype_info(uint32_t type_id) {
    for (const Entry& e : kTable) {
        if (e.id == type_id) return e.info;
    }
    return std::nullopt;
}

const DTypeInfo& dtype_info(DType t) {
    for (const Entry& e : kTable) {
        if (e.id == static_cast<uint32_t>(t)) return e.info;
    }
    LOKAL_ASSERT(false && "unknown dtype");
    __builtin_unreachable();
}

std::string_view dtype_name(DType t) {
    return dtype_info(t).name;
}

}  // namespace lokal
