// Helpers for the row-op tests: rows at an offset and stride in a float buffer that lives on the
// device and, as a twin, on the host for the CPU reference; float comparison in ulp.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <utility>
#include <vector>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/rows_ref.h"
#include "backends/vulkan/transfer.h"

namespace lokal::vk::testing {

// n rows of `width` columns at float `offset`, `stride` apart.
struct Layout {
    uint32_t n = 1, width = 1, offset = 0, stride = 1;

    // Floats a buffer needs for these rows and a few more after them.
    size_t floats() const { return offset + size_t{n} * stride + 8; }
};

// Widths 1, 3, 63, 577 and 4096; one row and several; dense, and column slices of wider rows.
inline const Layout kLayouts[] = {{1, 1, 0, 1},     {5, 1, 3, 3},       {1, 3, 0, 3},
                                  {4, 3, 5, 7},     {3, 63, 1, 63},     {2, 577, 11, 608},
                                  {5, 577, 0, 577}, {1, 4096, 0, 4096}, {3, 4096, 64, 4224}};

inline std::ostream& operator<<(std::ostream& os, const Layout& l) {
    return os << l.n << " rows of " << l.width << " at " << l.offset << ", stride " << l.stride;
}

// Floats on the device with their host twin.
class Twin {
  public:
    Twin(const Device& device, CommandStream& stream, std::vector<float> values)
        : host(std::move(values)),
          buf_(device, host.size() * sizeof(float), MemoryKind::DeviceLocal, "test rows") {
        upload(stream, buf_, 0, host.data(), host.size() * sizeof(float));
    }

    const Buffer& buf() const { return buf_; }
    RowsRef rows(const Layout& l) const { return {&buf_, l.offset, l.stride}; }
    float* row(const Layout& l, uint32_t r) {
        return host.data() + l.offset + size_t{r} * l.stride;
    }
    std::vector<float> device_values(CommandStream& stream) const {
        std::vector<float> v(host.size());
        download(stream, buf_, 0, v.data(), v.size() * sizeof(float));
        return v;
    }

    std::vector<float> host;

  private:
    Buffer buf_;
};

// Which of `size` floats the layout's rows cover.
inline std::vector<bool> in_rows(const Layout& l, size_t size) {
    std::vector<bool> in(size, false);
    for (uint32_t r = 0; r < l.n; ++r)
        for (uint32_t c = 0; c < l.width; ++c) in[l.offset + size_t{r} * l.stride + c] = true;
    return in;
}

// uint32 values in a device buffer.
inline Buffer device_u32(const Device& device, CommandStream& stream,
                         const std::vector<uint32_t>& v) {
    Buffer b(device, v.size() * sizeof(uint32_t), MemoryKind::DeviceLocal, "test indices");
    upload(stream, b, 0, v.data(), v.size() * sizeof(uint32_t));
    return b;
}

// Floats between a and b, counting +0 and -0 as one; NaN only matches NaN.
inline uint64_t ulp_distance(float a, float b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : UINT64_MAX;
    auto ordered = [](float f) {
        int32_t i;
        std::memcpy(&i, &f, sizeof i);
        return i < 0 ? -int64_t{i & 0x7fffffff} : int64_t{i};
    };
    const int64_t d = ordered(a) - ordered(b);
    return static_cast<uint64_t>(d < 0 ? -d : d);
}

// Every got[i] within max_ulp of want[i]; names the first that is not.
inline ::testing::AssertionResult within_ulp(const std::vector<float>& got,
                                             const std::vector<float>& want, uint64_t max_ulp) {
    if (got.size() != want.size()) return ::testing::AssertionFailure() << "sizes differ";
    for (size_t i = 0; i < got.size(); ++i) {
        const uint64_t d = ulp_distance(got[i], want[i]);
        if (d > max_ulp) {
            return ::testing::AssertionFailure()
                   << "at float " << i << ": " << got[i] << " vs the reference's " << want[i]
                   << " (" << d << " ulp apart, " << max_ulp << " allowed)";
        }
    }
    return ::testing::AssertionSuccess();
}

}  // namespace lokal::vk::testing
