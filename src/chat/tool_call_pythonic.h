// Python-style tool calls, as Gemma writes them in ```tool_code blocks and Llama 3.1 after
// <|python_tag|> for its built-in tools: `get_weather(city="Paris", days=3)`,
// `[f(a=1), g(b=[1, 2])]`, or several calls on separate lines. Arguments must be keyword
// arguments with literal values (strings, numbers, True/False/None, lists, tuples, dicts).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "chat/tool_call_json.h"

namespace lokal::chat {

struct PythonicResult {
    ScanStatus status = ScanStatus::Incomplete;
    size_t end = 0;  // Complete: one past the last call
    std::vector<RawCall> calls;
};

// Parses the calls starting at text[pos]. Incomplete when the text ends inside them (or right
// after a call on a new line, where another call may follow) and !eof. A trailing ".call" on the
// name is dropped (Llama's `brave_search.call(query="...")`).
PythonicResult parse_pythonic_calls(std::string_view text, size_t pos, bool eof);

}  // namespace lokal::chat
