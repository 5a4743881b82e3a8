#include "quant/quantize_file.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/test_support.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/context.h"
#include "model/model.h"
#include "quant/imatrix_collector.h"
#include "quant/imatrix_file.h"

namespace lokal::quant {
namespace {

namespace fs = std::filesystem;
using model::Context;
using model::ContextParams;
using model::Model;

const char* kTinyF32 = "models/tiny-llama-h64-f32.gguf";

std::string temp_path(const std::string& name) {
    return (fs::temp_directory_path() / ("lokal-quant-" + std::to_string(::getpid()) + "-" + name))
        .string();
}

std::vector<float> last_logits(const std::string& path, const std::vector<int32_t>& tokens) {
    auto model = Model::load(path);
    ContextParams cp;
    cp.n_ctx = 64;
    cp.n_threads = 2;
    Context ctx(*model, cp);
    ctx.eval(tokens, true);
    const float* l = ctx.logits((int)tokens.size() - 1);
    return std::vector<float>(l, l + ctx.n_vocab());
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / std::sqrt(aa * bb);
}

TEST(QuantizeFile, QuantizedModelsGiveLogitsCloseToTheF32Model) {
    LOKAL_REQUIRE_TESTDATA(kTinyF32);
    const std::string in = testing::testdata_path(kTinyF32);
    const std::vector<int32_t> tokens = {1, 15, 27, 300, 42, 7, 99, 5};
    const std::vector<float> ref = last_logits(in, tokens);
    struct Case {
        const char* type;
        double min_cosine;  // ~ measured minus a margin; random 64-wide weights amplify errors
    };
    for (const Case& c : {Case{"Q8_0", 0.999}, Case{"Q6_K", 0.99}, Case{"Q4_K_M", 0.97},
                          Case{"IQ4_NL", 0.97}, Case{"Q4_0", 0.95}, Case{"F16", 0.9999}}) {
        const std::string out = temp_path(std::string(c.type) + ".gguf");
        QuantizeOptions o;
        o.threads = 2;
        quantize_file(in, out, *find_file_type(c.type), o);
        const double cs = cosine(ref, last_logits(out, tokens));
        EXPECT_GE(cs, c.min_cosine) << c.type;
        std::printf("  %-6s logits cosine to F32 %.6f\n", c.type, cs);
        fs::remove(out);
    }
}

TEST(QuantizeFile, CopiesMetadataAndSetsTheFileType) {
    LOKAL_REQUIRE_TESTDATA(kTinyF32);
    const std::string in = testing::testdata_path(kTinyF32);
    const std::string out = temp_path("meta.gguf");
    int calls = 0;
    QuantizeOptions o;
    o.progress = [&](uint64_t done, uint64_t total) {
        EXPECT_LE(done, total);
        ++calls;
    };
    const QuantizeResult r = quantize_file(in, out, *find_file_type("Q8_0"), o);
    const auto src = gguf::File::open(in);
    const auto dst = gguf::File::open(out);
    EXPECT_EQ(dst->get_int("general.file_type"), 7);
    EXPECT_EQ(dst->get_int("general.quantization_version"), 2);
    EXPECT_EQ(dst->get_string("general.architecture"), src->get_string("general.architecture"));
    EXPECT_EQ(dst->get_string_array("tokenizer.ggml.tokens")->size(),
              src->get_string_array("tokenizer.ggml.tokens")->size());
    EXPECT_EQ(dst->tensors().size(), src->tensors().size());
    EXPECT_EQ(calls, (int)src->tensors().size());
    EXPECT_EQ(r.tensors.size(), src->tensors().size());
    for (const gguf::TensorInfo& t : dst->tensors()) {
        if (t.dims.size() == 1) {
            EXPECT_EQ(t.type, DType::F32) << t.name;
        }
    }
    EXPECT_LT(r.bytes_out, r.bytes_in / 3);
    fs::remove(out);
}

TEST(QuantizeFile, RefusesToRequantizeUnlessAllowed) {
    LOKAL_REQUIRE_TESTDATA(kTinyF32);
    const std::string q8 = temp_path("q8.gguf"), q4 = temp_path("q4.gguf");
    quantize_file(testing::testdata_path(kTinyF32), q8, *find_file_type("Q8_0"), {});
    try {
        quantize_file(q8, q4, *find_file_type("Q4_0"), {});
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("--allow-requantize"), std::string::npos);
    }
    EXPECT_FALSE(fs::exists(q4));
    QuantizeOptions o;
    o.allow_requantize = true;
    quantize_file(q8, q4, *find_file_type("Q4_0"), o);
    EXPECT_EQ(gguf::File::open(q4)->get_int("general.file_type"), 2);
    fs::remove(q8);
    fs::remove(q4);
}

TEST(QuantizeFile, ImportanceChangesIq4OutputAndIsChecked) {
    LOKAL_REQUIRE_TESTDATA(kTinyF32);
    const std::string in = testing::testdata_path(kTinyF32);
    const auto src = gguf::File::open(in);
    Importance imp;
    for (const gguf::TensorInfo& t : src->tensors()) {
        if (t.dims.size() != 2 || t.name == "token_embd.weight") continue;
        std::vector<float>& v = imp[t.name];
        for (uint64_t i = 0; i < t.cols(); ++i) v.push_back(i % 7 == 0 ? 20.f : 0.2f);
    }
    const std::string plain = temp_path("plain.gguf"), weighted = temp_path("weighted.gguf");
    QuantizeOptions o;
    o.pure = true;
    quantize_file(in, plain, *find_file_type("IQ4_NL"), o);
    o.importance = &imp;
    const QuantizeResult r = quantize_file(in, weighted, *find_file_type("IQ4_NL"), o);
    int used = 0;
    for (const QuantizedTensor& t : r.tensors) used += t.used_importance ? 1 : 0;
    EXPECT_GT(used, 0);
    const auto a = gguf::File::open(plain), b = gguf::File::open(weighted);
    const gguf::TensorInfo* ta = a->find_tensor("blk.0.attn_q.weight");
    const gguf::TensorInfo* tb = b->find_tensor("blk.0.attn_q.weight");
    ASSERT_TRUE(ta && tb);
    EXPECT_NE(std::memcmp(ta->data, tb->data, ta->n_bytes), 0);
    imp["blk.0.attn_q.weight"].pop_back();  // wrong length
    EXPECT_THROW(quantize_file(in, weighted, *find_file_type("IQ4_NL"), o), Error);
    fs::remove(plain);
    fs::remove(weighted);
}

TEST(ImatrixFile, GgufRoundTripGivesMeans) {
    ImatrixStats s;
    s.datasets = {"text.txt"};
    s.chunk_count = 3;
    s.chunk_size = 512;
    s.entries["blk.0.attn_q.weight"] = {{2.f, 4.f, 6.f, 8.f}, {2.f}};
    s.entries["blk.0.ffn_down_exps.weight"] = {{1.f, 1.f, 9.f, 9.f}, {1.f, 0.f}};  // 2 experts
    const std::string path = temp_path("imatrix.gguf");
    write_imatrix(path, s);
    const Importance imp = read_imatrix(path);
    EXPECT_EQ(imp.at("blk.0.attn_q.weight"), (std::vector<float>{1.f, 2.f, 3.f, 4.f}));
    // An expert that saw no rows gets importance 1.
    EXPECT_EQ(imp.at("blk.0.ffn_down_exps.weight"), (std::vector<float>{1.f, 1.f, 1.f, 1.f}));
    const auto f = gguf::File::open(path);
    EXPECT_EQ(f->get_string("general.type"), "imatrix");
    EXPECT_EQ(f->get_int("imatrix.chunk_size"), 512);
    fs::remove(path);
}

TEST(ImatrixFile, ReadsTheLegacyFormatAndRejectsGarbage) {
    const std::string path = temp_path("imatrix.dat");
    {
        std::ofstream out(path, std::ios::binary);
        auto i32 = [&](int32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
        i32(1);
        const std::string name = "blk.0.attn_v.weight";
        i32((int32_t)name.size());
        out.write(name.data(), (std::streamsize)name.size());
        i32(4);  // ncall
        i32(2);  // nval
        const float v[2] = {8.f, 12.f};
        out.write(reinterpret_cast<const char*>(v), sizeof v);
        i32(4);  // chunks
        i32(0);  // dataset name length
    }
    EXPECT_EQ(read_imatrix(path).at("blk.0.attn_v.weight"), (std::vector<float>{2.f, 3.f}));
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << "not an imatrix at all";
    }
    EXPECT_THROW(read_imatrix(path), Error);
    fs::remove(path);
    EXPECT_THROW(read_imatrix(path), Error);
}

TEST(ImatrixCollector, SumsSquaredInputsOfLayerWeightsOnly) {
    LOKAL_REQUIRE_TESTDATA("models/stories260K.gguf");
    const auto f = gguf::File::open(testing::testdata_path("models/stories260K.gguf"));
    const gguf::TensorInfo* q = f->find_tensor("blk.0.attn_q.weight");
    const gguf::TensorInfo* out = f->find_tensor("output.weight");
    ASSERT_TRUE(q && out);
    ImatrixCollector c(*f, false);
    std::vector<float> x(2 * q->cols());
    for (size_t i = 0; i < x.size(); ++i) x[i] = (float)(i % q->cols()) * (i < q->cols() ? 1 : 2);
    EXPECT_TRUE(c.add(q->data, (int64_t)q->cols(), x.data(), 2));
    EXPECT_FALSE(c.add(out->data, (int64_t)out->cols(), x.data(), 1));  // output left out
    EXPECT_FALSE(c.add(x.data(), (int64_t)q->cols(), x.data(), 1));     // not a weight
    const ImatrixStats s = c.stats("t.txt", 1, 2);
    ASSERT_EQ(s.entries.size(), 1u);
    const ImatrixEntry& e = s.entries.at("blk.0.attn_q.weight");
    EXPECT_EQ(e.counts, std::vector<float>{2.f});
    EXPECT_FLOAT_EQ(e.sums[3], 3.f * 3.f + 6.f * 6.f);
    ImatrixCollector with_output(*f, true);
    EXPECT_TRUE(with_output.add(out->data, (int64_t)out->cols(), x.data(), 1));
}

}  // namespace
}  // namespace lokal::quant
