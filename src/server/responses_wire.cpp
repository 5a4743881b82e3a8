#include "server/responses_wire.h"

#include <algorithm>

#include "server/api_util.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

namespace {

json text_part(const std::string& text, const json& annotations = json::array()) {
    return {{"type", "output_text"}, {"text", text}, {"annotations", annotations}};
}

json message_item(const std::string& id, const std::string& text, const char* status,
                  const json& annotations = json::array()) {
    return {{"type", "message"},
            {"id", id},
            {"status", status},
            {"role", "assistant"},
            {"content", text.empty() && std::string(status) == "in_progress"
                            ? json::array()
                            : json::array({text_part(text, annotations)})}};
}

// One source per file, in the order of their best chunks.
std::vector<SearchResult> cited_files(const std::vector<SearchResult>& results) {
    std::vector<SearchResult> out;
    for (const SearchResult& r : results) {
        bool seen = false;
        for (const SearchResult& o : out) seen = seen || o.file_id == r.file_id;
        if (!seen) out.push_back(r);
    }
    return out;
}

json reasoning_item(const std::string& id, const std::string& text) {
    json content = json::array();
    if (!text.empty()) content.push_back({{"type", "reasoning_text"}, {"text", text}});
    return {{"type", "reasoning"}, {"id", id}, {"summary", json::array()}, {"content", content}};
}

// The answer as the next turn's assistant message (chat shape).
json assistant_message(const chat::ParsedDelta& d) {
    json msg = {{"role", "assistant"}, {"content", d.content}};
    if (!d.tool_calls.empty()) {
        json calls = json::array();
        for (const auto& c : d.tool_calls) {
            json args = json::parse(c.arguments, nullptr, false);
            calls.push_back(
                {{"id", c.id},
                 {"type", "function"},
                 {"function",
                  {{"name", c.name}, {"arguments", args.is_discarded() ? json::object() : args}}}});
        }
        msg["tool_calls"] = calls;
    }
    return msg;
}

bool incomplete(const CompletionStream& s) {
    const auto reason = s.result().stats.reason;
    return reason == engine::StopReason::MaxTokens || reason == engine::StopReason::ContextFull;
}

}  // namespace

json responses_usage(const CompletionStream& s) {
    const int in = s.prompt_tokens(), out = s.result().stats.generated_tokens;
    return {{"input_tokens", in},
            {"input_tokens_details", {{"cached_tokens", s.result().cached_tokens}}},
            {"output_tokens", out},
            {"output_tokens_details", {{"reasoning_tokens", 0}}},
            {"total_tokens", in + out}};
}

json responses_function_call(const chat::ToolCall& call, const std::string& item_id) {
    return {{"type", "function_call"},     {"id", item_id},
            {"call_id", call.id},          {"name", call.name},
            {"arguments", call.arguments}, {"status", "completed"}};
}

json responses_object(const ResponsesEnvelope& e, const std::string& status, const json& output,
                      const json& usage) {
    json j = {{"id", e.id},
              {"object", "response"},
              {"created_at", e.created_at},
              {"status", status},
              {"error", nullptr},
              {"incomplete_details",
               status == "incomplete" ? json{{"reason", "max_output_tokens"}} : json(nullptr)},
              {"model", e.model},
              {"output", output},
              {"usage", usage}};
    for (const auto& [k, v] : e.echo.items()) j[k] = v;
    return j;
}

json ResponsesCodec::finish(const Answer& a, const json& output) {
    json response = responses_object(env_, incomplete(a.stream) ? "incomplete" : "completed",
                                     output, responses_usage(a.stream));
    if (env_.store && store_) {
        json conversation = env_.conversation;
        conversation.push_back(assistant_message(a.parsed));
        store_->save(env_.id, {{"response", response},
                               {"conversation", conversation},
                               {"input_items", env_.input_items}});
    }
    return response;
}

json ResponsesCodec::file_search_item(const char* status) const {
    const FileSearchOutput& fs = *file_search_;
    return file_search_call_item(fs.id, fs.queries, status,
                                 fs.include_results ? &fs.results : nullptr);
}

json ResponsesCodec::annotations(const std::string& text) const {
    if (!file_search_) return json::array();
    return file_citations(text, cited_files(file_search_->results));
}

std::string ResponsesCodec::whole(const Answer& a) {
    const chat::ParsedDelta& d = a.parsed;
    json output = json::array();
    if (file_search_) output.push_back(file_search_item("completed"));
    if (!d.reasoning.empty()) output.push_back(reasoning_item(random_id("rs_"), d.reasoning));
    if (!d.content.empty() || d.tool_calls.empty()) {
        output.push_back(
            message_item(random_id("msg_"), d.content, "completed", annotations(d.content)));
    }
    for (const auto& c : d.tool_calls)
        output.push_back(responses_function_call(c, random_id("fc_")));
    return finish(a, output).dump(-1, ' ', false, kReplaceInvalidUtf8);
}

std::string ResponsesCodec::event(const std::string& type, const json& data) {
    json j = {{"type", type}, {"sequence_number", sequence_++}};
    j.update(data);
    return "event: " + type + "\ndata: " + j.dump(-1, ' ', false, kReplaceInvalidUtf8) + "\n\n";
}

std::string ResponsesCodec::start() {
    if (started_) return {};
    started_ = true;
    const json r = responses_object(env_, "in_progress", json::array(), nullptr);
    std::string out = event("response.created", {{"response", r}});
    out += event("response.in_progress", {{"response", r}});
    return out + stream_file_search();
}

