// The tool-call syntaxes of the model families (see ToolFormat in tool_call_parser.h).
#include "chat/tool_call_pythonic.h"
#include "chat/tool_call_syntax.h"

namespace lokal::chat {

namespace {

constexpr size_t kMaxNameLength = 256;

// A name made of [A-Za-z0-9_.-] at body[pos]; returns its end, or npos when the text ends inside
// it (more may come).
size_t name_end(std::string_view body, size_t pos) {
    size_t i = pos;
    while (i < body.size() && is_name_char(body[i])) ++i;
    return i == body.size() ? std::string_view::npos : i;
}

// A region at a call position that starts with a bracket: Python-style calls in a list
// ([f(a=1), g()], Llama 3.2 and Gemma write these when asked for "pythonic" calls) or JSON calls.
// Anything else there is content.
RegionResult calls_at_call_position(std::string_view body, bool eof) {
    if (body.starts_with('[')) {
        const PythonicResult py = parse_pythonic_calls(body, 0, eof);
        if (py.status == ScanStatus::Incomplete) return need_more();
        if (py.status == ScanStatus::Complete) return done(py.end, py.calls);
    }
    return json_calls_at(body, 0, "", eof, "");
}

class GenericSyntax : public ToolSyntax {
  public:
    std::vector<std::string> openers() const override { return {}; }
    bool json_at_call_position() const override { return true; }
    RegionResult parse(int, std::string_view body, bool eof) const override {
        return json_calls_at(body, 0, "", eof, "");
    }
};

// {"name": "f", "parameters": {...}} (or a Python-style list [f(a=1)]) as the output, or after
// <|python_tag|> (also a built-in tool call such as brave_search.call(query="...")).
class Llama3Syntax : public ToolSyntax {
  public:
    std::vector<std::string> openers() const override { return {"<|python_tag|>"}; }
    bool json_at_call_position() const override { return true; }
    RegionResult parse(int opener, std::string_view body, bool eof) const override {
        if (opener == kJsonStart) return calls_at_call_position(body, eof);
        const size_t i = skip_ws(body, 0);
        if (i == body.size()) return eof ? invalid(body.size(), "empty tool call") : need_more();
        if (body[i] == '{' || body[i] == '[') return json_calls_at(body, i, "", eof, "tool call");
        const PythonicResult py = parse_pythonic_calls(body, i, eof);
        if (py.status == ScanStatus::Incomplete) return need_more();
        if (py.status == ScanStatus::Invalid) return invalid(0, "python_tag without a tool call");
        return done(py.end, py.calls);
    }
};

// <tool_call>{"name": .., "arguments": ..}</tool_call>, or with Qwen3-Coder's XML inside:
// <tool_call><function=f><parameter=k>v</parameter></function></tool_call>.
class HermesSyntax : public ToolSyntax {
  public:
    std::vector<std::string> openers() const override { return {"<tool_call>"}; }
    RegionResult parse(int, std::string_view body, bool eof) const override {
        static constexpr std::string_view kClose = "</tool_call>";
        static constexpr std::string_view kFunction = "<function=";
        const size_t i = skip_ws(body, 0);
        if (i == body.size()) return eof ? invalid(body.size(), "empty tool call") : need_more();
        if (body[i] == '{' || body[i] == '[')
            return json_calls_at(body, i, kClose, eof, "tool call");
        const std::string_view rest = body.substr(i);
        if (!rest.starts_with(kFunction)) {
            if (!eof && kFunction.starts_with(rest)) return need_more();
            return invalid(0, "tool call without JSON");
        }
        RegionResult r = function_tag_at(body, i + kFunction.size(), eof);
        if (r.status != RegionStatus::Done) return r;
        const size_t end = close_after(body, r.consumed, kClose, eof);
        if (end == std::string_view::npos) return need_more();
        r.consumed = end;
        return r;
    }
};

// [TOOL_CALLS][{"name": .., "arguments": .., "id": ..}] or [TOOL_CALLS]f[ARGS]{..}, optionally
// f[CALL_ID]id[ARGS]{..}.
class MistralSyntax : public ToolSyntax {
  public:
    std::vector<std::string> openers() const override { return {"[TOOL_CALLS]"}; }
    std::vector<std::pair<std::string, std::string>> reasoning_markers() const override {
        return {{"[THINK]", "[/THINK]"}, {"<think>", "</think>"}};
    }
    RegionResult parse(int, std::string_view body, bool eof) const override {
        static constexpr std::string_view kArgs = "[ARGS]";
        static constexpr std::string_view kCallId = "[CALL_ID]";
        const size_t i = skip_ws(body, 0);
        if (i == body.size()) return eof ? invalid(body.size(), "empty tool call") : need_more();
        if (body[i] == '{' || body[i] == '[') return json_calls_at(body, i, "", eof, "tool call");
        const size_t end = name_end(body, i);
        if (end == std::string_view::npos) {
            if (eof) return invalid(body.size(), "unterminated tool call");
            return body.size() - i > kMaxNameLength ? invalid(0, "tool name too long")
                                                    : need_more();
        }
        if (end == i) return invalid(0, "tool call without a name");
        std::string id;
        size_t pos = end;
        std::string_view rest = body.substr(pos);
        if (rest.starts_with(kCallId)) {
            const size_t args_at = body.find(kArgs, pos + kCallId.size());
            if (args_at == std::string_view::npos) {
                if (eof) return invalid(body.size(), "unterminated tool call");
                return body.size() - pos > kMaxNameLength ? invalid(0, "call id too long")
                                                          : need_more();
            }
            id = std::string(body.substr(pos + kCallId.size(), args_at - pos - kCallId.size()));
            pos = args_at;
            rest = body.substr(pos);
        } else if (!eof && kCallId.starts_with(rest)) {
            return need_more();
        }
        if (!rest.starts_with(kArgs)) {
            if (!eof && kArgs.starts_with(rest)) return need_more();
            return invalid(0, "tool call without [ARGS]");
        }
        const size_t j = skip_ws(body, pos + kArgs.size());
        if (j == body.size())
            return eof ? invalid(body.size(), "unterminated tool call") : need_more();
        if (body[j] != '{') return invalid(0, "tool call arguments are not a JSON object");
        const ScanResult scan = scan_json_container(body, j);
        if (scan.status == ScanStatus::Incomplete) {
            return eof ? invalid(body.size(), "unterminated tool call") : need_more();
        }
        std::optional<OrderedJson> args;
        if (scan.status == ScanStatus::Complete) args = parse_json(body.substr(j, scan.end - j));
        if (!args || !args->is_object()) {
            return invalid(scan.end, "malformed JSON in tool call arguments");
        }
        return done(scan.end, {RawCall{std::move(id), std::string(body.substr(i, end - i)),
                                       dump_compact(*args)}});
    }
};

// >>>f\n{..}; ">>>all\n" introduces content. The generation prompt ends with ">>>", so the output
// starts right after an opener.
class FunctionaryV32Syntax : public ToolSyntax {
  public:
    std::vector<std::string> openers() const override { return {">>>"}; }
    bool starts_in_region() const override { return true; }
    RegionResult parse(int, std::string_view body, bool eof) const override {
        const size_t end = name_end(body, 0);
        if (end == std::string_view::npos) {
            if (eof) return invalid(0, "");
            return body.size() > kMaxNameLength ? invalid(0, "") : need_more();
        }
        if (end == 0 || body[end] != '\n') return invalid(0, "");  // not a recipient line
        const std::string_view name = body.substr(0, end);
        if (name == "all") return done(end + 1, {});
        const size_t i = skip_ws(body, end + 1);
        if (i == body.size()) return eof ? invalid(body.size(), "empty tool call") : need_more();
        if (body[i] != '{') return invalid(0, "");
        const ScanResult scan = scan_json_container(body, i);
        if (scan.status == ScanStatus::Incomplete) {
            return eof ? invalid(body.size(), "unterminated tool call") : need_more();
        }
        std::optional<OrderedJson> args;
        if (scan.status == ScanStatus::Complete) args = parse_json(body.substr(i, scan.end - i));
        if (!args || !args->is_object()) return invalid(scan.end, "malformed JSON in tool call");
        return done(scan.end, {RawCall{"", std::string(name), dump_compact(*args)}});
    }
};

// <function=f>{..}</function>
class FunctionaryV31Syntax : public ToolSyntax {
  public:
    std::vector<std::string> openers() const override { return {"<function="}; }
    RegionResult parse(int, std::string_view body, bool eof) const override {
        return function_tag_at(body, 0, eof);
    }
};

// <｜tool▁calls▁begin｜> (<｜tool▁call▁begin｜> CALL <｜tool▁call▁end｜>)* <｜tool▁calls▁end｜>
// where CALL is "function<｜tool▁sep｜>f\n```json\n{..}\n```" (R1) or "f<｜tool▁sep｜>{..}" (V3.1).
class DeepSeekSyntax : public ToolSyntax {
  public:
    static constexpr std::string_view kCallsBegin = "<｜tool▁calls▁begin｜>";
    static constexpr std::string_view kCallBegin = "<｜tool▁call▁begin｜>";
    static constexpr std::string_view kCallsEnd = "<｜tool▁calls▁end｜>";
    static constexpr std::string_view kCallEnd = "<｜tool▁call▁end｜>";
    static constexpr std::string_view kSep = "<｜tool▁sep｜>";

