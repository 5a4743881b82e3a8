#include "server/ollama_wire.h"

#include "server/api_util.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

namespace {

std::string line(const json& j) {
    return j.dump(-1, ' ', false, kReplaceInvalidUtf8) + "\n";
}

void add_text(json& j, const chat::ParsedDelta& d, bool chat) {
    if (chat) {
        j["message"] = ollama_message(d);
        return;
    }
    j["response"] = d.content;
    if (!d.reasoning.empty()) j["thinking"] = d.reasoning;
}

}  // namespace

json ollama_message(const chat::ParsedDelta& d) {
    json j = {{"role", "assistant"}, {"content", d.content}};
    if (!d.reasoning.empty()) j["thinking"] = d.reasoning;
    if (!d.tool_calls.empty()) {
        json calls = json::array();
        for (const auto& c : d.tool_calls) {
            json args = json::parse(c.arguments, nullptr, false);
            if (args.is_discarded()) args = json::object();
            calls.push_back({{"function", {{"name", c.name}, {"arguments", args}}}});
        }
        j["tool_calls"] = calls;
    }
    return j;
}

json ollama_chunk(const std::string& model, const chat::ParsedDelta& d, bool chat) {
    json j = {{"model", model}, {"created_at", rfc3339_now()}};
    add_text(j, d, chat);
    j["done"] = false;
    return j;
}

json ollama_final(const std::string& model, const Answer& a, bool chat, const OllamaTimes& times) {
    using SteadyClock = std::chrono::steady_clock;
    const engine::SequenceResult& r = a.stream.result();
    json j = {{"model", model}, {"created_at", rfc3339_now()}, {"done", true}};
    add_text(j, a.parsed, chat);
    if (!chat) j["context"] = r.context;
    j["done_reason"] = finish_reason(r.stats.reason);
    j["total_duration"] =
        nanoseconds(std::chrono::duration<double>(SteadyClock::now() - times.started).count());
    j["load_duration"] = nanoseconds(times.load_seconds);
    j["prompt_eval_count"] = a.stream.prompt_tokens();
    j["prompt_eval_duration"] = nanoseconds(r.stats.prompt_seconds);
    j["eval_count"] = r.stats.generated_tokens;
    j["eval_duration"] = nanoseconds(r.stats.generate_seconds);
    return j;
}

std::string OllamaCodec::delta(const chat::ParsedDelta& d, const Piece&) {
    return visible(d) ? line(ollama_chunk(model_, d, chat_)) : std::string();
}

std::string OllamaCodec::end(const Answer& tail) {
    return line(ollama_final(model_, tail, chat_, times_));
}

std::string OllamaCodec::error(const std::string& message) {
    return line(json{{"error", message}});
}

std::string OllamaCodec::whole(const Answer& answer) {
    return ollama_final(model_, answer, chat_, times_).dump(-1, ' ', false, kReplaceInvalidUtf8);
}

}  // namespace lokal::server
