// OpenAI's `n` on /v1/chat/completions and /v1/completions: several choices for one prompt, each
// its own sequence sampled on its own. The first choice starts alone; the others start once its
// prompt is evaluated, so they take the prompt's KV rows from the prefix cache instead of
// evaluating it again. Streamed, each choice's chunks (carrying its `index`) follow the previous
// choice's, and one usage chunk and `data: [DONE]` end the response.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "server/generation_request.h"
#include "server/model_manager.h"
#include "server/openai_wire.h"
#include "server/server.h"

namespace lokal::server {

inline constexpr int kMaxChoices = 128;  // as OpenAI allows

// `n` of a request: absent 1; HttpError 400 unless an integer from 1 to kMaxChoices.
int openai_choices_wanted(const nlohmann::ordered_json& body);

struct ChoicesRequest {
    const GenerationRequest& g;
    int n = 2;
    int n_probs = -1;
    OpenAIEnvelope envelope;
    bool include_usage = false;
    bool streaming = false;
};

// Answers with r.n choices. `keep` holds the model until the response is written. With a seed,
// choice i samples with seed + i: reproducible, and not n copies of one answer.
void answer_openai_choices(ServerState& state, const httplib::Request& req,
                           httplib::Response& res, LoadedModel& model, std::shared_ptr<void> keep,
                           const ChoicesRequest& r);

}  // namespace lokal::server
