// The per-format part of the output parser: which markers open a tool-call region, and how the
// text after an opener is parsed. OutputParser (tool_call_parser.cpp) does the rest: finding
// openers, holding back partial markers, reasoning, whitespace and streaming.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/tool_call_json.h"
#include "chat/tool_call_parser.h"

namespace lokal::chat {

enum class RegionStatus { NeedMore, Done, Invalid };

struct RegionResult {
    RegionStatus status = RegionStatus::NeedMore;
    size_t consumed = 0;         // bytes of the body taken (Done) or released as content (Invalid)
    std::vector<RawCall> calls;  // Done: may be empty (markup that carries no call)
    std::string error;  // Invalid: why; empty when it was ordinary content that looked like markup
};

RegionResult need_more();
RegionResult done(size_t consumed, std::vector<RawCall> calls);
RegionResult invalid(size_t consumed, std::string error);

class ToolSyntax {
  public:
    static constexpr int kJsonStart = -1;  // a region that began with '{' or '[' at a call position
    static constexpr int kImplicit = -2;   // the region the output starts in (starts_in_region)

    virtual ~ToolSyntax() = default;
    // Markers that open a tool-call region anywhere in content.
    virtual std::vector<std::string> openers() const = 0;
    // Whether a JSON object or array at a call position (the start of the output, after only
    // whitespace or reasoning, or right after a call) opens a region.
    virtual bool json_at_call_position() const { return false; }
    // Whether the output starts inside a region (the prompt ended with the opener).
    virtual bool starts_in_region() const { return false; }
    // Reasoning open/close marker pairs.
    virtual std::vector<std::pair<std::string, std::string>> reasoning_markers() const {
        return {{"<think>", "</think>"}};
    }
    // Parses the text after opener `opener` (an index into openers(), kJsonStart with the body
    // starting at the bracket, or kImplicit). Must not return NeedMore when eof, and its answer
    // must not change when more text is appended (decide only what the text so far determines).
    virtual RegionResult parse(int opener, std::string_view body, bool eof) const = 0;
};

std::unique_ptr<ToolSyntax> make_tool_syntax(ToolFormat format);

// --- helpers shared by the formats (tool_call_region.cpp) ---

size_t skip_ws(std::string_view s, size_t pos);
bool is_name_char(char c);  // [A-Za-z0-9_.-]

// Where a region ends when `close` (after optional whitespace) should follow position `end`:
// after the close tag when present; `end` when something else follows (lenient: the call stands)
// or at eof; npos when the text so far could still become the close tag.
size_t close_after(std::string_view body, size_t end, std::string_view close, bool eof);

// Invalid markup that extends to `close` (released as content through it); NeedMore until the
// close tag or eof arrives.
RegionResult invalid_through(std::string_view body, size_t from, std::string_view close, bool eof,
                             std::string error);

// A JSON object or array of tool calls at body[pos], then optionally `close`. When it is not a
// call, `error` says so (empty: it is plain content) and it is released through `close`.
RegionResult json_calls_at(std::string_view body, size_t pos, std::string_view close, bool eof,
                           const std::string& error);

// Parses "NAME>{json}</function>" or "NAME><parameter=K>V</parameter>...</function>" starting at
// body[pos] (just after "<function="). Parameter values are JSON when they parse as JSON, else
// strings.
RegionResult function_tag_at(std::string_view body, size_t pos, bool eof);

}  // namespace lokal::chat
