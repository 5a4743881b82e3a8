// Hostile templates (as could come inside a downloaded GGUF) end with a clean lokal::Error.
#include <gtest/gtest.h>

#include <string>

#include "base/error.h"
#include "jinja/template.h"

namespace lokal::jinja {
namespace {

std::string render_with(std::string_view src, const RenderLimits& limits) {
    RenderOptions opt;
    opt.limits = limits;
    return Template::parse(src).render(nlohmann::ordered_json::object(), opt);
}

void expect_error(std::string_view src, std::string_view fragment, RenderLimits limits = {}) {
    try {
        render_with(src, limits);
        ADD_FAILURE() << "no error for: " << src;
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

TEST(JinjaSandbox, NestedLoopsHitTheIterationLimit) {
    RenderLimits limits;
    limits.max_loop_iterations = 20000;
    expect_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                 "iteration limit", limits);
}

TEST(JinjaSandbox, HugeRangeIsRefused) {
    expect_error("{{ range(1000000000)|length }}", "Range too big");
}

TEST(JinjaSandbox, InfiniteMacroRecursion) {
    expect_error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "call depth");
    expect_error("{% for x in [[1]] recursive %}{{ loop([x]) }}{% endfor %}", "call depth");
}

TEST(JinjaSandbox, OutputAndValueSizeLimits) {
    RenderLimits small;
    small.max_output_bytes = 1 << 16;
    expect_error("{% for i in range(100000) %}xxxxxxxxxx{% endfor %}", "exceeds the limit", small);
    expect_error("{{ 'a' * 1000000000000 }}", "exceeds the limit");
    expect_error("{{ [1] * 1000000000000 }}", "exceeds the limit");
    expect_error(
        "{% set ns = namespace(s='ab') %}{% for i in range(80) %}{% set ns.s = ns.s ~ ns.s %}{% "
        "endfor %}",
        "exceeds the limit");
    expect_error(
        "{% set ns = namespace(s='ab') %}{% for i in range(80) %}{% set ns.s = ns.s + ns.s %}{% "
        "endfor %}",
        "exceeds the limit");
    expect_error("{{ 'x'|indent(1000000000000) }}", "exceeds the limit");
    // A list that refers to itself 2^60 times when printed.
    expect_error(
        "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}{% "
        "endfor %}"
        "{{ ns.l }}",
        "exceeds the limit");
    expect_error(
        "{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{% set ns.l = [ns.l, ns.l] %}{% "
        "endfor %}"
        "{{ ns.l|tojson }}",
        "exceeds the limit");
}

TEST(JinjaSandbox, SelfReferenceDoesNotRecurseForever) {
    expect_error("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}", "recursion");
}

TEST(JinjaSandbox, DeepNestingInSourceIsASyntaxError) {
    std::string deep = "{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}";
    EXPECT_THROW(Template::parse(deep), Error);
    std::string ifs;
    for (int i = 0; i < 5000; i++) ifs += "{% if true %}";
    EXPECT_THROW(Template::parse(ifs), Error);
    EXPECT_THROW(Template::parse("{{ " + std::string(100000, '-') + "1 }}"), Error);
}

TEST(JinjaSandbox, TimeoutIsABackstop) {
    RenderLimits limits;
    limits.timeout = std::chrono::milliseconds(50);
    limits.max_loop_iterations = UINT64_MAX;
    expect_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                 "time limit", limits);
}

TEST(JinjaSandbox, NoPrivateAttributes) {
    expect_error("{{ ''.__class__.__mro__ }}{{ x.__init__() }}", "");
    EXPECT_EQ(render_with("{{ ''.__class__ }}", {}), "");  // unsafe attributes are undefined
    expect_error("{{ ''.__class__() }}", "unsafe");
}

}  // namespace
}  // namespace lokal::jinja
