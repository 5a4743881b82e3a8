// llama-server's POST /infill: code completion at a cursor, for editor plugins written against
// llama.cpp (llama.vim, llama.vscode). The model's FIM tokens around input_prefix and
// input_suffix, with input_extra's files as context (chat/fill_in_middle.h), answered in
// llama-server's /completion shape (llama_server_wire.h).
#include "chat/fill_in_middle.h"
#include "server/answer_driver.h"
#include "server/api_util.h"
#include "server/http_error.h"
#include "server/llama_server_wire.h"
#include "tokenizer/tokenizer.h"

namespace lokal::server {
namespace {

using json = nlohmann::ordered_json;

std::string optional_string(const json& body, const char* name) {
    const json* v = field(body, name);
    if (!v) return "";
    if (!v->is_string()) throw HttpError(400, std::string("'") + name + "' must be a string", name);
    return v->get<std::string>();
}

std::vector<chat::FimContextFile> context_files(const json& body) {
    const json* extra = field(body, "input_extra");
    if (!extra) return {};
    const char* shape = "'input_extra' must be a list of {\"filename\": ..., \"text\": ...}";
    if (!extra->is_array()) throw HttpError(400, shape, "input_extra");
    std::vector<chat::FimContextFile> files;
    for (const json& chunk : *extra) {
        if (!chunk.is_object()) throw HttpError(400, shape, "input_extra");
        const json* text = field(chunk, "text");
        const json* name = field(chunk, "filename");
        if (!text || !text->is_string() || (name && !name->is_string())) {
            throw HttpError(400, shape, "input_extra");
        }
        files.push_back({name ? name->get<std::string>() : "", text->get<std::string>()});
    }
    return files;
}

// llama-server serves one model and needs no name; lokal serves many, so a request without one
// means the model loaded now when there is exactly one.
std::string model_named(ServerState& state, const json& body) {
    if (field(body, "model")) return required_string(body, "model");
    const auto loaded = state.models.loaded();
    if (loaded.size() == 1) return loaded.front().name;
    throw HttpError(400,
                    "'model' is required: this server has " + std::to_string(loaded.size()) +
                        " models loaded, and /infill must be told which",
                    "model");
}

void infill(ServerState& state, const httplib::Request& req, httplib::Response& res) {
    const json body = parse_body(req);
    const std::string model = model_named(state, body);
    const std::string prefix = optional_string(body, "input_prefix");
    const std::string suffix = optional_string(body, "input_suffix");
    const std::string middle_start = optional_string(body, "prompt");
    const std::vector<chat::FimContextFile> files = context_files(body);
    auto lease = std::shared_ptr<ModelManager::Lease>(
        state.models.acquire(model, parse_keep_alive(body)));
    LoadedModel& m = **lease;
    const tokenizer::Tokenizer& tok = m.model->tokenizer();
    const auto fim = chat::find_fim_tokens(tok, chat::fim_token_ids(m.model->file()));
    if (!fim) {
        throw HttpError(400,
                        "'" + m.name +
                            "' cannot infill: its vocabulary has no fill-in-the-middle tokens; "
                            "use a code model such as Qwen2.5-Coder",
                        "model");
    }
    const std::vector<int32_t> prompt =
        chat::infill_prompt(tok, *fim, chat::find_fim_repo_tokens(tok, m.model->file()),
                            {prefix, suffix, middle_start, files});
    const GenerationParams params = llama_server_params(m.defaults.parameters, body);
    auto stream = start_completion(m, prompt, params, -1);
    auto codec = std::make_shared<LlamaServerCodec>(LlamaServerEnvelope{
        model, tok.decode(prompt, true), optional_bool(body, "return_tokens", false)});
    drive_answer(state, req, res, model, stream, lease, OutputState(), codec,
                 optional_bool(body, "stream", false));
}

}  // namespace

void register_llama_server_routes(httplib::Server& http, ServerState& state) {
    http.Post("/infill", guarded(state, [&state](const auto& req, auto& res) {
                  infill(state, req, res);
              }));
}

}  // namespace lokal::server
