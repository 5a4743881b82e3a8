// The generation loop: evaluate a prompt, then sample token by token until the model ends its
// turn, a stop string appears, the token budget or the context runs out, or the caller cancels.
// Text reaches the caller in pieces that never split a UTF-8 character or a stop string.
#pragma once

#include <atomic>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/context.h"
#include "sampling/sampler.h"

namespace lokal::engine {

struct GenerateOptions {
    int max_tokens = -1;  // -1: until end of generation or a full context
    std::vector<std::string> stop;
    std::vector<int32_t> stop_tokens;  // end the answer like end-of-generation tokens do
};

enum class StopReason { EndOfGeneration, StopString, MaxTokens, ContextFull, Cancelled };
const char* stop_reason_name(StopReason r);

struct GenerateStats {
    int prompt_tokens = 0;     // tokens evaluated for the prompt (after any reused prefix)
    int generated_tokens = 0;  // sampled tokens
    double prompt_seconds = 0;
    double generate_seconds = 0;
    StopReason reason = StopReason::EndOfGeneration;
    std::vector<int32_t> tokens;  // the sampled tokens
};

// Returning false from on_text cancels generation. `cancel` may be set from another thread
// (e.g. a SIGINT handler) to stop after the current token.
GenerateStats generate(model::Context& ctx, sampling::Sampler& sampler,
                       std::span<const int32_t> prompt, const GenerateOptions& options,
                       const std::function<bool(std::string_view)>& on_text,
                       const std::atomic<bool>* cancel = nullptr);

}  // namespace lokal::engine
