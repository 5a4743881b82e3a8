// KvAttention::store against kernels::KvCache::store: the same rows stored by both must leave
// the same bytes (conversion to F16 and Q8_0 is integer arithmetic on the device, bit-exact),
// at the same offsets in the pool. Rows of odd element or block counts start at half-word
// boundaries, so neighbouring rows share words; storing in two batches checks that writing one
// row leaves its neighbour's half of the word alone.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "backends/vulkan/kv_attention.h"
#include "backends/vulkan/kv_test_cache.h"
#include "backends/vulkan/test_gpu.h"
#include "backends/vulkan/transfer.h"
#include "base/random_values.h"

namespace lokal::vk {
namespace {

using kernels::KvType;
using testing::KvTestCache;
using testing::SeqPos;
using testing::TestBatchIndex;

struct StoreCase {
    KvType type;
    uint32_t row_elems;
    uint32_t page_rows;
};

std::string describe(const StoreCase& c) {
    return std::string(kernels::kv_type_name(c.type)) + "_" + std::to_string(c.row_elems) + "_p" +
           std::to_string(c.page_rows);
}

std::string store_case_name(const ::testing::TestParamInfo<StoreCase>& info) {
    return describe(info.param);
}

void PrintTo(const StoreCase& c, std::ostream* os) {
    *os << describe(c);
}

// Values where rounding is easy to get wrong: F16 ties (to even), values that become half
// subnormals, underflow or overflow, signed zeros; in Q8_0 blocks they make tiny scales.
const float kSpecials[] = {1.0f + 0x1p-11f,
                           1.0f + 3 * 0x1p-11f,
                           -(1.0f + 0x1p-11f),
                           0x1p-25f,
                           3 * 0x1p-25f,
                           6e-5f,
                           1e-7f,
                           65520.0f,
                           65519.0f,
                           -0.0f,
                           0.0f,
                           -2.5e-6f};

// Row r of the test data: random, or (every 4th) the specials, or (every 4th, Q8_0 ties) a
// block of amax 127 (scale 1) with values halfway between integers.
std::vector<float> make_row(uint32_t r, uint32_t elems) {
    std::vector<float> row = random_normal(elems, 1000 + r, 2.0f);
    if (r % 4 == 1) {
        for (uint32_t i = 0; i < elems; ++i) row[i] = kSpecials[i % std::size(kSpecials)];
    } else if (r % 4 == 2) {
        for (uint32_t i = 0; i < elems; ++i) {
            row[i] = i % 32 == 0 ? 127.0f : (float)(int)(i % 32) - 16.5f;
        }
    } else if (r % 4 == 3 && elems >= 32) {
        std::fill_n(row.begin(), 32, 0.0f);  // a zero Q8_0 block: scale 0
    }
    return row;
}

class KvStoreTest : public testing::VulkanTest, public ::testing::WithParamInterface<StoreCase> {};

TEST_P(KvStoreTest, WritesTheBytesTheCpuCacheHolds) {
    const StoreCase& c = GetParam();
    const uint32_t n_layer = 3;
    KvTestCache cache(c.type, c.row_elems, n_layer, c.page_rows, {9, 5, 14});
    // Two batches per layer: even positions, then odd ones, sequences mixed.
    std::vector<std::vector<SeqPos>> batches(2);
    for (int pos = 0; pos < 14; ++pos) {
        for (int s : {2, 0, 1}) {
            if (pos < cache.lens[s]) batches[pos % 2].push_back({s, pos});
        }
    }

    CommandStream stream(device());
    const Buffer pool(device(), cache.pool_bytes(), MemoryKind::DeviceLocal, "pool");
    const std::vector<uint8_t> garbage(pool.size(), 0xA5);
    upload(stream, pool, 0, garbage.data(), garbage.size());
    KvAttention kv(device(), cache.geometry);

    // k and v side by side in one row buffer: [pad | k | pad | v | pad].
    const uint32_t e = c.row_elems, stride = 2 * e + 3;
    uint32_t row_id = 0;
    for (uint32_t layer = 0; layer < n_layer; ++layer) {
        for (const auto& batch : batches) {
            std::vector<float> rows(batch.size() * stride, NAN);
            for (size_t t = 0; t < batch.size(); ++t) {
                const std::vector<float> k = make_row(row_id++, e);
                const std::vector<float> v = make_row(row_id++, e);
                std::copy(k.begin(), k.end(), rows.begin() + t * stride + 1);
                std::copy(v.begin(), v.end(), rows.begin() + t * stride + e + 2);
                cache.cpu->store(batch[t].seq, (int)layer, batch[t].pos, k.data(), v.data());
            }
            const Buffer x(device(), 4 * rows.size(), MemoryKind::DeviceLocal, "rows");
            upload(stream, x, 0, rows.data(), 4 * rows.size());
            const TestBatchIndex idx(device(), stream, cache, batch);
            kv.store(stream, pool, layer, {&x, 1, stride}, {&x, e + 2, stride},
                     (uint32_t)batch.size(), idx.index());
            stream.submit_and_wait();
        }
    }
    std::vector<uint8_t> image(cache.pool_bytes());
    download(stream, pool, 0, image.data(), image.size());

    const uint64_t rb = cache.geometry.row_bytes;
    for (int s = 0; s < 3; ++s) {
        for (uint32_t layer = 0; layer < n_layer; ++layer) {
            for (int pos = 0; pos < cache.lens[s]; ++pos) {
                for (int which = 0; which < 2; ++which) {
                    const auto* cpu_row =
                        static_cast<const uint8_t*>(which == 0 ? cache.k_row(s, (int)layer, pos)
                                                               : cache.v_row(s, (int)layer, pos));
                    const uint8_t* gpu_row = image.data() + cache.offset_of(cpu_row);
                    for (uint64_t b = 0; b < rb; ++b) {
                        ASSERT_EQ(gpu_row[b], cpu_row[b])
                            << (which == 0 ? "key" : "value") << " of seq " << s << " layer "
                            << layer << " pos " << pos << ", byte " << b;
                    }
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Types, KvStoreTest,
    ::testing::Values(StoreCase{KvType::F16, 37, 4}, StoreCase{KvType::F16, 1024, 16},
                      StoreCase{KvType::F32, 40, 4}, StoreCase{KvType::F32, 7, 2},
                      StoreCase{KvType::Q8_0, 96, 4}, StoreCase{KvType::Q8_0, 32, 2},
                      StoreCase{KvType::Q8_0, 1024, 16}),
    store_case_name);

}  // namespace
}  // namespace lokal::vk
