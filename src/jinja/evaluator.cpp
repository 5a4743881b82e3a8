// The tree-walking evaluator: statements, expressions, scopes, macros and loops.
#include <cmath>

#include "base/error.h"
#include "jinja/interp.h"
#include "jinja/strings.h"

namespace lokal::jinja {

const Value* Scope::lookup(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent.get()) {
        auto it = s->vars.find(name);
        if (it != s->vars.end()) return &it->second;
    }
    return nullptr;
}

namespace {

ScopePtr child_scope(const ScopePtr& parent) {
    auto s = std::make_shared<Scope>();
    s->parent = parent;
    return s;
}

struct DepthGuard {
    int& depth;
    DepthGuard(int& d, int max) : depth(d) {
        if (++depth > max) {
            --depth;
            raise("SecurityError", "maximum call depth of " + std::to_string(max) + " exceeded");
        }
    }
    ~DepthGuard() { --depth; }
};

int64_t floor_div(int64_t a, int64_t b) {
    if (b == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
    if (a == INT64_MIN && b == -1) raise("OverflowError", "integer result too large");
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

int64_t floor_mod(int64_t a, int64_t b) {
    if (b == 0) raise("ZeroDivisionError", "integer division or modulo by zero");
    if (b == -1) return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}

Value repeat(const Value& seq, int64_t n) {
    if (n < 0) n = 0;
    if (seq.is_string()) {
        check_size(seq.as_string().size() * static_cast<uint64_t>(n));
        std::string out;
        for (int64_t i = 0; i < n; i++) out += seq.as_string();
        return Value(std::move(out));
    }
    const auto& items = seq.as_list()->items;
    check_size(items.size() * static_cast<uint64_t>(n) * sizeof(Value));
    std::vector<Value> out;
    for (int64_t i = 0; i < n; i++) out.insert(out.end(), items.begin(), items.end());
    return seq.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

// printf-style `"%s" % args`, for the conversions templates use.
Value percent_format(const std::string& fmt, const Value& args) {
    std::vector<Value> vals = args.is_tuple() ? args.as_list()->items : std::vector<Value>{args};
    std::string out;
    size_t k = 0;
    for (size_t i = 0; i < fmt.size(); i++) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        if (++i >= fmt.size()) raise("ValueError", "incomplete format");
        char c = fmt[i];
        if (c == '%') {
            out += '%';
            continue;
        }
        if (k >= vals.size()) raise("TypeError", "not enough arguments for format string");
        const Value& v = vals[k++];
        if (c == 's') {
            out += v.str();
        } else if (c == 'r') {
            out += v.repr();
        } else if (c == 'd' || c == 'i') {
            out += std::to_string(v.is_float() ? static_cast<int64_t>(v.as_float()) : v.to_int());
        } else if (c == 'f') {
            char b[64];
            std::snprintf(b, sizeof b, "%f", v.to_double());
            out += b;
        } else {
            raise("ValueError", std::string("unsupported format character '") + c + "'");
        }
    }
    if (k < vals.size()) raise("TypeError", "not all arguments converted during string formatting");
    return Value(std::move(out));
}

[[noreturn]] void unsupported(const char* op, const Value& a, const Value& b) {
    a.require_defined();
    b.require_defined();
    raise("TypeError", std::string("unsupported operand type(s) for ") + op + ": '" +
                           a.type_name() + "' and '" + b.type_name() + "'");
}

Value arith(const std::string& op, const Value& a, const Value& b) {
    if (op == "+") {
        if (a.is_string() && b.is_string() && (a.is_markup() || b.is_markup())) {
            std::string s = (a.is_markup() ? a.as_string() : html_escape(a.as_string())) +
                            (b.is_markup() ? b.as_string() : html_escape(b.as_string()));
            check_size(s.size());
            return Value::markup(std::move(s));
        }
        if (a.is_string() && b.is_string()) {
            check_size(a.as_string().size() + b.as_string().size());
            return Value(a.as_string() + b.as_string());
        }
        if (a.is_list() && b.is_list() && !a.is_generator() && !b.is_generator() &&
            a.is_tuple() == b.is_tuple()) {
            auto items = a.as_list()->items;
            items.insert(items.end(), b.as_list()->items.begin(), b.as_list()->items.end());
            check_size(items.size() * sizeof(Value));
            return a.is_tuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
        }
        if (a.is_string() || (a.is_list() && !a.is_tuple())) {
            b.require_defined();
            a.require_defined();
            raise("TypeError", "can only concatenate " + a.type_name() + " (not \"" +
                                   b.type_name() + "\") to " + a.type_name());
        }
    }
    if (op == "*") {
        if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool()))
            return repeat(a, b.to_int());
        if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool()))
            return repeat(b, a.to_int());
    }
    if (op == "%" && a.is_string()) return percent_format(a.as_string(), b);
    if (!a.is_number() || !b.is_number()) unsupported(op.c_str(), a, b);
    bool fl = a.is_float() || b.is_float();
    if (op == "/") {
        if (b.to_double() == 0) raise("ZeroDivisionError", "division by zero");
        return Value(a.to_double() / b.to_double());
    }
    if (fl) {
        double x = a.to_double(), y = b.to_double();
        if (op == "+") return Value(x + y);
        if (op == "-") return Value(x - y);
        if (op == "*") return Value(x * y);
        if (op == "**") return Value(std::pow(x, y));
        if (y == 0) raise("ZeroDivisionError", "float division by zero");
        if (op == "//") return Value(std::floor(x / y));
        if (op == "%") {
            double r = std::fmod(x, y);
            if (r != 0 && ((r < 0) != (y < 0))) r += y;
            return Value(r);
        }
    } else {
        int64_t x = a.to_int(), y = b.to_int(), r = 0;
        if (op == "+") {
            if (__builtin_add_overflow(x, y, &r))
                raise("OverflowError", "integer result too large");
            return Value(r);
        }
        if (op == "-") {
            if (__builtin_sub_overflow(x, y, &r))
                raise("OverflowError", "integer result too large");
            return Value(r);
        }
        if (op == "*") {
            if (__builtin_mul_overflow(x, y, &r))
                raise("OverflowError", "integer result too large");
            return Value(r);
        }
        if (op == "//") return Value(floor_div(x, y));
        if (op == "%") return Value(floor_mod(x, y));
        if (op == "**") {
            if (y < 0) return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
            int64_t result = 1;
            for (int64_t i = 0; i < y; i++) {
                if (__builtin_mul_overflow(result, x, &result))
                    raise("OverflowError", "integer result too large");
                if (result == 0 || result == 1) break;
            }
            return Value(result);
        }
    }
    unsupported(op.c_str(), a, b);
}

}  // namespace

