// The page tables of a paged KV cache, apart from where the pages lie: a pool of fixed-size
// pages shared by every sequence of a context, each sequence mapping its positions to pages
// through its table, prefixes shared between sequences (a shared page is copied before it is
// written). The CPU cache (kernels/cpu/kv_cache.h) keeps its pages in host memory, the Vulkan
// backend in one device buffer; both do the copies this table asks for.
#pragma once

#include <cstdint>
#include <vector>

namespace lokal::kernels {

struct PageCopy {
    int32_t from, to;
};

class KvPageTable {
  public:
    // n_pages pages of page_rows positions (a power of two).
    KvPageTable(int n_pages, int page_rows);

    int page_rows() const { return page_rows_; }
    int page_shift() const { return page_shift_; }
    int pages_total() const { return (int)refcount_.size(); }
    int pages_used() const { return pages_total() - (int)free_pages_.size(); }

    // Makes positions [0, n_rows) of seq backed by pages and positions [first_write, n_rows)
    // writable: a page shared with another sequence is replaced by a fresh one, and the copy
    // the caller must make is appended to *copies. Returns false, changing nothing, when the
    // pool has too few free pages.
    bool reserve(int seq, int first_write, int n_rows, std::vector<PageCopy>* copies);
    // Keeps positions [0, n) of seq and returns the pages after them to the pool.
    void truncate(int seq, int n);
    // dst becomes a sequence holding src's positions [0, n), sharing src's pages.
    void copy_prefix(int src, int dst, int n);
    int seq_rows(int seq) const;  // positions backed for seq
    // seq's pages in position order (empty for a sequence never seen).
    const std::vector<int32_t>& pages(int seq) const;

  private:
    std::vector<int32_t>& table(int seq);
    int32_t take_page();
    void release_page(int32_t page);

    int page_rows_, page_shift_;
    std::vector<uint16_t> refcount_;   // per page: how many sequences map it
    std::vector<int32_t> free_pages_;  // a stack, so recently freed (warm) pages come back first
    std::vector<std::vector<int32_t>> tables_;  // per sequence
};

}  // namespace lokal::kernels
