// Parser: token stream -> statement tree, following jinja2's grammar and operator precedence.
#pragma once

#include <string_view>

#include "jinja/ast.h"

namespace lokal::jinja {

// Throws lokal::Error("TemplateSyntaxError: ... (line N)") on syntax errors.
Body parse_template(std::string_view source);

}  // namespace lokal::jinja
