// `lokal cache ls|clear`: the persistent prompt cache's files (engine/prompt_cache_store.h).
#pragma once

#include <functional>
#include <optional>

namespace CLI {
class App;
}

namespace lokal::cli {

// Registers `cache` on app; the returned function runs it when chosen (else nullopt).
std::function<std::optional<int>()> add_cache_commands(CLI::App& app);

}  // namespace lokal::cli
