#include "gguf/file_summary.h"

#include <cstdio>
#include <map>

#include "tensor/dtype.h"

namespace lokal::gguf {
namespace {

// general.file_type as llama.cpp's quantize tool names it.
const char* file_type_name(int64_t t) {
    static const char* const kNames[] = {
        "F32",   "F16",     "Q4_0",   "Q4_1",   nullptr,  nullptr,   nullptr,  "Q8_0",   "Q5_0",
        "Q5_1",  "Q2_K",    "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S",  "Q4_K_M", "Q5_K_S", "Q5_K_M",
        "Q6_K",  "IQ2_XXS", "IQ2_XS", "Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ1_S",  "IQ4_NL", "IQ3_S",
        "IQ3_M", "IQ2_S",   "IQ2_M",  "IQ4_XS", "IQ1_M",  "BF16"};
    if (t < 0 || t >= (int64_t)(sizeof kNames / sizeof kNames[0])) return nullptr;
    return kNames[t];
}

}  // namespace

// The file type when the GGUF states it, else the dominant weight type by bytes.
std::string quantization_name(const File& f) {
    if (auto ft = f.get_int("general.file_type")) {
        if (const char* name = file_type_name(*ft)) return name;
    }
    std::map<std::string, uint64_t> bytes;
    for (const auto& t : f.tensors()) {
        if (t.dims.size() >= 2) bytes[std::string(dtype_name(t.type))] += t.n_bytes;
    }
    std::string best;
    uint64_t most = 0;
    for (const auto& [name, b] : bytes) {
        if (b > most) {
            most = b;
            best = name;
        }
    }
    if (bytes.size() > 1) best += " (mixed: " + std::to_string(bytes.size()) + " types)";
    return best.empty() ? "none" : best;
}

uint64_t parameter_count(const File& f) {
    uint64_t n = 0;
    for (const auto& t : f.tensors()) n += t.n_elements;
    return n;
}

std::string human_count(double n) {
    char buf[32];
    if (n >= 1e9) {
        std::snprintf(buf, sizeof buf, "%.2fB", n / 1e9);
    } else if (n >= 1e6) {
        std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
    } else if (n >= 1e3) {
        std::snprintf(buf, sizeof buf, "%.2fK", n / 1e3);
    } else {
        std::snprintf(buf, sizeof buf, "%.0f", n);
    }
    return buf;
}

}  // namespace lokal::gguf
