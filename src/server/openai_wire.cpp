#include "server/openai_wire.h"

#include "server/api_util.h"
#include "tokenizer/tokenizer.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

namespace {

std::string sse(const json& j) {
    return "data: " + j.dump(-1, ' ', false, kReplaceInvalidUtf8) + "\n\n";
}

json tool_call_json(const chat::ToolCall& c) {
    return {{"id", c.id},
            {"type", "function"},
            {"function", {{"name", c.name}, {"arguments", c.arguments}}}};
}

json chat_message(const chat::ParsedDelta& d) {
    json msg = {{"role", "assistant"}, {"content", d.content}};
    if (!d.reasoning.empty()) msg["reasoning_content"] = d.reasoning;
    if (!d.tool_calls.empty()) {
        json calls = json::array();
        for (const auto& c : d.tool_calls) calls.push_back(tool_call_json(c));
        msg["tool_calls"] = calls;
        if (d.content.empty()) msg["content"] = nullptr;
    }
    return msg;
}

const char* object_name(const OpenAIEnvelope& e, bool chunk) {
    if (!e.chat) return "text_completion";
    return chunk ? "chat.completion.chunk" : "chat.completion";
}

}  // namespace

json openai_usage(int prompt_tokens, int completion_tokens, int cached_tokens) {
    return {{"prompt_tokens", prompt_tokens},
            {"completion_tokens", completion_tokens},
            {"total_tokens", prompt_tokens + completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", cached_tokens}}}};
}

json openai_usage(const CompletionStream& s) {
    return openai_usage(s.prompt_tokens(), s.result().stats.generated_tokens,
                        s.result().cached_tokens);
}

json openai_token_logprob(const tokenizer::Tokenizer& tok, const Piece& p) {
    auto entry = [&](int32_t id, float lp) {
        const std::string s = tok.token_to_piece(id, false);
        return json{{"token", s}, {"logprob", lp}, {"bytes", std::vector<int>(s.begin(), s.end())}};
    };
    json j = entry(p.token, p.logprob);
    json top = json::array();
    for (const auto& t : p.top) top.push_back(entry(t.token, t.logprob));
    j["top_logprobs"] = top;
    return j;
}

json openai_legacy_logprobs(const tokenizer::Tokenizer& tok, std::span<const Piece> pieces,
                            size_t& text_offset) {
    json tokens = json::array(), logprobs = json::array(), tops = json::array(),
         offsets = json::array();
    for (const Piece& p : pieces) {
        if (p.token < 0) continue;
        const std::string text = tok.token_to_piece(p.token, false);
        tokens.push_back(text);
        logprobs.push_back(p.logprob);
        json top = json::object();
        for (const auto& t : p.top) top[tok.token_to_piece(t.token, false)] = t.logprob;
        tops.push_back(top);
        offsets.push_back(text_offset);
        text_offset += text.size();
    }
    return {{"tokens", tokens},
            {"token_logprobs", logprobs},
            {"top_logprobs", tops},
            {"text_offset", offsets}};
}

std::string openai_finish_reason(const Answer& a) {
    if (a.has_tool_calls) return "tool_calls";
    return finish_reason(a.stream.result().stats.reason);
}

json openai_choice(const OpenAIEnvelope& e, const Answer& a, int n_probs,
                   const tokenizer::Tokenizer& tok, int index) {
    json choice = {{"index", index}, {"finish_reason", openai_finish_reason(a)}};
    if (n_probs >= 0 && !e.chat) {
        size_t offset = 0;
        choice["logprobs"] = openai_legacy_logprobs(tok, a.pieces, offset);
    } else if (n_probs >= 0) {
        json lps = json::array();
        for (const Piece& p : a.pieces) {
            if (p.token >= 0) lps.push_back(openai_token_logprob(tok, p));
        }
        choice["logprobs"] = {{"content", lps}};
    } else {
        choice["logprobs"] = nullptr;
    }
    if (e.chat) {
        choice["message"] = chat_message(a.parsed);
    } else {
        choice["text"] = a.parsed.content;
    }
    return choice;
}

json openai_completion(const OpenAIEnvelope& e, json choices, json usage) {
    return {{"id", e.id},
            {"object", object_name(e, false)},
            {"created", e.created},
            {"model", e.model},
            {"system_fingerprint", "lokal"},
            {"choices", std::move(choices)},
            {"usage", std::move(usage)}};
}

json openai_completion(const OpenAIEnvelope& e, const Answer& a, int n_probs,
                       const tokenizer::Tokenizer& tok) {
    return openai_completion(e, json::array({openai_choice(e, a, n_probs, tok, 0)}),
                             openai_usage(a.stream));
}

json openai_chunk(const OpenAIEnvelope& e, json choices) {
    return {{"id", e.id},       {"object", object_name(e, true)}, {"created", e.created},
            {"model", e.model}, {"system_fingerprint", "lokal"},  {"choices", std::move(choices)}};
}

json openai_delta_choice(const OpenAIEnvelope& e, const chat::ParsedDelta& d, const json& logprobs,
                         bool first, int& next_tool_index, int index) {
    json choice = {{"index", index}, {"finish_reason", nullptr}};
    if (e.chat) {
        json delta = json::object();
        if (first) delta["role"] = "assistant";
        if (!d.content.empty() || (first && d.tool_calls.empty())) delta["content"] = d.content;
        if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
        if (!d.tool_calls.empty()) {
            json calls = json::array();
            for (const auto& c : d.tool_calls) {
                json call = {{"index", next_tool_index++}};
                call.update(tool_call_json(c));
                calls.push_back(std::move(call));
            }
            delta["tool_calls"] = calls;
        }
        choice["delta"] = delta;
    } else {
        choice["text"] = d.content;
    }
    choice["logprobs"] = logprobs.empty() ? json(nullptr) : json{{"content", logprobs}};
    return choice;
}

std::string OpenAICodec::event(json choices) const {
    json j = openai_chunk(env_, std::move(choices));
    if (include_usage_) j["usage"] = nullptr;
    return sse(j);
}

std::string OpenAICodec::delta(const chat::ParsedDelta& d, const Piece& piece) {
    json lps = json::array();
    const bool with_logprob = n_probs_ >= 0 && piece.token >= 0;
    if (with_logprob && env_.chat) lps.push_back(openai_token_logprob(tok_, piece));
    if (!visible(d) && !with_logprob && !first_) return {};
    json choice = openai_delta_choice(env_, d, lps, first_, next_tool_index_, index_);
    if (with_logprob && !env_.chat) {
        choice["logprobs"] = openai_legacy_logprobs(tok_, {&piece, 1}, text_offset_);
    }
    first_ = false;
    return event(json::array({choice}));
}

std::string OpenAICodec::end(const Answer& tail) {
    std::string out;
    if (visible(tail.parsed)) {
        out += event(json::array({openai_delta_choice(env_, tail.parsed, json::array(), first_,
                                                      next_tool_index_, index_)}));
        first_ = false;
    }
    json last = {
        {"index", index_}, {"finish_reason", openai_finish_reason(tail)}, {"logprobs", nullptr}};
    if (env_.chat) {
        last["delta"] = json::object();
    } else {
        last["text"] = "";
    }
    out += event(json::array({last}));
    if (ends_response_) out += trailer(openai_usage(tail.stream));
    return out;
}

std::string OpenAICodec::trailer(const json& usage) const {
    std::string out;
    if (include_usage_) {
        json u = openai_chunk(env_, json::array());
        u["usage"] = usage;
        out += sse(u);
    }
    return out + "data: [DONE]\n\n";
}

std::string OpenAICodec::error(const std::string& message) {
    return sse(json{{"error", {{"message", message}, {"type", "server_error"}}}}) +
           "data: [DONE]\n\n";
}

std::string OpenAICodec::whole(const Answer& answer) {
    return openai_completion(env_, answer, n_probs_, tok_)
        .dump(-1, ' ', false, kReplaceInvalidUtf8);
}

}  // namespace lokal::server
