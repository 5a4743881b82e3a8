// The key/value cache: one pool of fixed-size pages shared by every sequence of a context. A page
// holds, for every layer, the rotated keys and the values of `page_rows` consecutive positions
// (F16 by default, F32, or Q8_0 blocks of 32 elements at 8.5 bits each). Each sequence maps its
// positions to pages through a page table, so memory follows the tokens actually held, sequences of
// any length share one pool, and a sequence can start from another's prefix by sharing its pages
// (copied on the first write). The pool is reserved as virtual memory up front; pages are backed by
// RAM when first touched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "kernels/kv_pages.h"

namespace lokal::kernels {

// Q8_0 rows hold row_elems / 32 blocks (tensor/quant_blocks.h); a head's keys or values are
// whole blocks when its size is a multiple of 32.
enum class KvType { F16, F32, Q8_0 };

const char* kv_type_name(KvType t);                     // "f16", "f32", "q8_0"
std::optional<KvType> parse_kv_type(std::string_view);  // the names above, any case
size_t kv_row_bytes(KvType t, int row_elems);

// One sequence's rows, as attention reads them. Cheap to copy; valid until the sequence's page
// table changes (reserve, truncate, copy).
class KvSeqView {
  public:
    KvType type() const { return type_; }
    // Rows are row_elems elements of the cache type (Q8_0: row_elems / 32 blocks).
    const void* k_row(int layer, int pos) const { return row(layer, pos); }
    const void* v_row(int layer, int pos) const { return row(layer, pos) + v_offset_; }

  private:
    friend class KvCache;
    const uint8_t* row(int layer, int pos) const {
        return base_ + (size_t)pages_[pos >> page_shift_] * page_bytes_ +
               (size_t)layer * layer_bytes_ + (size_t)(pos & page_mask_) * row_bytes_;
    }

    const uint8_t* base_ = nullptr;
    const int32_t* pages_ = nullptr;
    int page_shift_ = 0, page_mask_ = 0;
    size_t page_bytes_ = 0, layer_bytes_ = 0, row_bytes_ = 0, v_offset_ = 0;
    KvType type_ = KvType::F16;
};

class KvCache {
  public:
    static constexpr int kDefaultPageRows = 16;

    // A pool of at least max_rows positions (rounded up to whole pages) shared by all sequences.
    KvCache(int n_layer, int row_elems, KvType type, int max_rows,
            int page_rows = kDefaultPageRows);
    ~KvCache();
    KvCache(const KvCache&) = delete;
    KvCache& operator=(const KvCache&) = delete;

    KvType type() const { return type_; }
    int page_rows() const { return page_rows_; }
    int pages_total() const { return pages_.pages_total(); }
    int pages_used() const { return pages_.pages_used(); }
    size_t page_bytes() const { return page_bytes_; }
    size_t bytes() const { return page_bytes_ * (size_t)pages_total(); }      // reserved
    size_t bytes_used() const { return page_bytes_ * (size_t)pages_used(); }  // backed

    // Makes positions [0, n_rows) of seq backed by pages and positions [first_write, n_rows)
    // writable (pages shared with another sequence are copied first). Returns false, changing
    // nothing, when the pool has too few free pages.
    bool reserve(int seq, int first_write, int n_rows);
    // Keeps positions [0, n) of seq and returns the pages after them to the pool.
    void truncate(int seq, int n);
    // dst becomes a sequence holding src's positions [0, n), sharing src's pages.
    void copy_prefix(int src, int dst, int n);
    int seq_rows(int seq) const;  // positions backed for seq

    KvSeqView view(int seq) const;
    // Copies one position's keys and values (row_elems floats each) into the cache, converted
    // to the cache type; the position must have been reserved writable.
    void store(int seq, int layer, int pos, const float* k, const float* v);
    size_t row_bytes() const { return row_bytes_; }
    // Rows as stored, for snapshots (backends/backend.h kv_read_rows has the layout): for each
    // layer, the keys of positions [first, first + n), then their values.
    void read_rows(int seq, int first, int n, uint8_t* dst) const;
    // The inverse; the positions must have been reserved writable.
    void write_rows(int seq, int first, int n, const uint8_t* src);

  private:
    // Calls f(cache_bytes, packed_offset, bytes) for each run of rows of a page (keys and
    // values of each layer) that [first, first + n) of seq covers.
    template <class F>
    void for_each_run(int seq, int first, int n, F&& f) const;
    uint8_t* page_ptr(int32_t page) const { return base_ + (size_t)page * page_bytes_; }

    int n_layer_, row_elems_, page_rows_, page_shift_;
    size_t row_bytes_, layer_bytes_, page_bytes_;
    KvType type_;
    uint8_t* base_ = nullptr;
    size_t mapped_bytes_ = 0;
    KvPageTable pages_;
    std::vector<PageCopy> copies_;  // reserve's scratch
};

}  // namespace lokal::kernels
