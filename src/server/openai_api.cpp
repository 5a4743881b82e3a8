// OpenAI's API: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models. Streaming is
// server-sent events ending with `data: [DONE]`.

#include "rag/rag_prompt.h"
#include "server/answer_driver.h"
#include "server/api_util.h"
#include "server/embeddings.h"
#include "server/file_search.h"
#include "server/forced_tool_call.h"
#include "server/generation_request.h"
#include "server/http_error.h"
#include "server/openai_choices.h"
#include "server/openai_wire.h"
#include "server/prompt.h"
#include "server/structured_output.h"
#include "store/store.h"
#include "tokenizer/tokenizer.h"

namespace lokal::server {

namespace {

using json = nlohmann::ordered_json;

int logprobs_wanted(const json& body, bool chat) {
    if (chat) {
        if (!optional_bool(body, "logprobs", false)) return -1;
        const json* top = field(body, "top_logprobs");
        if (!top) return 0;
        if (!top->is_number_integer() || top->get<int>() < 0 || top->get<int>() > 20) {
            throw HttpError(400, "'top_logprobs' must be an integer from 0 to 20", "top_logprobs");
        }
        return top->get<int>();
    }
    const json* lp = field(body, "logprobs");
    if (!lp) return -1;
    if (!lp->is_number_integer() || lp->get<int>() < 0 || lp->get<int>() > 5) {
        throw HttpError(400, "'logprobs' must be an integer from 0 to 5", "logprobs");
    }
    return lp->get<int>();
}

GenerationRequest openai_chat_request(const LoadedModel& m, const json& body) {
    GenerationRequest g;
    g.params = openai_params(m.defaults.parameters, body);
    const json* messages = field(body, "messages");
    if (!messages || !messages->is_array() || messages->empty()) {
        throw HttpError(400, "'messages' must be a non-empty list", "messages");
    }
    // Ollama serves this route through its /api/chat handler, MESSAGE replay included.
    ChatPrompt cp =
        chat_prompt(m, with_stored_messages(m.defaults.messages, *messages), field(body, "tools"));
    for (const auto& s : cp.stop) g.params.generate.stop.push_back(s);
    g.prompt = tokenize_prompt(m, cp.text);
    g.prompt_text = cp.text;
    g.parse_output = true;
    g.has_tools = tools_given(field(body, "tools"));
    if (const json* choice = field(body, "tool_choice")) {
        if (choice->is_string() && choice->get<std::string>() == "none") g.has_tools = false;
    }
    g.reasoning = chat::ReasoningMode::Separate;  // reasoning_content, as OpenAI-style servers do
    g.chat_template = m.prompt_format.text;
    g.format = openai_response_format(body);
    ForcedToolCall forced;
    if (const json* choice = field(body, "tool_choice")) {
        forced.required = (choice->is_string() && *choice == "required") || choice->is_object();
        if (choice->is_object() && choice->contains("function")) {
            forced.name = (*choice)["function"].value("name", "");
        }
    }
    if (forced.required && g.has_tools) {
        g.format = forced_tool_call_grammar(chat::detect_tool_format(g.chat_template),
                                            *field(body, "tools"), forced, "tool_choice");
    }
    return g;
}

// A lokal extension: the tool {"type": "file_search", "file_search": {"vector_store_ids": [...],
// "max_num_results": N}} searches the vector stores and grounds the last user message in the
// chunks found (rag_prompt.h), as the Responses API's file_search does.
void ground_in_file_search(ServerState& state, json& body) {
    if (!body.contains("tools")) return;
    const auto tools = take_file_search_tools(body["tools"], true);
    if (body["tools"].empty()) body.erase("tools");
    if (tools.empty()) return;
    json* messages = body.contains("messages") ? &body["messages"] : nullptr;
    if (!messages || !messages->is_array()) return;  // the request's reader answers 400
    const std::string question = last_user_text(messages);
    std::vector<rag::Hit> hits;
    for (const FileSearchTool& t : tools) {
        StoreHits h = search_vector_stores(state, t.vector_store_ids, question,
                                           t.max_num_results, "tools.file_search.vector_store_ids");
        for (rag::Hit& hit : h.hits) hits.push_back(std::move(hit));
    }
    for (auto it = messages->rbegin(); it != messages->rend(); ++it) {
        if (it->is_object() && it->value("role", "") == "user") {
            (*it)["content"] = rag::answer_prompt(question, hits);
            break;
        }
    }
}

void chat_completions(ServerState& state, const httplib::Request& req, httplib::Response& res,
                      bool chat) {
    json body = parse_body(req);
    if (chat) ground_in_file_search(state, body);
    const std::string model = required_string(body, "model");
    const int n_choices = openai_choices_wanted(body);
    auto lease = std::shared_ptr<ModelManager::Lease>(state.models.acquire(model, std::nullopt));
    LoadedModel& m = **lease;
    const int n_probs = logprobs_wanted(body, chat);
    GenerationRequest g;
    if (chat) {
        g = openai_chat_request(m, body);
    } else {
        g.params = openai_params(m.defaults.parameters, body);
        const json* prompt = field(body, "prompt");
        if (!prompt) throw HttpError(400, "'prompt' is required", "prompt");
        if (const std::string suffix = suffix_field(body); !suffix.empty()) {
            if (!prompt->is_string()) {
                throw HttpError(400, "with 'suffix', 'prompt' must be a string", "prompt");
            }
            g.prompt = fill_in_middle_prompt(m, prompt->get<std::string>(), suffix);
        } else if (prompt->is_string()) {
            g.prompt = tokenize_prompt(m, prompt->get<std::string>());
        } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number_integer()) {
            for (const auto& t : *prompt) {
                if (!t.is_number_integer())
                    throw HttpError(400, "'prompt' must be a string or a list of token ids",
                                    "prompt");
                g.prompt.push_back(t.get<int32_t>());
            }
        } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
            g.prompt = tokenize_prompt(m, (*prompt)[0].get<std::string>());
        } else {
            throw HttpError(400, "'prompt' must be a string or a list of token ids", "prompt");
        }
        g.format = openai_response_format(body);
    }
    bool include_usage = false;
    if (const json* so = field(body, "stream_options")) {
        if (!so->is_object())
            throw HttpError(400, "'stream_options' must be an object", "stream_options");
        include_usage = optional_bool(*so, "include_usage", false);
    }
    OpenAIEnvelope envelope{random_id(chat ? "chatcmpl-" : "cmpl-"), unix_now(), model, chat};
    const bool streaming = optional_bool(body, "stream", false);
    if (n_choices > 1) {
        answer_openai_choices(state, req, res, m, lease,
                              {g, n_choices, n_probs, std::move(envelope), include_usage,
                               streaming});
        return;
    }
    auto stream = start_completion(m, g.prompt, g.params, n_probs, g.hooks(m));
    auto codec = std::make_shared<OpenAICodec>(std::move(envelope), n_probs, include_usage,
                                               m.model->tokenizer());
    drive_answer(state, req, res, model, stream, lease, g.make_output(), codec, streaming);
}

