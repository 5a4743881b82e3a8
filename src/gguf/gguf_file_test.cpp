#include "gguf/gguf_file.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "base/test_support.h"

namespace lokal::gguf {

TEST(GgufFile, ReadsStories260K) {
    LOKAL_REQUIRE_TESTDATA("models/stories260K.gguf");
    auto f = File::open(testing::testdata_path("models/stories260K.gguf"));
    EXPECT_EQ(f->get_string("general.architecture"), "llama");
    EXPECT_EQ(f->get_int("llama.embedding_length"), 64);
    EXPECT_EQ(f->get_int("llama.block_count"), 5);
    const auto* tokens = f->get_string_array("tokenizer.ggml.tokens");
    ASSERT_NE(tokens, nullptr);
    EXPECT_EQ(tokens->size(), 512u);
    const TensorInfo* emb = f->find_tensor("token_embd.weight");
    ASSERT_NE(emb, nullptr);
    EXPECT_EQ(emb->cols(), 64u);
    EXPECT_EQ(emb->rows(), 512u);
    EXPECT_EQ(emb->type, DType::F32);
}

TEST(GgufFile, RejectsV1WithClearMessage) {
    LOKAL_REQUIRE_TESTDATA("models/stories260K-gguf-v1.gguf");
    try {
        File::open(testing::testdata_path("models/stories260K-gguf-v1.gguf"));
        FAIL() << "v1 file loaded";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("GGUF v1 is not supported"), std::string::npos);
    }
}

TEST(GgufFile, RejectsNonGguf) {
    const uint8_t junk[] = {'G', 'G', 'M', 'L', 1, 0, 0, 0};
    EXPECT_THROW(File::parse(junk, sizeof junk), Error);
    EXPECT_THROW(File::parse(junk, 2), Error);
}

TEST(GgufFile, MissingFileNamesPath) {
    try {
        File::open("/nonexistent/model.gguf");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
    }
}

}  // namespace lokal::gguf