Interpreter::Interpreter(const RenderOptions& options, std::string* out)
    : options_(options), out_(out) {}

Interpreter::~Interpreter() {
    for (auto& ns : namespaces_) ns->items.clear();
}

void Interpreter::count_iterations(uint64_t n) {
    iterations_ += n;
    if ((iterations_ & 255) == 0) check_deadline();
    if (iterations_ > options_.limits.max_loop_iterations)
        raise("SecurityError", "loop iteration limit of " +
                                   std::to_string(options_.limits.max_loop_iterations) +
                                   " exceeded");
}

void Interpreter::write(std::string_view s) {
    check_size(out_->size() + s.size());
    out_->append(s);
}

void Interpreter::render(const Body& body, const ScopePtr& globals) {
    globals->vars.try_emplace(
        "namespace", Value::function("namespace", [this](CallArgs& a) -> Value {
            Value ns = Value::namespace_();
            for (const auto& arg : a.args) {
                if (!arg.is_dict())
                    raise("TypeError", "namespace() positional argument must be a mapping");
                for (const auto& [k, v] : arg.as_dict()->items) ns.as_dict()->set(k, v);
            }
            for (const auto& [k, v] : a.kwargs) ns.as_dict()->set(Value(k), v);
            namespaces_.push_back(ns.as_dict());
            return ns;
        }));
    exec_body(body, globals);
}

std::string Interpreter::capture(const Body& body, const ScopePtr& scope) {
    std::string buf;
    std::string* saved = out_;
    out_ = &buf;
    try {
        exec_body(body, scope);
    } catch (...) {
        out_ = saved;
        throw;
    }
    out_ = saved;
    return buf;
}

