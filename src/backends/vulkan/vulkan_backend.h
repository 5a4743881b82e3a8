// The op table on a Vulkan device. Weights are uploaded once, into the copy every backend of
// the model on the device shares (shared_weights.h); activations,
// the paged KV cache and the logits live in device buffers. Ops are recorded into one command
// stream, each after a barrier on the one before, and submitted when results are read (logits,
// read_rows) or a new batch begins; nothing else waits for the device.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "backends/backend.h"
#include "backends/vulkan/act_round.h"
#include "backends/vulkan/attention_all_rows.h"
#include "backends/vulkan/buffer.h"
#include "backends/vulkan/command_stream.h"
#include "backends/vulkan/device.h"
#include "backends/vulkan/device_weights.h"
#include "backends/vulkan/kv_attention.h"
#include "backends/vulkan/matvec.h"
#include "backends/vulkan/row_ops.h"
#include "backends/vulkan/rows_ref.h"
#include "kernels/kv_pages.h"

namespace lokal::backends {

class VulkanBackend final : public Backend {
  public:
    // Throws lokal::Error when the KV cache cannot be allocated on the device.
    VulkanBackend(const BackendParams& params, const vk::Device& device);
    ~VulkanBackend() override;

    const char* name() const override { return "vulkan"; }
    int n_threads() const override { return 1; }
    // Unbounded (Backend's default): the per-row and the tiled matrix products sum in one order
    // (shaders/matvec_head.glsl), the row ops are per row, and attention folds a token's blocks
    // of positions in one order whether or not the batch splits them among workgroups
    // (shaders/attend_fold.glsl).

    BufferId alloc_rows(int rows, int width) override;
    void resize_rows(BufferId buf, int rows) override;
    void read_rows(Cols src, int n, float* dst) override;
    void write_rows(Cols dst, int n, const float* src) override;

    void upload(const MatrixView& w) override { weights_->matrix(w); }
    void upload(std::span<const float> v) override {
        if (!v.empty()) weights_->vector(v);
    }
    std::shared_ptr<const void> weights_handle() const override { return weights_; }

    bool kv_reserve(int seq, int first_write, int n_rows) override;
    void kv_truncate(int seq, int n) override;
    void kv_copy_prefix(int src, int dst, int n) override;
    KvStats kv_stats() const override;
    void kv_read_rows(int seq, int first, int n, void* dst) override;
    void kv_write_rows(int seq, int first, int n, const void* src) override;

    void set_batch(const Batch& batch) override;
    void get_rows(const MatrixView& table, std::span<const int32_t> ids, Cols out) override;
    void scale(Cols x, int n, float s) override;
    void rms_norm(Cols x, std::span<const float> w, Cols out, int n, float eps) override;
    void layer_norm(Cols x, std::span<const float> w, std::span<const float> b, Cols out, int n,
                    float eps) override;
    void rms_norm_heads(Cols x, std::span<const float> w, int n, int head_dim, float eps) override;
    void matmul(const MatrixView& w, Cols x, Cols out, int n) override;
    void add_bias(Cols x, std::span<const float> b, int n) override;
    void rope(Cols q, Cols k, int n, int head_dim, const RopeConfig& rope) override;
    void kv_store(int layer, Cols k, Cols v, int n) override;
    void attention(int layer, Cols q, Cols out, int n, const AttentionShape& shape) override;
    void attention_all_rows(Cols q, Cols k, Cols v, Cols out, int n, int head_dim,
                            float scale) override;
    void glu(Activation act, Cols gate, Cols up, Cols out, int n) override;
    void gelu(Cols x, int n) override;
    void tanh(Cols x, int n) override;
    void add(Cols x, Cols y, int n) override;
    void gather_rows(Cols src, std::span<const int32_t> rows, Cols dst) override;
    void logits(const MatrixView& w, Cols x, int n, float softcap, float* dst) override;

    // Bytes of weights uploaded so far, into the copy this backend may share with others.
    uint64_t weight_bytes() const { return weights_->bytes(); }

  private:
    struct RowBuffer {
        std::unique_ptr<vk::Buffer> buf;
        int width = 0;
    };

    void make_kv_pools(const BackendParams& p);
    vk::RowsRef ref(Cols c) const;
    vk::RowsRef rounded_input(DType weight_type, Cols x, int n);
    // y = W x for n rows of x, piece by piece.
    void record_product(const vk::DeviceWeights::Matrix& m, const MatrixView& w, vk::RowsRef x,
                        vk::RowsRef y, int n);
    // Room for one more dispatch in the recording, and the barrier that orders it after the
    // ones before.
    void before_op(uint32_t dispatches);
    void after_op() { stream_.barrier(); }
    // Runs everything recorded and waits.
    void flush();
    // Copies bytes into the per-pass upload area and returns their byte offset there; may
    // flush to make room.
    uint32_t stage(const void* data, size_t bytes);
    uint32_t rope_table(const RopeConfig& rope);
    void record_copy(const vk::Buffer& from, uint64_t from_offset, const vk::Buffer& to,
                     uint64_t to_offset, uint64_t bytes);
    // Copies n rows of c into a mapped buffer, contiguous (n * c.width floats), and waits.
    const float* read_back(Cols c, int n);
    // Records one copy per run of rows of a page (each layer's keys and values) between the
    // pools and kv_staging_, which holds them packed as kv_read_rows lays them out.
    void record_kv_copies(int seq, int first, int n, bool to_pools);
    uint64_t kv_packed_bytes(int n) const;  // what kv_read_rows writes for n positions
    void ensure_host(std::unique_ptr<vk::Buffer>& buf, uint64_t bytes, const char* what);

    const vk::Device& device_;
    uint64_t max_binding_;  // bytes one shader binding may hold
    vk::CommandStream stream_;
    std::shared_ptr<vk::DeviceWeights> weights_;
    vk::Matvec matvec_;
    vk::ActRound act_round_;
    std::unique_ptr<vk::Buffer> act_scratch_;  // x rounded for the current product
    vk::RowOps ops_;
    std::vector<RowBuffer> rows_;

    // The KV cache (absent for encoders).
    std::unique_ptr<kernels::KvPageTable> pages_;
    std::vector<kernels::PageCopy> page_copies_;
    struct KvPool {
        vk::KvGeometry geometry;
        std::unique_ptr<vk::Buffer> buf;
        std::unique_ptr<vk::KvAttention> attention;
    };
    std::vector<KvPool> kv_pools_;
    int kv_layers_per_pool_ = 1;
    uint64_t kv_bytes_ = 0;
    std::unique_ptr<vk::AttentionAllRows> all_rows_;  // encoders, made on first use

    // The current batch: per token its position and where its sequence's page table starts in
    // batch_pages_ (host buffers, rewritten only at set_batch, after a flush).
    std::vector<int32_t> positions_;
    std::unique_ptr<vk::Buffer> batch_pos_, batch_table_start_, batch_pages_;
    // Per-pass uploads (embedding rows, RoPE tables, row indices).
    std::unique_ptr<vk::Buffer> staging_;
    uint64_t staged_ = 0;
    std::unordered_map<const RopeConfig*, uint32_t> rope_tables_;  // byte offsets in staging_
    std::unique_ptr<vk::Buffer> readback_;
    std::unique_ptr<vk::Buffer> kv_staging_;  // KV rows on their way to or from the host
    std::unique_ptr<vk::Buffer> logits_;
};

}  // namespace lokal::backends
