#include "backends/vulkan/vulkan_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "backends/vulkan/loader.h"
#include "backends/vulkan/shared_weights.h"
#include "base/error.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/rope.h"

namespace lokal::backends {
namespace {

constexpr uint32_t kMaxDispatches = 4096;  // per recording; a pass of ~100 layers fits
constexpr int kPageRows = 16;
constexpr uint64_t kStagingBytes = 4ull << 20;

uint64_t align16(uint64_t n) {
    return (n + 15) & ~uint64_t{15};
}

std::string mib(uint64_t bytes) {
    return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

}  // namespace

VulkanBackend::VulkanBackend(const BackendParams& p, const vk::Device& device)
    : device_(device),
      max_binding_(vk::max_binding_bytes(device)),
      stream_(device, kMaxDispatches),
      weights_(p.weights_owner != 0 ? vk::shared_weights(p.weights_owner, device, max_binding_)
                                    : std::make_shared<vk::DeviceWeights>(device, max_binding_)),
      matvec_(device),
      act_round_(device),
      ops_(device) {
    if (p.kv_rows > 0) make_kv_pools(p);
    staging_ = std::make_unique<vk::Buffer>(device, kStagingBytes, vk::MemoryKind::Host,
                                            "the per-pass upload buffer");
}

VulkanBackend::~VulkanBackend() = default;

// The KV cache: one page table, and the layers' rows in as few pools as the binding limit
// allows (an 8B model's cache for four 4096-token sequences is 4 GiB, past NVIDIA's 4 GiB - 1):
// pool g holds, for every page, the rows of layers [g * L, (g + 1) * L).
void VulkanBackend::make_kv_pools(const BackendParams& p) {
    const int n_pages = (p.kv_rows + kPageRows - 1) / kPageRows;
    pages_ = std::make_unique<kernels::KvPageTable>(n_pages, kPageRows);
    const vk::KvGeometry one = vk::kv_geometry(p.kv_type, (uint32_t)p.kv_row_elems, kPageRows, 1);
    const uint64_t layer_bytes = one.page_bytes * (uint64_t)n_pages;
    const uint64_t binding = max_binding_ > 0 ? max_binding_ : UINT64_MAX;
    if (layer_bytes > binding) {
        throw Error("one layer's KV cache needs " + mib(layer_bytes) + " but one buffer on " +
                        device_.info().name + " may hold at most " + mib(binding) +
                        "; use a smaller context (--ctx) or a q8_0 cache",
                    ErrorKind::Unsupported);
    }
    kv_layers_per_pool_ = (int)std::min<uint64_t>(binding / layer_bytes, (uint64_t)p.n_layer);
    for (int first = 0; first < p.n_layer; first += kv_layers_per_pool_) {
        const int n = std::min(kv_layers_per_pool_, p.n_layer - first);
        KvPool pool;
        pool.geometry =
            vk::kv_geometry(p.kv_type, (uint32_t)p.kv_row_elems, kPageRows, (uint32_t)n);
        pool.buf =
            std::make_unique<vk::Buffer>(device_, pool.geometry.page_bytes * (uint64_t)n_pages,
                                         vk::MemoryKind::DeviceLocal, "the KV cache");
        pool.attention = std::make_unique<vk::KvAttention>(device_, pool.geometry);
        kv_bytes_ += pool.buf->size();
        kv_pools_.push_back(std::move(pool));
    }
}

// ---- buffers --------------------------------------------------------------------------------

vk::RowsRef VulkanBackend::ref(Cols c) const {
    const RowBuffer& b = rows_[c.buf];
    return {b.buf.get(), (uint32_t)c.col, (uint32_t)b.width};
}

BufferId VulkanBackend::alloc_rows(int rows, int width) {
    const uint64_t bytes = std::max<uint64_t>(1, (uint64_t)rows * width) * 4;
    rows_.push_back(
        {std::make_unique<vk::Buffer>(device_, bytes, vk::MemoryKind::DeviceLocal, "activations"),
         width});
    return (BufferId)rows_.size() - 1;
}

void VulkanBackend::resize_rows(BufferId buf, int rows) {
    flush();
    RowBuffer& b = rows_[buf];
    b.buf.reset();
    const uint64_t bytes = std::max<uint64_t>(1, (uint64_t)rows * b.width) * 4;
    b.buf =
        std::make_unique<vk::Buffer>(device_, bytes, vk::MemoryKind::DeviceLocal, "activations");
}

void VulkanBackend::ensure_host(std::unique_ptr<vk::Buffer>& buf, uint64_t bytes,
                                const char* what) {
    if (buf && buf->size() >= bytes) return;
    const uint64_t size = std::max<uint64_t>({bytes, buf ? 2 * buf->size() : 0, 256});
    buf.reset();
    buf = std::make_unique<vk::Buffer>(device_, size, vk::MemoryKind::Host, what);
}

void VulkanBackend::record_copy(const vk::Buffer& from, uint64_t from_offset, const vk::Buffer& to,
                                uint64_t to_offset, uint64_t bytes) {
    VkBufferCopy region{};
    region.srcOffset = from_offset;
    region.dstOffset = to_offset;
    region.size = bytes;
    vk::vkCmdCopyBuffer(stream_.cmd(), from.handle(), to.handle(), 1, &region);
}

const float* VulkanBackend::read_back(Cols c, int n) {
    const uint64_t row = (uint64_t)c.width * 4;
    ensure_host(readback_, row * n, "the read-back buffer");
    const vk::RowsRef r = ref(c);
    for (int t = 0; t < n; ++t) {
        record_copy(*r.buf, (r.offset + (uint64_t)t * r.stride) * 4, *readback_, t * row, row);
    }
    flush();
    return static_cast<const float*>(readback_->mapped());
}

void VulkanBackend::read_rows(Cols src, int n, float* dst) {
    if (n == 0) return;
    std::memcpy(dst, read_back(src, n), (size_t)n * src.width * 4);
}

void VulkanBackend::write_rows(Cols dst, int n, const float* src) {
    if (n == 0) return;
    const uint64_t row = (uint64_t)dst.width * 4;
    before_op(1);
    const uint32_t at = stage(src, (size_t)n * row);
    const vk::RowsRef r = ref(dst);
    for (int t = 0; t < n; ++t) {
        record_copy(*staging_, at + t * row, *r.buf, (r.offset + (uint64_t)t * r.stride) * 4, row);
    }
    after_op();
}

void VulkanBackend::flush() {
    stream_.submit_and_wait();
    staged_ = 0;
    rope_tables_.clear();
}

void VulkanBackend::before_op(uint32_t dispatches) {
    if (stream_.sets_left() < dispatches) flush();
}

uint32_t VulkanBackend::stage(const void* data, size_t bytes) {
    if (staged_ + bytes > staging_->size()) {
        flush();
        ensure_host(staging_, bytes, "the per-pass upload buffer");
    }
    const uint64_t at = staged_;
    std::memcpy(static_cast<uint8_t*>(staging_->mapped()) + at, data, bytes);
    staged_ = align16(at + bytes);
    return (uint32_t)at;
}

// ---- weights --------------------------------------------------------------------------------

void VulkanBackend::record_product(const vk::DeviceWeights::Matrix& m, const MatrixView& w,
                                   vk::RowsRef x, vk::RowsRef y, int n) {
    before_op((uint32_t)m.pieces.size());
    for (const vk::DeviceWeights::Piece& p : m.pieces) {
        vk::RowsRef out = y;
        out.offset += p.first_row;  // the piece's rows are these columns of each output row
        matvec_.record(stream_, m.type, *p.buf, x, out, {p.rows, (uint32_t)w.cols, (uint32_t)n});
    }
    after_op();
}

// ---- the KV cache ---------------------------------------------------------------------------

bool VulkanBackend::kv_reserve(int seq, int first_write, int n_rows) {
    LOKAL_ASSERT(pages_);
    page_copies_.clear();
    if (!pages_->reserve(seq, first_write, n_rows, &page_copies_)) return false;
    for (const KvPool& pool : kv_pools_) {
        const uint64_t pb = pool.geometry.page_bytes;
        for (const kernels::PageCopy& c : page_copies_) {
            record_copy(*pool.buf, (uint64_t)c.from * pb, *pool.buf, (uint64_t)c.to * pb, pb);
        }
    }
    if (!page_copies_.empty()) after_op();
    return true;
}

void VulkanBackend::kv_truncate(int seq, int n) {
    LOKAL_ASSERT(pages_);
    pages_->truncate(seq, n);
}

void VulkanBackend::kv_copy_prefix(int src, int dst, int n) {
    LOKAL_ASSERT(pages_);
    pages_->copy_prefix(src, dst, n);
}

void VulkanBackend::record_kv_copies(int seq, int first, int n, bool to_pools) {
    LOKAL_ASSERT(first >= 0 && n >= 0 && first + n <= pages_->seq_rows(seq));
    const std::vector<int32_t>& pages = pages_->pages(seq);
    uint64_t packed_layer0 = 0;
    for (const KvPool& pool : kv_pools_) {
        const vk::KvGeometry& g = pool.geometry;
        const uint64_t half = (uint64_t)n * g.row_bytes;  // one layer's keys in the packed rows
        for (int pos = first; pos < first + n;) {
            const int in_page = pos & (kPageRows - 1);
            const int run = std::min(kPageRows - in_page, first + n - pos);
            const uint64_t page = (uint64_t)pages[(size_t)pos >> pages_->page_shift()];
            const uint64_t packed = packed_layer0 + (uint64_t)(pos - first) * g.row_bytes;
            for (uint32_t l = 0; l < g.n_layer; ++l) {
                const uint64_t k = page * g.page_bytes + l * g.layer_bytes + in_page * g.row_bytes;
                const uint64_t v = k + (uint64_t)kPageRows * g.row_bytes;
                const uint64_t pk = packed + 2 * half * l, bytes = (uint64_t)run * g.row_bytes;
                if (to_pools) {
                    record_copy(*kv_staging_, pk, *pool.buf, k, bytes);
                    record_copy(*kv_staging_, pk + half, *pool.buf, v, bytes);
                } else {
                    record_copy(*pool.buf, k, *kv_staging_, pk, bytes);
                    record_copy(*pool.buf, v, *kv_staging_, pk + half, bytes);
                }
            }
            pos += run;
        }
        packed_layer0 += 2 * half * g.n_layer;
    }
}

uint64_t VulkanBackend::kv_packed_bytes(int n) const {
    uint64_t bytes = 0;
    for (const KvPool& pool : kv_pools_) {
        bytes += 2 * (uint64_t)n * pool.geometry.row_bytes * pool.geometry.n_layer;
    }
    return bytes;
}

void VulkanBackend::kv_read_rows(int seq, int first, int n, void* dst) {
    LOKAL_ASSERT(pages_);
    if (n == 0) return;
    const uint64_t bytes = kv_packed_bytes(n);
    ensure_host(kv_staging_, bytes, "the KV snapshot buffer");
    after_op();  // the stores recorded before
    record_kv_copies(seq, first, n, false);
    flush();
    std::memcpy(dst, kv_staging_->mapped(), bytes);
}

void VulkanBackend::kv_write_rows(int seq, int first, int n, const void* src) {
    LOKAL_ASSERT(pages_);
    if (n == 0) return;
    const uint64_t bytes = kv_packed_bytes(n);
    flush();  // kv_staging_ may be read by copies recorded before
    ensure_host(kv_staging_, bytes, "the KV snapshot buffer");
    std::memcpy(kv_staging_->mapped(), src, bytes);
    after_op();  // page copies of kv_reserve before
    record_kv_copies(seq, first, n, true);
    after_op();
    flush();
}

KvStats VulkanBackend::kv_stats() const {
    if (!pages_) return {};
    return {(size_t)kv_bytes_, pages_->pages_total(), pages_->pages_used()};
}

// ---- ops ------------------------------------------------------------------------------------

// The batch's positions and page tables go to host buffers the shaders read; nothing recorded
// may still read the previous batch's, so whatever is pending runs first.
void VulkanBackend::set_batch(const Batch& batch) {
    flush();
    const size_t n = batch.tokens.size();
    positions_.assign(batch.positions.begin(), batch.positions.end());
    if (!pages_) return;
    std::vector<uint32_t> table_start(n), pages;
    std::vector<std::pair<int32_t, uint32_t>> seen;  // sequence, where its table starts
    for (size_t t = 0; t < n; ++t) {
        const int32_t s = batch.seqs[t];
        auto it =
            std::find_if(seen.begin(), seen.end(), [&](const auto& e) { return e.first == s; });
        if (it == seen.end()) {
            seen.emplace_back(s, (uint32_t)pages.size());
            const std::vector<int32_t>& table = pages_->pages(s);
            pages.insert(pages.end(), table.begin(), table.end());
            it = seen.end() - 1;
        }
        table_start[t] = it->second;
    }
    if (pages.empty()) pages.push_back(0);
    ensure_host(batch_pos_, n * 4, "the batch positions");
    ensure_host(batch_table_start_, n * 4, "the batch page tables");
    ensure_host(batch_pages_, pages.size() * 4, "the batch page tables");
    std::memcpy(batch_pos_->mapped(), positions_.data(), n * 4);
    std::memcpy(batch_table_start_->mapped(), table_start.data(), n * 4);
    std::memcpy(batch_pages_->mapped(), pages.data(), pages.size() * 4);
}

void VulkanBackend::get_rows(const MatrixView& table, std::span<const int32_t> ids, Cols out) {
    const size_t cols = (size_t)table.cols;
    LOKAL_ASSERT((int64_t)out.width == table.cols);
    std::vector<float> rows(ids.size() * cols);
    for (size_t t = 0; t < ids.size(); ++t) kernels::get_row(table, ids[t], rows.data() + t * cols);
    write_rows(out, (int)ids.size(), rows.data());
}

void VulkanBackend::scale(Cols x, int n, float s) {
    before_op(1);
    ops_.scale(stream_, ref(x), n, x.width, s);
    after_op();
}

void VulkanBackend::rms_norm(Cols x, std::span<const float> w, Cols out, int n, float eps) {
    const vk::Buffer& wb = weights_->vector(w);
    before_op(1);
    ops_.rms_norm(stream_, ref(x), wb, ref(out), n, x.width, x.width, eps);
    after_op();
}

void VulkanBackend::layer_norm(Cols x, std::span<const float> w, std::span<const float> b, Cols out,
                               int n, float eps) {
    const vk::Buffer& wb = weights_->vector(w);
    const vk::Buffer& bb = weights_->vector(b);
    before_op(1);
    ops_.layer_norm(stream_, ref(x), wb, bb, ref(out), n, x.width, eps);
    after_op();
}

void VulkanBackend::rms_norm_heads(Cols x, std::span<const float> w, int n, int head_dim,
                                   float eps) {
    const vk::Buffer& wb = weights_->vector(w);
    before_op(1);
    ops_.rms_norm(stream_, ref(x), wb, ref(x), n, x.width, head_dim, eps);
    after_op();
}

// The activations are first rounded as the CPU rounds them for this weight type (see
// act_round.h), so both backends sum the same terms.
vk::RowsRef VulkanBackend::rounded_input(DType weight_type, Cols x, int n) {
    if (!vk::act_round_needed(weight_type)) return ref(x);
    const uint64_t bytes = (uint64_t)n * x.width * 4;
    if (!act_scratch_ || act_scratch_->size() < bytes) {
        flush();  // commands recorded so far may still read the old scratch
        act_scratch_.reset();
        act_scratch_ = std::make_unique<vk::Buffer>(device_, bytes, vk::MemoryKind::DeviceLocal,
                                                    "rounded activations");
    }
    before_op(1);
    act_round_.record(stream_, weight_type, ref(x), *act_scratch_, (uint32_t)n, (uint32_t)x.width);
    after_op();
    return {act_scratch_.get(), 0, (uint32_t)x.width};
}

void VulkanBackend::matmul(const MatrixView& w, Cols x, Cols out, int n) {
    LOKAL_ASSERT(x.width == w.cols && out.width == w.rows);
    const vk::DeviceWeights::Matrix& m = weights_->matrix(w);
    record_product(m, w, rounded_input(w.type, x, n), ref(out), n);
}

void VulkanBackend::add_bias(Cols x, std::span<const float> b, int n) {
    const vk::Buffer& bb = weights_->vector(b);
    before_op(1);
    ops_.add_bias(stream_, ref(x), bb, n, x.width);
    after_op();
}

// The cos/sin of every batch position, computed on the host exactly as the CPU backend does
// (every RoPE variant), once per configuration per pass.
uint32_t VulkanBackend::rope_table(const RopeConfig& rope) {
    auto it = rope_tables_.find(&rope);
    if (it != rope_tables_.end()) return it->second;
    const int half = rope.n_rot / 2;
    std::vector<float> table(positions_.size() * 2 * (size_t)half);
    kernels::RopeTable t;
    for (size_t i = 0; i < positions_.size(); ++i) {
        t.compute(rope, positions_[i]);
        std::copy_n(t.cos, half, table.begin() + (ptrdiff_t)(i * 2 * half));
        std::copy_n(t.sin, half, table.begin() + (ptrdiff_t)(i * 2 * half + half));
    }
    const uint32_t at = stage(table.data(), table.size() * 4);
    rope_tables_[&rope] = at;
    return at;
}

void VulkanBackend::rope(Cols q, Cols k, int n, int head_dim, const RopeConfig& rope) {
    before_op(2);
    const uint32_t at = rope_table(rope);
    for (const Cols& c : {q, k}) {
        ops_.rope(stream_, ref(c), n, c.width / head_dim, head_dim, rope.n_rot, rope.style,
                  *staging_, at / 4);
    }
    after_op();
}

void VulkanBackend::kv_store(int layer, Cols k, Cols v, int n) {
    before_op(1);
    KvPool& pool = kv_pools_[(size_t)(layer / kv_layers_per_pool_)];
    pool.attention->store(stream_, *pool.buf, layer % kv_layers_per_pool_, ref(k), ref(v), n,
                          {batch_pos_.get(), batch_table_start_.get(), batch_pages_.get()});
    after_op();
}

void VulkanBackend::attention(int layer, Cols q, Cols out, int n, const AttentionShape& shape) {
    int visible = 1;  // the most positions a token of the batch attends to
    for (int t = 0; t < n; ++t) visible = std::max(visible, positions_[t] + 1);
    if (shape.window > 0) visible = std::min(visible, shape.window);
    before_op(2);
    KvPool& pool = kv_pools_[(size_t)(layer / kv_layers_per_pool_)];
    pool.attention->attend(stream_, *pool.buf, layer % kv_layers_per_pool_, ref(q), ref(out), n,
                           {batch_pos_.get(), batch_table_start_.get(), batch_pages_.get()}, shape,
                           (uint32_t)visible);
    after_op();
}

void VulkanBackend::attention_all_rows(Cols q, Cols k, Cols v, Cols out, int n, int head_dim,
                                       float scale) {
    if (!all_rows_) all_rows_ = std::make_unique<vk::AttentionAllRows>(device_);
    before_op(1);
    all_rows_->record(stream_, ref(q), ref(k), ref(v), ref(out), n, q.width / head_dim, head_dim,
                      scale);
    after_op();
}

void VulkanBackend::glu(Activation act, Cols gate, Cols up, Cols out, int n) {
    before_op(1);
    ops_.glu(stream_, act == Activation::SiLU ? vk::GluKind::SiLU : vk::GluKind::GeluTanh,
             ref(gate), ref(up), ref(out), n, out.width);
    after_op();
}

void VulkanBackend::gelu(Cols x, int n) {
    before_op(1);
    ops_.gelu(stream_, ref(x), n, x.width);
    after_op();
}

void VulkanBackend::tanh(Cols x, int n) {
    before_op(1);
    ops_.tanh(stream_, ref(x), n, x.width);
    after_op();
}

void VulkanBackend::add(Cols x, Cols y, int n) {
    before_op(1);
    ops_.add(stream_, ref(x), ref(y), n, x.width);
    after_op();
}

void VulkanBackend::gather_rows(Cols src, std::span<const int32_t> rows, Cols dst) {
    before_op(1);
    const uint32_t at = stage(rows.data(), rows.size_bytes());
    ops_.gather_rows(stream_, ref(src), *staging_, at / 4, ref(dst), (uint32_t)rows.size(),
                     src.width);
    after_op();
}

void VulkanBackend::logits(const MatrixView& w, Cols x, int n, float softcap, float* dst) {
    LOKAL_ASSERT(x.width == w.cols);
    const vk::DeviceWeights::Matrix& m = weights_->matrix(w);
    const uint32_t V = (uint32_t)w.rows;
    ensure_host(logits_, (uint64_t)n * V * 4, "the logits");
    const vk::RowsRef out{logits_.get(), 0, V};
    record_product(m, w, rounded_input(w.type, x, n), out, n);
    if (softcap > 0) {
        before_op(1);
        ops_.softcap(stream_, out, n, V, softcap);
        after_op();
    }
    flush();
    std::memcpy(dst, logits_->mapped(), (size_t)n * V * 4);
}

}  // namespace lokal::backends
