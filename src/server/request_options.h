// Reading generation requests: Ollama's `options` object and OpenAI's top-level fields become
// sampling and generation parameters. Wrong types and out-of-range values are HttpError 400s
// that name the field.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/generation.h"
#include "sampling/sampler.h"

namespace lokal::server {

struct GenerationParams {
    sampling::SamplingParams sampling;
    engine::GenerateOptions generate;
    int n_ctx = 0;        // 0: the server's
    int gpu_layers = -1;  // Ollama's num_gpu; -1: as the model is loaded
    int draft_max = -1;   // draft_num_predict: most tokens guessed ahead; -1: the server's
};

// Ollama's defaults, then the stored model's PARAMETERs (`model_params`, Ollama's params JSON),
// then `options`.
GenerationParams ollama_params(const nlohmann::ordered_json& model_params,
                               const nlohmann::ordered_json* options);

// The same defaults and stored PARAMETERs, then OpenAI's fields (temperature, top_p, seed,
// max_tokens / max_completion_tokens, stop, presence_penalty, frequency_penalty, logit_bias).
GenerationParams openai_params(const nlohmann::ordered_json& model_params,
                               const nlohmann::ordered_json& body);

// The same defaults and stored PARAMETERs, then Anthropic's fields (max_tokens, required;
// temperature, top_p, top_k, stop_sequences).
GenerationParams anthropic_params(const nlohmann::ordered_json& model_params,
                                  const nlohmann::ordered_json& body);

// The same defaults and stored PARAMETERs, then llama-server's fields (n_predict, temperature,
// top_k, top_p, min_p, typical_p, repeat_penalty, repeat_last_n, presence_penalty,
// frequency_penalty, seed, stop).
GenerationParams llama_server_params(const nlohmann::ordered_json& model_params,
                                     const nlohmann::ordered_json& body);

// keep_alive as Ollama accepts it: seconds as a number, or a duration string ("5m", "1h30m",
// "10s", "-1"); nullopt when absent. Negative means forever.
std::optional<double> parse_keep_alive(const nlohmann::ordered_json& body);

// Typed field access that answers 400 naming the field.
const nlohmann::ordered_json* field(const nlohmann::ordered_json& obj, const char* name);
std::string required_string(const nlohmann::ordered_json& obj, const char* name);
bool optional_bool(const nlohmann::ordered_json& obj, const char* name, bool fallback);

// `tools` given flat, one object per function ({name, description, <schema_key>}: Anthropic's
// input_schema, the Responses API's parameters), in chat completions' shape ({type: function,
// function: {name, description, parameters}}); null when absent. With `only_functions`, each
// must say type: function. 400 naming the tool otherwise.
nlohmann::ordered_json flat_tools_as_chat_tools(const nlohmann::ordered_json& body,
                                                const char* schema_key, bool only_functions);

// The text of a message's content given as a string or a list of parts: the parts whose type is
// one of text_types (and that hold a "text" string) joined with separator. Anything else is 400
// naming the part: media types as unsupported (the models read text), the rest as malformed.
std::string parts_text(const nlohmann::ordered_json& content, const std::string& where,
                       std::initializer_list<std::string_view> text_types,
                       std::string_view separator);

}  // namespace lokal::server
