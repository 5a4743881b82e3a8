// Binding requires exactly the block parts an architecture states (ModelConfig::parts): a file
// that lacks a required tensor, or carries one its architecture does not have, fails to load
// with an error naming the tensor instead of computing something else.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "base/error.h"
#include "base/test_support.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "model/model.h"

namespace lokal::model {
namespace {

// A copy of a test model with its tensors filtered and, optionally, one more added.
std::string rewrite(const std::string& model_rel, const std::string& out_name,
                    const std::function<bool(const std::string&)>& keep,
                    const std::string& extra_vector = {}) {
    const auto in = gguf::File::open(testing::testdata_path(model_rel));
    gguf::Writer w;
    for (const auto& [key, value] : in->metadata()) w.set_value(key, value);
    uint64_t n_embd = 0;
    for (const gguf::TensorInfo& t : in->tensors()) {
        if (t.name == "token_embd.weight") n_embd = t.dims[0];
        if (keep(t.name)) w.add_tensor_ref(t.name, t.type, t.dims, t.data, t.n_bytes);
    }
    if (!extra_vector.empty()) w.add_random_tensor(extra_vector, DType::F32, {n_embd}, 7);
    std::string path = (std::filesystem::temp_directory_path() / out_name).string();
    w.write_file(path);
    return path;
}

std::string load_error(const std::string& path) {
    try {
        Model::load(path);
    } catch (const Error& e) {
        std::filesystem::remove(path);
        return e.what();
    }
    std::filesystem::remove(path);
    return "loaded";
}

TEST(BlockParts, Gemma3WithoutItsQueryNormsIsRefusedNamingTheTensor) {
    LOKAL_REQUIRE_TESTDATA("models/tiny-gemma3-q4_k_m.gguf");
    const std::string path =
        rewrite("models/tiny-gemma3-q4_k_m.gguf", "lokal-gemma3-no-qnorm.gguf",
                [](const std::string& n) { return n != "blk.0.attn_q_norm.weight"; });
    EXPECT_NE(load_error(path).find("blk.0.attn_q_norm.weight"), std::string::npos);
}

TEST(BlockParts, Qwen2WithoutItsBiasesIsRefused) {
    LOKAL_REQUIRE_TESTDATA("models/tiny-qwen2s-q4_k_m.gguf");
    const std::string path = rewrite("models/tiny-qwen2s-q4_k_m.gguf", "lokal-qwen2-no-bias.gguf",
                                     [](const std::string& n) { return n != "blk.1.attn_k.bias"; });
    EXPECT_NE(load_error(path).find("blk.1.attn_k.bias"), std::string::npos);
}

TEST(BlockParts, ATensorTheArchitectureLacksIsRefused) {
    LOKAL_REQUIRE_TESTDATA("models/tiny-llama-q4_k_m.gguf");
    const std::string path = rewrite(
        "models/tiny-llama-q4_k_m.gguf", "lokal-llama-post-norm.gguf",
        [](const std::string&) { return true; }, "blk.0.post_attention_norm.weight");
    const std::string error = load_error(path);
    EXPECT_NE(error.find("blk.0.post_attention_norm.weight"), std::string::npos) << error;
    EXPECT_NE(error.find("llama"), std::string::npos) << error;
}

TEST(BlockParts, TheUnchangedFilesLoad) {
    LOKAL_REQUIRE_TESTDATA("models/tiny-gemma3-q4_k_m.gguf");
    const std::string path = rewrite("models/tiny-gemma3-q4_k_m.gguf", "lokal-gemma3-same.gguf",
                                     [](const std::string&) { return true; });
    EXPECT_EQ(load_error(path), "loaded");
}

}  // namespace
}  // namespace lokal::model
