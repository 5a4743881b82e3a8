#include "jinja/parser.h"

#include <initializer_list>

#include "jinja/lexer.h"

namespace lokal::jinja {

namespace {

class Parser {
  public:
    explicit Parser(std::vector<Token> toks) : toks_(std::move(toks)) {}

    Body parse_all() {
        std::string stop;
        Body body = parse_body({}, &stop);
        return body;
    }

  private:
    const Token& cur() const { return toks_[pos_]; }
    const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
    void advance() {
        if (pos_ + 1 < toks_.size()) pos_++;
    }

    [[noreturn]] void fail(const std::string& msg) const {
        raise("TemplateSyntaxError", msg + " (line " + std::to_string(cur().line) + ")");
    }

    bool is_op(std::string_view op) const {
        return cur().type == TokenType::Op && cur().value == op;
    }
    bool is_name(std::string_view n) const {
        return cur().type == TokenType::Name && cur().value == n;
    }
    bool accept_op(std::string_view op) {
        if (!is_op(op)) return false;
        advance();
        return true;
    }
    bool accept_name(std::string_view n) {
        if (!is_name(n)) return false;
        advance();
        return true;
    }
    void expect_op(std::string_view op) {
        if (!accept_op(op)) fail("expected '" + std::string(op) + "', got '" + describe() + "'");
    }
    std::string expect_name() {
        if (cur().type != TokenType::Name) fail("expected a name, got '" + describe() + "'");
        std::string n = cur().value;
        advance();
        return n;
    }
    void expect_block_end() {
        if (cur().type != TokenType::BlockEnd)
            fail("expected end of statement block, got '" + describe() + "'");
        advance();
    }
    std::string describe() const {
        switch (cur().type) {
            case TokenType::BlockEnd:
                return "%}";
            case TokenType::VarEnd:
                return "}}";
            case TokenType::Eof:
                return "end of template";
            default:
                return cur().value;
        }
    }

    ExprPtr make(Expr::Kind k) {
        auto e = std::make_unique<Expr>();
        e->kind = k;
        e->line = cur().line;
        return e;
    }

    // ---- statements ----

    // Parses until a block tag whose name is in `stops`; leaves the stream after that name.
    Body parse_body(std::initializer_list<std::string_view> stops, std::string* stop) {
        Body body;
        while (true) {
            const Token& t = cur();
            if (t.type == TokenType::Eof) {
                if (stops.size() != 0)
                    fail("unexpected end of template, expected '" + std::string(*stops.begin()) +
                         "'");
                return body;
            }
            if (t.type == TokenType::Text) {
                auto s = std::make_unique<Stmt>();
                s->kind = Stmt::Kind::Text;
                s->line = t.line;
                s->text = t.value;
                body.push_back(std::move(s));
                advance();
            } else if (t.type == TokenType::VarBegin) {
                advance();
                auto s = std::make_unique<Stmt>();
                s->kind = Stmt::Kind::Output;
                s->line = t.line;
                s->expr = parse_tuple(true);
                if (cur().type != TokenType::VarEnd)
                    fail("expected '}}', got '" + describe() + "'");
                advance();
                body.push_back(std::move(s));
            } else if (t.type == TokenType::BlockBegin) {
                advance();
                if (cur().type != TokenType::Name) fail("expected a statement name");
                std::string name = cur().value;
                for (auto s : stops) {
                    if (name == s) {
                        advance();
                        *stop = name;
                        return body;
                    }
                }
                body.push_back(parse_statement());
            } else {
                fail("unexpected token '" + describe() + "'");
            }
        }
    }

