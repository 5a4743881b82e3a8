#include "server/structured_output.h"

#include "base/error.h"
#include "grammar/constrained_decoder.h"
#include "grammar/json_schema.h"
#include "server/http_error.h"
#include "server/request_options.h"

namespace lokal::server {

using json = nlohmann::ordered_json;

std::shared_ptr<const grammar::Grammar> ollama_format(const json& body) {
    const json* f = field(body, "format");
    if (!f) return nullptr;
    try {
        return grammar::parse_format(*f);
    } catch (const Error& e) {
        throw HttpError(400, std::string("'format': ") + e.what(), "format");
    }
}

std::shared_ptr<const grammar::Grammar> openai_response_format(const json& body) {
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
