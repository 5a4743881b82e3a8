#include "kernels/cpu/kv_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <limits>
#include <string>

#include "base/error.h"
#include "base/fp16.h"
#include "kernels/cpu/vec_dot.h"
#include "tensor/dtype.h"
#include "tensor/quant_blocks.h"

namespace lokal::kernels {

namespace {

// One row per cache type, in KvType's order: its name, and the tensor type its rows are stored
// as (which gives their size).
struct KvTypeRow {
    const char* name;
    DType stored;
};
constexpr KvTypeRow kKvTypes[] = {{"f16", DType::F16}, {"f32", DType::F32}, {"q8_0", DType::Q8_0}};

const KvTypeRow& row_of(KvType t) {
    return kKvTypes[static_cast<size_t>(t)];
}

}  // namespace

const char* kv_type_name(KvType t) {
    return row_of(t).name;
}

std::optional<KvType> parse_kv_type(std::string_view name) {
    std::string lower(name);
    for (char& c : lower) c = (char)std::tolower((unsigned char)c);
    for (KvType t : {KvType::F16, KvType::F32, KvType::Q8_0}) {
        if (lower == kv_type_name(t)) return t;
    }
    return std::nullopt;
}

size_t kv_row_bytes(KvType t, int row_elems) {
    return row_bytes(row_of(t).stored, row_elems);
}

namespace {

int pages_for(int max_rows, int page_rows) {
    LOKAL_ASSERT(max_rows > 0 && page_rows > 0);
    const size_t n_pages = ((size_t)max_rows + page_rows - 1) / page_rows;
    if (n_pages > (size_t)std::numeric_limits<int32_t>::max()) throw Error("KV cache too large");
    return (int)n_pages;
}

}  // namespace

KvCache::KvCache(int n_layer, int row_elems, KvType type, int max_rows, int page_rows)
    : n_layer_(n_layer),
      row_elems_(row_elems),
      page_rows_(page_rows),
      page_shift_(std::countr_zero((unsigned)page_rows)),
      type_(type),
      pages_(pages_for(max_rows, page_rows), page_rows) {
    LOKAL_ASSERT(n_layer > 0 && row_elems > 0);
    LOKAL_ASSERT(type != KvType::Q8_0 || row_elems % 32 == 0);
    row_bytes_ = kv_row_bytes(type, row_elems);
    layer_bytes_ = 2 * (size_t)page_rows * row_bytes_;  // keys, then values
    page_bytes_ = layer_bytes_ * (size_t)n_layer;
    mapped_bytes_ = (size_t)pages_.pages_total() * page_bytes_;
    // Anonymous memory is zero and costs nothing until touched.
    void* p = ::mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        throw Error("cannot reserve " + std::to_string(mapped_bytes_ >> 20) +
                    " MiB for the KV cache; use a smaller context");
    }
    base_ = static_cast<uint8_t*>(p);
}

KvCache::~KvCache() {
    if (base_) ::munmap(base_, mapped_bytes_);
}

int KvCache::seq_rows(int seq) const {
    return pages_.seq_rows(seq);
}

bool KvCache::reserve(int seq, int first_write, int n_rows) {
    copies_.clear();
    if (!pages_.reserve(seq, first_write, n_rows, &copies_)) return false;
    for (const PageCopy& c : copies_) std::memcpy(page_ptr(c.to), page_ptr(c.from), page_bytes_);
    return true;
}

void KvCache::truncate(int seq, int n) {
    pages_.truncate(seq, n);
}

void KvCache::copy_prefix(int src, int dst, int n) {
    pages_.copy_prefix(src, dst, n);
}

KvSeqView KvCache::view(int seq) const {
    KvSeqView v;
    v.base_ = base_;
    const std::vector<int32_t>& pages = pages_.pages(seq);
    v.pages_ = pages.empty() ? nullptr : pages.data();
    v.page_shift_ = page_shift_;
    v.page_mask_ = page_rows_ - 1;
    v.page_bytes_ = page_bytes_;
    v.layer_bytes_ = layer_bytes_;
    v.row_bytes_ = row_bytes_;
    v.v_offset_ = (size_t)page_rows_ * row_bytes_;
    v.type_ = type_;
    return v;
}

template <class F>
void KvCache::for_each_run(int seq, int first, int n, F&& f) const {
    LOKAL_ASSERT(first >= 0 && n >= 0 && first + n <= seq_rows(seq));
    const std::vector<int32_t>& pages = pages_.pages(seq);
    const size_t half = (size_t)n * row_bytes_;  // one layer's keys (or values) in the packed rows
    for (int pos = first; pos < first + n;) {
        const int in_page = pos & (page_rows_ - 1);
        const int run = std::min(page_rows_ - in_page, first + n - pos);
        uint8_t* page = page_ptr(pages[(size_t)pos >> page_shift_]);
        const size_t packed = (size_t)(pos - first) * row_bytes_;
        for (int l = 0; l < n_layer_; ++l) {
            uint8_t* k = page + (size_t)l * layer_bytes_ + (size_t)in_page * row_bytes_;
            uint8_t* v = k + (size_t)page_rows_ * row_bytes_;
            f(k, 2 * half * l + packed, (size_t)run * row_bytes_);
            f(v, 2 * half * l + half + packed, (size_t)run * row_bytes_);
        }
        pos += run;
    }
}

void KvCache::read_rows(int seq, int first, int n, uint8_t* dst) const {
    for_each_run(seq, first, n, [&](const uint8_t* cache, size_t at, size_t bytes) {
        std::memcpy(dst + at, cache, bytes);
    });
}

void KvCache::write_rows(int seq, int first, int n, const uint8_t* src) {
    for_each_run(seq, first, n, [&](uint8_t* cache, size_t at, size_t bytes) {
        std::memcpy(cache, src + at, bytes);
    });
}

void KvCache::store(int seq, int layer, int pos, const float* k, const float* v) {
    LOKAL_ASSERT(pos >= 0 && pos < seq_rows(seq));
    const int32_t page = pages_.pages(seq)[(size_t)pos >> page_shift_];
    uint8_t* kd = page_ptr(page) + (size_t)layer * layer_bytes_ +
                  (size_t)(pos & (page_rows_ - 1)) * row_bytes_;
    uint8_t* vd = kd + (size_t)page_rows_ * row_bytes_;  // a layer's keys, then its values
    if (type_ == KvType::F32) {
        std::memcpy(kd, k, row_bytes_);
        std::memcpy(vd, v, row_bytes_);
        return;
    }
    if (type_ == KvType::Q8_0) {
        kernels::quantize_activations(DType::Q8_0, k, kd, row_elems_);
        kernels::quantize_activations(DType::Q8_0, v, vd, row_elems_);
        return;
    }
    uint16_t* kh = reinterpret_cast<uint16_t*>(kd);
    uint16_t* vh = reinterpret_cast<uint16_t*>(vd);
    for (int i = 0; i < row_elems_; ++i) {
        kh[i] = fp32_to_fp16(k[i]);
        vh[i] = fp32_to_fp16(v[i]);
    }
}

}  // namespace lokal::kernels
