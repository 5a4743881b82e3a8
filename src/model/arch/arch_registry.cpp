#include <array>

#include "model/arch/arch.h"

namespace lokal::model {
namespace {

constexpr std::array kArchitectures = {
    ArchDesc{"llama", llama::read_config, llama::bind_weights},
    ArchDesc{"qwen2", qwen2::read_config, qwen2::bind_weights},
    ArchDesc{"qwen3", qwen3::read_config, qwen3::bind_weights},
    ArchDesc{"gemma2", gemma2::read_config, gemma2::bind_weights},
    ArchDesc{"gemma3", gemma3::read_config, gemma3::bind_weights},
    ArchDesc{"phi3", phi3::read_config, phi3::bind_weights},
    ArchDesc{"bert", bert::read_config, bert::bind_weights},
    ArchDesc{"nomic-bert", bert::read_config, bert::bind_weights},
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