    StmtPtr parse_statement() {
        Nest nest(*this);
        auto s = std::make_unique<Stmt>();
        s->line = cur().line;
        std::string name = expect_name();
        std::string stop;
        if (name == "if") {
            s->kind = Stmt::Kind::If;
            ExprPtr cond = parse_tuple(true);
            expect_block_end();
            while (true) {
                Body b = parse_body({"elif", "else", "endif"}, &stop);
                s->branches.emplace_back(std::move(cond), std::move(b));
                if (stop == "elif") {
                    cond = parse_tuple(true);
                    expect_block_end();
                    continue;
                }
                if (stop == "else") {
                    expect_block_end();
                    s->else_body = parse_body({"endif"}, &stop);
                }
                break;
            }
            expect_block_end();
        } else if (name == "for") {
            s->kind = Stmt::Kind::For;
            parse_targets(s->targets);
            if (!accept_name("in")) fail("expected 'in' in for loop");
            s->expr = parse_tuple(false);
            if (accept_name("if")) s->cond = parse_expression(true);
            if (accept_name("recursive")) s->recursive = true;
            expect_block_end();
            s->body = parse_body({"else", "endfor"}, &stop);
            if (stop == "else") {
                expect_block_end();
                s->else_body = parse_body({"endfor"}, &stop);
            }
            expect_block_end();
        } else if (name == "set") {
            std::string first = expect_name();
            if (accept_op(".")) {
                s->kind = Stmt::Kind::Set;
                s->attr_target = true;
                s->targets = {first, expect_name()};
                expect_op("=");
                s->expr = parse_tuple(true);
            } else if (is_op("=") || is_op(",")) {
                s->kind = Stmt::Kind::Set;
                s->targets.push_back(first);
                while (accept_op(",")) {
                    if (cur().type != TokenType::Name) break;
                    s->targets.push_back(expect_name());
                }
                expect_op("=");
                s->expr = parse_tuple(true);
            } else {
                s->kind = Stmt::Kind::SetBlock;
                s->targets.push_back(first);
                if (is_op("|")) s->expr = parse_filters(nullptr);
                expect_block_end();
                s->body = parse_body({"endset"}, &stop);
            }
            expect_block_end();
        } else if (name == "macro") {
            s->kind = Stmt::Kind::Macro;
            s->name = expect_name();
            parse_params(s->params);
            expect_block_end();
            s->body = parse_body({"endmacro"}, &stop);
            if (cur().type == TokenType::Name) advance();  // optional macro name
            expect_block_end();
        } else if (name == "call") {
            s->kind = Stmt::Kind::CallBlock;
            if (is_op("(")) parse_params(s->params);
            s->expr = parse_expression(true);
            if (s->expr->kind != Expr::Kind::Call) fail("expected a call in call block");
            expect_block_end();
            s->body = parse_body({"endcall"}, &stop);
            expect_block_end();
        } else if (name == "filter") {
            s->kind = Stmt::Kind::FilterBlock;
            s->expr = parse_filters(nullptr, /*first_without_pipe=*/true);
            expect_block_end();
            s->body = parse_body({"endfilter"}, &stop);
            expect_block_end();
        } else if (name == "generation") {
            s->kind = Stmt::Kind::Scope;
            expect_block_end();
            s->body = parse_body({"endgeneration"}, &stop);
            expect_block_end();
        } else if (name == "break" || name == "continue") {
            s->kind = name == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue;
            expect_block_end();
        } else {
            pos_--;
            fail("unknown or unsupported statement '" + name + "'");
        }
        return s;
    }

    void parse_targets(std::vector<std::string>& out) {
        bool paren = accept_op("(");
        out.push_back(expect_name());
        while (accept_op(",")) {
            if (cur().type != TokenType::Name) break;
            out.push_back(expect_name());
        }
        if (paren) expect_op(")");
    }

    void parse_params(std::vector<std::pair<std::string, ExprPtr>>& params) {
        expect_op("(");
        while (!is_op(")")) {
            if (!params.empty()) expect_op(",");
            if (is_op(")")) break;
            std::string n = expect_name();
            ExprPtr def;
            if (accept_op("=")) def = parse_expression(true);
            params.emplace_back(std::move(n), std::move(def));
        }
        expect_op(")");
    }

    // ---- expressions ----

    // A comma-separated sequence becomes a tuple (as in `{{ a, b }}` or `set a, b = 1, 2`).
    ExprPtr parse_tuple(bool with_cond) {
        auto first = parse_expression(with_cond);
        if (!is_op(",")) return first;
        auto t = make(Expr::Kind::Tuple);
        t->children.push_back(std::move(first));
        while (accept_op(",")) {
            if (at_expression_end()) break;
            t->children.push_back(parse_expression(with_cond));
        }
        return t;
    }

    bool at_expression_end() const {
        auto t = cur().type;
        return t == TokenType::BlockEnd || t == TokenType::VarEnd || t == TokenType::Eof ||
               is_op(")") || is_op("]") || is_op("}") || is_op("=") ||
               (t == TokenType::Name && (cur().value == "if" || cur().value == "recursive"));
    }

    ExprPtr parse_expression(bool with_cond) {
        Nest nest(*this);
        auto e = parse_or();
        if (!with_cond) return e;
        while (is_name("if")) {
            advance();
            auto c = make(Expr::Kind::Cond);
            auto cond = parse_or();
            ExprPtr other;
            if (accept_name("else")) other = parse_expression(true);
            c->children.push_back(std::move(cond));
            c->children.push_back(std::move(e));
            c->children.push_back(std::move(other));
            e = std::move(c);
        }
        return e;
    }

