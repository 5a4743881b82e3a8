#include "server/anthropic_wire.h"

#include <algorithm>

#include "server/api_util.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

namespace {

std::string event(const char* name, const json& data) {
    return std::string("event: ") + name +
           "\ndata: " + data.dump(-1, ' ', false, kReplaceInvalidUtf8) + "\n\n";
}

}  // namespace

std::pair<std::string, json> anthropic_stop(const AnthropicEnvelope& e, const Answer& a) {
    if (a.has_tool_calls) return {"tool_use", nullptr};
    const engine::SequenceResult& r = a.stream.result();
    switch (r.stats.reason) {
        case engine::StopReason::MaxTokens:
        case engine::StopReason::ContextFull:
            return {"max_tokens", nullptr};
        case engine::StopReason::StopString:
            if (std::find(e.stop_sequences.begin(), e.stop_sequences.end(), r.stop_string) !=
                e.stop_sequences.end()) {
                return {"stop_sequence", r.stop_string};
            }
            return {"end_turn", nullptr};  // the chat format's own end-of-turn marker
        case engine::StopReason::EndOfGeneration:
        case engine::StopReason::Cancelled:
            break;
    }
    return {"end_turn", nullptr};
}

json anthropic_usage(const CompletionStream& s) {
    return {{"input_tokens", s.prompt_tokens()},
            {"output_tokens", s.result().stats.generated_tokens},
            {"cache_creation_input_tokens", 0},
            {"cache_read_input_tokens", s.result().cached_tokens}};
}

json anthropic_tool_use(const chat::ToolCall& call) {
    json input = json::parse(call.arguments, nullptr, false);
    if (input.is_discarded() || !input.is_object()) input = json::object();
    return {{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", input}};
}

json anthropic_message(const AnthropicEnvelope& e, const Answer& a) {
    json content = json::array();
    const chat::ParsedDelta& d = a.parsed;
    if (!d.reasoning.empty()) {
        content.push_back({{"type", "thinking"}, {"thinking", d.reasoning}, {"signature", ""}});
    }
    if (!d.content.empty() || d.tool_calls.empty()) {
        content.push_back({{"type", "text"}, {"text", d.content}});
    }
    for (const auto& c : d.tool_calls) content.push_back(anthropic_tool_use(c));
    const auto [reason, sequence] = anthropic_stop(e, a);
    return {{"id", e.id},
            {"type", "message"},
            {"role", "assistant"},
            {"model", e.model},
            {"content", content},
            {"stop_reason", reason},
            {"stop_sequence", sequence},
            {"usage", anthropic_usage(a.stream)}};
}

std::string AnthropicCodec::start_message() {
    if (started_) return {};
    started_ = true;
    json message = {{"id", env_.id},
                    {"type", "message"},
                    {"role", "assistant"},
                    {"model", env_.model},
                    {"content", json::array()},
                    {"stop_reason", nullptr},
                    {"stop_sequence", nullptr},
                    {"usage", {{"input_tokens", input_tokens_}, {"output_tokens", 0}}}};
    return event("message_start", {{"type", "message_start"}, {"message", message}});
}

std::string AnthropicCodec::close() {
    if (open_ == Block::None) return {};
    open_ = Block::None;
    return event("content_block_stop", {{"type", "content_block_stop"}, {"index", index_}});
}

std::string AnthropicCodec::open(Block kind) {
    if (open_ == kind) return {};
    std::string out = close();
    open_ = kind;
    const json block = kind == Block::Thinking
                           ? json{{"type", "thinking"}, {"thinking", ""}, {"signature", ""}}
                           : json{{"type", "text"}, {"text", ""}};
    return out +
           event("content_block_start",
                 {{"type", "content_block_start"}, {"index", ++index_}, {"content_block", block}});
}

std::string AnthropicCodec::blocks_of(const chat::ParsedDelta& d) {
    std::string out;
    auto delta_event = [&](const json& delta) {
        out += event("content_block_delta",
                     {{"type", "content_block_delta"}, {"index", index_}, {"delta", delta}});
    };
    if (!d.reasoning.empty()) {
        out += open(Block::Thinking);
        delta_event({{"type", "thinking_delta"}, {"thinking", d.reasoning}});
    }
    if (!d.content.empty()) {
        out += open(Block::Text);
        delta_event({{"type", "text_delta"}, {"text", d.content}});
    }
    for (const auto& call : d.tool_calls) {
        out += close();
        json block = anthropic_tool_use(call);
        const std::string input = block["input"].dump(-1, ' ', false, kReplaceInvalidUtf8);
        block["input"] = json::object();
        out +=
            event("content_block_start",
                  {{"type", "content_block_start"}, {"index", ++index_}, {"content_block", block}});
        delta_event({{"type", "input_json_delta"}, {"partial_json", input}});
        out += event("content_block_stop", {{"type", "content_block_stop"}, {"index", index_}});
    }
    return out;
}

std::string AnthropicCodec::delta(const chat::ParsedDelta& d, const Piece&) {
    return start_message() + blocks_of(d);
}

std::string AnthropicCodec::end(const Answer& tail) {
    std::string out = start_message() + blocks_of(tail.parsed);
    if (index_ < 0) out += open(Block::Text);  // an empty answer is one empty text block
    out += close();
    const auto [reason, sequence] = anthropic_stop(env_, tail);
    out += event("message_delta",
                 {{"type", "message_delta"},
                  {"delta", {{"stop_reason", reason}, {"stop_sequence", sequence}}},
                  {"usage", {{"output_tokens", tail.stream.result().stats.generated_tokens}}}});
    return out + event("message_stop", {{"type", "message_stop"}});
}

std::string AnthropicCodec::error(const std::string& message) {
    return start_message() +
           event("error",
                 {{"type", "error"}, {"error", {{"type", "api_error"}, {"message", message}}}});
}

std::string AnthropicCodec::whole(const Answer& answer) {
    return anthropic_message(env_, answer).dump(-1, ' ', false, kReplaceInvalidUtf8);
}

}  // namespace lokal::server
