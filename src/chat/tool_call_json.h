// JSON helpers for the tool-call parser: finding where a JSON object or array ends in a growing
// text, and turning parsed JSON into tool calls.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lokal::chat {

using OrderedJson = nlohmann::ordered_json;

enum class ScanStatus { Incomplete, Complete, Invalid };

struct ScanResult {
    ScanStatus status = ScanStatus::Incomplete;
    size_t end = 0;  // Complete: one past the closing bracket; Invalid: where it went wrong
};

// Finds the end of the JSON object or array starting at text[pos] ('{' or '['), tracking
// strings and escapes so brackets inside strings don't count. Scalars are not validated here.
ScanResult scan_json_container(std::string_view text, size_t pos);

// Parses JSON without throwing; nullopt when invalid.
std::optional<OrderedJson> parse_json(std::string_view text);

// Compact JSON text; invalid UTF-8 in strings becomes U+FFFD instead of throwing.
std::string dump_compact(const OrderedJson& value);

// A tool call as found in the text; the id is empty when the model gave none.
struct RawCall {
    std::string id;
    std::string name;
    std::string arguments;
};

// Arguments as compact JSON object text: an object is dumped, a string holding a JSON object is
// parsed first, null or absent is "{}". nullopt for anything else.
std::optional<std::string> normalize_arguments(const OrderedJson* value);

// The calls described by a JSON value: {"name":..,"arguments"|"parameters":..} (optionally with
// "id"), {"function":{"name":..,"arguments":..}}, {"tool_calls":[...]}, or an array of these.
// nullopt when the value is not shaped like tool calls (then it is plain content).
std::optional<std::vector<RawCall>> calls_from_json(const OrderedJson& value);

// Same for text that must be exactly one JSON value (surrounding whitespace allowed).
std::optional<std::vector<RawCall>> calls_from_json_text(std::string_view text);

}  // namespace lokal::chat
