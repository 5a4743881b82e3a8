#include "engine/generation.h"

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

}  // namespace lokal::engine
