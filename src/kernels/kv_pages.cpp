#include "kernels/kv_pages.h"

#include <algorithm>
#include <bit>

#include "base/error.h"

namespace lokal::kernels {

KvPageTable::KvPageTable(int n_pages, int page_rows)
    : page_rows_(page_rows), page_shift_(std::countr_zero((unsigned)page_rows)) {
    LOKAL_ASSERT(n_pages > 0 && page_rows > 0 && std::has_single_bit((unsigned)page_rows));
    refcount_.assign(n_pages, 0);
    free_pages_.reserve(n_pages);
    for (int i = n_pages; i-- > 0;) free_pages_.push_back(i);
}

std::vector<int32_t>& KvPageTable::table(int seq) {
    LOKAL_ASSERT(seq >= 0);
    if ((size_t)seq >= tables_.size()) tables_.resize((size_t)seq + 1);
    return tables_[seq];
}

const std::vector<int32_t>& KvPageTable::pages(int seq) const {
    static const std::vector<int32_t> kNone;
    if (seq < 0 || (size_t)seq >= tables_.size()) return kNone;
    return tables_[seq];
}

int KvPageTable::seq_rows(int seq) const {
    return (int)pages(seq).size() * page_rows_;
}

int32_t KvPageTable::take_page() {
    const int32_t page = free_pages_.back();
    free_pages_.pop_back();
    refcount_[page] = 1;
    return page;
}

void KvPageTable::release_page(int32_t page) {
    if (--refcount_[page] == 0) free_pages_.push_back(page);
}

bool KvPageTable::reserve(int seq, int first_write, int n_rows, std::vector<PageCopy>* copies) {
    std::vector<int32_t>& t = table(seq);
    const int need_pages = (n_rows + page_rows_ - 1) / page_rows_;
    const int first_page = std::max(0, first_write) / page_rows_;
    const int shared_end = std::min(need_pages, (int)t.size());
    int fresh = std::max(0, need_pages - (int)t.size());
    for (int i = first_page; i < shared_end; ++i) {
        if (refcount_[t[i]] > 1) ++fresh;  // shared: copied before writing
    }
    if (fresh > (int)free_pages_.size()) return false;
    for (int i = first_page; i < shared_end; ++i) {
        if (refcount_[t[i]] > 1) {
            const int32_t copy = take_page();
            copies->push_back({t[i], copy});
            release_page(t[i]);
            t[i] = copy;
        }
    }
    while ((int)t.size() < need_pages) t.push_back(take_page());
    return true;
}

void KvPageTable::truncate(int seq, int n) {
    std::vector<int32_t>& t = table(seq);
    const size_t keep = (size_t)(std::max(0, n) + page_rows_ - 1) / page_rows_;
    while (t.size() > keep) {
        release_page(t.back());
        t.pop_back();
    }
}

void KvPageTable::copy_prefix(int src, int dst, int n) {
    if (src == dst) {
        truncate(dst, n);
        return;
    }
    truncate(dst, 0);
    const std::vector<int32_t> from = table(src);  // table(dst) may reallocate tables_
    std::vector<int32_t>& to = table(dst);
    const size_t n_pages =
        std::min(from.size(), (size_t)(std::max(0, n) + page_rows_ - 1) / page_rows_);
    for (size_t i = 0; i < n_pages; ++i) {
        ++refcount_[from[i]];
        to.push_back(from[i]);
    }
}

}  // namespace lokal::kernels
