// Modelfiles, as `ollama create` reads them:
//
//     # comment
//     FROM ./model.gguf            (or a model in the store: FROM gemma3:270m)
//     PARAMETER temperature 0.7
//     PARAMETER stop "<|end|>"
//     TEMPLATE """{{ .Prompt }}"""
//     SYSTEM You are terse.
//     ADAPTER ./lora.gguf
//     DRAFT gemma3:270m            (speculative decoding's draft model: a name or a .gguf path)
//     MESSAGE user Hello
//     LICENSE """..."""
//
// Directives are case-insensitive; an argument is the rest of the line, a "quoted string", or a
// """triple-quoted""" block that may span lines. Errors name the line and the directive.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lokal::store {

struct Modelfile {
    std::string from;
    std::optional<std::string> template_text;
    std::optional<std::string> system;
    std::optional<std::string> license;
    std::optional<std::string> min_version;  // REQUIRES: the least Ollama version (not checked)
    std::vector<std::pair<std::string, std::string>> parameters;  // name, value as written
    std::vector<std::string> adapters;
    // DRAFT: a smaller model with the same vocabulary that guesses ahead for this one.
    std::optional<std::string> draft;
    std::vector<std::pair<std::string, std::string>> messages;  // role, content
};

// Throws lokal::Error "Modelfile line N: ..." on a problem.
Modelfile parse_modelfile(std::string_view text);

// The parameters as Ollama's params JSON: numbers typed, `stop` an array. Merged over `base`
// (a JSON object, possibly empty) so a derived model keeps what it does not override.
std::string params_json(const std::vector<std::pair<std::string, std::string>>& params,
                        std::string_view base = "{}");

}  // namespace lokal::store