Interpreter::Flow Interpreter::exec_body(const Body& body, const ScopePtr& scope) {
    for (const auto& s : body) {
        Flow f = exec(*s, scope);
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

void Interpreter::assign(const ScopePtr& scope, const std::vector<std::string>& targets, Value v) {
    if (targets.size() == 1) {
        scope->vars[targets[0]] = std::move(v);
        return;
    }
    std::vector<Value> items = iterate(v);
    if (items.size() != targets.size())
        raise("ValueError", "cannot unpack " + std::to_string(items.size()) + " values into " +
                                std::to_string(targets.size()) + " names");
    for (size_t i = 0; i < targets.size(); i++) scope->vars[targets[i]] = items[i];
}

Interpreter::Flow Interpreter::exec(const Stmt& s, const ScopePtr& scope) {
    switch (s.kind) {
        case Stmt::Kind::Text:
            write(s.text);
            break;
        case Stmt::Kind::Output: {
            Value v = eval(*s.expr, scope);
            if (v.is_string()) {
                write(v.as_string());
            } else {
                write(v.str());
            }
            break;
        }
        case Stmt::Kind::If:
            for (const auto& [cond, body] : s.branches)
                if (eval(*cond, scope).truthy()) return exec_body(body, scope);
            return exec_body(s.else_body, scope);
        case Stmt::Kind::For:
            exec_for(s, scope, eval(*s.expr, scope), 0);
            break;
        case Stmt::Kind::Set:
            if (s.attr_target) {
                const Value* ns = scope->lookup(s.targets[0]);
                if (!ns || !ns->is_namespace())
                    raise("TemplateRuntimeError",
                          "cannot assign attribute on non-namespace object");
                ns->as_dict()->set(Value(s.targets[1]), eval(*s.expr, scope));
            } else {
                assign(scope, s.targets, eval(*s.expr, scope));
            }
            break;
        case Stmt::Kind::SetBlock: {
            Value v(capture(s.body, scope));
            if (s.expr) {
                // Evaluate the filter chain with the captured text as its innermost base.
                auto tmp = child_scope(scope);
                tmp->vars[" base"] = v;
                v = eval(*s.expr, tmp);
            }
            scope->vars[s.targets[0]] = std::move(v);
            break;
        }
        case Stmt::Kind::Macro:
            scope->vars[s.name] = make_macro(s, scope, nullptr);
            break;
        case Stmt::Kind::CallBlock: {
            const Expr& call = *s.expr;
            Value callee = eval(*call.children[0], scope);
            CallArgs args;
            for (size_t i = 1; i < call.children.size(); i++)
                args.args.push_back(eval(*call.children[i], scope));
            for (const auto& [k, v] : call.kwargs) args.kwargs.emplace_back(k, eval(*v, scope));
            args.kwargs.emplace_back("caller", make_macro(s, scope, &s.body));
            Value r = this->call(callee, args);
            write(r.str());
            break;
        }
        case Stmt::Kind::FilterBlock: {
            auto tmp = child_scope(scope);
            tmp->vars[" base"] = Value(capture(s.body, scope));
            write(eval(*s.expr, tmp).str());
            break;
        }
        case Stmt::Kind::Scope:
            return exec_body(s.body, scope);
        case Stmt::Kind::Break:
            return Flow::Break;
        case Stmt::Kind::Continue:
            return Flow::Continue;
    }
    return Flow::Normal;
}

void Interpreter::exec_for(const Stmt& s, const ScopePtr& scope, const Value& iterable, int depth) {
    if (!iterable.is_undefined() && !iterable.is_list() && !iterable.is_dict() &&
        !iterable.is_string())
        raise("TypeError", "'" + iterable.type_name() + "' object is not iterable");
    std::vector<Value> items = iterate(iterable);
    if (s.cond) {  // `for x in xs if cond`: filtered before loop variables are computed
        std::vector<Value> kept;
        for (auto& item : items) {
            count_iterations();
            auto tmp = child_scope(scope);
            assign(tmp, s.targets, item);
            if (eval(*s.cond, tmp).truthy()) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        exec_body(s.else_body, scope);
        return;
    }
    const int64_t n = static_cast<int64_t>(items.size());
    auto loop = std::make_shared<DictData>();
    loop->is_loop = true;
    if (s.recursive) {
        auto fn = std::make_shared<Function>();
        fn->name = "loop";
        closure_scopes_.push_back(scope);
        fn->fn = [this, &s, weak = std::weak_ptr<Scope>(scope), depth](CallArgs& a) -> Value {
            ScopePtr live = weak.lock();
            LOKAL_ASSERT(live);
            DepthGuard g(depth_, options_.limits.max_call_depth);
            std::string buf;
            std::string* saved = out_;
            out_ = &buf;
            try {
                exec_for(s, live, a.get(0, "iterable"), depth + 1);
            } catch (...) {
                out_ = saved;
                throw;
            }
            out_ = saved;
            return Value(std::move(buf));
        };
        loop->call = fn;
    }
    Value loop_value(loop);
    for (int64_t i = 0; i < n; i++) {
        count_iterations();
        auto& L = loop->items;
        L.clear();
        L.emplace_back(Value("index"), Value(i + 1));
        L.emplace_back(Value("index0"), Value(i));
        L.emplace_back(Value("revindex"), Value(n - i));
        L.emplace_back(Value("revindex0"), Value(n - i - 1));
        L.emplace_back(Value("first"), Value(i == 0));
        L.emplace_back(Value("last"), Value(i == n - 1));
        L.emplace_back(Value("length"), Value(n));
        L.emplace_back(Value("depth"), Value(depth + 1));
        L.emplace_back(Value("depth0"), Value(depth));
        L.emplace_back(Value("previtem"), i > 0 ? items[static_cast<size_t>(i - 1)]
                                                : Value::undefined("there is no previous item"));
        L.emplace_back(Value("nextitem"), i + 1 < n ? items[static_cast<size_t>(i + 1)]
                                                    : Value::undefined("there is no next item"));
        L.emplace_back(Value("cycle"), Value::function("cycle", [i](CallArgs& a) -> Value {
                           if (a.args.empty()) raise("TypeError", "no items for cycling given");
                           return a.args[static_cast<size_t>(i) % a.args.size()];
                       }));
        auto body_scope = child_scope(scope);
        assign(body_scope, s.targets, items[static_cast<size_t>(i)]);
        body_scope->vars["loop"] = loop_value;
        Flow f = exec_body(s.body, body_scope);
        if (f == Flow::Break) break;
    }
}

Value Interpreter::make_macro(const Stmt& s, const ScopePtr& scope, const Body* caller_body) {
    auto fn = std::make_shared<Function>();
    fn->name = caller_body ? "caller" : s.name;
    const Body* body = caller_body ? caller_body : &s.body;
    closure_scopes_.push_back(scope);
    fn->fn = [this, &s, weak = std::weak_ptr<Scope>(scope), body](CallArgs& a) -> Value {
        ScopePtr live = weak.lock();
        LOKAL_ASSERT(live);
        DepthGuard g(depth_, options_.limits.max_call_depth);
        check_deadline();
        auto local = child_scope(live);
        size_t used = 0;
        std::vector<Value> varargs;
        for (size_t i = 0; i < a.args.size(); i++) {
            if (i < s.params.size()) {
                local->vars[s.params[i].first] = a.args[i];
                used++;
            } else {
                varargs.push_back(a.args[i]);
            }
        }
        Value kwargs = Value::dict();
        for (auto& [k, v] : a.kwargs) {
            bool found = false;
            for (size_t i = 0; i < s.params.size(); i++) {
                if (s.params[i].first == k) {
                    if (i < used)
                        raise("TypeError", "macro '" + s.name +
                                               "' got multiple values for argument '" + k + "'");
                    local->vars[k] = v;
                    found = true;
                }
            }
            if (!found) {
                if (k == "caller") {
                    local->vars["caller"] = v;
                } else {
                    kwargs.as_dict()->set(Value(k), v);
                }
            }
        }
        for (size_t i = used; i < s.params.size(); i++) {
            const auto& [name, def] = s.params[i];
            if (local->vars.count(name)) continue;
            local->vars[name] = def ? eval(*def, local)
                                    : Value::undefined("parameter '" + name + "' was not provided");
        }
        local->vars["varargs"] = Value::tuple(std::move(varargs));
        local->vars["kwargs"] = kwargs;
        return Value(capture(*body, local));
    };
    return Value(std::move(fn));
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
    if (callee.is_function()) return callee.as_function()->fn(args);
    if (callee.is_dict() && callee.as_dict()->call) return callee.as_dict()->call->fn(args);
    callee.require_defined();
    raise("TypeError", "'" + callee.type_name() + "' object is not callable");
}

Value Interpreter::apply_filter(const std::string& name, Value base, CallArgs& args, int line) {
    if (!has_filter(name))
        raise("TemplateAssertionError",
              "No filter named '" + name + "' (line " + std::to_string(line) + ")");
    return call_filter(*this, name, std::move(base), args);
}

bool Interpreter::apply_test(const std::string& name, const Value& v, CallArgs& args) {
    if (!has_test(name)) raise("TemplateAssertionError", "No test named '" + name + "'");
    return call_test(*this, name, v, args);
}

Value Interpreter::eval_binary(const Expr& e, const ScopePtr& scope) {
    const std::string& op = e.name;
    if (op == "and") {
        Value l = eval(*e.children[0], scope);
        return l.truthy() ? eval(*e.children[1], scope) : l;
    }
    if (op == "or") {
        Value l = eval(*e.children[0], scope);
        return l.truthy() ? l : eval(*e.children[1], scope);
    }
    Value a = eval(*e.children[0], scope);
    Value b = eval(*e.children[1], scope);
    if (op == "~") {
        std::string s = a.str() + b.str();
        check_size(s.size());
        return Value(std::move(s));
    }
    if (op == "==") return Value(values_equal(a, b));
    if (op == "!=") return Value(!values_equal(a, b));
    if (op == "<") return Value(compare_values(a, b) < 0);
    if (op == ">") return Value(compare_values(a, b) > 0);
    if (op == "<=") return Value(compare_values(a, b) <= 0);
    if (op == ">=") return Value(compare_values(a, b) >= 0);
    if (op == "in") return Value(contains(b, a));
    if (op == "not in") return Value(!contains(b, a));
    return arith(op, a, b);
}

Value Interpreter::eval(const Expr& e, const ScopePtr& scope) {
    switch (e.kind) {
        case Expr::Kind::Literal:
            return e.value;
        case Expr::Kind::Name: {
            if (const Value* v = scope->lookup(e.name)) return *v;
            return Value::undefined("'" + e.name + "' is undefined");
        }
        case Expr::Kind::List:
        case Expr::Kind::Tuple: {
            std::vector<Value> items;
            for (const auto& c : e.children) items.push_back(eval(*c, scope));
            return e.kind == Expr::Kind::List ? Value::list(std::move(items))
                                              : Value::tuple(std::move(items));
        }
        case Expr::Kind::Dict: {
            Value d = Value::dict();
            for (size_t i = 0; i + 1 < e.children.size(); i += 2)
                d.as_dict()->set(eval(*e.children[i], scope), eval(*e.children[i + 1], scope));
            return d;
        }
        case Expr::Kind::GetAttr:
            return get_attr(eval(*e.children[0], scope), e.name);
        case Expr::Kind::GetItem: {
            Value obj = eval(*e.children[0], scope);
            const Expr& idx = *e.children[1];
            if (idx.kind == Expr::Kind::Slice) {
                auto part = [&](size_t i) {
                    return idx.children[i] ? eval(*idx.children[i], scope) : Value(None{});
                };
                return slice_value(obj, part(0), part(1), part(2));
            }
            return get_item(obj, eval(idx, scope));
        }
        case Expr::Kind::Slice:
            raise("TemplateSyntaxError", "slice outside of a subscript");
        case Expr::Kind::Call: {
            Value callee = eval(*e.children[0], scope);
            CallArgs args;
            for (size_t i = 1; i < e.children.size(); i++)
                args.args.push_back(eval(*e.children[i], scope));
            for (const auto& [k, v] : e.kwargs) args.kwargs.emplace_back(k, eval(*v, scope));
            return call(callee, args);
        }
        case Expr::Kind::Filter: {
            Value base;
            if (e.children[0]) {
                base = eval(*e.children[0], scope);
            } else if (const Value* b = scope->lookup(" base")) {
                base = *b;
            }
            CallArgs args;
            for (size_t i = 1; i < e.children.size(); i++)
                args.args.push_back(eval(*e.children[i], scope));
            for (const auto& [k, v] : e.kwargs) args.kwargs.emplace_back(k, eval(*v, scope));
            return apply_filter(e.name, std::move(base), args, e.line);
        }
        case Expr::Kind::Test: {
            Value v = eval(*e.children[0], scope);
            CallArgs args;
            for (size_t i = 1; i < e.children.size(); i++)
                args.args.push_back(eval(*e.children[i], scope));
            for (const auto& [k, val] : e.kwargs) args.kwargs.emplace_back(k, eval(*val, scope));
            bool r = apply_test(e.name, v, args);
            return Value(e.negated ? !r : r);
        }
        case Expr::Kind::Unary: {
            Value v = eval(*e.children[0], scope);
            if (e.name == "not") return Value(!v.truthy());
            if (!v.is_number()) {
                v.require_defined();
                raise("TypeError",
                      "bad operand type for unary " + e.name + ": '" + v.type_name() + "'");
            }
            if (e.name == "+") return v.is_bool() ? Value(v.to_int()) : v;
            if (v.is_float()) return Value(-v.as_float());
            if (v.to_int() == INT64_MIN) raise("OverflowError", "integer result too large");
            return Value(-v.to_int());
        }
        case Expr::Kind::Binary:
            return eval_binary(e, scope);
        case Expr::Kind::Cond: {
            if (eval(*e.children[0], scope).truthy()) return eval(*e.children[1], scope);
            if (e.children[2]) return eval(*e.children[2], scope);
            return Value::undefined(
                "the inline if-expression evaluated to false and no else section was defined");
        }
    }
    return Value();
}

}  // namespace lokal::jinja
