// The op table a forward pass runs on. A Backend owns one context's KV cache and activation
// buffers; the model's forward pass (model/context.cpp) is a short sequence of these calls per
// block and never touches their memory. Weights are the model's stored matrices and float
// vectors, passed by reference: the CPU backend reads them where they lie (mmap'd or repacked),
// a GPU backend keeps its device copy of each.
//
// Activations are rows of floats, one row per token of the batch, in buffers the backend
// allocates; an op names the columns it reads or writes (`Cols`), so q, k and v can lie side by
// side in one row. Ops are issued in order; the CPU backend runs each at once, a GPU backend may
// record them and run them when results are read (read_rows, logits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>

#include "kernels/cpu/kv_cache.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/rope.h"

namespace lokal::backends {

using kernels::KvType;
using kernels::MatrixView;
using kernels::RopeConfig;

enum class Activation {
    SiLU,      // SwiGLU: silu(gate) * up
    GeluTanh,  // GeGLU with the tanh approximation: gelu(gate) * up
};

using BufferId = int;

// Columns [col, col + width) of every row of a buffer.
struct Cols {
    BufferId buf = -1;
    int col = 0;
    int width = 0;

    Cols sub(int offset, int w) const { return {buf, col + offset, w}; }
};

// The tokens of one forward pass: row t of every buffer is tokens[t], appended to sequence
// seqs[t] at position positions[t].
struct Batch {
    std::span<const int32_t> tokens, seqs, positions;
};

// Causal attention of n_head query heads over n_head_kv cached heads (grouped-query attention).
struct AttentionShape {
    int n_head = 0;
    int n_head_kv = 0;
    int head_dim = 0;
    float scale = 1.0f;    // on q.k
    float softcap = 0.0f;  // 0: none, else cap * tanh(score / cap)
    int window = 0;        // 0: every earlier position; else only the last `window` (sliding)
};

struct KvStats {
    size_t bytes = 0;  // reserved
    int pages_total = 0;
    int pages_used = 0;
};

// Sizes a backend allocates for at creation.
struct BackendParams {
    int n_threads = 0;  // CPU: 0 = one per physical core
    int n_layer = 0;
    int kv_row_elems = 0;  // n_head_kv * head_dim
    KvType kv_type = KvType::F16;
    int kv_rows = 0;  // positions in the pool shared by all sequences; 0: no cache (encoders)
    int max_batch = 0;
    AttentionShape attention;  // of every layer (a layer's window is given per call)
    // The model whose weights the backend computes with (model::Model::id()): device backends
    // of one model share their copy of the weights. 0: a copy of its own.
    uint64_t weights_owner = 0;
};

class Backend {
  public:
    virtual ~Backend() = default;
    virtual const char* name() const = 0;
    virtual int n_threads() const = 0;
    // The most rows one pass may carry with every row's result bit for bit what it would be
    // alone (beyond, a device may sum in another order). Speculative decoding stays within it.
    virtual int exact_batch_rows() const { return std::numeric_limits<int>::max(); }

    // ---- buffers ------------------------------------------------------------------------------
    virtual BufferId alloc_rows(int rows, int width) = 0;
    // Gives a buffer room for `rows` rows (what it held is not kept).
    virtual void resize_rows(BufferId buf, int rows) = 0;
    // Rows [0, n) of src to dst (n * src.width floats).
    virtual void read_rows(Cols src, int n, float* dst) = 0;
    // n rows of dst.width floats from src into rows [0, n) of dst (a stage's input when the
    // layers are split between devices).
    virtual void write_rows(Cols dst, int n, const float* src) = 0;

    // Weights the following passes read, handed over at load so that a device backend copies
    // them then, not in the first pass (the CPU reads them where they lie: nothing to do).
    virtual void upload(const MatrixView&) {}
    virtual void upload(std::span<const float>) {}
    // Holding this keeps the backend's device copy of the weights (shared with the model's
    // other backends) after the backend goes, so that the next one need not upload them again;
    // nullptr where the weights are read in place.
    virtual std::shared_ptr<const void> weights_handle() const { return nullptr; }

    // ---- the KV cache: pages shared by sequences (kernels/cpu/kv_cache.h has the contract) ---
    virtual bool kv_reserve(int seq, int first_write, int n_rows) = 0;
    virtual void kv_truncate(int seq, int n) = 0;
    virtual void kv_copy_prefix(int src, int dst, int n) = 0;
    virtual KvStats kv_stats() const = 0;
    // KV rows as stored (the cache type's bytes), for snapshots that outlive the context: for
    // each of this backend's layers in order, the keys of positions [first, first + n) of seq,
    // then their values (n * kernels::kv_row_bytes(type, row_elems) bytes each).
    virtual void kv_read_rows(int seq, int first, int n, void* dst) = 0;
    // The inverse, into positions reserved writable (kv_reserve).
    virtual void kv_write_rows(int seq, int first, int n, const void* src) = 0;

    // ---- ops ----------------------------------------------------------------------------------
    // The batch the following ops work on (n = tokens.size() rows).
    virtual void set_batch(const Batch& batch) = 0;
    // out row t = row ids[t] of the matrix (token embeddings: the batch tokens).
    virtual void get_rows(const MatrixView& table, std::span<const int32_t> ids, Cols out) = 0;
    virtual void scale(Cols x, int n, float s) = 0;
    // out = x / rms(x) * w per row (out may be x).
    virtual void rms_norm(Cols x, std::span<const float> w, Cols out, int n, float eps) = 0;
    // out = (x - mean) / sqrt(var + eps) * w + b per row (out may be x).
    virtual void layer_norm(Cols x, std::span<const float> w, std::span<const float> b, Cols out,
                            int n, float eps) = 0;
    // The same for each head_dim-wide head of each row, in place (q/k norms).
    virtual void rms_norm_heads(Cols x, std::span<const float> w, int n, int head_dim,
                                float eps) = 0;
    // out = x * w^T: row t of out = w . row t of x.
    virtual void matmul(const MatrixView& w, Cols x, Cols out, int n) = 0;
    // x += b per row.
    virtual void add_bias(Cols x, std::span<const float> b, int n) = 0;
    // Rotates the query and key heads of each row at its position.
    virtual void rope(Cols q, Cols k, int n, int head_dim, const RopeConfig& rope) = 0;
    // Stores each row's keys and values at its sequence and position (reserved writable).
    virtual void kv_store(int layer, Cols k, Cols v, int n) = 0;
    // out = softmax(q K^T * scale) V per query head, over the row's sequence up to its position.
    virtual void attention(int layer, Cols q, Cols out, int n, const AttentionShape& shape) = 0;
    // Encoders: every row attends to every row of the batch (no cache, no mask).
    virtual void attention_all_rows(Cols q, Cols k, Cols v, Cols out, int n, int head_dim,
                                    float scale) = 0;
    // out = act(gate) * up.
    virtual void glu(Activation act, Cols gate, Cols up, Cols out, int n) = 0;
    // x = gelu(x) (tanh approximation, through the F16 table as llama.cpp does), in place.
    virtual void gelu(Cols x, int n) = 0;
    virtual void tanh(Cols x, int n) = 0;
    // x += y.
    virtual void add(Cols x, Cols y, int n) = 0;
    // dst row r = src row rows[r].
    virtual void gather_rows(Cols src, std::span<const int32_t> rows, Cols dst) = 0;
    // The final projection into host memory: dst row t (w.rows floats) = w . row t of x,
    // soft-capped (cap * tanh(y / cap)) when softcap > 0.
    virtual void logits(const MatrixView& w, Cols x, int n, float softcap, float* dst) = 0;
};

}  // namespace lokal::backends
