#include "fit/memory_estimate.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <string>

#include "base/error.h"
#include "kernels/cpu/packed.h"
#include "model/arch/arch.h"
#include "model/compute_device.h"

namespace lokal::fit {
namespace {

using kernels::KvCache;

// Bytes per vocabulary entry and per merge while a model runs: the GGUF reader keeps every string,
// the tokenizer its own tables, and the sampler arrays with one slot per token. Per token: measured
// as the peak RSS of `lokal bench -p 512 -n 128` beyond the other terms, on stories260K (512
// tokens), tiny-llama (32k) and gemma3 270m (262k SPM): about 170 bytes, the same slope from 32k
// to 262k. Per merge: an estimate, not yet checked against a BPE model.
constexpr uint64_t kHeapPerToken = 170;
constexpr uint64_t kHeapPerMerge = 120;

// An untied token embedding stays in the file; each token looked up faults in the kernel's
// fault-around window (64 KiB) of the file's pages, so at most that much a distinct token.
constexpr uint64_t kFaultAroundBytes = 64 << 10;

bool is_matrix(const gguf::TensorInfo& t) {
    return t.dims.size() >= 2;
}

// The bytes a matrix takes once loaded: its packed copy when the CPU kernels repack it.
uint64_t loaded_matrix_bytes(const gguf::TensorInfo& t, bool gpu, uint64_t* packed) {
    const int64_t rows = (int64_t)t.rows(), cols = (int64_t)t.cols();
    if (!gpu && kernels::repack_enabled() && kernels::can_pack(t.type, rows, cols)) {
        const uint64_t b =
            kernels::packed_group_bytes(t.type, cols) * (uint64_t)(rows / kernels::kPackRows);
        *packed += b;
        return b;
    }
    return t.n_bytes;
}

uint64_t vocabulary_heap_bytes(const gguf::File& f) {
    uint64_t bytes = 0;
    if (const auto* tokens = f.get_string_array("tokenizer.ggml.tokens")) {
        bytes += tokens->size() * kHeapPerToken;
    }
    if (const auto* merges = f.get_string_array("tokenizer.ggml.merges")) {
        bytes += merges->size() * kHeapPerMerge;
    }
    return bytes;
}

std::vector<TypeShare> shares_by_type(const gguf::File& f) {
    std::map<DType, TypeShare> m;
    for (const auto& t : f.tensors()) {
        TypeShare& s = m[t.type];
        s.type = t.type;
        ++s.tensors;
        s.bytes += t.n_bytes;
    }
    std::vector<TypeShare> out;
    for (const auto& [type, s] : m) out.push_back(s);
    std::stable_sort(out.begin(), out.end(),
                     [](const TypeShare& a, const TypeShare& b) { return a.bytes > b.bytes; });
    return out;
}

uint64_t read_kib_field(const char* path, const std::string& field) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with(field + ":")) return std::stoull(line.substr(field.size() + 1)) << 10;
    }
    return 0;
}

}  // namespace

model::ModelConfig header_config(const gguf::File& f) {
    const std::string arch = f.get_string("general.architecture").value_or("");
    if (!model::find_arch(arch)) {
        throw Error(
            "unknown architecture '" + arch + "' (lokal runs " + model::supported_arch_list() + ")",
            ErrorKind::Unsupported);
    }
    // The keys every architecture shares; the architectures' own readers may read tensor data
    // (llama's rope_freqs), which a registry header does not have.
    model::ModelConfig c;
    c.arch = arch;
    model::read_common_config(f, c);
    return c;
}

MemoryEstimate estimate_memory(const gguf::File& f, const FitParams& p, uint64_t runtime_bytes) {
    const model::ModelConfig c = header_config(f);
    MemoryEstimate e;
    e.n_ctx = p.n_ctx > 0 ? p.n_ctx : std::min(c.n_ctx_train > 0 ? c.n_ctx_train : 4096, 4096);
    e.n_batch = std::max(1, std::min(p.n_batch, e.n_ctx));
    const int page = KvCache::kDefaultPageRows;
    const int64_t rows = (int64_t)e.n_ctx * std::max(1, p.parallel);
    e.kv_rows = (int)((rows + page - 1) / page * page);
    e.by_type = shares_by_type(f);

    const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
    const bool tied = f.find_tensor("output.weight") == nullptr;
    uint64_t device_weights = 0;
    for (const auto& t : f.tensors()) {
        e.weight_bytes += t.n_bytes;
        if (!is_matrix(t)) {
            // Read once into floats; the file pages read stay mapped.
            e.resident_weight_bytes += t.n_bytes + t.n_elements * sizeof(float);
            continue;
        }
        if (&t == embd && !tied) {
            e.embedding_bytes += t.n_bytes;
            continue;
        }
        const uint64_t b = loaded_matrix_bytes(t, p.gpu, &e.repacked_bytes);
        if (p.gpu) {
            device_weights += b;
        } else {
            e.resident_weight_bytes += b;
        }
    }

    // Every position in the KV cache once came from a token's embedding row.
    e.embedding_resident_bytes =
        std::min<uint64_t>(e.embedding_bytes, (uint64_t)rows * kFaultAroundBytes);

    const uint64_t kv_row = kernels::kv_row_bytes(p.kv_type, c.n_head_kv * c.head_dim);
    e.kv_bytes = 2 * (uint64_t)e.kv_rows * kv_row * (uint64_t)c.n_layer;

    // Context::add_stage's buffers: x, xn, q|k|v, attention output, gate|up, activation.
    const uint64_t q = (uint64_t)c.n_head * c.head_dim, kv = (uint64_t)c.n_head_kv * c.head_dim;
    const uint64_t widths = 2 * (uint64_t)c.n_embd + (q + 2 * kv) + q + 3 * (uint64_t)c.n_ff;
    e.activation_bytes = widths * (uint64_t)e.n_batch * sizeof(float);
    e.logits_bytes = (uint64_t)c.n_vocab * sizeof(float);
    // The widest matmul input (the FFN's down projection) quantized for a whole batch (about
    // 1.1 bytes an element in Q8_0/Q8_K), and a score row per query for attention.
    const uint64_t widest = std::max<uint64_t>(c.n_ff, c.n_embd);
    e.scratch_bytes = widest * (uint64_t)e.n_batch * 9 / 8 +
                      (uint64_t)e.n_batch * (uint64_t)c.n_head * sizeof(float) * 2;

    uint64_t header_pages = f.data_offset();
    e.metadata_bytes = header_pages + vocabulary_heap_bytes(f);
    e.runtime_bytes = runtime_bytes;
    if (p.gpu) {
        e.device_bytes = device_weights + e.kv_bytes + e.activation_bytes;
        e.peak_rss = e.resident_weight_bytes + e.embedding_resident_bytes + e.logits_bytes +
                     e.scratch_bytes + e.metadata_bytes + e.runtime_bytes;
    } else {
        e.peak_rss = e.resident_weight_bytes + e.embedding_resident_bytes + e.kv_bytes +
                     e.compute_bytes() + e.metadata_bytes + e.runtime_bytes;
    }
    return e;
}

uint64_t process_baseline_bytes() {
    // A process that runs a model first picks its device: probing Vulkan maps its drivers
    // (lavapipe brings LLVM, tens of MB) whether or not a GPU is then used.
    (void)model::compute_device();
    return read_kib_field("/proc/self/status", "VmRSS");
}

uint64_t available_memory_bytes() {
    return read_kib_field("/proc/meminfo", "MemAvailable");
}

}  // namespace lokal::fit
