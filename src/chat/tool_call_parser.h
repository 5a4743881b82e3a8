// Parses what a model generates into the parts of an OpenAI chat message: content, reasoning
// ("thinking") and tool calls. Works one-shot (parse_output) or streaming (OutputParser, fed the
// text pieces as they are sampled).
//
// Streaming guarantees:
// - A tool call is emitted once, when it is complete; raw tool-call markup never appears in
//   content. Text that could be the beginning of a marker is held back until it is decided (as a
//   stop-string matcher does) and released as content when it turns out not to be markup.
// - Feeding a text in any split gives the same concatenated result as parse_output on the whole.
// - Deltas never end inside a UTF-8 sequence (an incomplete sequence is held back).
//
// Whitespace: content is trimmed at its start and end and around tool-call and reasoning markup
// (models put newlines there); whitespace inside content is kept as is. Reasoning is trimmed the
// same way.
//
// Reasoning: text between <think> and </think> ([THINK] and [/THINK] for Mistral) at the start of
// the output is reasoning. Tool-call markup inside reasoning is never parsed. What happens to it
// follows Ollama's `think` request field:
//   think: true                -> ReasoningMode::Separate (the `reasoning` channel; also the
//                                 default for OpenAI-compatible clients, like reasoning_content)
//   think: false, or not given -> ReasoningMode::Inline (left in content verbatim, tags included:
//                                 the model was asked not to think, so whatever it printed is
//                                 shown as it is)
//   ReasoningMode::Strip drops reasoning entirely (for clients that must never see it).
// Templates that open <think> in the generation prompt (DeepSeek-R1 distills, Qwen3 with
// thinking) make the output start inside reasoning: set starts_in_reasoning (see
// prompt_opens_reasoning).
//
// Tool calls are parsed only when the request offered tools (ParserOptions::tools); without tools
// everything except reasoning is content.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace lokal::chat {

// How a model family writes tool calls.
enum class ToolFormat {
    Generic,         // the whole output (or its start) is JSON: {"tool_calls":[...]}, {"name":..,
                     // "arguments":..}, or an array of such objects
    Llama3,          // {"name": .., "parameters": ..} at the start, or after <|python_tag|>
    Hermes,          // <tool_call>{"name":..,"arguments":..}</tool_call> (Hermes, Qwen); also the
                     // Qwen3-Coder form <tool_call><function=f><parameter=k>v</parameter>...
    Mistral,         // [TOOL_CALLS][{"name":..,"arguments":..}], or [TOOL_CALLS]f[ARGS]{..}
    FunctionaryV32,  // >>>f\n{..} (the prompt already ends with ">>>"; ">>>all\n" is content)
    FunctionaryV31,  // <function=f>{..}</function>
    DeepSeek,  // <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json
               // {..}```<｜tool▁call▁end｜> (R1), or f<｜tool▁sep｜>{..} (V3.1)
    Gemma,  // a JSON call at the start (like Llama3), or a ```tool_code / ```json block
            // holding JSON calls or Python-style calls f(k="v", n=1)
};

const char* tool_format_name(ToolFormat f);

// Picks the format from the model's chat template text; Generic when nothing matches.
ToolFormat detect_tool_format(std::string_view chat_template);

// True when the rendered prompt ends with an opened reasoning block (e.g. "...<think>\n"), so the
// model's output starts inside reasoning.
bool prompt_opens_reasoning(std::string_view rendered_prompt);

enum class ReasoningMode { Separate, Inline, Strip };

struct ParserOptions {
    bool tools = true;  // the request offered tools; false: never parse tool calls
    ReasoningMode reasoning = ReasoningMode::Separate;
    bool starts_in_reasoning = false;
    // Makes ids for tool calls the model gave no id for; default "call_" + 24 random alnum.
    std::function<std::string()> make_id;
};

// Format and options for a request, from the template, whether tools were offered and (optional)
// the rendered prompt (for starts_in_reasoning).
struct ParserSetup {
    ToolFormat format = ToolFormat::Generic;
    ParserOptions options;
};
ParserSetup choose_parser(std::string_view chat_template, bool has_tools,
                          ReasoningMode reasoning = ReasoningMode::Separate,
                          std::string_view rendered_prompt = {});

struct ToolCall {
    std::string id;
    std::string name;
    std::string arguments;  // JSON object text, compact
    bool operator==(const ToolCall&) const = default;
};

struct ParsedDelta {
    std::string content;
    std::string reasoning;
    std::vector<ToolCall> tool_calls;
    // Markup that looked like a tool call but could not be parsed (released as content).
    std::vector<std::string> errors;
    bool empty() const {
        return content.empty() && reasoning.empty() && tool_calls.empty() && errors.empty();
    }
    void append(ParsedDelta&& other);
};

using ParsedMessage = ParsedDelta;

class ToolSyntax;

class OutputParser {
  public:
    OutputParser(ToolFormat format, ParserOptions options);
    ~OutputParser();
    OutputParser(OutputParser&&) noexcept;
    OutputParser& operator=(OutputParser&&) noexcept;

    // Takes the next piece of generated text; returns what is decided so far.
    ParsedDelta feed(std::string_view text);
    // End of generation: releases everything held back. An unterminated tool call is parsed if
    // what arrived is a complete call (the model stopped right before the closing tag), else
    // it becomes content and an entry in `errors`. No feed() after finish().
    ParsedDelta finish();

  private:
    enum class Mode { Content, Reasoning, Region };
    void process(ParsedDelta& out, bool eof);
    bool step_content(ParsedDelta& out, bool eof);
    bool step_reasoning(ParsedDelta& out, bool eof);
    bool step_region(ParsedDelta& out, bool eof);
    void emit_content(ParsedDelta& out, std::string_view text);
    void emit_reasoning(ParsedDelta& out, std::string_view text);
    void consume(size_t n);

    std::unique_ptr<ToolSyntax> syntax_;
    ParserOptions options_;
    std::string buf_;  // text not yet decided
    Mode mode_ = Mode::Content;
    bool finished_ = false;
    bool content_started_ = false;  // non-whitespace content has been emitted
    bool at_call_position_ = true;  // only whitespace (or calls) since the start / last call
    bool after_call_ = false;       // a tool call was emitted, nothing but whitespace since
    std::string pending_ws_;        // content whitespace held until non-whitespace follows
    bool reasoning_started_ = false;
    std::string pending_reasoning_ws_;
    std::string reasoning_close_;  // closing marker of the open reasoning block
    int region_marker_ = 0;        // which opener started the current tool region
    std::string region_opener_;    // its text, released as content if the region is invalid
};

// One-shot: the same as feeding the whole text and finishing.
ParsedMessage parse_output(std::string_view text, ToolFormat format, ParserOptions options);

}  // namespace lokal::chat