    ExprPtr binary(std::string op, ExprPtr l, ExprPtr r) {
        auto b = make(Expr::Kind::Binary);
        b->name = std::move(op);
        b->children.push_back(std::move(l));
        b->children.push_back(std::move(r));
        return b;
    }

    ExprPtr parse_or() {
        auto l = parse_and();
        while (accept_name("or")) l = binary("or", std::move(l), parse_and());
        return l;
    }
    ExprPtr parse_and() {
        auto l = parse_not();
        while (accept_name("and")) l = binary("and", std::move(l), parse_not());
        return l;
    }
    ExprPtr parse_not() {
        Nest nest(*this);
        if (is_name("not")) {
            auto u = make(Expr::Kind::Unary);
            advance();
            u->name = "not";
            u->children.push_back(parse_not());
            return u;
        }
        return parse_compare();
    }
    ExprPtr parse_compare() {
        auto l = parse_math1();
        while (true) {
            std::string op;
            if (cur().type == TokenType::Op &&
                (cur().value == "==" || cur().value == "!=" || cur().value == "<" ||
                 cur().value == ">" || cur().value == "<=" || cur().value == ">=")) {
                op = cur().value;
                advance();
            } else if (is_name("in")) {
                op = "in";
                advance();
            } else if (is_name("not") && peek().type == TokenType::Name && peek().value == "in") {
                op = "not in";
                advance();
                advance();
            } else {
                return l;
            }
            l = binary(op, std::move(l), parse_math1());
        }
    }
    ExprPtr parse_math1() {
        auto l = parse_concat();
        while (is_op("+") || is_op("-")) {
            std::string op = cur().value;
            advance();
            l = binary(op, std::move(l), parse_concat());
        }
        return l;
    }
    ExprPtr parse_concat() {
        auto l = parse_math2();
        while (accept_op("~")) l = binary("~", std::move(l), parse_math2());
        return l;
    }
    ExprPtr parse_math2() {
        auto l = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            std::string op = cur().value;
            advance();
            l = binary(op, std::move(l), parse_pow());
        }
        return l;
    }
    ExprPtr parse_pow() {
        auto l = parse_unary(true);
        while (accept_op("**")) l = binary("**", std::move(l), parse_unary(true));
        return l;
    }
    ExprPtr parse_unary(bool with_filter) {
        Nest nest(*this);
        ExprPtr e;
        if (is_op("-") || is_op("+")) {
            auto u = make(Expr::Kind::Unary);
            u->name = cur().value;
            advance();
            u->children.push_back(parse_unary(false));
            e = std::move(u);
        } else {
            e = parse_postfix(parse_primary());
        }
        if (with_filter) e = parse_filter_expr(std::move(e));
        return e;
    }

    ExprPtr parse_primary() {
        const Token& t = cur();
        if (t.type == TokenType::Name) {
            const std::string& n = t.value;
            ExprPtr e;
            if (n == "true" || n == "True" || n == "false" || n == "False") {
                e = make(Expr::Kind::Literal);
                e->value = Value(n == "true" || n == "True");
            } else if (n == "none" || n == "None") {
                e = make(Expr::Kind::Literal);
                e->value = Value(None{});
            } else {
                e = make(Expr::Kind::Name);
                e->name = n;
            }
            advance();
            return e;
        }
        if (t.type == TokenType::String) {
            auto e = make(Expr::Kind::Literal);
            std::string s;
            while (cur().type == TokenType::String) {  // adjacent literals concatenate
                s += cur().value;
                advance();
            }
            e->value = Value(std::move(s));
            return e;
        }
        if (t.type == TokenType::Int || t.type == TokenType::Float) {
            auto e = make(Expr::Kind::Literal);
            e->value = t.type == TokenType::Int ? Value(t.int_value) : Value(t.float_value);
            advance();
            return e;
        }
        if (accept_op("(")) {
            if (accept_op(")")) return make(Expr::Kind::Tuple);
            auto first = parse_expression(true);
            if (is_op(",")) {
                auto tup = make(Expr::Kind::Tuple);
                tup->children.push_back(std::move(first));
                while (accept_op(",")) {
                    if (is_op(")")) break;
                    tup->children.push_back(parse_expression(true));
                }
                first = std::move(tup);
            }
            expect_op(")");
            return first;
        }
        if (accept_op("[")) {
            auto l = make(Expr::Kind::List);
            while (!is_op("]")) {
                if (!l->children.empty()) expect_op(",");
                if (is_op("]")) break;
                l->children.push_back(parse_expression(true));
            }
            expect_op("]");
            return l;
        }
        if (accept_op("{")) {
            auto d = make(Expr::Kind::Dict);
            while (!is_op("}")) {
                if (!d->children.empty()) expect_op(",");
                if (is_op("}")) break;
                d->children.push_back(parse_expression(true));
                expect_op(":");
                d->children.push_back(parse_expression(true));
            }
            expect_op("}");
            return d;
        }
        fail("unexpected '" + describe() + "'");
    }

