// `lokal convert HF_DIR OUT.gguf [--outtype f32|f16|bf16|q8_0]`.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>

namespace lokal::cli {

// Registers the subcommand; the returned function runs it when it was given (nullopt if not).
std::function<std::optional<int>()> add_convert_command(CLI::App& app);

}  // namespace lokal::cli
