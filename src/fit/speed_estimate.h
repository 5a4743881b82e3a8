// Predicted prompt and generation speed (llama-bench's pp512 and tg128) from a model's tensors
// and this machine's calibrated kernel speeds.
#pragma once

#include <map>
#include <vector>

#include "fit/calibration.h"
#include "gguf/gguf_file.h"

namespace lokal::fit {

struct SpeedEstimate {
    double pp_tokens_per_s = 0;  // a 512-token prompt in one batch
    double tg_tokens_per_s = 0;  // 128 tokens generated one at a time from an empty context
};

// The weight types of the matrices a forward pass multiplies (what calibrate must measure).
std::vector<DType> matrix_types(const gguf::File& file);

// The non-matrix work per token of one layer, in elements the row ops touch.
struct RowWork {
    double norm = 0;        // rms_norm over whole rows (one thread in the backend)
    double heads_norm = 0;  // per-head q/k norms (split over threads)
    double glu = 0;         // gated activation outputs
    double rope = 0;        // rotated query and key elements
};
RowWork row_work(const gguf::File& file);

// n_prompt, n_gen: the benchmark's token counts (512, 128); threads: the threads that share the
// prompt's rows and, for long enough rows, a generated token's attention. For models that stay
// in the cache, fit times the model whole instead (calibrate_model).
SpeedEstimate estimate_speed(const gguf::File& file, const std::map<DType, TypeSpeed>& speeds,
                             const OpSpeed& ops, int threads, int n_prompt = 512, int n_gen = 128);

}  // namespace lokal::fit