    std::vector<std::string> openers() const override {
        return {std::string(kCallsBegin), std::string(kCallBegin), std::string(kCallsEnd)};
    }
    RegionResult parse(int opener, std::string_view body, bool eof) const override {
        if (opener != 1) return done(0, {});  // the list's brackets carry nothing
        const size_t end = body.find(kCallEnd);
        if (end == std::string_view::npos && !eof) return need_more();
        const std::string_view call = body.substr(0, end);
        const size_t consumed = end == std::string_view::npos ? body.size() : end + kCallEnd.size();
        std::optional<RawCall> parsed = parse_call(call);
        if (!parsed) {
            return invalid(consumed, end == std::string_view::npos ? "unterminated tool call"
                                                                   : "malformed tool call");
        }
        return done(consumed, {std::move(*parsed)});
    }

  private:
    static std::string_view trim(std::string_view s) {
        const size_t b = skip_ws(s, 0);
        size_t e = s.size();
        while (e > b && skip_ws(s, e - 1) == e) --e;
        return s.substr(b, e - b);
    }

    static std::optional<RawCall> parse_call(std::string_view call) {
        const size_t sep = call.find(kSep);
        if (sep == std::string_view::npos) return std::nullopt;
        const std::string_view before = trim(call.substr(0, sep));
        std::string_view after = trim(call.substr(sep + kSep.size()));
        std::string_view name = before;
        const size_t newline = after.find('\n');
        if (newline != std::string_view::npos && after.substr(newline + 1).find("```") == 0) {
            // R1: the name is on the line after the separator, the arguments in a fence.
            name = trim(after.substr(0, newline));
            std::string_view fenced = after.substr(newline + 1 + 3);
            const size_t line = fenced.find('\n');
            if (line == std::string_view::npos) return std::nullopt;
            fenced = fenced.substr(line + 1);
            const size_t close = fenced.rfind("```");
            if (close == std::string_view::npos) return std::nullopt;
            after = trim(fenced.substr(0, close));
        }
        if (name.empty() || name_end(name, 0) != std::string_view::npos) return std::nullopt;
        std::optional<OrderedJson> args = parse_json(after);
        if (!args) return std::nullopt;
        std::optional<std::string> normalized = normalize_arguments(&*args);
        if (!normalized) return std::nullopt;
        return RawCall{"", std::string(name), std::move(*normalized)};
    }
};

// A JSON call at the start (like Llama 3), or a fenced block: ```tool_code with Python-style
// calls or JSON, ```json with JSON calls. A fenced block that holds no call is content.
class GemmaSyntax : public ToolSyntax {
  public:
    std::vector<std::string> openers() const override { return {"```tool_code", "```json"}; }
    bool json_at_call_position() const override { return true; }
    RegionResult parse(int opener, std::string_view body, bool eof) const override {
        static constexpr std::string_view kFence = "```";
        if (opener == kJsonStart) return calls_at_call_position(body, eof);
        if (body.empty()) return eof ? invalid(0, "") : need_more();
        if (body[0] != '\n' && body[0] != ' ' && body[0] != '\r') return invalid(0, "");
        const size_t i = skip_ws(body, 0);
        if (i == body.size()) return eof ? invalid(body.size(), "") : need_more();
        if (opener == 0) {  // ```tool_code: Python-style calls first
            const PythonicResult py = parse_pythonic_calls(body, i, eof);
            if (py.status == ScanStatus::Incomplete) return need_more();
            if (py.status == ScanStatus::Complete) {
                const size_t end = close_after(body, py.end, kFence, eof);
                if (end == std::string_view::npos) return need_more();
                return done(end, py.calls);
            }
        }
        if (body[i] == '{' || body[i] == '[') return json_calls_at(body, i, kFence, eof, "");
        return invalid_through(body, i, kFence, eof, "");
    }
};

}  // namespace

std::unique_ptr<ToolSyntax> make_tool_syntax(ToolFormat format) {
    switch (format) {
        case ToolFormat::Generic:
            return std::make_unique<GenericSyntax>();
        case ToolFormat::Llama3:
            return std::make_unique<Llama3Syntax>();
        case ToolFormat::Hermes:
            return std::make_unique<HermesSyntax>();
        case ToolFormat::Mistral:
            return std::make_unique<MistralSyntax>();
        case ToolFormat::FunctionaryV32:
            return std::make_unique<FunctionaryV32Syntax>();
        case ToolFormat::FunctionaryV31:
            return std::make_unique<FunctionaryV31Syntax>();
        case ToolFormat::DeepSeek:
            return std::make_unique<DeepSeekSyntax>();
        case ToolFormat::Gemma:
            return std::make_unique<GemmaSyntax>();
    }
    return std::make_unique<GenericSyntax>();
}

}  // namespace lokal::chat
