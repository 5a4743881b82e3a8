#include "chat/go_template.h"

#include <optional>
#include <vector>

#include "base/error.h"
#include "chat/go_template_funcs.h"

namespace lokal::chat {

using json = nlohmann::json;
using go::fail;
using go::print_value;
using go::truthy;

void go::fail(int line, const std::string& what) {
    throw Error("template line " + std::to_string(line) + ": " + what);
}

namespace {

constexpr size_t kMaxOutput = 16u << 20;
constexpr uint64_t kMaxIterations = 1000000;
constexpr int kMaxDepth = 100;

// ---- lexing -------------------------------------------------------------------------------

enum class Tok { Ident, Field, Var, String, Number, LParen, RParen, Pipe, Declare, Assign, Comma };

struct Token {
    Tok kind;
    std::string text;  // Ident/String: the text; Field/Var: the whole ".A.B" / "$x.A"
    json value;        // Number
};

struct Item {
    bool action = false;
    std::string text;  // text items
    std::vector<Token> tokens;
    int line = 1;
};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_ident(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::vector<Token> tokenize(std::string_view s, int line) {
    std::vector<Token> out;
    size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (is_space(c)) {
            ++i;
        } else if (c == '(' || c == ')' || c == '|' || c == ',') {
            out.push_back({c == '('   ? Tok::LParen
                           : c == ')' ? Tok::RParen
                           : c == '|' ? Tok::Pipe
                                      : Tok::Comma,
                           std::string(1, c),
                           {}});
            ++i;
        } else if (c == ':' && i + 1 < s.size() && s[i + 1] == '=') {
            out.push_back({Tok::Declare, ":=", {}});
            i += 2;
        } else if (c == '=') {
            out.push_back({Tok::Assign, "=", {}});
            ++i;
        } else if (c == '"' || c == '`') {
            std::string v;
            size_t j = i + 1;
            for (;; ++j) {
                if (j >= s.size()) fail(line, "unterminated string");
                if (s[j] == c) break;
                if (c == '"' && s[j] == '\\' && j + 1 < s.size()) {
                    const char e = s[++j];
                    v += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
                } else {
                    v += s[j];
                }
            }
            out.push_back({Tok::String, v, {}});
            i = j + 1;
        } else if (c == '.' || c == '$') {
            size_t j = i + 1;
            while (j < s.size() && (is_ident(s[j]) || s[j] == '.')) ++j;
            out.push_back({c == '.' ? Tok::Field : Tok::Var, std::string(s.substr(i, j - i)), {}});
            i = j;
        } else if ((c >= '0' && c <= '9') || c == '-' || c == '+') {
            size_t j = i + 1;
            while (j < s.size() && (is_ident(s[j]) || s[j] == '.')) ++j;
            const std::string num(s.substr(i, j - i));
            json v = json::parse(num[0] == '+' ? num.substr(1) : num, nullptr, false);
            if (!v.is_number()) fail(line, "bad number '" + num + "'");
            out.push_back({Tok::Number, num, v});
            i = j;
        } else if (is_ident(c)) {
            size_t j = i;
            while (j < s.size() && is_ident(s[j])) ++j;
            out.push_back({Tok::Ident, std::string(s.substr(i, j - i)), {}});
            i = j;
        } else {
            fail(line, std::string("unexpected '") + c + "' in action");
        }
    }
    return out;
}

std::vector<Item> lex(std::string_view src) {
    std::vector<Item> items;
    size_t pos = 0;
    int line = 1;
    bool trim_next = false;
    while (pos <= src.size()) {
        const size_t open = src.find("{{", pos);
        std::string text(
            src.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos));
        if (trim_next) {
            size_t k = 0;
            while (k < text.size() && is_space(text[k])) ++k;
            text.erase(0, k);
        }
        const bool trim_before = open != std::string_view::npos && open + 3 < src.size() &&
                                 src[open + 2] == '-' && is_space(src[open + 3]);
        if (trim_before) {
            while (!text.empty() && is_space(text.back())) text.pop_back();
        }
        if (!text.empty()) items.push_back({false, text, {}, line});
        for (char ch : src.substr(
                 pos, open == std::string_view::npos ? std::string_view::npos : open - pos)) {
            line += ch == '\n';
        }
        if (open == std::string_view::npos) break;
        const size_t start = open + (trim_before ? 3 : 2);
        const size_t close = src.find("}}", start);
        if (close == std::string_view::npos) fail(line, "unclosed action: '{{' without '}}'");
        std::string_view inner = src.substr(start, close - start);
        trim_next = false;
        if (inner.size() >= 2 && inner.back() == '-' && is_space(inner[inner.size() - 2])) {
            trim_next = true;
            inner.remove_suffix(1);
        }
        const int action_line = line;
        for (char ch : src.substr(open, close + 2 - open)) line += ch == '\n';
        std::string_view trimmed = inner;
        while (!trimmed.empty() && is_space(trimmed.front())) trimmed.remove_prefix(1);
        if (trimmed.starts_with("/*")) {
            pos = close + 2;
            continue;  // a comment
        }
        items.push_back({true, {}, tokenize(inner, action_line), action_line});
        pos = close + 2;
    }
    return items;
}

}  // namespace

