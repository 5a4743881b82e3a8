// lokal quantize (a GGUF model file to a quantization mix) and lokal imatrix (the importance
// matrix quantize can use).
#pragma once

#include <functional>
#include <optional>

namespace CLI {
class App;
}

namespace lokal::cli {

// Registers the subcommands on `app`. After parsing, the returned function runs the chosen one
// and returns its exit code, or nullopt when none of them was chosen. Errors are lokal::Error.
std::function<std::optional<int>()> add_quantize_commands(CLI::App& app);

}  // namespace lokal::cli
