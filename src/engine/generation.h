// What a generation asks for and how it went: the options and results of one sequence on the
// batch scheduler (batch_scheduler.h), the one generation loop `lokal run` and `lokal serve`
// share. It samples token by token until the model ends its turn, a stop string appears, the
// token budget or the context runs out, or the caller cancels; text reaches the caller in
// pieces that never split a UTF-8 character or a stop string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
    int draft_tokens = 0;         // tokens guessed ahead by speculative decoding
    int draft_accepted = 0;       // of which the model kept
};

}  // namespace lokal::engine
