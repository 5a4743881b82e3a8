#include "server/structured_output.h"

#include "base/error.h"
#include "grammar/constrained_decoder.h"
#include "grammar/gbnf_text.h"
#include "grammar/json_schema.h"
#include "server/http_error.h"
#include "server/request_options.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

namespace {

// llama.cpp's `grammar` field: GBNF text. Exclusive with the API's own format field.
std::shared_ptr<const grammar::Grammar> gbnf_grammar(const json& body, const char* other) {
    const json* g = field(body, "grammar");
    if (!g || g->is_null()) return nullptr;
    if (!g->is_string()) throw HttpError(400, "'grammar' must be a string (GBNF)", "grammar");
    if (field(body, other)) {
        throw HttpError(400, std::string("use either 'grammar' or '") + other + "', not both",
                        "grammar");
    }
    try {
        return grammar::parse_gbnf(g->get_ref<const std::string&>());
    } catch (const Error& e) {
        throw HttpError(400, std::string("'grammar': ") + e.what(), "grammar");
    }
}

}  // namespace

std::shared_ptr<const grammar::Grammar> ollama_format(const json& body) {
    if (auto g = gbnf_grammar(body, "format")) return g;
    const json* f = field(body, "format");
    if (!f) return nullptr;
    try {
        return grammar::parse_format(*f);
    } catch (const Error& e) {
        throw HttpError(400, std::string("'format': ") + e.what(), "format");
    }
}

std::shared_ptr<const grammar::Grammar> openai_response_format(const json& body) {
    if (auto g = gbnf_grammar(body, "response_format")) return g;
    const json* rf = field(body, "response_format");
    if (!rf) return nullptr;
    try {
        return grammar::parse_response_format(*rf);
    } catch (const Error& e) {
        throw HttpError(400, std::string("'response_format': ") + e.what(), "response_format");
    }
}

void constrain_request(LoadedModel& model, std::shared_ptr<const grammar::Grammar> g,
                       engine::SequenceRequest& request) {
    if (!g) return;
    std::shared_ptr<const grammar::TokenTrie> trie;
    {
        std::lock_guard<std::mutex> lock(model.embed_mutex);
        if (!model.token_trie) {
            model.token_trie = std::make_shared<grammar::TokenTrie>(model.model->tokenizer());
        }
        trie = model.token_trie;
    }
    auto decoder = std::make_shared<grammar::ConstrainedDecoder>(std::move(g), std::move(trie));
    request.constrain = [decoder](float* logits, int) { decoder->apply_mask(logits); };
    request.on_accept = [decoder](int32_t token) { decoder->accept(token); };
    request.allows = [decoder](int32_t token) { return decoder->is_allowed(token); };
}

}  // namespace lokal::server
