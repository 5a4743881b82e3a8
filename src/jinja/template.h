// Public API of the Jinja template engine: parse once, render many times.
//
//   auto t = lokal::jinja::Template::parse(source);        // throws lokal::Error on syntax errors
//   std::string out = t.render(context_json, options);     // throws lokal::Error on runtime errors
//
// The language and its semantics follow Python's jinja2 3.1 as configured by Hugging Face's
// apply_chat_template: ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loop controls,
// no autoescape. Rendering is sandboxed: no file or process access, and the limits below bound
// loop iterations, call depth and output size.
#pragma once

#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lokal::jinja {

struct RenderLimits {
    size_t max_output_bytes = 32u << 20;       // also bounds every intermediate string and list
    uint64_t max_loop_iterations = 1000000;    // summed over all loops of one render
    int max_call_depth = 200;                  // nested macro / recursive loop calls
    std::chrono::milliseconds timeout{10000};  // wall-clock backstop for the whole render
};

struct RenderOptions {
    // Clock for strftime_now(fmt); when empty, the current local time. The returned std::tm is
    // formatted as a naive local time (like Python's datetime.now()).
    std::function<std::tm()> now;
    RenderLimits limits;
};

struct Stmt;

class Template {
  public:
    static Template parse(std::string_view source);

    // `context` must be a JSON object; its members become template variables.
    std::string render(const nlohmann::ordered_json& context,
                       const RenderOptions& options = {}) const;

  private:
    struct Impl;
    std::shared_ptr<const Impl> impl_;
};

}  // namespace lokal::jinja
