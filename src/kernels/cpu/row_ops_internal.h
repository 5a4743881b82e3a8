// Shared between row_ops.cpp and its per-instruction-set versions; not a public interface.
#pragma once

namespace lokal::kernels::detail {

void swiglu_scalar(const float* gate, const float* up, float* out, int n);
void swiglu_avx2(const float* gate, const float* up, float* out, int n);

}  // namespace lokal::kernels::detail
