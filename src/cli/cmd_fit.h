// `lokal fit MODEL [--ctx N] [--parallel N] [--cache-type T] [--device D] [--budget SIZE]
// [--json]`: the memory a model needs and its predicted speed on this machine, from the GGUF
// header alone (a registry model's is read with Range requests before pulling).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace lokal::cli {

// "8G", "512M", "1.5GiB", "1000000" (bytes); nullopt when it does not parse.
std::optional<uint64_t> parse_byte_size(const std::string& text);

// Registers the subcommand; the returned function runs it when it was given (nullopt if not).
std::function<std::optional<int>()> add_fit_command(CLI::App& app);

}  // namespace lokal::cli
