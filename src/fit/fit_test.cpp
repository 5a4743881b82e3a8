// lokal fit's arithmetic on GGUFs written here with known tensors, the header-only parse it runs
// on a registry's first bytes, and the calibration cache.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "base/error.h"
#include "base/test_support.h"
#include "fit/cache_residency.h"
#include "fit/calibration.h"
#include "fit/memory_estimate.h"
#include "fit/speed_estimate.h"
#include "fit/synthetic_model.h"
#include "gguf/gguf_writer.h"
#include "kernels/cpu/packed.h"
#include "tensor/dequantize.h"

namespace lokal::fit {
namespace {

constexpr int kEmbd = 64, kLayers = 2, kHeads = 4, kKvHeads = 2, kFf = 128, kVocab = 96;

// A llama-shaped model: F32 norms, Q8_0 matrices, an untied Q8_0 output (or none: tied).
std::vector<uint8_t> tiny_model(bool tied) {
    gguf::Writer w;
    w.set_string("general.architecture", "llama");
    w.set_u32("llama.embedding_length", kEmbd);
    w.set_u32("llama.block_count", kLayers);
    w.set_u32("llama.attention.head_count", kHeads);
    w.set_u32("llama.attention.head_count_kv", kKvHeads);
    w.set_u32("llama.feed_forward_length", kFf);
    w.set_u32("llama.context_length", 1000);
    std::vector<std::string> tokens;
    tokens.reserve(kVocab);
    for (int i = 0; i < kVocab; ++i) tokens.push_back("t" + std::to_string(i));
    w.set_string_array("tokenizer.ggml.tokens", tokens);
    const uint64_t E = kEmbd, KV = (uint64_t)kKvHeads * (kEmbd / kHeads);
    w.add_random_tensor("token_embd.weight", DType::Q8_0, {E, (uint64_t)kVocab}, 1);
    if (!tied) w.add_random_tensor("output.weight", DType::Q8_0, {E, (uint64_t)kVocab}, 2);
    w.add_random_tensor("output_norm.weight", DType::F32, {E}, 3);
    for (int l = 0; l < kLayers; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        w.add_random_tensor(b + "attn_norm.weight", DType::F32, {E}, 4);
        w.add_random_tensor(b + "ffn_norm.weight", DType::F32, {E}, 5);
        w.add_random_tensor(b + "attn_q.weight", DType::Q8_0, {E, E}, 6);
        w.add_random_tensor(b + "attn_k.weight", DType::Q8_0, {E, KV}, 7);
        w.add_random_tensor(b + "attn_v.weight", DType::Q8_0, {E, KV}, 8);
        w.add_random_tensor(b + "attn_output.weight", DType::Q8_0, {E, E}, 9);
        w.add_random_tensor(b + "ffn_gate.weight", DType::Q8_0, {E, (uint64_t)kFf}, 10);
        w.add_random_tensor(b + "ffn_up.weight", DType::Q8_0, {E, (uint64_t)kFf}, 11);
        w.add_random_tensor(b + "ffn_down.weight", DType::Q8_0, {(uint64_t)kFf, E}, 12);
    }
    return w.to_bytes();
}

uint64_t q8(uint64_t cols, uint64_t rows) {
    return cols / 32 * 34 * rows;
}

// A matrix as loaded: its packed copy where the CPU repacks it.
uint64_t loaded_q8(uint64_t cols, uint64_t rows) {
    if (kernels::repack_enabled() && kernels::can_pack(DType::Q8_0, (int64_t)rows, (int64_t)cols)) {
        return kernels::packed_group_bytes(DType::Q8_0, (int64_t)cols) * (rows / 8);
    }
    return q8(cols, rows);
}

TEST(FitMemory, ExactBytesOfAKnownModel) {
    const std::vector<uint8_t> bytes = tiny_model(/*tied=*/false);
    const auto f = gguf::File::parse(bytes.data(), bytes.size());
    FitParams p;
    p.n_ctx = 100;
    p.parallel = 2;
    const MemoryEstimate e = estimate_memory(*f, p, 1000);

    const uint64_t E = kEmbd, KV = 32, F = kFf, V = kVocab, L = kLayers;
    const uint64_t layer_q8 = q8(E, E) * 2 + q8(E, KV) * 2 + q8(E, F) * 2 + q8(F, E);
    const uint64_t norms = (E + L * 2 * E) * 4;
    EXPECT_EQ(e.weight_bytes, 2 * q8(E, V) + L * layer_q8 + norms);
    ASSERT_EQ(e.by_type.size(), 2u);
    EXPECT_EQ(e.by_type[0].type, DType::Q8_0);
    EXPECT_EQ(e.by_type[0].tensors, 2 + 7 * kLayers);
    EXPECT_EQ(e.by_type[1].type, DType::F32);
    EXPECT_EQ(e.by_type[1].bytes, norms);
    // The untied embedding stays in the file; norms are read into floats (file pages + copy).
    EXPECT_EQ(e.embedding_bytes, q8(E, V));
    const uint64_t layer_loaded =
        loaded_q8(E, E) * 2 + loaded_q8(E, KV) * 2 + loaded_q8(E, F) * 2 + loaded_q8(F, E);
    EXPECT_EQ(e.resident_weight_bytes, loaded_q8(E, V) + L * layer_loaded + 2 * norms);

    // 200 positions in pages of 16 -> 208; keys and values, f16, every layer.
    EXPECT_EQ(e.kv_rows, 208);
    EXPECT_EQ(e.kv_bytes, 2ull * 208 * KV * 2 * L);
    // x, xn, q|k|v, attention, gate|up, activation: n_batch (= n_ctx, under 512) rows.
    EXPECT_EQ(e.n_batch, 100);
    EXPECT_EQ(e.activation_bytes, (2 * E + (E + 2 * KV) + E + 3 * F) * 100 * 4);
    EXPECT_EQ(e.logits_bytes, V * 4);
    EXPECT_EQ(e.runtime_bytes, 1000u);
    // 200 positions each fault in at most 64 KiB of the untied embedding's file pages.
    EXPECT_EQ(e.embedding_resident_bytes, std::min<uint64_t>(q8(E, V), 200ull << 16));
    EXPECT_EQ(e.peak_rss, e.resident_weight_bytes + e.embedding_resident_bytes + e.kv_bytes +
                              e.compute_bytes() + e.metadata_bytes + e.runtime_bytes);

    p.kv_type = kernels::KvType::Q8_0;  // 32 elements in 34 bytes
    EXPECT_EQ(estimate_memory(*f, p, 0).kv_bytes, 2ull * 208 * (KV / 32 * 34) * L);
    p.kv_type = kernels::KvType::F32;
    EXPECT_EQ(estimate_memory(*f, p, 0).kv_bytes, 2ull * 208 * KV * 4 * L);
}

TEST(FitMemory, TiedOutputIsResidentOnce) {
    const std::vector<uint8_t> bytes = tiny_model(/*tied=*/true);
    const auto f = gguf::File::parse(bytes.data(), bytes.size());
    const MemoryEstimate e = estimate_memory(*f, FitParams{}, 0);
    EXPECT_EQ(e.embedding_bytes, 0u);
    EXPECT_EQ(e.embedding_resident_bytes, 0u);
    EXPECT_EQ(e.n_ctx, 1000);  // the training context (under 4096)
    EXPECT_EQ(e.n_batch, 512);
}

TEST(FitMemory, HeaderAloneGivesTheSameEstimate) {
    const std::vector<uint8_t> bytes = tiny_model(false);
    const auto whole = gguf::File::parse(bytes.data(), bytes.size());
    const size_t header = whole->data_offset();
    const auto head = gguf::File::parse_header(bytes.data(), header, bytes.size());
    EXPECT_EQ(head->tensors().size(), whole->tensors().size());
    EXPECT_EQ(head->tensors()[0].data, nullptr);
    const MemoryEstimate a = estimate_memory(*whole, FitParams{}, 0);
    const MemoryEstimate b = estimate_memory(*head, FitParams{}, 0);
    EXPECT_EQ(a.peak_rss, b.peak_rss);
    EXPECT_EQ(a.weight_bytes, b.weight_bytes);
    // Too few bytes for the header: an error (the caller reads more).
    EXPECT_THROW(gguf::File::parse_header(bytes.data(), header / 2, bytes.size()), Error);
    // A header whose tensors run past the stated file size is still refused.
    EXPECT_THROW(gguf::File::parse_header(bytes.data(), header, header + 10), Error);
}

TEST(FitSpeed, RowWorkOfAKnownModel) {
    const std::vector<uint8_t> bytes = tiny_model(false);
    const auto f = gguf::File::parse(bytes.data(), bytes.size());
    const RowWork w = row_work(*f);
    const int hd = kEmbd / kHeads;
    EXPECT_DOUBLE_EQ(w.norm, 2.0 * kEmbd);  // attn_norm and ffn_norm
    EXPECT_DOUBLE_EQ(w.heads_norm, 0.0);
    EXPECT_DOUBLE_EQ(w.glu, kFf);
    EXPECT_DOUBLE_EQ(w.rope, (double)(kHeads + kKvHeads) * hd);
}

TEST(FitSpeed, ExactPredictionOfAKnownModel) {
    const std::vector<uint8_t> bytes = tiny_model(false);
    const auto f = gguf::File::parse(bytes.data(), bytes.size());
    EXPECT_EQ(matrix_types(*f), std::vector<DType>{DType::Q8_0});
    // 1 GB/s, products at 1 TFLOP/s, no fixed cost.
    const std::map<DType, TypeSpeed> speeds = {{DType::Q8_0, {1.0, 1000.0, 0.0}}};
    OpSpeed ops;
    ops.attn_gflops = 500;
    ops.attn_key_ns = 2;
    ops.norm_ns = 1;
    ops.glu_ns = 3;
    ops.geglu_ns = 100;  // llama: not used
    ops.rope_ns = 0.5;
    const int threads = 2;
    const SpeedEstimate s = estimate_speed(*f, speeds, ops, threads, 512, 128);

    const double E = kEmbd, KV = 32, F = kFf, L = kLayers, hd = (double)kEmbd / kHeads;
    const double streamed = (double)(estimate_memory(*f, FitParams{}, 0).weight_bytes -
                                     q8(kEmbd, kVocab) - (kEmbd + kLayers * 2 * kEmbd) * 4);
    // A generated token: the weights once, its row ops on one thread, and attention over
    // 1..128 keys a head (4 x 16 x keys stays under the split threshold: one thread), averaged.
    const double row_ns = 2 * E * 1 + F * 3 + (kHeads + kKvHeads) * hd * 0.5;
    const double gen_attn_ns = kHeads * (128.0 * 129 / 2) * 2 / 128;
    EXPECT_NEAR(1.0 / s.tg_tokens_per_s, streamed / 1e9 + L * (row_ns + gen_attn_ns) * 1e-9, 1e-15);
    // The prompt: every product but the output's at 1 TFLOP/s, the output one matvec, whole-row
    // norms on one thread, the other row ops split over 2, causal attention at 500 GFLOP/s.
    const double products = L * 2 * (2 * E * E + 2 * E * KV + 3 * E * F) * 512 / 1e12;
    const double rows = L * 512 * (2 * E * 1 + (F * 3 + (kHeads + kKvHeads) * hd * 0.5) / 2);
    const double attention = 4.0 * kHeads * hd * L * (512.0 * 513 / 2) / 500e9;
    EXPECT_NEAR(512.0 / s.pp_tokens_per_s,
                products + (double)q8(kEmbd, kVocab) / 1e9 + rows * 1e-9 + attention, 1e-15);

    // Heads too large for the tiled kernel: prompt attention row by row over the threads.
    ops.attn_gflops = 0;
    const SpeedEstimate r = estimate_speed(*f, speeds, ops, threads, 512, 128);
    const double by_rows = L * kHeads * (512.0 * 513 / 2) * 2e-9 / 2;
    EXPECT_NEAR(512.0 / r.pp_tokens_per_s,
                products + (double)q8(kEmbd, kVocab) / 1e9 + rows * 1e-9 + by_rows, 1e-15);
}

TEST(FitCacheResidency, StreamedMatricesLeaveOutAnUntiedEmbedding) {
    const std::vector<uint8_t> bytes = tiny_model(false);
    const auto f = gguf::File::parse(bytes.data(), bytes.size());
    const std::vector<MatrixShape> shapes = streamed_matrices(*f);
    // Every layer's seven matrices and the output; the untied embedding is only looked up.
    ASSERT_EQ(shapes.size(), (size_t)kLayers * 7 + 1);
    EXPECT_EQ(std::count_if(shapes.begin(), shapes.end(), [](const auto& m) { return m.output; }),
              1);
    EXPECT_EQ(stays_in_cache(shapes), last_level_cache_bytes() > 0);  // a few KiB of weights
}

TEST(FitSynthetic, CopyHasTheModelsHeaderAndRandomWeights) {
    const std::vector<uint8_t> bytes = tiny_model(false);
    const auto f = gguf::File::parse(bytes.data(), bytes.size());
    const auto path = std::filesystem::temp_directory_path() /
                      ("lokal-fit-synthetic-" + std::to_string(::getpid()) + ".gguf");
    write_synthetic_model(*f, path.string());
    const auto copy = gguf::File::open(path.string());
    std::filesystem::remove(path);

    ASSERT_EQ(copy->metadata().size(), f->metadata().size());
    for (size_t i = 0; i < f->metadata().size(); ++i) {
        EXPECT_EQ(copy->metadata()[i].first, f->metadata()[i].first);
    }
    EXPECT_EQ(*copy->get_string_array("tokenizer.ggml.tokens"),
              *f->get_string_array("tokenizer.ggml.tokens"));
    EXPECT_EQ(copy->get_int("llama.feed_forward_length"), kFf);
    ASSERT_EQ(copy->tensors().size(), f->tensors().size());
    for (size_t i = 0; i < f->tensors().size(); ++i) {
        const gguf::TensorInfo &a = f->tensors()[i], &b = copy->tensors()[i];
        EXPECT_EQ(b.name, a.name);
        EXPECT_EQ(b.type, a.type);
        EXPECT_EQ(b.dims, a.dims);
        // Finite weights, not zeros; one-dimensional F32 tensors (norms) positive.
        std::vector<float> row(b.cols());
        dequantize_row(b.type, b.data, row.data(), (int64_t)b.cols());
        const bool finite =
            std::all_of(row.begin(), row.end(), [](float x) { return std::isfinite(x); });
        EXPECT_TRUE(finite) << b.name;
        EXPECT_TRUE(std::any_of(row.begin(), row.end(), [](float x) { return x != 0; })) << b.name;
        if (b.dims.size() == 1) {
            EXPECT_TRUE(std::all_of(row.begin(), row.end(), [](float x) { return x >= 0.5f; }))
                << b.name;
        }
    }
}

TEST(FitSynthetic, TimesASharedModelWholeWithoutItsWeights) {
    LOKAL_REQUIRE_TESTDATA("models/stories260K.gguf");
    const auto f = gguf::File::open(testing::testdata_path("models/stories260K.gguf"));
    const ModelTimes t = time_synthetic_model(*f, 2, 64, 8);
    EXPECT_GT(t.prompt_seconds, 0);
    EXPECT_GT(t.token_seconds, 0);
    EXPECT_LT(t.token_seconds, t.prompt_seconds * 64);  // a token is no slower than 64 of them
}

TEST(FitSynthetic, CopyOfTheFirstLayersKeepsTheirTensorsAndCutsPerLayerArrays) {
    std::vector<uint8_t> bytes = tiny_model(false);
    const auto whole = gguf::File::parse(bytes.data(), bytes.size());
    gguf::Writer w;
    for (const auto& [key, value] : whole->metadata()) w.set_value(key, value);
    const int32_t per_layer[kLayers] = {7, 8}, other[3] = {1, 2, 3};
    w.set_i32_array("llama.one_per_layer", per_layer);  // an entry a layer: cut with the layers
    w.set_i32_array("llama.not_per_layer", other);
    for (const gguf::TensorInfo& t : whole->tensors()) {
        w.add_tensor(t.name, t.type, t.dims, std::vector<uint8_t>(t.data, t.data + t.n_bytes));
    }
    bytes = w.to_bytes();
    const auto f = gguf::File::parse(bytes.data(), bytes.size());
    const auto path = std::filesystem::temp_directory_path() /
                      ("lokal-fit-layers-" + std::to_string(::getpid()) + ".gguf");
    write_synthetic_model(*f, path.string(), 1);
    const auto copy = gguf::File::open(path.string());
    std::filesystem::remove(path);

    EXPECT_EQ(header_config(*f).n_layer, kLayers);
    EXPECT_EQ(header_config(*copy).n_layer, 1);
    EXPECT_EQ(copy->get_int_array("llama.one_per_layer")->size(), 1u);
    EXPECT_EQ(copy->get_int_array("llama.not_per_layer")->size(), 3u);
    uint64_t kept = 0;
    for (const gguf::TensorInfo& t : f->tensors()) {
        const bool in_copy = copy->find_tensor(t.name) != nullptr;
        EXPECT_EQ(in_copy, !t.name.starts_with("blk.1.")) << t.name;
        if (in_copy) kept += t.n_bytes;
    }
    EXPECT_EQ(synthetic_model_bytes(*f, 1), kept);
    EXPECT_GT(synthetic_model_bytes(*f), kept);
}

TEST(FitSynthetic, LayersExtrapolateFromTwoCopies) {
    // Copies of 1 and 5 layers: 3 s outside the layers (prompt), 2 s a layer; 0.5 s and 0.25 s
    // (a token).
    const ModelTimes few{3 + 2, 0.5 + 0.25}, more{3 + 5 * 2, 0.5 + 5 * 0.25};
    const ModelTimes all = extrapolate_layers(few, 1, more, 5, 16);
    EXPECT_DOUBLE_EQ(all.prompt_seconds, 3 + 16 * 2);
    EXPECT_DOUBLE_EQ(all.token_seconds, 0.5 + 16 * 0.25);
    // A noisy pair whose larger copy ran faster costs no less than the smaller copy.
    const ModelTimes noisy = extrapolate_layers(more, 1, few, 5, 16);
    EXPECT_DOUBLE_EQ(noisy.prompt_seconds, more.prompt_seconds);
}

TEST(FitSynthetic, TimesACopyOfASharedModelsFirstLayers) {
    LOKAL_REQUIRE_TESTDATA("models/stories260K.gguf");
    const auto f = gguf::File::open(testing::testdata_path("models/stories260K.gguf"));
    ASSERT_GT(header_config(*f).n_layer, 2);
    const ModelTimes t = time_synthetic_model(*f, 2, 64, 8, 2);
    EXPECT_GT(t.prompt_seconds, 0);
    EXPECT_GT(t.token_seconds, 0);
}

TEST(FitCalibration, ModelTimesAreCachedPerModelShape) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("lokal-fit-model-" + std::to_string(::getpid()) + ".json");
    std::filesystem::remove(path);
    int calls = 0;
    const MeasureModel fake = [&](const gguf::File&, int threads) {
        ++calls;
        return ModelTimes{2e-3, 1e-4 * threads};
    };
    const std::vector<uint8_t> untied = tiny_model(false), tied = tiny_model(true);
    const auto a = gguf::File::parse(untied.data(), untied.size());
    const auto b = gguf::File::parse(tied.data(), tied.size());
    int measured = -1;
    const ModelTimes first = calibrate_model(*a, 2, path, &measured, fake);
    EXPECT_EQ(measured, 1);
    const ModelTimes again = calibrate_model(*a, 2, path, &measured, fake);
    EXPECT_EQ(measured, 0);
    EXPECT_EQ(calls, 1);
    EXPECT_DOUBLE_EQ(again.token_seconds, first.token_seconds);
    EXPECT_DOUBLE_EQ(again.prompt_seconds, first.prompt_seconds);
    calibrate_model(*b, 2, path, &measured, fake);  // another model's shape: another entry
    EXPECT_EQ(measured, 1);
    calibrate_model(*a, 1, path, &measured, fake);  // another thread count
    EXPECT_EQ(measured, 1);
    EXPECT_EQ(calls, 3);
    std::filesystem::remove(path);
}

TEST(FitCalibration, OpsAreCachedAndOldEntriesRemeasured) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("lokal-fit-ops-" + std::to_string(::getpid()) + ".json");
    std::filesystem::remove(path);
    int calls = 0;
    const MeasureOps fake = [&](int head_dim, int threads) {
        ++calls;
        OpSpeed s;
        s.attn_gflops = head_dim + threads;
        s.rope_ns = 0.25;
        return s;
    };
    int measured = -1;
    const Measure fake_type = [](DType, int) { return TypeSpeed{1.0, 2.0, 3.0}; };
    // A cache written before ops were calibrated: its types stay, the ops are measured.
    calibrate({DType::Q4_0}, 2, path, &measured, fake_type);
    OpSpeed a = calibrate_ops(64, 2, path, &measured, fake);
    EXPECT_EQ(measured, 1);
    EXPECT_DOUBLE_EQ(a.attn_gflops, 66.0);
    calibrate({DType::Q4_0}, 2, path, &measured, fake_type);
    EXPECT_EQ(measured, 0);
    // Cached now; another head size is another entry.
    OpSpeed b = calibrate_ops(64, 2, path, &measured, fake);
    EXPECT_EQ(measured, 0);
    EXPECT_EQ(calls, 1);
    EXPECT_DOUBLE_EQ(b.rope_ns, 0.25);
    calibrate_ops(128, 2, path, &measured, fake);
    EXPECT_EQ(measured, 1);
    // An entry missing a field (an older lokal's) is measured again.
    {
        std::ifstream in(path);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const size_t at = text.find("\"rope_ns\"");
        ASSERT_NE(at, std::string::npos);
        text.replace(at, 9, "\"old_key\"");
        std::ofstream(path) << text;
    }
    int m64 = -1, m128 = -1;
    calibrate_ops(64, 2, path, &m64, fake);
    calibrate_ops(128, 2, path, &m128, fake);
    EXPECT_EQ(m64 + m128, 1);  // only the entry that lost its field
    EXPECT_EQ(calls, 3);
    std::filesystem::remove(path);
}

