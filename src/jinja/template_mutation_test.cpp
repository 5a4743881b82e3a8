// Thousands of seeded mutations of the real chat templates in testdata (byte flips, cuts,
// duplicated spans, inserted Jinja syntax): each must parse and render or fail with
// lokal::Error, never crash or run away (the render limits bound loops, depth and output).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "base/error.h"
#include "base/test_support.h"
#include "jinja/chat_template.h"

namespace lokal::jinja {
namespace {

namespace fs = std::filesystem;

const char* const kSnippets[] = {
    "{%",
    "%}",
    "{{",
    "}}",
    "{#",
    "#}",
    "{%-",
    "-%}",
    "endfor",
    "endif",
    "for x in ",
    "loop.",
    "recursive",
    "loop(messages)",
    "{% set ns = namespace(a=1) %}",
    "|tojson",
    "[::-1]",
    "~",
    " is defined",
    "raise_exception('x')",
    "{% macro m() %}{{ m() }}{% endmacro %}",
    "range(100000)",
    "* 1000000",
    "|join",
    "messages",
    "(",
    ")",
    "[",
    "]",
    "'",
    "\"",
    "\\",
    "{% for i in range(9999) %}{% for j in range(9999) %}{{ i }}{% endfor %}{% endfor %}"};

std::string mutate(std::string t, std::mt19937& rng) {
    const int edits = 1 + (int)(rng() % 3);
    for (int e = 0; e < edits && !t.empty(); ++e) {
        const size_t at = rng() % t.size();
        switch (rng() % 5) {
            case 0:
                t[at] = (char)(rng() % 256);
                break;
            case 1:
                t.erase(at, 1 + rng() % 40);
                break;
            case 2:
                t.insert(at, kSnippets[rng() % std::size(kSnippets)]);
                break;
            case 3:
                t.insert(at, t.substr(rng() % t.size(), rng() % 60));
                break;
            default:
                t.resize(at);
                break;
        }
    }
    return t;
}

TEST(TemplateMutations, NeverCrashOrRunAway) {
    LOKAL_REQUIRE_TESTDATA("templates/cases.json");
    std::vector<std::string> sources;
    for (const auto& e : fs::directory_iterator(testing::testdata_path("templates"))) {
        if (e.path().extension() != ".jinja") continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        sources.push_back(ss.str());
    }
    std::sort(sources.begin(), sources.end());
    ASSERT_GE(sources.size(), 45u);
    ChatTemplateInputs in;
    in.messages = nlohmann::ordered_json::parse(
        R"j([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},
             {"role":"assistant","content":"Hello","tool_calls":[{"type":"function",
              "function":{"name":"f","arguments":{"a":1}}}]},
             {"role":"tool","content":"42"},{"role":"user","content":"Thanks"}])j");
    in.bos_token = "<s>";
    in.eos_token = "</s>";
    in.options.now = [] { return std::tm{}; };
    in.options.limits.max_output_bytes = 1 << 20;
    in.options.limits.max_loop_iterations = 200000;
    in.options.limits.timeout = std::chrono::milliseconds(2000);
    std::mt19937 rng(20261124);
    int rendered = 0, refused = 0;
    for (int i = 0; i < 4000; ++i) {
        const std::string t = mutate(sources[rng() % sources.size()], rng);
        try {
            const std::string out = render_chat(t, in);
            EXPECT_LE(out.size(), in.options.limits.max_output_bytes);
            ++rendered;
        } catch (const Error&) {
            ++refused;
        }
    }
    EXPECT_GT(rendered, 100);
    EXPECT_GT(refused, 100);
}

}  // namespace
}  // namespace lokal::jinja
