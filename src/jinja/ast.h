// Syntax tree of a parsed template: expressions and statements.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/value.h"

namespace lokal::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Expr {
    enum class Kind {
        Literal,  // value
        Name,     // name
        List,     // children = items
        Tuple,    // children = items
        Dict,     // children = key0, value0, key1, value1, ...
        GetAttr,  // children[0] . name
        GetItem,  // children[0] [ children[1] ]
        Slice,    // children = start, stop, step (each may be null)
        Call,     // children[0] ( children[1..], kwargs )
        Filter,   // children[0] (null in filter blocks) | name ( children[1..], kwargs )
        Test,     // children[0] is [not] name ( children[1..] )
        Unary,    // name = "not" | "-" | "+"; children[0]
        Binary,   // name = operator; children[0], children[1]
        Cond,     // children[1] if children[0] else children[2] (may be null)
    };
    Kind kind;
    int line = 0;
    Value value;
    std::string name;
    bool negated = false;
    std::vector<ExprPtr> children;
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Stmt {
    enum class Kind {
        Text,         // text
        Output,       // {{ expr }}
        If,           // branches, else_body
        For,          // targets in expr [if cond] body [else else_body], recursive
        Set,          // targets (or attr_target: targets = {object, attribute}) = expr
        SetBlock,     // targets[0] = rendered body, piped through expr filters (may be null)
        Macro,        // name(params) body
        CallBlock,    // expr = call, params = caller's params, body = caller's body
        FilterBlock,  // expr = filter chain over a null base, body
        Scope,        // body rendered in place (generation blocks)
        Break,
        Continue,
    };
    Kind kind;
    int line = 0;
    std::string text;
    ExprPtr expr;
    ExprPtr cond;
    std::vector<std::string> targets;
    bool attr_target = false;
    bool recursive = false;
    std::vector<std::pair<ExprPtr, Body>> branches;
    Body body;
    Body else_body;
    std::string name;
    std::vector<std::pair<std::string, ExprPtr>> params;  // default may be null
};

}  // namespace lokal::jinja