TEST(FitCalibration, MeasuresOnceThenReadsTheCache) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("lokal-fit-cal-" + std::to_string(::getpid()) + ".json");
    std::filesystem::remove(path);
    int calls = 0;
    const Measure fake = [&](DType t, int threads) {
        ++calls;
        return TypeSpeed{(double)(int)t + threads, 10.0 * ((int)t + 1), 1e-6};
    };
    int measured = -1;
    auto a = calibrate({DType::Q4_0, DType::F16}, 2, path, &measured, fake);
    EXPECT_EQ(measured, 2);
    EXPECT_EQ(calls, 2);
    auto b = calibrate({DType::Q4_0, DType::F16}, 2, path, &measured, fake);
    EXPECT_EQ(measured, 0);
    EXPECT_EQ(calls, 2);
    EXPECT_DOUBLE_EQ(b[DType::Q4_0].matvec_gbs, a[DType::Q4_0].matvec_gbs);
    EXPECT_DOUBLE_EQ(b[DType::F16].gemm_gflops, 20.0);
    // Another thread count is another machine entry; a new type is measured alone.
    calibrate({DType::Q4_0, DType::Q8_0}, 2, path, &measured, fake);
    EXPECT_EQ(measured, 1);
    calibrate({DType::Q4_0}, 1, path, &measured, fake);
    EXPECT_EQ(measured, 1);
    // A damaged cache is measured over, not trusted.
    std::ofstream(path) << "{not json";
    calibrate({DType::Q4_0}, 2, path, &measured, fake);
    EXPECT_EQ(measured, 1);
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace lokal::fit
