// The per-API wire formats are pure functions of what they are given.
#include <gtest/gtest.h>

#include "server/anthropic_wire.h"
#include "server/ollama_wire.h"
#include "server/openai_wire.h"

namespace lokal::server {
namespace {

chat::ParsedDelta call_delta(const std::string& name, const std::string& args) {
    chat::ParsedDelta d;
    d.tool_calls.push_back({"call_1", name, args});
    return d;
}

TEST(OllamaWire, MessageCarriesThinkingAndToolCallsAsObjects) {
    chat::ParsedDelta d = call_delta("get_weather", R"({"city":"Paris"})");
    d.reasoning = "hmm";
    const auto j = ollama_message(d);
    EXPECT_EQ(j["role"], "assistant");
    EXPECT_EQ(j["thinking"], "hmm");
    EXPECT_EQ(j["tool_calls"][0]["function"]["arguments"]["city"], "Paris");
    EXPECT_EQ(ollama_message(call_delta("f", "not json"))["tool_calls"][0]["function"]["arguments"],
              nlohmann::ordered_json::object());
}

TEST(OllamaWire, ChunkIsNotDoneAndUsesTheRouteShape) {
    chat::ParsedDelta d;
    d.content = "Hi";
    const auto gen = ollama_chunk("m", d, false);
    EXPECT_EQ(gen["response"], "Hi");
    EXPECT_FALSE(gen.contains("message"));
    EXPECT_EQ(gen["done"], false);
    const auto chat = ollama_chunk("m", d, true);
    EXPECT_EQ(chat["message"]["content"], "Hi");
    EXPECT_FALSE(chat.contains("response"));
}

TEST(OpenAIWire, FirstChunkCarriesTheRoleAndToolCallsAreNumbered) {
    const OpenAIEnvelope env{"chatcmpl-1", 7, "m", true};
    int next = 0;
    chat::ParsedDelta empty;
    const auto first = openai_delta_choice(env, empty, nlohmann::ordered_json::array(), true, next);
    EXPECT_EQ(first["delta"]["role"], "assistant");
    EXPECT_EQ(first["delta"]["content"], "");
    EXPECT_TRUE(first["logprobs"].is_null());
    const auto a = openai_delta_choice(env, call_delta("f", "{}"), {}, false, next);
    const auto b = openai_delta_choice(env, call_delta("g", "{}"), {}, false, next);
    EXPECT_FALSE(a["delta"].contains("role"));
    EXPECT_FALSE(a["delta"].contains("content"));
    EXPECT_EQ(a["delta"]["tool_calls"][0]["index"], 0);
    EXPECT_EQ(b["delta"]["tool_calls"][0]["index"], 1);
    EXPECT_EQ(b["delta"]["tool_calls"][0]["function"]["name"], "g");
    EXPECT_EQ(b["delta"]["tool_calls"][0]["type"], "function");
}

TEST(OpenAIWire, ChunkEnvelope) {
    const OpenAIEnvelope chat{"chatcmpl-1", 7, "m", true};
    const OpenAIEnvelope text{"cmpl-1", 7, "m", false};
    EXPECT_EQ(openai_chunk(chat, nlohmann::ordered_json::array())["object"],
              "chat.completion.chunk");
    EXPECT_EQ(openai_chunk(text, nlohmann::ordered_json::array())["object"], "text_completion");
    EXPECT_EQ(openai_chunk(chat, nlohmann::ordered_json::array())["created"], 7);
    chat::ParsedDelta d;
    d.content = "x";
    int next = 0;
    EXPECT_EQ(openai_delta_choice(text, d, {}, true, next)["text"], "x");
}

// The event names of a server-sent-event text, in order.
std::vector<std::string> event_names(const std::string& sse) {
    std::vector<std::string> out;
    for (size_t at = sse.find("event: "); at != std::string::npos;
         at = sse.find("event: ", at + 1)) {
        out.push_back(sse.substr(at + 7, sse.find('\n', at) - at - 7));
    }
    return out;
}

TEST(AnthropicWire, BlocksOpenWhenTheirKindArrivesAndToolCallsAreBlocksOfTheirOwn) {
    AnthropicCodec codec({"msg_1", "m", {}}, 12);
    const Piece piece;
    chat::ParsedDelta thinking;
    thinking.reasoning = "Let me see.";
    chat::ParsedDelta text;
    text.content = "Calling.";
    const std::string first = codec.delta(thinking, piece);
    EXPECT_EQ(event_names(first), (std::vector<std::string>{"message_start", "content_block_start",
                                                            "content_block_delta"}));
    EXPECT_NE(first.find(R"("input_tokens":12)"), std::string::npos);
    EXPECT_NE(first.find(R"("thinking_delta")"), std::string::npos);
    EXPECT_EQ(event_names(codec.delta(thinking, piece)),
              (std::vector<std::string>{"content_block_delta"}));  // the same block goes on
    const std::string second = codec.delta(text, piece);
    EXPECT_EQ(event_names(second),
              (std::vector<std::string>{"content_block_stop", "content_block_start",
                                        "content_block_delta"}));
    EXPECT_NE(second.find(R"("index":1)"), std::string::npos);
    const std::string call = codec.delta(call_delta("get_weather", R"({"city":"Paris"})"), piece);
    EXPECT_EQ(event_names(call),
              (std::vector<std::string>{"content_block_stop", "content_block_start",
                                        "content_block_delta", "content_block_stop"}));
    EXPECT_NE(call.find(R"("type":"tool_use","id":"call_1","name":"get_weather","input":{})"),
              std::string::npos);
    EXPECT_NE(call.find(R"("partial_json":"{\"city\":\"Paris\"}")"), std::string::npos);
}

TEST(AnthropicWire, ToolUseInputIsAnObject) {
    EXPECT_EQ(anthropic_tool_use({"id", "f", R"({"a":1})"})["input"]["a"], 1);
    EXPECT_EQ(anthropic_tool_use({"id", "f", "[1]"})["input"], nlohmann::ordered_json::object());
}

}  // namespace
}  // namespace lokal::server
