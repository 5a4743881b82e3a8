#include "quant/quantize_file.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "base/error.h"
#include "base/thread_pool.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "tensor/dequantize.h"
#include "tensor/quantize.h"

namespace lokal::quant {
namespace {

constexpr uint32_t kQuantizationVersion = 2;  // ggml's current block layouts

int int_key(const gguf::File& f, const std::string& key, int fallback) {
    if (const gguf::Value* v = f.find(key)) {
        if (v->type == gguf::ValueType::ARRAY && !v->ints.empty()) return (int)v->ints[0];
        if (v->is_integer()) return (int)v->i;
    }
    return fallback;
}

ModelShape shape_of(const gguf::File& f) {
    ModelShape s;
    s.arch = f.get_string("general.architecture").value_or("");
    s.n_layer = int_key(f, s.arch + ".block_count", 0);
    s.n_head = int_key(f, s.arch + ".attention.head_count", 0);
    s.n_head_kv = int_key(f, s.arch + ".attention.head_count_kv", s.n_head);
    s.n_expert = int_key(f, s.arch + ".expert_count", 0);
    return s;
}

bool is_quantized(DType t) {
    return dtype_info(t).block_elems > 1;
}

// The importance row for a tensor, or nullptr (none given, or none for this tensor). A row of
// the wrong length is an error, except for the token embeddings (never a matmul input there).
const float* importance_for(const QuantizeOptions& o, const gguf::TensorInfo& t) {
    if (!o.importance) return nullptr;
    const auto it = o.importance->find(t.name);
    if (it == o.importance->end()) return nullptr;
    const uint64_t experts = t.dims.size() > 2 ? t.dims[2] : 1;
    if (it->second.size() != t.cols() * experts) {
        if (t.name == "token_embd.weight") return nullptr;
        throw Error("importance matrix has " + std::to_string(it->second.size()) + " values for " +
                    t.name + ", which needs " + std::to_string(t.cols() * experts));
    }
    return it->second.data();
}

std::vector<uint8_t> convert_tensor(const gguf::TensorInfo& t, DType to, const float* importance,
                                    ThreadPool& pool) {
    const int64_t cols = (int64_t)t.cols();
    const int64_t rows = (int64_t)t.rows();
    const uint64_t rows_per_expert = t.dims.size() > 1 ? t.dims[1] : 1;
    const uint64_t in_row = row_bytes(t.type, (uint64_t)cols);
    const uint64_t out_row = row_bytes(to, (uint64_t)cols);
    std::vector<uint8_t> out(out_row * (uint64_t)rows);
    // Chunks of about 64K elements handed out one at a time from a shared counter, so both
    // threads stay busy to the end of the tensor (parallel_for's few large chunks leave one
    // thread idle for a whole chunk at every tensor's end).
    const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(cols, 1));
    std::atomic<int64_t> next{0};
    pool.run([&](int, int) {
        std::vector<float> row((size_t)cols);
        for (;;) {
            const int64_t begin = next.fetch_add(grain, std::memory_order_relaxed);
            if (begin >= rows) break;
            const int64_t end = std::min(rows, begin + grain);
            for (int64_t r = begin; r < end; ++r) {
                dequantize_row(t.type, t.data + (uint64_t)r * in_row, row.data(), cols);
                const float* imp =
                    importance ? importance + ((uint64_t)r / rows_per_expert) * (uint64_t)cols
                               : nullptr;
                quantize_row_weighted(to, row.data(), out.data() + (uint64_t)r * out_row, cols,
                                      imp);
            }
        }
    });
    return out;
}

}  // namespace

QuantizeResult quantize_file(const std::string& in_path, const std::string& out_path,
                             const FileType& ft, const QuantizeOptions& options) {
    const std::unique_ptr<gguf::File> in = gguf::File::open(in_path);
    std::vector<TensorDesc> descs;
    descs.reserve(in->tensors().size());
    for (const gguf::TensorInfo& t : in->tensors()) descs.push_back({t.name, t.dims, t.type});

    MixOptions mix;
    mix.pure = options.pure;
    mix.leave_output_tensor = options.leave_output_tensor;
    mix.has_imatrix = options.importance != nullptr;
    const std::vector<TensorPlan> plan = plan_tensor_types(ft, shape_of(*in), descs, mix);

    uint64_t total = 0;
    for (const TensorPlan& p : plan) {
        const gguf::TensorInfo& t = in->tensors()[p.index];
        total += t.n_elements;
        if (p.type == t.type) continue;
        if (is_quantized(t.type) && !options.allow_requantize) {
            throw Error(in_path + " is already quantized (" + t.name + " is " +
                        std::string(dtype_name(t.type)) +
                        "); quantizing it again loses quality: pass --allow-requantize to do it "
                        "anyway");
        }
        if (!can_dequantize(t.type)) {
            throw Error(
                "cannot read tensor " + t.name + " of type " + std::string(dtype_name(t.type)),
                ErrorKind::Unsupported);
        }
    }

    gguf::Writer w;
    for (const auto& [key, value] : in->metadata()) w.set_value(key, value);
    w.set_u32("general.quantization_version", kQuantizationVersion);
    w.set_u32("general.file_type", ft.id);
    for (const char* key : {"split.no", "split.count", "split.tensors.count"}) w.remove(key);

    ThreadPool pool(options.threads > 0 ? options.threads : ThreadPool::default_threads());
    QuantizeResult result;
    // One progress call per tensor, in file order. Converted tensors are made while the file is
    // written (add_tensor_deferred: the output is written as it is made, and only one converted
    // tensor is held in memory at a time); the copied ones are reported along with them.
    std::vector<uint64_t> done_after;
    size_t reported = 0;
    const auto report_through = [&](size_t index) {
        for (; reported <= index && reported < done_after.size(); ++reported) {
            if (options.progress) options.progress(done_after[reported], total);
        }
    };
    uint64_t done = 0;
    for (const TensorPlan& p : plan) {
        const gguf::TensorInfo& t = in->tensors()[p.index];
        QuantizedTensor record{t.name, t.type, p.type, p.fell_back, false};
        done += t.n_elements;
        done_after.push_back(done);
        if (p.type == t.type) {
            w.add_tensor_ref(t.name, t.type, t.dims, t.data, t.n_bytes);
            result.bytes_out += t.n_bytes;
        } else {
            const float* imp = importance_for(options, t);
            record.used_importance = imp && uses_importance(p.type);
            const uint64_t bytes = row_bytes(p.type, t.cols()) * t.rows();
            result.bytes_out += bytes;
            w.add_tensor_deferred(
                t.name, p.type, t.dims, bytes,
                [&t, &pool, &report_through, to = p.type, imp, index = done_after.size() - 1] {
                    std::vector<uint8_t> out = convert_tensor(t, to, imp, pool);
                    report_through(index);
                    return out;
                });
        }
        result.bytes_in += t.n_bytes;
        result.tensors.push_back(std::move(record));
    }
    w.write_file(out_path);
    report_through(done_after.size());
    return result;
}

}  // namespace lokal::quant
