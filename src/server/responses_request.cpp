#include "server/responses_request.h"

#include "server/api_util.h"
#include "server/forced_tool_call.h"
#include "server/http_error.h"
#include "server/prompt.h"
#include "server/request_options.h"
#include "server/structured_output.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

namespace {

std::string part_text(const json& content, const std::string& where) {
    return parts_text(content, where, {"input_text", "output_text", "text"}, "");
}

// An assistant message to hang a function call on: the last one if it is the previous item.
json& assistant_for_calls(json& conversation) {
    if (conversation.empty() || conversation.back().value("role", "") != "assistant") {
        conversation.push_back({{"role", "assistant"}, {"content", ""}});
    }
    json& msg = conversation.back();
    if (!msg.contains("tool_calls")) msg["tool_calls"] = json::array();
    return msg;
}

// One input item into the conversation (chat shape) and the stored input items.
void add_item(const json& item, size_t i, json& conversation, json& items) {
    const std::string at = "input[" + std::to_string(i) + "]";
    if (!item.is_object()) throw HttpError(400, "'" + at + "' must be an object", at);
    const std::string type = item.value("type", "message");
    if (type == "message") {
        std::string role = item.value("role", "");
        if (role != "user" && role != "assistant" && role != "system" && role != "developer") {
            throw HttpError(400, "'" + at + ".role' must be user, assistant, system or developer",
                            at + ".role");
        }
        const std::string text =
            part_text(item.contains("content") ? item["content"] : json(""), at + ".content");
        conversation.push_back(
            {{"role", role == "developer" ? "system" : role}, {"content", text}});
        items.push_back(
            {{"type", "message"},
             {"id", random_id("msg_")},
             {"role", role},
             {"content", json::array({{{"type", role == "assistant" ? "output_text" : "input_text"},
                                       {"text", text}}})}});
    } else if (type == "function_call") {
        json args = json::parse(item.value("arguments", "{}"), nullptr, false);
        if (args.is_discarded()) args = json::object();
        assistant_for_calls(conversation)["tool_calls"].push_back(
            {{"id", item.value("call_id", "")},
             {"type", "function"},
             {"function", {{"name", item.value("name", "")}, {"arguments", args}}}});
        items.push_back(item);
    } else if (type == "function_call_output") {
        const json out = item.contains("output") ? item["output"] : json("");
        conversation.push_back(
            {{"role", "tool"},
             {"tool_call_id", item.value("call_id", "")},
             {"content", out.is_string() ? out.get<std::string>() : out.dump()}});
        json stored = item;
        if (!stored.contains("id")) stored["id"] = random_id("fco_");
        items.push_back(stored);
    } else if (type == "reasoning") {
        // Earlier reasoning is not shown to the model again.
    } else {
        throw HttpError(400, "'" + at + ".type' '" + type + "' is not supported", at + ".type");
    }
}

json chat_tools(const json& body) {
    return flat_tools_as_chat_tools(body, "parameters", true);
}

// text.format as chat completions' response_format.
json response_format_of(const json& body) {
    const json* text = field(body, "text");
    if (!text || !text->is_object() || !text->contains("format")) return json::object();
    const json& f = (*text)["format"];
    const std::string type = f.is_object() ? f.value("type", "text") : "";
    if (type == "text") return json::object();
    if (type == "json_object") return {{"response_format", {{"type", "json_object"}}}};
    if (type == "json_schema") {
        json schema = {{"name", f.value("name", "response")},
                       {"schema", f.contains("schema") ? f["schema"] : json::object()}};
        return {{"response_format", {{"type", "json_schema"}, {"json_schema", schema}}}};
    }
    throw HttpError(400, "'text.format.type' must be text, json_object or json_schema",
                    "text.format");
}

}  // namespace

