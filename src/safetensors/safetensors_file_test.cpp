#include "safetensors/safetensors_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "base/error.h"
#include "safetensors/model_dir.h"
#include "safetensors/safetensors_writer.h"

namespace lokal::safetensors {
namespace {

std::vector<uint8_t> small_file() {
    const std::vector<float> a = {1, 2, 3, 4, 5, 6};
    const std::vector<float> b = {0.5f, -0.25f};
    return safetensors_bytes({float_tensor("a.weight", {2, 3}, a),
                              float_tensor("b.bias", {2}, b, SafeDType::BF16)},
                             {{"format", "pt"}});
}

// A hand-written header followed by `data_bytes` zero bytes.
std::vector<uint8_t> with_header(const std::string& json, size_t data_bytes = 16) {
    std::vector<uint8_t> out(8);
    for (int i = 0; i < 8; ++i) out[i] = uint8_t(uint64_t(json.size()) >> (8 * i));
    out.insert(out.end(), json.begin(), json.end());
    out.resize(out.size() + data_bytes);
    return out;
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
    try {
        File::parse(bytes.data(), bytes.size(), "t.safetensors");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

TEST(Safetensors, ReadsWhatTheWriterWrites) {
    const auto bytes = small_file();
    auto f = File::parse(bytes.data(), bytes.size());
    ASSERT_EQ(f->tensors().size(), 2u);
    const Tensor* a = f->find("a.weight");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->shape, (std::vector<uint64_t>{2, 3}));
    EXPECT_EQ(a->n_elements, 6u);
    EXPECT_EQ(to_float(*a), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    const Tensor* b = f->find("b.bias");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->type, SafeDType::BF16);
    EXPECT_EQ(to_float(*b), (std::vector<float>{0.5f, -0.25f}));
    EXPECT_EQ(f->metadata().at("format"), "pt");
    EXPECT_EQ(f->find("missing"), nullptr);
}

TEST(Safetensors, HostileHeadersAreOneClearErrorEach) {
    EXPECT_NE(parse_error({1, 2, 3}).find("shorter than its header length"), std::string::npos);
    std::vector<uint8_t> huge(16, 0);
    huge[5] = 0x10;  // 2^44 bytes of header
    EXPECT_NE(parse_error(huge).find("over the 100 MB limit"), std::string::npos);
    std::vector<uint8_t> past = with_header("{}", 0);
    past[0] = 40;
    EXPECT_NE(parse_error(past).find("past the end of the file"), std::string::npos);
    EXPECT_NE(parse_error(with_header("{\"a\": ")).find("not valid JSON"), std::string::npos);
    EXPECT_NE(parse_error(with_header("[1, 2]")).find("not a JSON object"), std::string::npos);
    EXPECT_NE(parse_error(with_header(R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})"))
                  .find("unknown dtype 'F33'"),
              std::string::npos);
    EXPECT_NE(parse_error(with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}})"))
                  .find("need 12 bytes but data_offsets give 4"),
              std::string::npos);
    EXPECT_NE(parse_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})"))
                  .find("end before they begin"),
              std::string::npos);
    EXPECT_NE(parse_error(with_header(R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})"))
                  .find("past the end of the file"),
              std::string::npos);
    EXPECT_NE(parse_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})"))
                  .find("overlap"),
              std::string::npos);
    EXPECT_NE(parse_error(with_header(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})"))
                  .find("not whole numbers"),
              std::string::npos);
    EXPECT_NE(parse_error(with_header(
                              R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],)"
                              R"("data_offsets":[0,8]}})"))
                  .find("shape too large"),
              std::string::npos);
    EXPECT_NE(parse_error(with_header(R"({"__metadata__":{"k":1}})")).find("not a string"),
              std::string::npos);
    EXPECT_NE(parse_error(with_header(R"({"a":{"dtype":"F32","shape":[2]}})"))
                  .find("no data_offsets"),
              std::string::npos);
}

// Every truncation of a valid file is rejected cleanly (the data section is needed in full).
TEST(Safetensors, EveryTruncationIsAnError) {
    const auto bytes = small_file();
    for (size_t n = 0; n < bytes.size(); ++n) {
        const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + (ptrdiff_t)n);
        EXPECT_NE(parse_error(cut), "") << "length " << n;
    }
}

// Random byte flips: the reader parses or throws lokal::Error, never crashes (run under ASan);
// when it parses, every tensor's bytes lie inside the buffer.
TEST(Safetensors, RandomByteFlipsNeverCrash) {
    const auto good = small_file();
    std::mt19937 rng(7);
    int parsed = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        auto bytes = good;
        const int flips = 1 + (int)(rng() % 4);
        for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] ^= uint8_t(1u << (rng() % 8));
        try {
            auto f = File::parse(bytes.data(), bytes.size());
            ++parsed;
            for (const Tensor& t : f->tensors()) {
                ASSERT_GE(t.data, bytes.data());
                ASSERT_LE(t.data + t.n_bytes, bytes.data() + bytes.size());
            }
        } catch (const Error&) {
        }
    }
    EXPECT_GT(parsed, 0);  // flips in the data section leave valid files
}

class SafetensorsDir : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("lokal-st-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    void write_text(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name) << text;
    }
    std::filesystem::path dir_;
};

TEST_F(SafetensorsDir, ShardedIndexJoinsTheShards) {
    const std::vector<float> v = {1, 2};
    write_safetensors((dir_ / "model-00001-of-00002.safetensors").string(),
                      {float_tensor("x", {2}, v)});
    write_safetensors((dir_ / "model-00002-of-00002.safetensors").string(),
                      {float_tensor("y", {1, 2}, v)});
    write_text("model.safetensors.index.json",
               R"({"metadata":{},"weight_map":{"x":"model-00001-of-00002.safetensors",)"
               R"("y":"model-00002-of-00002.safetensors"}})");
    const auto w = ModelWeights::open(dir_);
    ASSERT_EQ(w.tensors().size(), 2u);
    ASSERT_NE(w.find("y"), nullptr);
    EXPECT_EQ(w.find("y")->shape, (std::vector<uint64_t>{1, 2}));
}

TEST_F(SafetensorsDir, MissingShardsAndTensorsAreErrors) {
    const std::vector<float> v = {1, 2};
    write_safetensors((dir_ / "a.safetensors").string(), {float_tensor("x", {2}, v)});
    write_text("model.safetensors.index.json",
               R"({"weight_map":{"x":"a.safetensors","y":"b.safetensors"}})");
    try {
        ModelWeights::open(dir_);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("shard 'b.safetensors'"), std::string::npos);
        EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    }
    write_text("model.safetensors.index.json", R"({"weight_map":{"x":"a.safetensors","y":"a.safetensors"}})");
    EXPECT_THROW(ModelWeights::open(dir_), Error);
    write_text("model.safetensors.index.json", R"({"weight_map":{"x":"../a.safetensors"}})");
    EXPECT_THROW(ModelWeights::open(dir_), Error);
    std::filesystem::remove(dir_ / "model.safetensors.index.json");
    std::filesystem::remove(dir_ / "a.safetensors");
    try {
        ModelWeights::open(dir_);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    }
}

}  // namespace
}  // namespace lokal::safetensors
