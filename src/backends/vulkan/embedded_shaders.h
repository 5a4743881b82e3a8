// The compute shaders of src/backends/vulkan/shaders, compiled to SPIR-V by glslc at build time
// and embedded by cmake/embed_spirv.cmake (the generated shader_spirv_data.cpp), named by file
// stem: shaders/matvec_q4_0.comp is "matvec_q4_0".
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace lokal::vk {

struct EmbeddedShader {
    const char* name;
    const uint32_t* words;
    size_t n_words;
};

extern const EmbeddedShader kEmbeddedShaders[];
extern const size_t kEmbeddedShaderCount;

// The SPIR-V of a shader; throws lokal::Error (internal) for a name that is not embedded.
std::span<const uint32_t> embedded_spirv(std::string_view name);

}  // namespace lokal::vk
