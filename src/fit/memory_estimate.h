// The memory a model needs on this machine, from its GGUF header alone (no tensor data): the
// weights by type, the KV cache, the forward pass's buffers, and the peak resident set of a
// process that runs it with its context full (`lokal fit`).
#pragma once

#include <cstdint>
#include <vector>

#include "gguf/gguf_file.h"
#include "kernels/cpu/kv_cache.h"
#include "model/config.h"
#include "tensor/dtype.h"

namespace lokal::fit {

struct FitParams {
    int n_ctx = 0;     // positions per sequence; 0: the training context, at most 4096 (Context's)
    int parallel = 1;  // sequences sharing the KV pool (its rows: n_ctx x parallel)
    int n_batch = 512;
    kernels::KvType kv_type = kernels::KvType::F16;
    bool gpu = false;  // weights and KV cache in device memory (--device vulkan)
};

struct TypeShare {
    DType type = DType::F32;
    int tensors = 0;
    uint64_t bytes = 0;  // as stored in the file
};

struct MemoryEstimate {
    int n_ctx = 0, kv_rows = 0, n_batch = 0;
    std::vector<TypeShare> by_type;  // most bytes first
    uint64_t weight_bytes = 0;       // every tensor, as stored
    // The weights that become resident: every matrix the forward pass streams (its repacked copy
    // where the CPU kernels repack it: the copy replaces the file's pages), the norms and biases
    // (read once into floats) but not an untied token embedding, whose rows are paged in only
    // for the tokens seen.
    uint64_t resident_weight_bytes = 0;
    uint64_t repacked_bytes = 0;            // of those, the repacked copies
    uint64_t embedding_bytes = 0;           // an untied token embedding left in the file
    uint64_t embedding_resident_bytes = 0;  // its pages that token lookups bring in
    uint64_t kv_bytes = 0;                  // the whole pool, as the context holds it when full
    uint64_t activation_bytes = 0;          // n_batch rows of each activation buffer
    uint64_t logits_bytes = 0;
    uint64_t scratch_bytes = 0;   // quantized activations, attention scores
    uint64_t metadata_bytes = 0;  // the header's pages and its parsed vocabulary
    uint64_t runtime_bytes = 0;   // the process before it loads anything
    uint64_t device_bytes = 0;    // gpu: weights, KV cache and buffers on the device
    uint64_t compute_bytes() const { return activation_bytes + logits_bytes + scratch_bytes; }
    uint64_t peak_rss = 0;  // host resident set with the context full
};

// The hyperparameters the estimates need (sizes, heads, context), from the header's keys alone.
// Throws lokal::Error for an architecture lokal does not run.
model::ModelConfig header_config(const gguf::File& file);

// runtime_bytes: the resident set of a lokal process before it maps a model (see
// process_baseline_bytes). Throws lokal::Error for an architecture lokal does not run.
MemoryEstimate estimate_memory(const gguf::File& file, const FitParams& p, uint64_t runtime_bytes);

// This process's resident set (VmRSS) once it has chosen its compute device (as a process that
// runs a model does): a stand-in for another lokal's baseline.
uint64_t process_baseline_bytes();

// MemAvailable from /proc/meminfo (0 when unreadable).
uint64_t available_memory_bytes();

}  // namespace lokal::fit
