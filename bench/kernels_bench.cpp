// Kernel micro-benchmarks: vec_dot per weight type and ISA, activation quantization, the gemm
// against the one-dot-per-pair loop it replaced, matmul as the model calls it, and prompt
// attention (attend_tiled).
//
//   make kernels_bench && ./bench/kernels_bench --benchmark_filter=vec_dot
//
// Counters: GB/s = weight bytes read per second; GFLOP/s = 2 * multiply-adds per second.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/random_values.h"
#include "base/thread_pool.h"
#include "kernels/cpu/attention_kernels.h"
#include "kernels/cpu/attention_tiled.h"
#include "kernels/cpu/kv_cache.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/packed.h"
#include "kernels/cpu/vec_dot.h"
#include "tensor/quantize.h"

namespace {

using lokal::DType;
using namespace lokal::kernels;  // NOLINT(google-build-using-namespace)

// rows x n weights of type t: 16 distinct quantized rows repeated (quantizing K types is slow).
std::vector<uint8_t> make_weights(DType t, int64_t rows, int64_t n) {
    const size_t stride = lokal::row_bytes(t, n);
    std::vector<uint8_t> w(stride * rows);
    const int64_t distinct = std::min<int64_t>(rows, 16);
    for (int64_t r = 0; r < distinct; ++r) {
        const std::vector<float> x = lokal::random_normal(n, 1 + (uint32_t)r, 0.05f);
        lokal::quantize_row(t, x.data(), w.data() + r * stride, n);
    }
    for (int64_t r = distinct; r < rows; ++r) {
        std::copy_n(w.data() + (r % distinct) * stride, stride, w.data() + r * stride);
    }
    return w;
}

std::vector<uint8_t> make_acts(DType at, int64_t rows, int64_t n) {
    const size_t stride = lokal::row_bytes(at, n);
    std::vector<uint8_t> a(stride * rows);
    for (int64_t r = 0; r < rows; ++r) {
        const std::vector<float> x = lokal::random_normal(n, 100 + (uint32_t)r, 1.0f);
        lokal::quantize_row(at, x.data(), a.data() + r * stride, n);
    }
    return a;
}

void set_rates(benchmark::State& state, double weight_bytes, double macs) {
    const double it = (double)state.iterations();
    state.counters["GB/s"] =
        benchmark::Counter(weight_bytes * it / 1e9, benchmark::Counter::kIsRate);
    state.counters["GFLOP/s"] =
        benchmark::Counter(2 * macs * it / 1e9, benchmark::Counter::kIsRate);
}

// One thread, 16 weight rows x 4096 (L2-resident): the kernel's compute speed.
void bm_vec_dot(benchmark::State& state, DType t, Isa isa) {
    const int64_t n = 4096, rows = 16;
    const TypeKernels& k = kernels_for(t, isa);
    const std::vector<uint8_t> w = make_weights(t, rows, n);
    const std::vector<uint8_t> a = make_acts(k.act_type, 1, n);
    const size_t stride = lokal::row_bytes(t, n);
    for (auto _ : state) {
        for (int64_t r = 0; r < rows; ++r) {
            benchmark::DoNotOptimize(k.vec_dot(n, w.data() + r * stride, a.data()));
        }
    }
    set_rates(state, (double)stride * rows, (double)n * rows);
}

void bm_quantize(benchmark::State& state, DType at, Isa isa) {
    const int64_t n = 4096;
    const std::vector<float> x = lokal::random_normal(n, 3, 1.0f);
    std::vector<uint8_t> out(lokal::row_bytes(at, n));
    for (auto _ : state) {
        quantize_activations(at, x.data(), out.data(), n, isa);
        benchmark::ClobberMemory();
    }
    state.counters["Gelem/s"] =
        benchmark::Counter((double)n * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

// One thread, 256 weight rows x n against `batch` activation rows: gemm vs the plain loop.
void bm_gemm(benchmark::State& state, DType t, Isa isa, bool use_gemm, int64_t n, int64_t batch) {
    const int64_t rows = 256;
    const TypeKernels& k = kernels_for(t, isa);
    const std::vector<uint8_t> w = make_weights(t, rows, n);
    const std::vector<uint8_t> a = make_acts(k.act_type, batch, n);
    const size_t ws = lokal::row_bytes(t, n), as = lokal::row_bytes(k.act_type, n);
    std::vector<float> y(rows * batch);
    for (auto _ : state) {
        if (use_gemm) {
            k.gemm(n, w.data(), ws, (int)rows, a.data(), as, (int)batch, y.data(), rows);
        } else {
            for (int64_t r = 0; r < rows; ++r) {
                for (int64_t b = 0; b < batch; ++b) {
                    y[b * rows + r] = k.vec_dot(n, w.data() + r * ws, a.data() + b * as);
                }
            }
        }
        benchmark::ClobberMemory();
    }
    set_rates(state, (double)ws * rows, (double)n * rows * batch);
}

// The packed 8-row kernels (what the model runs for the types packed.h lists), one thread: 256 x n
// weights against `batch` activation rows.
void bm_packed_gemm(benchmark::State& state, DType t, Isa isa, int64_t n, int64_t batch) {
    const int64_t rows = 256;
    const std::vector<uint8_t> w = make_weights(t, rows, n);
    const uint64_t gs = lokal::kernels::packed_group_bytes(t, n);
    std::vector<uint8_t> packed(gs * rows / 8);
    lokal::kernels::pack_groups(t, w.data(), lokal::row_bytes(t, n), n, 0, rows / 8, packed.data());
    const DType at = kernels_for(t, isa).act_type;
    const std::vector<uint8_t> a = make_acts(at, batch, n);
    const size_t as = lokal::row_bytes(at, n);
    const uint64_t is = lokal::kernels::packed_act_info_bytes(t, n);
    std::vector<uint8_t> info(is * batch);
    for (int64_t b = 0; b < batch; ++b) {
        lokal::kernels::prepare_packed_act(t, a.data() + b * as, n, info.data() + b * is);
    }
    std::vector<float> y(rows * batch);
    const lokal::kernels::PackedGemmFn gemm = lokal::kernels::packed_gemm_for(t, isa);
    for (auto _ : state) {
        gemm(n, packed.data(), gs, (int)(rows / 8), a.data(), as, info.data(), is, (int)batch,
             y.data(), rows);
        benchmark::ClobberMemory();
    }
    set_rates(state, (double)packed.size(), (double)n * rows * batch);
}

// matmul as the model calls it (active ISA; LOKAL_FORCE_ISA picks another): 4096 x 4096.
void bm_matmul(benchmark::State& state, DType t, int64_t batch, int threads) {
    const int64_t n = 4096, rows = 4096;
    const std::vector<uint8_t> w = make_weights(t, rows, n);
    const MatrixView mv{t, rows, n, w.data(), lokal::row_bytes(t, n)};
    const std::vector<float> x = lokal::random_normal(n * batch, 9, 1.0f);
    std::vector<float> y(rows * batch);
    lokal::ThreadPool pool(threads);
    MatmulScratch scratch;
    for (auto _ : state) {
        matmul(mv, x.data(), batch, y.data(), rows, pool, scratch);
        benchmark::ClobberMemory();
    }
    set_rates(state, (double)w.size(), (double)n * rows * batch);
    state.SetLabel(isa_name(active_isa()));
}

// One attend_tiled job as a prompt's last tiled job runs it: 16 tokens x 4 query heads of one
// F16 KV head (head size 64, Llama-3.2-1B's) over the n_keys positions they see. GFLOP/s counts
// the two products (scores and values) over the visible keys.
void bm_attend_tiled(benchmark::State& state, Isa isa, int n_keys) {
    constexpr int kHeadDim = 64, kHeads = 4;
    const int tokens = kTiledRows / kHeads;
    KvCache cache(1, kHeadDim, KvType::F16, n_keys, 16);
    if (!cache.reserve(0, 0, n_keys)) {
        state.SkipWithError("cannot reserve the KV cache");
        return;
    }
    const std::vector<float> v = lokal::random_normal(kHeadDim, 7, 1.0f);
    for (int j = 0; j < n_keys; ++j) {
        const std::vector<float> k = lokal::random_normal(kHeadDim, 1000 + (uint32_t)j, 1.0f);
        cache.store(0, 0, j, k.data(), v.data());
    }
    const std::vector<float> q = lokal::random_normal((size_t)kTiledRows * kHeadDim, 9, 1.0f);
    std::vector<float> out(q.size());
    std::vector<QueryRow> rows;
    double visible = 0;
    for (int r = 0; r < kTiledRows; ++r) {
        const int last = n_keys - tokens + r / kHeads;
        rows.push_back(
            {q.data() + (size_t)r * kHeadDim, out.data() + (size_t)r * kHeadDim, 0, last});
        visible += last + 1;
    }
    AttentionParams p;
    p.head_dim = kHeadDim;
    p.scale = 0.125f;
    std::vector<float> scratch(tiled_scratch_floats(kHeadDim));
    const AttendTiledFn tiled = attention_kernels(KvType::F16, isa).tiled;
    for (auto _ : state) {
        tiled(rows, cache.view(0), 0, p, scratch.data());
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["GFLOP/s"] = benchmark::Counter(
        4 * visible * kHeadDim * (double)state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void register_all() {
    const DType types[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0,  DType::Q4_1,
                           DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K,  DType::Q3_K,
                           DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_XS};
    const Isa isas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Amx};
    for (Isa isa : isas) {
        if (!isa_supported(isa)) continue;
        for (DType t : types) {
            if (!lokal::can_quantize(t)) continue;
            const std::string name =
                std::string("vec_dot/") + std::string(lokal::dtype_name(t)) + "/" + isa_name(isa);
            benchmark::RegisterBenchmark(name.c_str(), bm_vec_dot, t, isa);
        }
    }
    for (Isa isa : isas) {
        if (!isa_supported(isa)) continue;
        for (DType at : {DType::Q8_0, DType::Q8_1, DType::Q8_K}) {
            const std::string name = std::string("quantize_act/") +
                                     std::string(lokal::dtype_name(at)) + "/" + isa_name(isa);
            benchmark::RegisterBenchmark(name.c_str(), bm_quantize, at, isa);
        }
    }
    for (Isa isa : isas) {
        if (!isa_supported(isa)) continue;
        for (DType t : {DType::F16, DType::Q8_0, DType::Q4_0, DType::Q5_0, DType::Q4_K, DType::Q6_K,
                        DType::Q5_K, DType::Q3_K, DType::Q2_K, DType::Q4_1, DType::Q5_1,
                        DType::IQ4_NL, DType::IQ4_XS}) {
            for (bool g : {false, true}) {
                const std::string name = std::string("gemm_256x4096x32/") +
                                         std::string(lokal::dtype_name(t)) + "/" + isa_name(isa) +
                                         (g ? "/gemm" : "/rowwise");
                benchmark::RegisterBenchmark(name.c_str(), bm_gemm, t, isa, g, 4096, 32);
            }
            if (640 % lokal::dtype_info(t).block_elems == 0) {
                // Small models' shapes: gemma3-270m's 640-wide rows, a 64-token prompt.
                const std::string name = std::string("gemm_256x640x64/") +
                                         std::string(lokal::dtype_name(t)) + "/" + isa_name(isa);
                benchmark::RegisterBenchmark(name.c_str(), bm_gemm, t, isa, true, 640, 64);
            }
        }
    }
    for (Isa isa : isas) {
        if (!isa_supported(isa)) continue;
        for (DType t : {DType::F16, DType::BF16, DType::Q4_0, DType::Q5_0, DType::Q8_0, DType::Q4_K,
                        DType::Q6_K, DType::Q5_K, DType::Q3_K, DType::Q2_K, DType::Q4_1,
                        DType::Q5_1, DType::IQ4_NL, DType::IQ4_XS}) {
            for (int64_t batch : {1, 32}) {
                const std::string name = std::string("packed_256x4096/") +
                                         std::string(lokal::dtype_name(t)) + "/" + isa_name(isa) +
                                         "/batch" + std::to_string(batch);
                benchmark::RegisterBenchmark(name.c_str(), bm_packed_gemm, t, isa, 4096, batch);
            }
        }
    }
    for (Isa isa : isas) {
        if (!isa_supported(isa)) continue;
        for (int n_keys : {512, 4096}) {
            const std::string name =
                std::string("attend_tiled/f16/") + isa_name(isa) + "/keys" + std::to_string(n_keys);
            benchmark::RegisterBenchmark(name.c_str(), bm_attend_tiled, isa, n_keys);
        }
    }
    for (DType t : {DType::Q4_K, DType::Q8_0, DType::Q4_0, DType::Q5_0}) {
        for (int64_t batch : {1, 32}) {
            const std::string name = std::string("matmul_4096x4096/") +
                                     std::string(lokal::dtype_name(t)) + "/batch" +
                                     std::to_string(batch) + "/threads2";
            benchmark::RegisterBenchmark(name.c_str(), bm_matmul, t, batch, 2)
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime();
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
