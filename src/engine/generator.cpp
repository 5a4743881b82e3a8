#include "engine/generator.h"

#include <algorithm>
#include <chrono>

#include "sampling/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace lokal::engine {

const char* stop_reason_name(StopReason r) {
    switch (r) {
        case StopReason::EndOfGeneration:
            return "end of generation";
        case StopReason::StopString:
            return "stop string";
        case StopReason::MaxTokens:
            return "token limit";
        case StopReason::ContextFull:
            return "context full";
        case StopReason::Cancelled:
            return "cancelled";
    }
    return "unknown";
}

GenerateStats generate(model::Context& ctx, sampling::Sampler& sampler,
                       std::span<const int32_t> prompt, const GenerateOptions& options,
                       const std::function<bool(std::string_view)>& on_text,
                       const std::atomic<bool>* cancel) {
    using Clock = std::chrono::steady_clock;
    auto seconds_since = [](Clock::time_point t) {
        return std::chrono::duration<double>(Clock::now() - t).count();
    };
    const tokenizer::Tokenizer& tok = ctx.model().tokenizer();
    GenerateStats stats;
    stats.prompt_tokens = (int)prompt.size();

    auto t0 = Clock::now();
    ctx.eval(prompt);
    stats.prompt_seconds = seconds_since(t0);
    for (int32_t t : prompt) sampler.accept(t);

    tokenizer::StreamDecoder decoder(tok);
    sampling::StopMatcher stops(options.stop);
    auto emit = [&](const std::string& text) { return text.empty() || on_text(text); };

    t0 = Clock::now();
    for (;;) {
        if (cancel && cancel->load()) {
            stats.reason = StopReason::Cancelled;
            break;
        }
        if (options.max_tokens >= 0 && stats.generated_tokens >= options.max_tokens) {
            stats.reason = StopReason::MaxTokens;
            break;
        }
        const int32_t next = sampler.sample(ctx.logits());
        sampler.accept(next);
        if (tok.is_eog(next) || std::find(options.stop_tokens.begin(), options.stop_tokens.end(),
                                          next) != options.stop_tokens.end()) {
            stats.reason = StopReason::EndOfGeneration;
            break;
        }
        stats.tokens.push_back(next);
        ++stats.generated_tokens;
        const sampling::StopMatcher::Result r = stops.feed(decoder.push(next));
        if (!emit(r.text)) {
            stats.reason = StopReason::Cancelled;
            break;
        }
        if (r.stopped) {
            stats.reason = StopReason::StopString;
            break;
        }
        if (ctx.n_past() >= ctx.n_ctx()) {
            stats.reason = StopReason::ContextFull;
            break;
        }
        const int32_t one[1] = {next};
        ctx.eval(one);
    }
    if (stats.reason != StopReason::StopString) {
        emit(stops.feed(decoder.flush()).text);
        emit(stops.flush());
    }
    stats.generate_seconds = seconds_since(t0);
    return stats;
}

}  // namespace lokal::engine
