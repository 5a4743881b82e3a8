#include "server/llama_server_wire.h"

#include "server/api_util.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

namespace {

std::string event(const json& j) {
    return "data: " + j.dump(-1, ' ', false, kReplaceInvalidUtf8) + "\n\n";
}

double per_token_ms(double seconds, int n) {
    return n > 0 ? seconds * 1e3 / n : 0.0;
}

double per_second(double seconds, int n) {
    return seconds > 0 ? n / seconds : 0.0;
}

json timings(const engine::GenerateStats& s) {
    return {{"prompt_n", s.prompt_tokens},
            {"prompt_ms", s.prompt_seconds * 1e3},
            {"prompt_per_token_ms", per_token_ms(s.prompt_seconds, s.prompt_tokens)},
            {"prompt_per_second", per_second(s.prompt_seconds, s.prompt_tokens)},
            {"predicted_n", s.generated_tokens},
            {"predicted_ms", s.generate_seconds * 1e3},
            {"predicted_per_token_ms", per_token_ms(s.generate_seconds, s.generated_tokens)},
            {"predicted_per_second", per_second(s.generate_seconds, s.generated_tokens)},
            {"draft_n", s.draft_tokens},
            {"draft_n_accepted", s.draft_accepted}};
}

}  // namespace

const char* llama_server_stop_type(engine::StopReason r) {
    switch (r) {
        case engine::StopReason::EndOfGeneration:
            return "eos";
        case engine::StopReason::StopString:
            return "word";
        case engine::StopReason::MaxTokens:
        case engine::StopReason::ContextFull:
            return "limit";
        case engine::StopReason::Cancelled:
            return "none";
    }
    return "none";
}

json llama_server_final(const LlamaServerEnvelope& e, const Answer& a, const json& tokens) {
    const engine::SequenceResult& r = a.stream.result();
    return {{"index", 0},
            {"content", a.parsed.content},
            {"tokens", tokens},
            {"id_slot", 0},
            {"stop", true},
            {"model", e.model},
            {"tokens_predicted", r.stats.generated_tokens},
            {"tokens_evaluated", a.stream.prompt_tokens()},
            {"prompt", e.prompt},
            {"truncated", r.stats.reason == engine::StopReason::ContextFull},
            {"stop_type", llama_server_stop_type(r.stats.reason)},
            {"stopping_word", r.stop_string},
            {"tokens_cached", r.cached_tokens},
            {"timings", timings(r.stats)}};
}

json llama_server_error(int status, const std::string& message) {
    const char* type = status == 401   ? "authentication_error"
                       : status == 404 ? "not_found_error"
                       : status == 501 ? "not_supported_error"
                       : status == 503 ? "unavailable_error"
                       : status >= 500 ? "server_error"
                                       : "invalid_request_error";
    return {{"error", {{"code", status}, {"message", message}, {"type", type}}}};
}

std::string LlamaServerCodec::delta(const chat::ParsedDelta& d, const Piece& piece) {
    if (d.content.empty()) return "";
    json tokens = json::array();
    if (piece.token >= 0) tokens.push_back(piece.token);
    return event({{"index", 0}, {"content", d.content}, {"tokens", tokens}, {"stop", false}});
}

std::string LlamaServerCodec::end(const Answer& tail) {
    return event(llama_server_final(env_, tail, json::array()));
}

std::string LlamaServerCodec::error(const std::string& message) {
    return event(llama_server_error(500, message));
}

std::string LlamaServerCodec::whole(const Answer& answer) {
    json tokens = json::array();
    if (env_.return_tokens) {
        for (const Piece& p : answer.pieces) {
            if (p.token >= 0) tokens.push_back(p.token);
        }
    }
    return llama_server_final(env_, answer, tokens).dump(-1, ' ', false, kReplaceInvalidUtf8);
}

}  // namespace lokal::server