// ---- syntax tree --------------------------------------------------------------------------

struct Pipeline;

struct Arg {
    enum Kind { Field, Var, Literal, Func, Sub } kind;
    std::string name;                // Var: "$x" ("$" for the root); Func: the function name
    std::vector<std::string> chain;  // Field / Var: field names after it
    json value;                      // Literal
    std::shared_ptr<Pipeline> sub;   // Sub
};

struct Pipeline {
    std::vector<std::string> vars;  // declared or assigned variables
    bool declare = false;
    std::vector<std::vector<Arg>> commands;
    int line = 1;
};

struct GoTemplate::Node {
    enum Kind { List, Text, Action, If, Range, With, Break, Continue } kind = List;
    std::string text;
    std::shared_ptr<Pipeline> pipe;
    std::vector<std::shared_ptr<Node>> children;  // List
    std::shared_ptr<Node> body, else_body;        // If / Range / With
    int line = 1;
};

namespace {

using Node = GoTemplate::Node;
using NodePtr = std::shared_ptr<Node>;

std::vector<std::string> split_chain(const std::string& s) {  // ".A.B" / "$x.A" -> fields
    std::vector<std::string> out;
    size_t i = s.find('.', s[0] == '$' ? 1 : 0);
    while (i != std::string::npos && i < s.size()) {
        const size_t j = s.find('.', i + 1);
        const std::string f = s.substr(i + 1, j == std::string::npos ? j : j - i - 1);
        if (!f.empty()) out.push_back(f);
        i = j;
    }
    return out;
}

class Parser {
  public:
    explicit Parser(std::vector<Item> items) : items_(std::move(items)) {}

    NodePtr parse_all() {
        auto [list, stop] = parse_list();
        if (stop) fail(stop->line, "unexpected '" + stop->tokens[0].text + "'");
        return list;
    }

  private:
    // Parses until {{end}}, {{else}} or the end; returns the list and the stopping item.
    std::pair<NodePtr, const Item*> parse_list() {
        auto list = std::make_shared<Node>();
        while (pos_ < items_.size()) {
            const Item& it = items_[pos_++];
            if (!it.action) {
                auto t = std::make_shared<Node>();
                t->kind = Node::Text;
                t->text = it.text;
                list->children.push_back(t);
                continue;
            }
            if (it.tokens.empty()) fail(it.line, "empty action");
            const Token& first = it.tokens[0];
            const std::string kw = first.kind == Tok::Ident ? first.text : "";
            if (kw == "end" || kw == "else") return {list, &it};
            if (kw == "if" || kw == "with" || kw == "range") {
                list->children.push_back(parse_block(it, kw));
            } else if (kw == "break" || kw == "continue") {
                auto n = std::make_shared<Node>();
                n->kind = kw == "break" ? Node::Break : Node::Continue;
                n->line = it.line;
                list->children.push_back(n);
            } else if (kw == "define" || kw == "template" || kw == "block") {
                fail(it.line, "'" + kw + "' is not supported in chat templates");
            } else {
                auto n = std::make_shared<Node>();
                n->kind = Node::Action;
                n->line = it.line;
                n->pipe = parse_pipeline(it.tokens, 0, it.line);
                list->children.push_back(n);
            }
        }
        return {list, nullptr};
    }