ResponsesRequest responses_request(const LoadedModel& m, const json& body,
                                   const ResponseStore& stored,
                                   const std::string& grounded_question) {
    ResponsesRequest r;
    // The sampling fields the Responses API has, in chat completions' names (the input, which
    // may be long, is not copied).
    json params = json::object();
    for (const char* key : {"temperature", "top_p"}) {
        if (const json* v = field(body, key)) params[key] = *v;
    }
    if (const json* max = field(body, "max_output_tokens")) params["max_tokens"] = *max;
    r.g.params = openai_params(m.defaults.parameters, params);
    r.store = optional_bool(body, "store", true);
    r.conversation = json::array();
    if (const json* prev = field(body, "previous_response_id"); prev && !prev->is_null()) {
        const std::string id = prev->is_string() ? prev->get<std::string>() : "";
        auto record = stored.load(id);
        if (!record) {
            throw HttpError(404,
                            "previous response '" + id +
                                "' not found (it was not stored, "
                                "was deleted, or the store evicted it)",
                            "previous_response_id");
        }
        r.conversation = (*record)["conversation"];
    }
    r.input_items = json::array();
    const json* input = field(body, "input");
    if (!input) throw HttpError(400, "'input' is required", "input");
    if (input->is_string()) {
        add_item({{"role", "user"}, {"content", *input}}, 0, r.conversation, r.input_items);
    } else if (input->is_array() && !input->empty()) {
        for (size_t i = 0; i < input->size(); ++i) {
            add_item((*input)[i], i, r.conversation, r.input_items);
        }
    } else {
        throw HttpError(400, "'input' must be a string or a non-empty list of items", "input");
    }
    json messages = json::array();
    if (const json* ins = field(body, "instructions"); ins && ins->is_string()) {
        messages.push_back({{"role", "system"}, {"content", *ins}});
    }
    for (const json& msg : r.conversation) messages.push_back(msg);
    if (!grounded_question.empty()) {
        for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
            if ((*it)["role"] == "user") {
                (*it)["content"] = grounded_question;
                break;
            }
        }
    }
    const json tools = chat_tools(body);
    r.g.has_tools = tools.is_array() && !tools.empty();
    if (const json* choice = field(body, "tool_choice"); choice && choice->is_string()) {
        if (choice->get<std::string>() == "none") r.g.has_tools = false;
    }
    const bool reasoning = field(body, "reasoning") != nullptr && can_think(m);
    const json vars = {{"enable_thinking", reasoning}};
    const int n_ctx =
        m.scheduler ? m.scheduler->context_for(r.g.params.n_ctx) : r.g.params.n_ctx;
    FittedChat fit = fit_chat_prompt(m, messages, r.g.has_tools ? &tools : nullptr, n_ctx, false,
                                     can_think(m) ? &vars : nullptr);
    for (const auto& s : fit.prompt.stop) r.g.params.generate.stop.push_back(s);
    r.g.prompt = std::move(fit.tokens);
    r.g.prompt_text = fit.prompt.text;
    r.g.parse_output = true;
    r.g.reasoning = chat::ReasoningMode::Separate;
    r.g.chat_template = m.prompt_format.text;
    r.g.format = openai_response_format(response_format_of(body));
    if (const json* choice = field(body, "tool_choice"); choice && r.g.has_tools) {
        ForcedToolCall forced;
        forced.required = (choice->is_string() && *choice == "required") || choice->is_object();
        if (choice->is_object()) forced.name = choice->value("name", "");
        r.g.format = forced_tool_call_grammar(chat::detect_tool_format(r.g.chat_template), tools,
                                              forced, "tool_choice");
    }
    r.echo = json::object();
    for (const char* key :
         {"instructions", "previous_response_id", "temperature", "top_p", "max_output_tokens",
          "tool_choice", "tools", "text", "reasoning", "metadata"}) {
        r.echo[key] = body.contains(key) ? body[key] : json(nullptr);
    }
    if (r.echo["tools"].is_null()) r.echo["tools"] = json::array();
    if (r.echo["tool_choice"].is_null()) r.echo["tool_choice"] = "auto";
    if (r.echo["metadata"].is_null()) r.echo["metadata"] = json::object();
    if (r.echo["text"].is_null()) r.echo["text"] = {{"format", {{"type", "text"}}}};
    r.echo["store"] = r.store;
    r.echo["parallel_tool_calls"] = true;
    return r;
}

}  // namespace lokal::server
