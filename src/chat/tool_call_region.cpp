#include "chat/tool_call_syntax.h"

namespace lokal::chat {

namespace {

constexpr size_t kMaxNameLength = 256;
constexpr std::string_view kFunctionClose = "</function>";
constexpr std::string_view kParamOpen = "<parameter=";
constexpr std::string_view kParamClose = "</parameter>";

bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

RegionResult need_more() {
    return {};
}

RegionResult done(size_t consumed, std::vector<RawCall> calls) {
    return {RegionStatus::Done, consumed, std::move(calls), {}};
}

RegionResult invalid(size_t consumed, std::string error) {
    return {RegionStatus::Invalid, consumed, {}, std::move(error)};
}

size_t skip_ws(std::string_view s, size_t pos) {
    while (pos < s.size() && is_ws(s[pos])) ++pos;
    return pos;
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

size_t close_after(std::string_view body, size_t end, std::string_view close, bool eof) {
    if (close.empty()) return end;
    const size_t j = skip_ws(body, end);
    const std::string_view rest = body.substr(j);
    if (rest.starts_with(close)) return j + close.size();
    if (!eof && close.starts_with(rest)) return std::string_view::npos;
    return end;
}

RegionResult invalid_through(std::string_view body, size_t from, std::string_view close, bool eof,
                             std::string error) {
    if (close.empty()) return invalid(from, std::move(error));
    const size_t at = body.find(close, from);
    if (at != std::string_view::npos) return invalid(at + close.size(), std::move(error));
    if (eof) return invalid(body.size(), std::move(error));
    return need_more();
}

RegionResult json_calls_at(std::string_view body, size_t pos, std::string_view close, bool eof,
                           const std::string& error) {
    const ScanResult scan = scan_json_container(body, pos);
    if (scan.status == ScanStatus::Incomplete) {
        return eof ? invalid(body.size(), error.empty() ? "" : "unterminated " + error)
                   : need_more();
    }
    if (scan.status == ScanStatus::Invalid) {
        return invalid_through(body, scan.end, close, eof,
                               error.empty() ? "" : "malformed JSON in " + error);
    }
    std::optional<std::vector<RawCall>> calls =
        calls_from_json_text(body.substr(pos, scan.end - pos));
    if (!calls) {
        return invalid_through(body, scan.end, close, eof,
                               error.empty() ? "" : "not a valid " + error);
    }
    const size_t end = close_after(body, scan.end, close, eof);
    if (end == std::string_view::npos) return need_more();
    return done(end, std::move(*calls));
}

namespace {

// A parameter value of the Qwen3-Coder form: one newline on each side is layout.
OrderedJson parameter_value(std::string_view v) {
    if (v.starts_with('\n')) v.remove_prefix(1);
    if (v.ends_with('\n')) v.remove_suffix(1);
    if (std::optional<OrderedJson> j = parse_json(v)) return std::move(*j);
    return OrderedJson(std::string(v));
}

// "<parameter=K>V</parameter>" pairs in `text` (between the function's name tag and its close).
std::optional<std::string> parameters_object(std::string_view text) {
    OrderedJson args = OrderedJson::object();
    size_t i = 0;
    while (true) {
        i = skip_ws(text, i);
        if (i == text.size()) break;
        if (!text.substr(i).starts_with(kParamOpen)) return std::nullopt;
        const size_t key_start = i + kParamOpen.size();
        const size_t key_end = text.find('>', key_start);
        if (key_end == std::string_view::npos || key_end == key_start) return std::nullopt;
        const size_t value_end = text.find(kParamClose, key_end + 1);
        if (value_end == std::string_view::npos) return std::nullopt;
        args[std::string(text.substr(key_start, key_end - key_start))] =
            parameter_value(text.substr(key_end + 1, value_end - key_end - 1));
        i = value_end + kParamClose.size();
    }
    return dump_compact(args);
}

}  // namespace

RegionResult function_tag_at(std::string_view body, size_t pos, bool eof) {
    size_t name_end = pos;
    while (name_end < body.size() && is_name_char(body[name_end])) ++name_end;
    if (name_end == body.size()) {
        if (eof) return invalid(body.size(), "unterminated function tag");
        return name_end - pos > kMaxNameLength ? invalid(0, "function name too long") : need_more();
    }
    if (body[name_end] != '>' || name_end == pos) return invalid(0, "malformed function tag");
    const std::string name(body.substr(pos, name_end - pos));
    const size_t i = skip_ws(body, name_end + 1);
    if (i == body.size()) {
        return eof ? invalid(body.size(), "unterminated function call") : need_more();
    }
    if (body[i] == '{') {
        const ScanResult scan = scan_json_container(body, i);
        if (scan.status == ScanStatus::Incomplete) {
            return eof ? invalid(body.size(), "unterminated function call") : need_more();
        }
        std::optional<OrderedJson> args;
        if (scan.status == ScanStatus::Complete) args = parse_json(body.substr(i, scan.end - i));
        if (!args || !args->is_object()) {
            return invalid_through(body, i, kFunctionClose, eof, "malformed function arguments");
        }
        const size_t end = close_after(body, scan.end, kFunctionClose, eof);
        if (end == std::string_view::npos) return need_more();
        return done(end, {RawCall{"", name, dump_compact(*args)}});
    }
    const size_t close = body.find(kFunctionClose, i);
    if (close == std::string_view::npos) {
        return eof ? invalid(body.size(), "unterminated function call") : need_more();
    }
    std::optional<std::string> args = parameters_object(body.substr(i, close - i));
    if (!args) return invalid(close + kFunctionClose.size(), "malformed function parameters");
    return done(close + kFunctionClose.size(), {RawCall{"", name, std::move(*args)}});
}

}  // namespace lokal::chat
