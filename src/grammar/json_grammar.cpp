#include "grammar/json_grammar.h"

#include "grammar/json_rules.h"

namespace lokal::grammar {

std::shared_ptr<const Grammar> grammar_for_any_json() {
    static const std::shared_ptr<const Grammar> g = [] {
        GrammarBuilder b;
        const uint32_t root = b.declare("root");
        JsonRules json(b);
        b.add_alt(root, {json.object()});
        return b.build(root);
    }();
    return g;
}

std::shared_ptr<const Grammar> grammar_for_json_value() {
    static const std::shared_ptr<const Grammar> g = [] {
        GrammarBuilder b;
        const uint32_t root = b.declare("root");
        JsonRules json(b);
        b.add_alt(root, {json.value()});
        return b.build(root);
    }();
    return g;
}

}  // namespace lokal::grammar