    ExprPtr parse_postfix(ExprPtr e) {
        while (true) {
            if (is_op(".")) {
                advance();
                auto g = make(Expr::Kind::GetAttr);
                if (cur().type == TokenType::Name) {
                    g->name = expect_name();
                    g->children.push_back(std::move(e));
                    e = std::move(g);
                } else if (cur().type == TokenType::Int) {
                    auto idx = make(Expr::Kind::Literal);
                    idx->value = Value(cur().int_value);
                    advance();
                    g->kind = Expr::Kind::GetItem;
                    g->children.push_back(std::move(e));
                    g->children.push_back(std::move(idx));
                    e = std::move(g);
                } else {
                    fail("expected attribute name");
                }
            } else if (is_op("[")) {
                advance();
                auto g = make(Expr::Kind::GetItem);
                g->children.push_back(std::move(e));
                g->children.push_back(parse_subscript());
                expect_op("]");
                e = std::move(g);
            } else if (is_op("(")) {
                auto c = make(Expr::Kind::Call);
                c->children.push_back(std::move(e));
                parse_call_args(*c);
                e = std::move(c);
            } else {
                return e;
            }
        }
    }

    ExprPtr parse_subscript() {
        ExprPtr parts[3];
        int i = 0;
        bool is_slice = false;
        if (!is_op(":")) parts[0] = parse_expression(true);
        while (is_op(":") && i < 2) {
            advance();
            is_slice = true;
            i++;
            if (!is_op(":") && !is_op("]")) parts[i] = parse_expression(true);
        }
        if (!is_slice) return std::move(parts[0]);
        auto s = make(Expr::Kind::Slice);
        for (auto& p : parts) s->children.push_back(std::move(p));
        return s;
    }

    void parse_call_args(Expr& call) {
        expect_op("(");
        bool first = true;
        while (!is_op(")")) {
            if (!first) expect_op(",");
            first = false;
            if (is_op(")")) break;
            if (cur().type == TokenType::Name && peek().type == TokenType::Op &&
                peek().value == "=") {
                std::string key = cur().value;
                advance();
                advance();
                call.kwargs.emplace_back(std::move(key), parse_expression(true));
            } else {
                if (!call.kwargs.empty()) fail("positional argument follows keyword argument");
                call.children.push_back(parse_expression(true));
            }
        }
        expect_op(")");
    }

    ExprPtr parse_filter_expr(ExprPtr e) {
        while (true) {
            if (is_op("|")) {
                e = parse_filters(std::move(e));
            } else if (is_name("is")) {
                advance();
                auto t = make(Expr::Kind::Test);
                if (accept_name("not")) t->negated = true;
                t->name = expect_name();
                while (accept_op(".")) t->name += "." + expect_name();
                t->children.push_back(std::move(e));
                if (is_op("(")) {
                    parse_call_args(*t);
                } else if ((cur().type == TokenType::Name || cur().type == TokenType::String ||
                            cur().type == TokenType::Int || cur().type == TokenType::Float ||
                            is_op("[") || is_op("{")) &&
                           !is_name("else") && !is_name("or") && !is_name("and")) {
                    t->children.push_back(parse_postfix(parse_primary()));
                }
                e = std::move(t);
            } else {
                return e;
            }
        }
    }

    // Parses `| name(args) | name2 ...`; the first pipe is optional in filter blocks.
    ExprPtr parse_filters(ExprPtr base, bool first_without_pipe = false) {
        bool first = true;
        while ((first && first_without_pipe) || is_op("|")) {
            if (!(first && first_without_pipe)) advance();
            first = false;
            auto f = make(Expr::Kind::Filter);
            f->name = expect_name();
            while (accept_op(".")) f->name += "." + expect_name();
            f->children.push_back(std::move(base));
            if (is_op("(")) parse_call_args(*f);
            base = std::move(f);
        }
        return base;
    }

    // Bounds the parser's recursion so hostile nesting cannot overflow the stack.
    struct Nest {
        Parser& p;
        explicit Nest(Parser& parser) : p(parser) {
            if (++p.nest_ > kMaxNesting) p.fail("template nesting is too deep");
        }
        ~Nest() { --p.nest_; }
    };
    static constexpr int kMaxNesting = 256;

    std::vector<Token> toks_;
    size_t pos_ = 0;
    int nest_ = 0;
};

}  // namespace

Body parse_template(std::string_view source) {
    return Parser(tokenize(source)).parse_all();
}

}  // namespace lokal::jinja
