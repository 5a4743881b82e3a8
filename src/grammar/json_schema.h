// JSON Schema -> grammar, and the request-level helpers (Ollama "format", OpenAI
// "response_format").
//
// Supported: type (also lists), properties (emitted in the schema's order: pass an
// ordered_json to keep it; nlohmann::json sorts keys), required, additionalProperties
// (false / true / a schema; absent means false when "properties" is given, as in OpenAI strict
// mode and llama.cpp, and any members when it is not), items, prefixItems, minItems, maxItems,
// enum, const, anyOf, oneOf (as anyOf), allOf (merged), $ref to "#", "#/$defs/...",
// "#/definitions/..." or any JSON pointer in the document (recursive schemas work),
// minLength, maxLength, pattern (see regex.h), format date / time / date-time / uuid (other
// formats are annotations and are ignored), nullable (OpenAPI). Annotations (title,
// description, examples, default, $schema, $id, $comment, ...) are ignored. Keywords that
// would change which documents are valid and that are not supported (minimum, maximum,
// multipleOf, uniqueItems: true, patternProperties, not, if/then/else, contains, ...) throw
// lokal::Error naming the keyword and where it is.
//
// Numbers: integer parts have at most 19 digits, fractions 18, exponents 3; whitespace inside
// the document is bounded (json_rules.h); no whitespace before or after the top-level value.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>
#include <string_view>

#include "grammar/grammar.h"

namespace lokal::grammar {

std::shared_ptr<const Grammar> grammar_from_json_schema(const nlohmann::ordered_json& schema);
std::shared_ptr<const Grammar> grammar_from_json_schema(const nlohmann::json& schema);
// A document of the schema between two fixed texts (prefix + document + suffix).
std::shared_ptr<const Grammar> grammar_from_json_schema(const nlohmann::ordered_json& schema,
                                                        std::string_view prefix,
                                                        std::string_view suffix);

// Ollama's "format" field: "json" -> any JSON object; an object -> that JSON Schema; null or
// "" -> nullptr (no constraint). Anything else throws lokal::Error.
std::shared_ptr<const Grammar> parse_format(const nlohmann::ordered_json& format);
std::shared_ptr<const Grammar> parse_format(const nlohmann::json& format);

// OpenAI's "response_format": {"type":"text"} -> nullptr, {"type":"json_object"} -> any
// JSON object, {"type":"json_schema","json_schema":{"schema":{...}}} -> that schema.
std::shared_ptr<const Grammar> parse_response_format(const nlohmann::ordered_json& rf);
std::shared_ptr<const Grammar> parse_response_format(const nlohmann::json& rf);

}  // namespace lokal::grammar
