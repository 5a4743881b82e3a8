#include "store/modelfile.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace lokal::store {

namespace {

enum class Kind { Float, Int, Bool, String };

struct ParamSpec {
    const char* name;
    Kind kind;
};

// Every PARAMETER Ollama accepts. Sampling ones apply to requests (server/request_options.cpp);
// the rest (GPU layers, mirostat, ...) are stored, shown and otherwise ignored, as the request
// options of the same names are.
constexpr ParamSpec kParams[] = {
    {"temperature", Kind::Float},
    {"top_k", Kind::Int},
    {"top_p", Kind::Float},
    {"min_p", Kind::Float},
    {"typical_p", Kind::Float},
    {"num_ctx", Kind::Int},
    {"stop", Kind::String},
    {"repeat_penalty", Kind::Float},
    {"repeat_last_n", Kind::Int},
    {"presence_penalty", Kind::Float},
    {"frequency_penalty", Kind::Float},
    {"penalize_newline", Kind::Bool},
    {"seed", Kind::Int},
    {"num_predict", Kind::Int},
    {"num_keep", Kind::Int},
    {"mirostat", Kind::Int},
    {"mirostat_eta", Kind::Float},
    {"mirostat_tau", Kind::Float},
    {"tfs_z", Kind::Float},
    {"num_gpu", Kind::Int},
    {"main_gpu", Kind::Int},
    {"num_thread", Kind::Int},
    {"num_batch", Kind::Int},
    {"use_mmap", Kind::Bool},
    {"use_mlock", Kind::Bool},
    {"numa", Kind::Bool},
    {"low_vram", Kind::Bool},
};

const ParamSpec* find_param(std::string_view name) {
    for (const ParamSpec& p : kParams) {
        if (name == p.name) return &p;
    }
    return nullptr;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

[[noreturn]] void fail(int line, std::string_view directive, const std::string& msg) {
    std::string d = directive.empty() ? "" : " " + std::string(directive) + ":";
    throw Error("Modelfile line " + std::to_string(line) + ":" + d + " " + msg);
}

// Removes one level of "quotes" around a value.
std::string unquote(const std::string& s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
        std::string out;
        for (size_t i = 1; i + 1 < s.size(); ++i) {
            if (s[i] == '\\' && i + 2 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) ++i;
            out += s[i];
        }
        return out;
    }
    return s;
}

void check_value(const ParamSpec& p, const std::string& v, int line) {
    const char* s = v.c_str();
    char* end = nullptr;
    errno = 0;
    if (p.kind == Kind::Int) {
        std::strtoll(s, &end, 10);
    } else if (p.kind == Kind::Float) {
        std::strtod(s, &end);
    } else if (p.kind == Kind::Bool) {
        if (v != "true" && v != "false") {
            fail(line, "PARAMETER", "'" + v + "' is not true or false (for " + p.name + ")");
        }
        return;
    } else {
        if (v.empty()) fail(line, "PARAMETER", std::string(p.name) + " needs a value");
        return;
    }
    if (v.empty() || *end || errno == ERANGE) {
        fail(line, "PARAMETER",
             "'" + v + "' is not " + (p.kind == Kind::Int ? "an integer" : "a number") + " (for " +
                 p.name + ")");
    }
}

}  // namespace

