// libFuzzer target for the Jinja engine: the input is a template, optionally followed by a NUL
// byte and a JSON object of variables (messages, tools, ...). Parsing and rendering must either
// succeed or throw lokal::Error, within the render limits; anything else is a bug. Build and run
// with scripts/fuzz-jinja (seeded with the real chat templates from ../shared/testdata).
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "jinja/template.h"

namespace {

const nlohmann::ordered_json& default_context() {
    static const nlohmann::ordered_json c = nlohmann::ordered_json::parse(
        R"j({"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"},
             {"role":"assistant","content":"a","tool_calls":[{"type":"function",
              "function":{"name":"f","arguments":{"x":1}}}]},{"role":"tool","content":"t"}],
             "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],
             "add_generation_prompt":true,"bos_token":"<s>","eos_token":"</s>"})j");
    return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const size_t nul = in.find('\0');
    const std::string_view source = in.substr(0, nul);
    nlohmann::ordered_json context = default_context();
    if (nul != std::string_view::npos) {
        auto extra = nlohmann::ordered_json::parse(in.substr(nul + 1), nullptr, false);
        if (extra.is_object()) context.update(extra);
    }
    lokal::jinja::RenderOptions options;
    options.now = [] { return std::tm{}; };
    options.limits.max_output_bytes = 1 << 20;
    options.limits.max_loop_iterations = 100000;
    options.limits.max_call_depth = 64;
    options.limits.timeout = std::chrono::milliseconds(1000);
    try {
        const auto t = lokal::jinja::Template::parse(source);
        const std::string out = t.render(context, options);
        if (out.size() > options.limits.max_output_bytes) __builtin_trap();
    } catch (const lokal::Error&) {
    }
    return 0;
}
