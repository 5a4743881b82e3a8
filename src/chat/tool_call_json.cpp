#include "chat/tool_call_json.h"

namespace lokal::chat {

ScanResult scan_json_container(std::string_view text, size_t pos) {
    std::string stack;  // expected closing brackets
    bool in_string = false;
    bool escaped = false;
    for (size_t i = pos; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        switch (c) {
            case '"':
                if (stack.empty()) return {ScanStatus::Invalid, i};
                in_string = true;
                break;
            case '{':
                stack.push_back('}');
                break;
            case '[':
                stack.push_back(']');
                break;
            case '}':
            case ']':
                if (stack.empty() || stack.back() != c) return {ScanStatus::Invalid, i};
                stack.pop_back();
                if (stack.empty()) return {ScanStatus::Complete, i + 1};
                break;
            default:
                if (stack.empty()) return {ScanStatus::Invalid, i};  // pos was not a bracket
                break;
        }
    }
    return {ScanStatus::Incomplete, text.size()};
}

std::optional<OrderedJson> parse_json(std::string_view text) {
    OrderedJson j =
        OrderedJson::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return std::nullopt;
    return j;
}

std::string dump_compact(const OrderedJson& value) {
    return value.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

std::optional<std::string> normalize_arguments(const OrderedJson* value) {
    if (value == nullptr || value->is_null()) return "{}";
    if (value->is_object()) return dump_compact(*value);
    if (value->is_string()) {
        const std::string& s = value->get_ref<const std::string&>();
        const std::optional<OrderedJson> inner = parse_json(s);
        if (inner && inner->is_object()) return dump_compact(*inner);
    }
    return std::nullopt;
}

namespace {

const OrderedJson* member(const OrderedJson& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

std::string string_member(const OrderedJson& obj, const char* key) {
    const OrderedJson* v = member(obj, key);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// {"name":..,"arguments"|"parameters":..} or {"function":{"name":..,"arguments":..}}.
std::optional<RawCall> single_call(const OrderedJson& obj) {
    if (!obj.is_object()) return std::nullopt;
    if (const OrderedJson* fn = member(obj, "function"); fn != nullptr && fn->is_object()) {
        std::optional<RawCall> call = single_call(*fn);
        if (call && call->id.empty()) call->id = string_member(obj, "id");
        return call;
    }
    const OrderedJson* name = member(obj, "name");
    if (name == nullptr || !name->is_string() || name->get_ref<const std::string&>().empty()) {
        return std::nullopt;
    }
    const OrderedJson* args = member(obj, "arguments");
    if (args == nullptr) args = member(obj, "parameters");
    if (args == nullptr) return std::nullopt;  // {"name": "Bob"} is an answer, not a call
    std::optional<std::string> normalized = normalize_arguments(args);
    if (!normalized) return std::nullopt;
    return RawCall{string_member(obj, "id"), name->get<std::string>(), std::move(*normalized)};
}

std::optional<std::vector<RawCall>> call_list(const OrderedJson& arr) {
    if (!arr.is_array() || arr.empty()) return std::nullopt;
    std::vector<RawCall> calls;
    for (const OrderedJson& item : arr) {
        std::optional<RawCall> call = single_call(item);
        if (!call) return std::nullopt;
        calls.push_back(std::move(*call));
    }
    return calls;
}

}  // namespace

std::optional<std::vector<RawCall>> calls_from_json(const OrderedJson& value) {
    if (value.is_array()) return call_list(value);
    if (!value.is_object()) return std::nullopt;
    if (const OrderedJson* list = member(value, "tool_calls"); list != nullptr) {
        return call_list(*list);
    }
    std::optional<RawCall> call = single_call(value);
    if (!call) return std::nullopt;
    return std::vector<RawCall>{std::move(*call)};
}

std::optional<std::vector<RawCall>> calls_from_json_text(std::string_view text) {
    const std::optional<OrderedJson> j = parse_json(text);
    if (!j) return std::nullopt;
    return calls_from_json(*j);
}

}  // namespace lokal::chat
