#include "store/reference.h"

#include <vector>

#include "base/error.h"

namespace lokal::store {

namespace {

constexpr size_t kMaxRefLength = 350;
constexpr size_t kMaxPartLength = 128;

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Namespace, model and tag: a letter, digit or '_' first, then letters, digits, '_', '-', '.';
// never "..".
std::string check_part(std::string_view part, std::string_view what) {
    if (part.empty()) return what == "tag" ? "empty tag" : "empty " + std::string(what);
    if (part.size() > kMaxPartLength) return std::string(what) + " is too long";
    if (!is_alnum(part[0]) && part[0] != '_') {
        return std::string(what) + " must start with a letter, digit or '_'";
    }
    for (char c : part) {
        if (!is_alnum(c) && c != '_' && c != '-' && c != '.') {
            return "character '" + std::string(1, c) + "' is not allowed in a " + std::string(what);
        }
    }
    if (part.find("..") != std::string_view::npos) return "'..' is not allowed";
    return {};
}

// A host name with an optional port: letters, digits, '-' and '.', labels not empty.
std::string check_host(std::string_view host) {
    if (host.empty()) return "empty host";
    if (host.size() > 253) return "host is too long";
    std::string_view name = host;
    if (auto colon = host.find(':'); colon != std::string_view::npos) {
        name = host.substr(0, colon);
        std::string_view port = host.substr(colon + 1);
        if (port.empty() || port.size() > 5) return "bad port in host";
        for (char c : port) {
            if (c < '0' || c > '9') return "bad port in host";
        }
    }
    if (name.empty() || name.front() == '.' || name.back() == '.' || name.front() == '-') {
        return "bad host name";
    }
    if (name.find("..") != std::string_view::npos) return "'..' is not allowed";
    for (char c : name) {
        if (!is_alnum(c) && c != '-' && c != '.') {
            return "character '" + std::string(1, c) + "' is not allowed in a host";
        }
    }
    return {};
}

std::string parse_into(std::string_view text, ModelRef& ref) {
    if (text.empty()) return "empty model name";
    if (text.size() > kMaxRefLength) return "too long";
    // The tag follows the last ':' after the last '/' (a host may carry a port).
    std::string_view path = text;
    std::string_view tag = kDefaultTag;
    size_t slash = text.rfind('/');
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        path = text.substr(0, colon);
        tag = text.substr(colon + 1);
    }
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (true) {
        size_t end = path.find('/', start);
        parts.push_back(path.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    if (parts.size() > 3) return "too many '/' (expected [host/][namespace/]model[:tag])";
    ref.host = kDefaultHost;
    ref.ns = kDefaultNamespace;
    if (parts.size() == 3) {
        if (auto e = check_host(parts[0]); !e.empty()) return e;
        ref.host = parts[0];
    }
    if (parts.size() >= 2) {
        if (auto e = check_part(parts[parts.size() - 2], "namespace"); !e.empty()) return e;
        ref.ns = parts[parts.size() - 2];
    }
    if (auto e = check_part(parts.back(), "model name"); !e.empty()) return e;
    ref.model = parts.back();
    if (auto e = check_part(tag, "tag"); !e.empty()) return e;
    ref.tag = tag;
    return {};
}

}  // namespace

std::string ModelRef::full() const {
    return host + "/" + ns + "/" + model + ":" + tag;
}

std::string ModelRef::display() const {
    if (host != kDefaultHost) return full();
    if (ns != kDefaultNamespace) return ns + "/" + model + ":" + tag;
    return model + ":" + tag;
}

std::string ModelRef::manifest_path() const {
    return host + "/" + ns + "/" + model + "/" + tag;
}

ModelRef parse_ref(std::string_view text) {
    ModelRef ref;
    std::string err = parse_into(text, ref);
    if (!err.empty()) {
        throw Error("invalid model name '" + std::string(text) + "': " + err);
    }
    return ref;
}

bool is_valid_ref(std::string_view text) {
    ModelRef ref;
    return parse_into(text, ref).empty();
}

bool looks_like_file_path(std::string_view s) {
    return s.starts_with("/") || s.starts_with("./") || s.starts_with("../") ||
           s.starts_with("~") || s.ends_with(".gguf") || s.ends_with(".GGUF");
}

}  // namespace lokal::store