    NodePtr parse_block(const Item& it, const std::string& kw) {
        if (++depth_ > kMaxDepth) fail(it.line, "blocks nested too deeply");
        auto n = std::make_shared<Node>();
        n->kind = kw == "if" ? Node::If : kw == "with" ? Node::With : Node::Range;
        n->line = it.line;
        n->pipe = parse_pipeline(it.tokens, 1, it.line);
        auto [body, stop] = parse_list();
        n->body = body;
        if (!stop) fail(it.line, "'" + kw + "' without {{end}}");
        if (stop->tokens[0].text == "else") {
            if (stop->tokens.size() > 1 && stop->tokens[1].kind == Tok::Ident &&
                (stop->tokens[1].text == "if" || stop->tokens[1].text == "with")) {
                // {{else if x}} is {{else}}{{if x}}...{{end}} sharing the outer {{end}}.
                Item nested = *stop;
                nested.tokens.erase(nested.tokens.begin());
                auto wrap = std::make_shared<Node>();
                wrap->children.push_back(parse_block(nested, nested.tokens[0].text));
                n->else_body = wrap;
                --depth_;
                return n;
            }
            auto [else_body, stop2] = parse_list();
            if (!stop2 || stop2->tokens[0].text != "end")
                fail(it.line, "'" + kw + "' without {{end}}");
            n->else_body = else_body;
        }
        --depth_;
        return n;
    }

    std::shared_ptr<Pipeline> parse_pipeline(const std::vector<Token>& t, size_t i, int line) {
        auto p = std::make_shared<Pipeline>();
        p->line = line;
        // Optional "$a, $b :=" / "$a =".
        size_t j = i;
        std::vector<std::string> vars;
        while (j < t.size() && t[j].kind == Tok::Var) {
            vars.push_back(t[j].text);
            if (j + 1 < t.size() && t[j + 1].kind == Tok::Comma) {
                j += 2;
            } else {
                ++j;
                break;
            }
        }
        if (!vars.empty() && j < t.size() &&
            (t[j].kind == Tok::Declare || t[j].kind == Tok::Assign)) {
            p->vars = vars;
            p->declare = t[j].kind == Tok::Declare;
            i = j + 1;
        }
        size_t end = t.size();
        parse_commands(t, i, end, *p, line);
        if (p->commands.empty()) fail(line, "missing value in action");
        return p;
    }

    void parse_commands(const std::vector<Token>& t, size_t& i, size_t end, Pipeline& p, int line) {
        std::vector<Arg> cmd;
        while (i < end) {
            const Token& tok = t[i];
            if (tok.kind == Tok::RParen) break;
            if (tok.kind == Tok::Pipe) {
                if (cmd.empty()) fail(line, "missing command before '|'");
                p.commands.push_back(std::move(cmd));
                cmd.clear();
                ++i;
                continue;
            }
            cmd.push_back(parse_arg(t, i, end, line));
        }
        if (!cmd.empty()) p.commands.push_back(std::move(cmd));
    }

    Arg parse_arg(const std::vector<Token>& t, size_t& i, size_t end, int line) {
        const Token& tok = t[i++];
        switch (tok.kind) {
            case Tok::Field:
                return {Arg::Field, "", split_chain(tok.text), {}, nullptr};
            case Tok::Var: {
                const size_t dot = tok.text.find('.');
                return {Arg::Var, tok.text.substr(0, dot), split_chain(tok.text), {}, nullptr};
            }
            case Tok::String:
                return {Arg::Literal, "", {}, json(tok.text), nullptr};
            case Tok::Number:
                return {Arg::Literal, "", {}, tok.value, nullptr};
            case Tok::Ident:
                if (tok.text == "true" || tok.text == "false") {
                    return {Arg::Literal, "", {}, json(tok.text == "true"), nullptr};
                }
                if (tok.text == "nil") return {Arg::Literal, "", {}, json(nullptr), nullptr};
                return {Arg::Func, tok.text, {}, {}, nullptr};
            case Tok::LParen: {
                if (++depth_ > kMaxDepth) fail(line, "parentheses nested too deeply");
                auto sub = std::make_shared<Pipeline>();
                sub->line = line;
                parse_commands(t, i, end, *sub, line);
                if (i >= end || t[i].kind != Tok::RParen) fail(line, "unclosed '('");
                ++i;
                --depth_;
                if (sub->commands.empty()) fail(line, "empty parentheses");
                return {Arg::Sub, "", {}, {}, sub};
            }
            default:
                fail(line, "unexpected '" + tok.text + "'");
        }
    }

