// lokal fit's arithmetic on GGUFs written here with known tensors, the header-only parse it runs
// on a registry's first bytes, and the calibration cache.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "fit/calibration.h"
#include "fit/memory_estimate.h"
#include "fit/speed_estimate.h"
#include "gguf/gguf_writer.h"
#include "kernels/cpu/packed.h"

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

TEST(FitSpeed, GenerationStreamsTheWeightsOnce) {
    const std::vector<uint8_t> bytes = tiny_model(false);
    const auto f = gguf::File::parse(bytes.data(), bytes.size());
    EXPECT_EQ(matrix_types(*f), std::vector<DType>{DType::Q8_0});
    // 1 GB/s, no fixed cost, attention and products at 1 TFLOP/s.
    const std::map<DType, TypeSpeed> speeds = {{DType::Q8_0, {1.0, 1000.0, 0.0}},
                                               {DType::F16, {1.0, 1000.0, 0.0}}};
    const SpeedEstimate s = estimate_speed(*f, speeds, 512, 128);
    const double streamed = (double)(estimate_memory(*f, FitParams{}, 0).weight_bytes -
                                     q8(kEmbd, kVocab) - (kEmbd + kLayers * 2 * kEmbd) * 4);
    const double attention = 4.0 * kHeads * (kEmbd / kHeads) * kLayers * 128 / 2 / 1e12;
    EXPECT_NEAR(1.0 / s.tg_tokens_per_s, streamed / 1e9 + attention, 1e-12);
    EXPECT_GT(s.pp_tokens_per_s, s.tg_tokens_per_s);
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