// The search ran before the answer began; its item and events come first.
std::string ResponsesCodec::stream_file_search() {
    if (!file_search_) return {};
    const int index = (int)items_.size();
    Item it{"file_search_call", file_search_->id, "", file_search_item("completed")};
    const json ids = {{"output_index", index}, {"item_id", it.id}};
    std::string out = event("response.output_item.added",
                            {{"output_index", index}, {"item", file_search_item("in_progress")}});
    out += event("response.file_search_call.in_progress", ids);
    out += event("response.file_search_call.searching", ids);
    out += event("response.file_search_call.completed", ids);
    out += event("response.output_item.done", {{"output_index", index}, {"item", it.done}});
    items_.push_back(std::move(it));
    return out;
}

std::string ResponsesCodec::close_text() {
    if (!text_open_) return {};
    text_open_ = false;
    Item& it = items_.back();
    const int index = (int)items_.size() - 1;
    std::string out;
    if (it.kind == "message") {
        out += event(
            "response.output_text.done",
            {{"item_id", it.id}, {"output_index", index}, {"content_index", 0}, {"text", it.text}});
        const json notes = annotations(it.text);
        out += event("response.content_part.done", {{"item_id", it.id},
                                                    {"output_index", index},
                                                    {"content_index", 0},
                                                    {"part", text_part(it.text, notes)}});
        it.done = message_item(it.id, it.text, "completed", notes);
    } else {
        out += event(
            "response.reasoning_text.done",
            {{"item_id", it.id}, {"output_index", index}, {"content_index", 0}, {"text", it.text}});
        it.done = reasoning_item(it.id, it.text);
    }
    return out + event("response.output_item.done", {{"output_index", index}, {"item", it.done}});
}

std::string ResponsesCodec::open_text(const std::string& kind) {
    if (text_open_ && items_.back().kind == kind) return {};
    std::string out = close_text();
    const bool message = kind == "message";
    items_.push_back({kind, random_id(message ? "msg_" : "rs_"), "", nullptr});
    text_open_ = true;
    const int index = (int)items_.size() - 1;
    const Item& it = items_.back();
    out += event(
        "response.output_item.added",
        {{"output_index", index},
         {"item", message ? message_item(it.id, "", "in_progress") : reasoning_item(it.id, "")}});
    if (message) {
        out += event("response.content_part.added", {{"item_id", it.id},
                                                     {"output_index", index},
                                                     {"content_index", 0},
                                                     {"part", text_part("")}});
    }
    return out;
}

std::string ResponsesCodec::stream_delta(const chat::ParsedDelta& d) {
    std::string out;
    auto text_delta = [&](const char* type, const std::string& text) {
        items_.back().text += text;
        out += event(type, {{"item_id", items_.back().id},
                            {"output_index", (int)items_.size() - 1},
                            {"content_index", 0},
                            {"delta", text}});
    };
    if (!d.reasoning.empty()) {
        out += open_text("reasoning");
        text_delta("response.reasoning_text.delta", d.reasoning);
    }
    if (!d.content.empty()) {
        out += open_text("message");
        text_delta("response.output_text.delta", d.content);
    }
    for (const auto& c : d.tool_calls) {
        out += close_text();
        Item it{"function_call", random_id("fc_"), "", nullptr};
        it.done = responses_function_call(c, it.id);
        json added = it.done;
        added["arguments"] = "";
        added["status"] = "in_progress";
        const int index = (int)items_.size();
        out += event("response.output_item.added", {{"output_index", index}, {"item", added}});
        out += event("response.function_call_arguments.delta",
                     {{"item_id", it.id}, {"output_index", index}, {"delta", c.arguments}});
        out += event("response.function_call_arguments.done",
                     {{"item_id", it.id}, {"output_index", index}, {"arguments", c.arguments}});
        out += event("response.output_item.done", {{"output_index", index}, {"item", it.done}});
        items_.push_back(std::move(it));
    }
    return out;
}

std::string ResponsesCodec::delta(const chat::ParsedDelta& d, const Piece&) {
    std::string out = start();  // events are numbered in the order they are made
    return out + stream_delta(d);
}

std::string ResponsesCodec::end(const Answer& tail) {
    std::string out = start();
    out += stream_delta(tail.parsed);
    const bool answered = std::any_of(items_.begin(), items_.end(), [](const Item& it) {
        return it.kind != "file_search_call";
    });
    if (!answered) out += open_text("message");  // an empty answer is one empty message
    out += close_text();
    json output = json::array();
    chat::ParsedDelta whole;
    for (const Item& it : items_) {
        output.push_back(it.done);
        if (it.kind == "message") whole.content += it.text;
        if (it.kind == "function_call") {
            whole.tool_calls.push_back({it.done["call_id"], it.done["name"], it.done["arguments"]});
        }
    }
    const json response = finish({whole, tail.pieces, tail.stream, tail.has_tool_calls}, output);
    const char* type =
        response["status"] == "incomplete" ? "response.incomplete" : "response.completed";
    return out + event(type, {{"response", response}});
}

std::string ResponsesCodec::error(const std::string& message) {
    std::string out = start();
    return out +
           event("error", {{"code", "server_error"}, {"message", message}, {"param", nullptr}});
}

}  // namespace lokal::server
