// Structured output: Ollama's `format` ("json" or a JSON schema) and OpenAI's `response_format`
// ({"type": "json_object"} or {"type": "json_schema", "json_schema": {"schema": ...}}) become a
// grammar that constrains sampling, so the answer is valid JSON (matching the schema).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "engine/batch_scheduler.h"
#include "grammar/grammar.h"
#include "server/model_manager.h"

namespace lokal::server {

// Both also take llama.cpp's `grammar` (GBNF text) instead.
// nullptr when the request asks for free text. HttpError 400 for a malformed or unsupported
// format (naming the field).
std::shared_ptr<const grammar::Grammar> ollama_format(const nlohmann::ordered_json& body);
std::shared_ptr<const grammar::Grammar> openai_response_format(const nlohmann::ordered_json& body);

// Fills request.constrain / on_accept so the scheduler samples only what the grammar allows.
void constrain_request(LoadedModel& model, std::shared_ptr<const grammar::Grammar> g,
                       engine::SequenceRequest& request);

}  // namespace lokal::server
