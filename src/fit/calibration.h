// This machine's speed for the kernels a model runs, measured once per CPU, thread count and
// weight type, and cached in a JSON file so later `lokal fit` runs are instant.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fit/op_calibration.h"
#include "fit/synthetic_model.h"
#include "gguf/gguf_file.h"
#include "tensor/dtype.h"

namespace lokal::fit {

struct TypeSpeed {
    double matvec_gbs = 0;    // weight bytes a second streamed through one-row products
    double gemm_gflops = 0;   // multiply-adds x 2 a second in batched products
    double call_seconds = 0;  // one tiny product: the fixed cost of an op (threads waking)
};

using Measure = std::function<TypeSpeed(DType type, int threads)>;

// Times the real kernels (kernels::matmul, on repacked matrices where the CPU repacks them):
// a matrix far larger than the caches for matvec_gbs, a 256-row batch for gemm_gflops.
TypeSpeed measure_type(DType type, int threads);

// The cache file: $LOKAL_MODELS/fit-calibration.json, else ~/.lokal/fit-calibration.json.
std::filesystem::path default_calibration_path();

// "<cpu model name>, <isa>, <threads> threads, repack on|off, kernels r<N>": a cache entry's
// key (N: kernels::kKernelsRevision, so faster kernels are measured again).
std::string machine_key(int threads);

// The speeds of `types` for `threads`: from the cache at `path` where present, else measured
// (then written back). *measured counts the types measured now. A cache that does not parse
// is measured over.
std::map<DType, TypeSpeed> calibrate(const std::vector<DType>& types, int threads,
                                     const std::filesystem::path& path, int* measured,
                                     const Measure& measure = measure_type);

using MeasureOps = std::function<OpSpeed(int head_dim, int threads)>;

// The non-matrix op speeds at head_dim for `threads`, cached beside the types (as
// "ops, head_dim N"); measured when absent or when an older entry lacks a field. *measured: 1
// when measured now, else 0.
OpSpeed calibrate_ops(int head_dim, int threads, const std::filesystem::path& path, int* measured,
                      const MeasureOps& measure = measure_ops);

using MeasureModel = std::function<ModelTimes(const gguf::File& header, int threads)>;

// A cache-resident model timed whole (time_synthetic_model), cached beside the types under a hash
// of its header (tensor names, types and shapes, and the metadata but the tokenizer's), so each
// model shape is timed once. *measured: 1 when measured now, else 0.
ModelTimes calibrate_model(
    const gguf::File& header, int threads, const std::filesystem::path& path, int* measured,
    const MeasureModel& measure = [](const gguf::File& h, int t) {
        return time_synthetic_model(h, t);
    });

}  // namespace lokal::fit
