// Internal: the tree-walking evaluator and the builtin filters, tests and methods it calls.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "jinja/ast.h"
#include "jinja/template.h"
#include "jinja/value.h"

namespace lokal::jinja {

struct Scope {
    std::shared_ptr<Scope> parent;
    std::unordered_map<std::string, Value> vars;

    const Value* lookup(const std::string& name) const;
};
using ScopePtr = std::shared_ptr<Scope>;

class Interpreter {
  public:
    Interpreter(const RenderOptions& options, std::string* out);
    ~Interpreter();
    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    void render(const Body& body, const ScopePtr& globals);
    Value eval(const Expr& e, const ScopePtr& scope);

    void count_iterations(uint64_t n = 1);
    const RenderOptions& options() const { return options_; }

    Value call(const Value& callee, CallArgs& args);
    Value apply_filter(const std::string& name, Value base, CallArgs& args, int line);
    bool apply_test(const std::string& name, const Value& v, CallArgs& args);

  private:
    enum class Flow { Normal, Break, Continue };
    Flow exec_body(const Body& body, const ScopePtr& scope);
    Flow exec(const Stmt& s, const ScopePtr& scope);
    void exec_for(const Stmt& s, const ScopePtr& scope, const Value& iterable, int depth);
    Value make_macro(const Stmt& s, const ScopePtr& scope, const Body* caller_body);
    void assign(const ScopePtr& scope, const std::vector<std::string>& targets, Value v);
    std::string capture(const Body& body, const ScopePtr& scope);
    void write(std::string_view s);
    Value eval_binary(const Expr& e, const ScopePtr& scope);

    // Closures (macros, recursive loops) hold their scope weakly; the interpreter owns the scopes
    // so that a scope holding its own macro is no reference cycle. Namespaces are emptied at the
    // end because a template can store a namespace inside itself.
    std::vector<ScopePtr> closure_scopes_;
    std::vector<DictPtr> namespaces_;
    const RenderOptions& options_;
    std::string* out_;
    uint64_t iterations_ = 0;
    int depth_ = 0;
};

// Python-level operations shared by the evaluator and the builtins (ops.cpp).
Value get_attr(const Value& obj, const std::string& name);
Value get_item(const Value& obj, const Value& key);
Value slice_value(const Value& obj, const Value& start, const Value& stop, const Value& step);
std::vector<Value> iterate(const Value& v);  // list items, dict keys, string chars
bool contains(const Value& container, const Value& item);
Value length_of(const Value& v);

// Builtins (filters.cpp, tests.cpp, methods.cpp, json.cpp).
bool has_filter(const std::string& name);
Value call_filter(Interpreter& in, const std::string& name, Value base, CallArgs& args);
bool has_test(const std::string& name);
bool call_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args);
// Bound method of a str/list/dict, or undefined when it has none by that name.
Value get_method(const Value& obj, const std::string& name);
std::string to_json_text(const Value& v, const Value& indent, bool ensure_ascii,
                         const std::string& item_sep, const std::string& key_sep, bool sort_keys);

}  // namespace lokal::jinja
