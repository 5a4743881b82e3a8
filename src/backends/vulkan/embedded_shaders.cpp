#include "backends/vulkan/embedded_shaders.h"

#include <string>

#include "base/error.h"

namespace lokal::vk {

std::span<const uint32_t> embedded_spirv(std::string_view name) {
    for (size_t i = 0; i < kEmbeddedShaderCount; ++i) {
        if (name == kEmbeddedShaders[i].name) {
            return {kEmbeddedShaders[i].words, kEmbeddedShaders[i].n_words};
        }
    }
    throw Error("no embedded shader named '" + std::string(name) + "'", ErrorKind::Internal);
}

}  // namespace lokal::vk
