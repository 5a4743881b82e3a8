// For the KV cache tests: a CPU kernels::KvCache holding a few sequences whose pages interleave
// (reserved a page at a time in turn, so no sequence's pages are contiguous), the page tables
// it gave them (read off the row addresses), and the batch index buffers for the device.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backends/vulkan/buffer.h"
#include "backends/vulkan/kv_attention.h"
#include "backends/vulkan/transfer.h"
#include "kernels/cpu/kv_cache.h"
#include "tensor/dtype.h"

namespace lokal::vk::testing {

// One attention test case: the KV cache's type and head size, query heads a KV head, KV heads,
// sliding window (0: none) and soft-capping (0: none).
struct AttendCase {
    kernels::KvType type;
    int head_dim, group, n_head_kv, window;
    float softcap;
};

inline std::string describe(const AttendCase& c) {
    return std::string(kernels::kv_type_name(c.type)) + "_d" + std::to_string(c.head_dim) + "_g" +
           std::to_string(c.group) + "_kv" + std::to_string(c.n_head_kv) + "_w" +
           std::to_string(c.window) + "_cap" + std::to_string((int)c.softcap);
}

inline std::string attend_case_name(const ::testing::TestParamInfo<AttendCase>& info) {
    return describe(info.param);
}

inline void PrintTo(const AttendCase& c, std::ostream* os) {
    *os << describe(c);
}

struct SeqPos {
    int seq, pos;
};

class KvTestCache {
  public:
    KvTestCache(kernels::KvType type, uint32_t row_elems, uint32_t n_layer, uint32_t page_rows,
                const std::vector<int>& seq_lens)
        : geometry(kv_geometry(type, row_elems, page_rows, n_layer)), lens(seq_lens) {
        int total = 0;
        for (int len : lens) total += len + static_cast<int>(page_rows);
        cpu = std::make_unique<kernels::KvCache>(n_layer, row_elems, type, total, page_rows);
        const int max_len = *std::max_element(lens.begin(), lens.end());
        for (int upto = 0; upto < max_len; upto += static_cast<int>(page_rows)) {
            for (size_t s = 0; s < lens.size(); ++s) {
                const int rows = std::min(lens[s], upto + static_cast<int>(page_rows));
                EXPECT_TRUE(cpu->reserve(static_cast<int>(s), 0, rows));
            }
        }
        // Page starts are the rows of layer 0 at multiples of page_rows; the lowest is page 0
        // (the pool's first page is handed out first).
        base = nullptr;
        for (size_t s = 0; s < lens.size(); ++s) {
            for (int pos = 0; pos < lens[s]; pos += static_cast<int>(page_rows)) {
                const auto* p = static_cast<const uint8_t*>(k_row(static_cast<int>(s), 0, pos));
                if (!base || p < base) base = p;
            }
        }
        tables.resize(lens.size());
        for (size_t s = 0; s < lens.size(); ++s) {
            for (int pos = 0; pos < lens[s]; pos += static_cast<int>(page_rows)) {
                tables[s].push_back(static_cast<uint32_t>(
                    offset_of(k_row(static_cast<int>(s), 0, pos)) / geometry.page_bytes));
            }
        }
    }

    const void* k_row(int seq, int layer, int pos) const {
        return cpu->view(seq).k_row(layer, pos);
    }
    const void* v_row(int seq, int layer, int pos) const {
        return cpu->view(seq).v_row(layer, pos);
    }
    // Where a CPU row lies from the start of the pool.
    uint64_t offset_of(const void* row) const {
        return static_cast<uint64_t>(static_cast<const uint8_t*>(row) - base);
    }
    uint64_t pool_bytes() const { return uint64_t(cpu->pages_total()) * geometry.page_bytes; }

    // The device pool with every row the CPU cache holds, at the same offsets.
    std::vector<uint8_t> pool_image() const {
        std::vector<uint8_t> image(pool_bytes());
        for (size_t s = 0; s < lens.size(); ++s) {
            for (uint32_t l = 0; l < geometry.n_layer; ++l) {
                for (int pos = 0; pos < lens[s]; ++pos) {
                    for (const void* row :
                         {k_row((int)s, (int)l, pos), v_row((int)s, (int)l, pos)}) {
                        std::memcpy(image.data() + offset_of(row), row, geometry.row_bytes);
                    }
                }
            }
        }
        return image;
    }

    KvGeometry geometry;
    std::vector<int> lens;
    std::unique_ptr<kernels::KvCache> cpu;
    const uint8_t* base;
    std::vector<std::vector<uint32_t>> tables;  // per sequence: page numbers from the pool's start
};

// BatchIndex buffers for the tokens `batch` (every sequence's page table uploaded once).
class TestBatchIndex {
  public:
    TestBatchIndex(const Device& device, CommandStream& stream, const KvTestCache& cache,
                   const std::vector<SeqPos>& batch)
        : pos_(device, 4 * batch.size(), MemoryKind::DeviceLocal, "pos"),
          table_start_(device, 4 * batch.size(), MemoryKind::DeviceLocal, "table_start"),
          pages_(device, 4 * total_pages(cache), MemoryKind::DeviceLocal, "pages") {
        std::vector<uint32_t> pages, starts, pos, table_start;
        for (const auto& table : cache.tables) {
            starts.push_back(static_cast<uint32_t>(pages.size()));
            pages.insert(pages.end(), table.begin(), table.end());
        }
        for (const SeqPos& sp : batch) {
            pos.push_back(static_cast<uint32_t>(sp.pos));
            table_start.push_back(starts[sp.seq]);
        }
        upload(stream, pos_, 0, pos.data(), 4 * pos.size());
        upload(stream, table_start_, 0, table_start.data(), 4 * table_start.size());
        upload(stream, pages_, 0, pages.data(), 4 * pages.size());
    }

    BatchIndex index() const { return {&pos_, &table_start_, &pages_}; }

  private:
    static size_t total_pages(const KvTestCache& cache) {
        size_t n = 0;
        for (const auto& table : cache.tables) n += table.size();
        return n;
    }

    Buffer pos_, table_start_, pages_;
};

}  // namespace lokal::vk::testing
