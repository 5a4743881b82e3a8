// Ready-made grammars for plain JSON output.
#pragma once

#include <memory>

#include "grammar/grammar.h"

namespace lokal::grammar {

// Ollama's format "json" / OpenAI's json_object: any JSON object at the top level (no
// whitespace before or after it; bounded whitespace inside).
std::shared_ptr<const Grammar> grammar_for_any_json();
// Any JSON value.
std::shared_ptr<const Grammar> grammar_for_json_value();

}  // namespace lokal::grammar
