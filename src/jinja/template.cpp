#include "jinja/template.h"

#include <cstring>

#include "base/error.h"
#include "jinja/interp.h"
#include "jinja/parser.h"

namespace lokal::jinja {

struct Template::Impl {
    Body body;
};

namespace {

constexpr int64_t kMaxRange = 100000;  // like jinja2's sandbox

Value global_range(CallArgs& a) {
    int64_t start = 0, stop, step = 1;
    if (a.args.size() == 1) {
        stop = a.args[0].to_int();
    } else if (a.args.size() == 2 || a.args.size() == 3) {
        start = a.args[0].to_int();
        stop = a.args[1].to_int();
        if (a.args.size() == 3) step = a.args[2].to_int();
    } else {
        raise("TypeError", "range expected 1 to 3 arguments");
    }
    if (step == 0) raise("ValueError", "range() arg 3 must not be zero");
    std::vector<Value> out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (static_cast<int64_t>(out.size()) >= kMaxRange)
            raise("OverflowError",
                  "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
        out.emplace_back(i);
    }
    return Value::list(std::move(out));
}

Value global_dict(CallArgs& a) {
    Value d = Value::dict();
    for (const auto& arg : a.args) {
        if (!arg.is_dict()) raise("TypeError", "dict() positional argument must be a mapping");
        for (const auto& [k, v] : arg.as_dict()->items) d.as_dict()->set(k, v);
    }
    for (const auto& [k, v] : a.kwargs) d.as_dict()->set(Value(k), v);
    return d;
}

ScopePtr make_globals(const nlohmann::ordered_json& context, const RenderOptions& options) {
    auto g = std::make_shared<Scope>();
    g->vars["range"] = Value::function("range", global_range);
    g->vars["dict"] = Value::function("dict", global_dict);
    g->vars["raise_exception"] = Value::function("raise_exception", [](CallArgs& a) -> Value {
        throw Error("TemplateError: " + a.get(0, "message").str());
    });
    g->vars["strftime_now"] = Value::function("strftime_now", [&options](CallArgs& a) -> Value {
        std::tm tm{};
        if (options.now) {
            tm = options.now();
        } else {
            std::time_t t = std::time(nullptr);
            localtime_r(&t, &tm);
        }
        std::string fmt = a.get(0, "format").str();
        if (fmt.empty()) return Value("");
        char buf[1024];
        size_t n = std::strftime(buf, sizeof buf, fmt.c_str(), &tm);
        if (n == 0) raise("ValueError", "strftime format produced no output or is too long");
        return Value(std::string(buf, n));
    });
    if (!context.is_object() && !context.is_null())
        raise("TypeError", "render context must be a JSON object");
    if (context.is_object())
        for (const auto& [k, v] : context.items()) g->vars[k] = Value::from_json(v);
    return g;
}

struct BudgetGuard {
    explicit BudgetGuard(const RenderLimits& l) {
        set_render_budget(l.max_output_bytes, std::chrono::steady_clock::now() + l.timeout);
    }
    ~BudgetGuard() { set_render_budget(SIZE_MAX, std::chrono::steady_clock::time_point::max()); }
};

}  // namespace

Template Template::parse(std::string_view source) {
    auto impl = std::make_shared<Impl>();
    impl->body = parse_template(source);
    Template t;
    t.impl_ = std::move(impl);
    return t;
}

std::string Template::render(const nlohmann::ordered_json& context,
                             const RenderOptions& options) const {
    BudgetGuard guard(options.limits);
    std::string out;
    Interpreter in(options, &out);
    in.render(impl_->body, make_globals(context, options));
    return out;
}

}  // namespace lokal::jinja
