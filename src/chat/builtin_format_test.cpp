#include "chat/builtin_format.h"

#include <gtest/gtest.h>

#include "gguf/gguf_writer.h"

namespace lokal::chat {
namespace {

ChatFamily family_of_template(const std::string& tmpl) {
    gguf::Writer w;
    w.set_string("general.architecture", "llama");
    if (!tmpl.empty()) w.set_string("tokenizer.chat_template", tmpl);
    const std::vector<uint8_t> bytes = w.to_bytes();
    return detect_family(*gguf::File::parse(bytes.data(), bytes.size()));
}

TEST(BuiltinFormat, DetectsFamilyFromTemplate) {
    EXPECT_EQ(family_of_template("{{ '<|start_header_id|>' }}"), ChatFamily::Llama3);
    EXPECT_EQ(family_of_template("{{ '<|im_start|>' + role }}"), ChatFamily::ChatML);
    EXPECT_EQ(family_of_template("<start_of_turn>user"), ChatFamily::Gemma);
    EXPECT_EQ(family_of_template("<|user|> ... <|end|> ... <|assistant|>"), ChatFamily::Phi3);
    EXPECT_EQ(family_of_template("[INST] {{ m }} [/INST]"), ChatFamily::Llama2);
    EXPECT_EQ(family_of_template("{{ something else }}"), ChatFamily::ChatML);
    EXPECT_EQ(family_of_template(""), ChatFamily::None);  // base model: plain text
}

TEST(BuiltinFormat, RendersConversationsWithGenerationPrompt) {
    const std::vector<Message> msgs = {
        {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Why?"}};
    EXPECT_EQ(render(ChatFamily::ChatML, msgs),
              "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nWhy?<|im_end|>\n"
              "<|im_start|>assistant\n");
    EXPECT_EQ(render(ChatFamily::Llama3, {{"user", "Hi"}}),
              "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
              "<|start_header_id|>assistant<|end_header_id|>\n\n");
    // Gemma has no system role: the system text opens the first user turn.
    EXPECT_EQ(render(ChatFamily::Gemma, {{"system", "Be brief."}, {"user", "Hi"}}),
              "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n");
    EXPECT_EQ(render(ChatFamily::Llama2, {{"system", "S"}, {"user", "Hi"}}),
              "[INST] <<SYS>>\nS\n<</SYS>>\n\nHi [/INST]");
    EXPECT_EQ(render(ChatFamily::Phi3, {{"user", "Hi"}}), "<|user|>\nHi<|end|>\n<|assistant|>\n");
}

TEST(BuiltinFormat, StopStringsEndTheTurn) {
    EXPECT_EQ(stop_strings(ChatFamily::ChatML).front(), "<|im_end|>");
    EXPECT_EQ(stop_strings(ChatFamily::Gemma).front(), "<end_of_turn>");
    EXPECT_TRUE(stop_strings(ChatFamily::None).empty());
}

}  // namespace
}  // namespace lokal::chat