    std::vector<Item> items_;
    size_t pos_ = 0;
    int depth_ = 0;
};

// ---- evaluation ---------------------------------------------------------------------------

struct LoopSignal {
    bool brk;
};

class Renderer {
  public:
    explicit Renderer(const json& root) { vars_.emplace_back("$", root); }

    void run(const Node& n, const json& dot) {
        switch (n.kind) {
            case Node::List:
                for (const auto& c : n.children) run(*c, dot);
                break;
            case Node::Text:
                emit(n.text, n.line);
                break;
            case Node::Action: {
                const json v = pipeline(*n.pipe, dot);
                if (n.pipe->vars.empty()) emit(print_value(v), n.line);
                break;
            }
            case Node::If:
            case Node::With: {
                const size_t mark = vars_.size();
                const json v = pipeline(*n.pipe, dot);
                if (truthy(v)) {
                    run(*n.body, n.kind == Node::With ? v : dot);
                } else if (n.else_body) {
                    run(*n.else_body, dot);
                }
                vars_.resize(mark);
                break;
            }
            case Node::Range:
                range(n, dot);
                break;
            case Node::Break:
                throw LoopSignal{true};
            case Node::Continue:
                throw LoopSignal{false};
        }
    }

    std::string out;

  private:
    void emit(const std::string& s, int line) {
        if (out.size() + s.size() > kMaxOutput) fail(line, "output over 16 MiB");
        out += s;
    }

    void range(const Node& n, const json& dot) {
        const size_t mark = vars_.size();
        Pipeline p = *n.pipe;
        const std::vector<std::string> names = p.vars;
        p.vars.clear();
        const json v = pipeline(p, dot);
        if (!v.is_null() && !v.is_array() && !v.is_object() && !v.is_number_integer()) {
            fail(n.line, "range can't iterate over " + print_value(v));
        }
        std::vector<std::pair<json, json>> elems;
        if (v.is_array()) {
            for (size_t i = 0; i < v.size(); ++i) elems.emplace_back(json(i), v[i]);
        } else if (v.is_object()) {
            for (const auto& [k, x] : v.items()) elems.emplace_back(json(k), x);
        } else if (v.is_number_integer()) {
            const int64_t count = v.get<int64_t>();
            if (count > (int64_t)kMaxIterations) fail(n.line, "range over too many items");
            for (int64_t i = 0; i < count; ++i) elems.emplace_back(json(i), json(i));
        }
        if (elems.empty()) {
            if (n.else_body) run(*n.else_body, dot);
            return;
        }
        for (const auto& [key, elem] : elems) {
            if (++iterations_ > kMaxIterations) fail(n.line, "too many loop iterations");
            vars_.resize(mark);
            if (names.size() == 1) vars_.emplace_back(names[0], elem);
            if (names.size() == 2) {
                vars_.emplace_back(names[0], key);
                vars_.emplace_back(names[1], elem);
            }
            try {
                run(*n.body, elem);
            } catch (const LoopSignal& s) {
                if (s.brk) break;
            }
        }
        vars_.resize(mark);
    }

    json lookup_var(const std::string& name, int line) const {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
            if (it->first == name) return it->second;
        }
        fail(line, "undefined variable " + name);
    }

    static json follow(json v, const std::vector<std::string>& chain) {
        for (const std::string& f : chain) {
            if (!v.is_object() || !v.contains(f)) return nullptr;
            v = v[f];
        }
        return v;
    }

