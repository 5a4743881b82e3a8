// Host <-> buffer copies. A mapped (host) buffer is copied directly; a device-local one goes
// through a host staging buffer in chunks. Both run the stream's pending commands and wait.
#pragma once

#include <cstdint>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"

namespace lokal::vk {

void upload(CommandStream& stream, const Buffer& dst, uint64_t offset, const void* src,
            uint64_t bytes);
void download(CommandStream& stream, const Buffer& src, uint64_t offset, void* dst, uint64_t bytes);

}  // namespace lokal::vk