void embeddings(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string model = required_string(body, "model");
    const std::vector<EmbedInput> inputs = parse_embed_inputs(field(body, "input"), "input");
    std::string format = "float";
    if (const json* f = field(body, "encoding_format")) {
        if (!f->is_string() ||
            (f->get<std::string>() != "float" && f->get<std::string>() != "base64")) {
            throw HttpError(400, "'encoding_format' must be float or base64", "encoding_format");
        }
        format = f->get<std::string>();
    }
    int n = 0;
    auto e =
        embed_texts(state, req, model, inputs, {std::nullopt, false, embed_dimensions(body)}, &n);
    json data = json::array();
    for (size_t i = 0; i < e.size(); ++i) {
        json item = {{"object", "embedding"}, {"index", i}};
        if (format == "base64") {
            static const char* kB64 =
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            const auto* bytes = reinterpret_cast<const unsigned char*>(e[i].data());
            const size_t len = e[i].size() * sizeof(float);
            std::string b64;
            for (size_t k = 0; k < len; k += 3) {
                const uint32_t v = (uint32_t)bytes[k] << 16 |
                                   (k + 1 < len ? bytes[k + 1] << 8 : 0) |
                                   (k + 2 < len ? bytes[k + 2] : 0);
                b64 += kB64[(v >> 18) & 63];
                b64 += kB64[(v >> 12) & 63];
                b64 += k + 1 < len ? kB64[(v >> 6) & 63] : '=';
                b64 += k + 2 < len ? kB64[v & 63] : '=';
            }
            item["embedding"] = b64;
        } else {
            item["embedding"] = e[i];
        }
        data.push_back(item);
    }
    json j = {{"object", "list"},
              {"data", data},
              {"model", model},
              {"usage", {{"prompt_tokens", n}, {"total_tokens", n}}}};
    res.set_content(j.dump(-1, ' ', false, kReplaceInvalidUtf8), "application/json");
}

json model_object(const std::string& id, int64_t created) {
    return {{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "library"}};
}

}  // namespace

void register_openai_routes(httplib::Server& http, ServerState& state) {
    http.Post("/v1/chat/completions", guarded(state, [&state](const auto& req, auto& res) {
                  chat_completions(state, req, res, true);
              }));
    http.Post("/v1/completions", guarded(state, [&state](const auto& req, auto& res) {
                  chat_completions(state, req, res, false);
              }));
    http.Post("/v1/embeddings", guarded(state, [&state](const auto& req, auto& res) {
                  embeddings(state, req, res);
              }));
    http.Get("/v1/models", guarded(state, [](const auto&, auto& res) {
                 json data = json::array();
                 for (const auto& e : store::Store::open_default().list()) {
                     const auto t = std::chrono::file_clock::to_sys(e.modified);
                     data.push_back(model_object(
                         e.ref.display(),
                         std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
                             .count()));
                 }
                 res.set_content(json{{"object", "list"}, {"data", data}}.dump(-1, ' ', false,
                                                                               kReplaceInvalidUtf8),
                                 "application/json");
             }));
    http.Get(R"(/v1/models/(.+))", guarded(state, [](const auto& req, auto& res) {
                 const std::string id = req.matches[1];
                 for (const auto& e : store::Store::open_default().list()) {
                     if (e.ref.display() == id) {
                         const auto t = std::chrono::file_clock::to_sys(e.modified);
                         res.set_content(
                             model_object(id, std::chrono::duration_cast<std::chrono::seconds>(
                                                  t.time_since_epoch())
                                                  .count())
                                 .dump(-1, ' ', false, kReplaceInvalidUtf8),
                             "application/json");
                         return;
                     }
                 }
                 throw ModelNotFound("model '" + id + "' not found");
             }));
}

}  // namespace lokal::server
