#include "backends/vulkan/transfer.h"

#include <algorithm>
#include <cstring>

#include "backends/vulkan/loader.h"
#include "base/error.h"

namespace lokal::vk {
namespace {

constexpr uint64_t kStagingChunk = 64ull << 20;

void check_range(const Buffer& buffer, uint64_t offset, uint64_t bytes) {
    LOKAL_ASSERT(offset <= buffer.size() && bytes <= buffer.size() - offset);
}

void copy(CommandStream& stream, const Buffer& from, uint64_t from_offset, const Buffer& to,
          uint64_t to_offset, uint64_t bytes) {
    VkBufferCopy region{};
    region.srcOffset = from_offset;
    region.dstOffset = to_offset;
    region.size = bytes;
    vkCmdCopyBuffer(stream.cmd(), from.handle(), to.handle(), 1, &region);
}

}  // namespace

void upload(CommandStream& stream, const Buffer& dst, uint64_t offset, const void* src,
            uint64_t bytes) {
    check_range(dst, offset, bytes);
    if (bytes == 0) return;
    const auto* from = static_cast<const uint8_t*>(src);
    if (dst.mapped()) {
        stream.submit_and_wait();  // earlier commands may still read the old contents
        std::memcpy(static_cast<uint8_t*>(dst.mapped()) + offset, from, bytes);
        return;
    }
    const Buffer staging(stream.device(), std::min(bytes, kStagingChunk), MemoryKind::Host,
                         "a staging buffer");
    for (uint64_t done = 0; done < bytes;) {
        const uint64_t n = std::min(bytes - done, kStagingChunk);
        std::memcpy(staging.mapped(), from + done, n);
        copy(stream, staging, 0, dst, offset + done, n);
        stream.barrier();  // later commands, in this submission or the next, read the copy
        stream.submit_and_wait();
        done += n;
    }
}

void download(CommandStream& stream, const Buffer& src, uint64_t offset, void* dst,
              uint64_t bytes) {
    check_range(src, offset, bytes);
    if (bytes == 0) return;
    auto* to = static_cast<uint8_t*>(dst);
    if (src.mapped()) {
        stream.submit_and_wait();
        std::memcpy(to, static_cast<const uint8_t*>(src.mapped()) + offset, bytes);
        return;
    }
    const Buffer staging(stream.device(), std::min(bytes, kStagingChunk), MemoryKind::Host,
                         "a staging buffer");
    for (uint64_t done = 0; done < bytes;) {
        const uint64_t n = std::min(bytes - done, kStagingChunk);
        stream.barrier();  // the copy reads what earlier dispatches wrote
        copy(stream, src, offset + done, staging, 0, n);
        stream.submit_and_wait();
        std::memcpy(to + done, staging.mapped(), n);
        done += n;
    }
}

}  // namespace lokal::vk
