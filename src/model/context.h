// An evaluation context: the KV cache of one or more sequences and the scratch buffers of the
// forward pass. Sized once at creation; evaluating tokens allocates nothing. Sequences are
// numbered from 0; the single-sequence calls (eval, n_past, truncate) use sequence 0. One
// forward pass can carry tokens of many sequences at different positions (continuous batching),
// and every token's result is independent of the other sequences' tokens in the batch. A
// sequence with kTiledMinQueries or more tokens in one pass attends with attend_tiled (F32
// accumulators, as llama.cpp does for such batches), so its results can differ in the last bits
// from evaluating the same tokens in smaller pieces.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "backends/backend.h"
#include "model/model.h"

namespace lokal::model {

using backends::KvStats;
using kernels::KvType;

struct ContextParams {
    int n_ctx = 0;      // positions per sequence; 0: the model's training context, capped at 4096
    int n_batch = 512;  // tokens per forward pass when evaluating a long prompt
    int n_threads = 0;  // 0: one per physical core
    int kv_rows = 0;    // positions in the KV pool shared by all sequences; 0: n_ctx
    KvType kv_type = KvType::F16;
    // Layers on the GPU when the process runs on one (model/compute_device.h): the first
    // gpu_layers run there, the rest and the output on the CPU. -1: as many as the device's
    // free memory holds (all of them, output included, when they fit), or LOKAL_GPU_LAYERS.
    int gpu_layers = -1;
};

// One token of a batch: it is appended to its sequence (at that sequence's next position).
struct BatchToken {
    int32_t token = 0;
    int32_t seq = 0;
    bool logits = false;  // compute this token's logits
};

class Context {
  public:
    Context(const Model& model, ContextParams params);
    ~Context();

    // Appends tokens to the sequence and runs the forward pass. Afterwards logits(i) holds the
    // logits of the i-th of these tokens when all_logits, else only the last (i = 0).
    // Throws lokal::Error when the sequence would exceed the context.
    void eval(std::span<const int32_t> tokens, bool all_logits = false);

    // Evaluates tokens of any number of sequences in one forward pass (at most n_batch tokens;
    // a sequence's tokens in order). Afterwards logits(i) holds the logits of the i-th token that
    // asked for them. Returns false, changing nothing, when the KV pool has too few free pages;
    // throws lokal::Error when a sequence would exceed n_ctx or a token is out of range.
    bool decode(std::span<const BatchToken> batch);

    const float* logits(int i = 0) const { return logits_.data() + (size_t)i * n_vocab_; }
    int n_vocab() const { return n_vocab_; }
    int n_past() const { return seq_n_past(0); }
    int n_ctx() const { return n_ctx_; }
    int n_batch() const { return n_batch_; }
    size_t kv_cache_bytes() const { return kv_stats().bytes; }
    KvStats kv_stats() const;

    int seq_n_past(int seq) const { return (size_t)seq < n_past_.size() ? n_past_[seq] : 0; }
    // Forgets everything of seq after its first n tokens (0: all of it).
    void seq_truncate(int seq, int n);
    // dst (cleared first) continues from src's first n tokens; their KV rows are shared.
    void seq_copy_prefix(int src, int dst, int n);
    // KV snapshots (engine/kv_snapshot.h): the rows of seq's positions [0, n) as stored in the
    // cache type, every layer in model order (its keys, then its values), whatever backends
    // the layers run on.
    size_t seq_kv_bytes(int n) const;
    KvType kv_type() const { return kv_type_; }
    size_t kv_row_bytes() const;  // one position's keys (or values) of one layer
    void seq_export(int seq, int n, uint8_t* dst);
    // seq (cleared first) holds n positions whose rows are `rows` (seq_kv_bytes(n) bytes) as if
    // it had evaluated them. Returns false, leaving seq empty, when the pool has too few pages.
    bool seq_import(int seq, int n, const uint8_t* rows);
    int n_threads() const { return stages_.back().backend->n_threads(); }
    // The most tokens one decode may carry for each token's logits to be bit for bit those of
    // evaluating it alone (backends::Backend::exact_batch_rows over the stages, and per
    // sequence below the queries that switch attention to tiles).
    int exact_batch_rows() const;
    static int exact_rows_per_sequence();
    // Layers that run on the GPU (0 on the CPU).
    int gpu_layers() const { return gpu_layers_; }
    // The GPU's copy of the weights, which every context of the model there shares (uploaded
    // once, freed with its last holder): holding these keeps it after this context goes.
    std::vector<std::shared_ptr<const void>> weights_handles() const;
    // A sentence embedding from a decoder model: the tokens are evaluated from an empty
    // sequence, their final normalised hidden states pooled and L2-normalised. Clears the
    // sequence afterwards.
    std::vector<float> embed(std::span<const int32_t> tokens, Pooling pooling);

    // Forget everything after the first n tokens (n = 0 clears the sequence). Returns how many
    // are kept.
    int truncate(int n);

    const Model& model() const { return model_; }

  private:
    using Cols = backends::Cols;

    // A run of consecutive layers on one backend, with its own activation buffers (one row per
    // token: the residual stream x, the normalised or projected xn, q|k|v side by side, the
    // attention output, gate|up side by side, the gated activation) and its layers' KV cache.
    // The last stage also computes the output.
    struct Stage {
        std::unique_ptr<backends::Backend> backend;
        int first_layer = 0, end_layer = 0;
        Cols x, xn, qkv, attn, ffn, act;
    };
    void add_stage(int first_layer, int end_layer, bool gpu, const ContextParams& params);
    void upload_weights(Stage& s);  // a GPU stage's, at creation

    void check_tokens(std::span<const BatchToken> batch);
    // Reserves the positions in every stage's cache; on failure none keeps them.
    bool kv_reserve(int seq, int first_write, int n_rows);
    // Runs the layers over batch_tok_/batch_seq_/batch_pos_[0..n); logits of the rows in
    // logit_rows_[0..n_logit_rows) go to logits_out.
    void forward_batch(int n, int n_logit_rows, float* logits_out);
    // The blocks of the forward pass, on the backend's op table.
    void embed_tokens(Stage& s, int n);
    // Returns the rows that go on: n, or n_keep (< n) when only the rows logit_rows_[0..n_keep)
    // are kept after every row's keys and values are cached (the model's last layer).
    int attention_block(Stage& s, int layer, int n, int n_keep);
    Cols keep_logit_rows(Stage& s, Cols q, int n_keep);
    void ffn_block(Stage& s, int layer, int n);
    void output_logits(Stage& s, std::span<const int32_t> rows, float* out);
    void output_hidden(Stage& s, int n);  // embed(): the final normalised hidden states
    backends::AttentionShape attention_shape(int layer) const;

    const Model& model_;
    int n_ctx_ = 0;
    int n_batch_ = 0;
    int n_vocab_ = 0;
    std::vector<int> n_past_;  // per sequence
    std::vector<Stage> stages_;
    int gpu_layers_ = 0;
    KvType kv_type_ = KvType::F16;
    std::vector<float> handoff_;  // the residual rows passed from one stage to the next

    RopeConfig rope_, rope_swa_;  // the model's, with LongRoPE's long factors for long contexts
    std::vector<float> logits_;
    std::vector<int32_t> batch_tok_, batch_seq_, batch_pos_, logit_rows_;
    std::vector<int32_t> kept_tok_, kept_seq_, kept_pos_, kept_rows_;  // keep_logit_rows's batch
    std::vector<float>* hidden_sink_ = nullptr;  // set only while embed() runs
};

}  // namespace lokal::model