    json pipeline(const Pipeline& p, const json& dot) {
        if (++depth_ > kMaxDepth) fail(p.line, "expressions nested too deeply");
        std::optional<json> value;
        for (const auto& cmd : p.commands) value = command(cmd, dot, value, p.line);
        --depth_;
        for (const std::string& name : p.vars) {
            if (p.declare) {
                vars_.emplace_back(name, *value);
            } else {
                bool found = false;
                for (auto it = vars_.rbegin(); it != vars_.rend() && !found; ++it) {
                    if (it->first == name) {
                        it->second = *value;
                        found = true;
                    }
                }
                if (!found) fail(p.line, "undefined variable " + name);
            }
        }
        return *value;
    }

    json operand(const Arg& a, const json& dot, int line) {
        switch (a.kind) {
            case Arg::Field:
                return follow(dot, a.chain);
            case Arg::Var:
                return follow(lookup_var(a.name, line), a.chain);
            case Arg::Literal:
                return a.value;
            case Arg::Sub:
                return pipeline(*a.sub, dot);
            case Arg::Func:
                return go::call_builtin(a.name, {}, line);
        }
        return nullptr;
    }

    json command(const std::vector<Arg>& cmd, const json& dot, const std::optional<json>& piped,
                 int line) {
        if (cmd[0].kind == Arg::Func) {
            std::vector<json> args;
            for (size_t i = 1; i < cmd.size(); ++i) args.push_back(operand(cmd[i], dot, line));
            if (piped) args.push_back(*piped);
            return go::call_builtin(cmd[0].name, args, line);
        }
        if (cmd.size() > 1 || piped) fail(line, "can't give an argument to a non-function");
        return operand(cmd[0], dot, line);
    }

    std::vector<std::pair<std::string, json>> vars_;
    uint64_t iterations_ = 0;
    int depth_ = 0;
};

}  // namespace

GoTemplate GoTemplate::parse(std::string_view source) {
    if (source.size() > kMaxOutput) throw Error("template over 16 MiB");
    GoTemplate t;
    t.root_ = Parser(lex(source)).parse_all();
    return t;
}

std::string GoTemplate::render(const json& data) const {
    Renderer r(data);
    try {
        r.run(*root_, data);
    } catch (const LoopSignal&) {
        throw Error("template: break or continue outside a range");
    }
    return std::move(r.out);
}

json go_template_data(const json& messages, const json& tools, bool think_set, bool think) {
    json d = json::object();
    json msgs = json::array();
    std::string system, prompt;
    for (const json& m : messages) {
        if (!m.is_object()) continue;
        const std::string role = m.value("role", "");
        const std::string content = m.contains("content") && m["content"].is_string()
                                        ? m["content"].get<std::string>()
                                        : "";
        json out = {{"Role", role}, {"Content", content}};
        if (m.contains("thinking") && m["thinking"].is_string()) out["Thinking"] = m["thinking"];
        if (m.contains("tool_calls") && m["tool_calls"].is_array()) {
            json calls = json::array();
            for (const json& c : m["tool_calls"]) {
                const json fn = c.value("function", json::object());
                json args = fn.value("arguments", json::object());
                if (args.is_string()) {
                    json parsed = json::parse(args.get<std::string>(), nullptr, false);
                    if (!parsed.is_discarded()) args = parsed;
                }
                calls.push_back(
                    {{"Function", {{"Name", fn.value("name", "")}, {"Arguments", args}}}});
            }
            out["ToolCalls"] = calls;
        }
        if (role == "system") system += (system.empty() ? "" : "\n\n") + content;
        if (role == "user") prompt = content;
        msgs.push_back(out);
    }
    json tl = json::array();
    if (tools.is_array()) {
        for (const json& t : tools) {
            const json fn = t.value("function", json::object());
            tl.push_back({{"Type", t.value("type", "function")},
                          {"Function",
                           {{"Name", fn.value("name", "")},
                            {"Description", fn.value("description", "")},
                            {"Parameters", fn.value("parameters", json::object())}}}});
        }
    }
    d["Messages"] = msgs;
    d["Tools"] = tl;
    d["System"] = system;
    d["Prompt"] = prompt;
    d["Response"] = "";
    d["Think"] = think;
    d["IsThinkSet"] = think_set;
    return d;
}

}  // namespace lokal::chat
