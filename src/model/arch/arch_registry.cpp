#include <array>

#include "model/arch/arch.h"

namespace lokal::model {
namespace {

constexpr std::array kArchitectures = {
    ArchDesc{"llama", llama::read_config, llama::bind_weights},
};

}  // namespace

const ArchDesc* find_arch(std::string_view name) {
    for (const ArchDesc& a : kArchitectures) {
        if (a.name == name) return &a;
    }
    return nullptr;
}

std::string supported_arch_list() {
    std::string s;
    for (const ArchDesc& a : kArchitectures) {
        if (!s.empty()) s += ", ";
        s += a.name;
    }
    return s;
}

}  // namespace lokal::model
