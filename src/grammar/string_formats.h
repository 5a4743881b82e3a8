// Grammars for JSON Schema string formats: date, time, date-time (RFC 3339) and uuid.
#pragma once

#include <optional>
#include <string>

#include "grammar/json_rules.h"

namespace lokal::grammar {

// The quoted string for `format`, or nullopt for formats without a grammar (which JSON
// Schema treats as annotations).
std::optional<Sym> format_rules(JsonRules& json, const std::string& format);

}  // namespace lokal::grammar