Modelfile parse_modelfile(std::string_view text) {
    Modelfile mf;
    bool have_from = false;
    int line_no = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string line = trim(text.substr(pos, eol - pos));
        ++line_no;
        pos = eol + 1;
        if (line.empty() || line[0] == '#') continue;
        size_t sp = 0;
        while (sp < line.size() && !std::isspace(static_cast<unsigned char>(line[sp]))) ++sp;
        std::string directive = lower(line.substr(0, sp));
        std::string upper = directive;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        std::string arg = trim(std::string_view(line).substr(sp));
        const int start_line = line_no;
        // A triple-quoted block, possibly over several lines: the whole argument, or a MESSAGE's
        // text after its role.
        auto read_block = [&](const std::string& opened) {
            std::string body = opened.substr(3);
            size_t close = body.find("\"\"\"");
            while (close == std::string::npos) {
                if (pos >= text.size()) {
                    fail(start_line, upper, "unterminated \"\"\" block");
                }
                size_t e2 = text.find('\n', pos);
                if (e2 == std::string_view::npos) e2 = text.size();
                body += "\n";
                body += text.substr(pos, e2 - pos);
                ++line_no;
                pos = e2 + 1;
                close = body.find("\"\"\"");
            }
            if (!trim(std::string_view(body).substr(close + 3)).empty()) {
                fail(line_no, upper, "unexpected text after the closing \"\"\"");
            }
            return body.substr(0, close);
        };
        if (arg.starts_with("\"\"\"")) {
            arg = read_block(arg);
        } else if (directive != "parameter" && directive != "message") {
            arg = unquote(arg);
        }
        if (directive == "from") {
            if (arg.empty()) fail(start_line, upper, "needs a model name or a .gguf path");
            if (have_from) fail(start_line, upper, "only one FROM is supported");
            mf.from = arg;
            have_from = true;
        } else if (directive == "template") {
            mf.template_text = arg;
        } else if (directive == "system") {
            mf.system = arg;
        } else if (directive == "requires") {
            // The least Ollama version the model needs; kept, nothing to check against here.
            if (arg.empty()) fail(start_line, upper, "needs a version");
            mf.min_version = arg;
        } else if (directive == "license") {
            mf.license = arg;
        } else if (directive == "adapter") {
            if (arg.empty()) fail(start_line, upper, "needs a path");
            mf.adapters.push_back(arg);
        } else if (directive == "draft") {
            if (arg.empty()) fail(start_line, upper, "needs a model name or a .gguf path");
            if (mf.draft) fail(start_line, upper, "only one DRAFT is supported");
            mf.draft = arg;
        } else if (directive == "parameter") {
            size_t s2 = 0;
            while (s2 < arg.size() && !std::isspace(static_cast<unsigned char>(arg[s2]))) ++s2;
            std::string name = lower(arg.substr(0, s2));
            std::string value = unquote(trim(std::string_view(arg).substr(s2)));
            if (name.empty()) fail(start_line, upper, "needs a name and a value");
            const ParamSpec* spec = find_param(name);
            if (!spec) fail(start_line, upper, "unknown parameter '" + name + "'");
            check_value(*spec, value, start_line);
            mf.parameters.emplace_back(name, value);
        } else if (directive == "message") {
            size_t s2 = 0;
            while (s2 < arg.size() && !std::isspace(static_cast<unsigned char>(arg[s2]))) ++s2;
            std::string role = lower(arg.substr(0, s2));
            if (role != "system" && role != "user" && role != "assistant") {
                fail(start_line, upper,
                     "role must be system, user or assistant, not '" + role + "'");
            }
            const std::string content = trim(std::string_view(arg).substr(s2));
            mf.messages.emplace_back(role, content.starts_with("\"\"\"") ? read_block(content)
                                                                      : unquote(content));
        } else {
            fail(start_line, "", "unknown directive '" + line.substr(0, sp) + "'");
        }
    }
    if (!have_from) throw Error("Modelfile has no FROM line");
    return mf;
}

std::string params_json(const std::vector<std::pair<std::string, std::string>>& params,
                        std::string_view base) {
    nlohmann::json j = nlohmann::json::parse(base, nullptr, false);
    if (!j.is_object()) j = nlohmann::json::object();
    bool stop_reset = false;
    for (const auto& [name, value] : params) {
        const ParamSpec* spec = find_param(name);
        if (!spec) throw Error("unknown parameter '" + name + "'");
        switch (spec->kind) {
            case Kind::Int:
                j[name] = std::strtoll(value.c_str(), nullptr, 10);
                break;
            case Kind::Float:
                j[name] = std::strtod(value.c_str(), nullptr);
                break;
            case Kind::Bool:
                j[name] = value == "true";
                break;
            case Kind::String:
                // stop is repeatable: the Modelfile's list replaces the inherited one.
                if (!stop_reset) {
                    j[name] = nlohmann::json::array();
                    stop_reset = true;
                }
                j[name].push_back(value);
                break;
        }
    }
    return j.dump();
}

}  // namespace lokal::store
