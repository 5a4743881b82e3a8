// Format detection from chat templates, and parsing the tool calls as the real templates render
// them (shared/testdata/templates/<Model>/tools.out).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/test_support.h"
#include "chat/tool_call_parser.h"
#include "chat/tool_call_test_util.h"

namespace lokal::chat {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

TEST(ToolFormatDetect, FromTemplateSnippets) {
    EXPECT_EQ(detect_tool_format("{{ '<tool_call>\\n' }}"), ToolFormat::Hermes);
    EXPECT_EQ(detect_tool_format("{{- '<|python_tag|>' }}"), ToolFormat::Llama3);
    EXPECT_EQ(detect_tool_format("Environment: ipython"), ToolFormat::Llama3);
    EXPECT_EQ(detect_tool_format("[TOOL_CALLS]"), ToolFormat::Mistral);
    EXPECT_EQ(detect_tool_format("<｜tool▁calls▁begin｜>"), ToolFormat::DeepSeek);
    EXPECT_EQ(detect_tool_format("'>>>' + recipient"), ToolFormat::FunctionaryV32);
    EXPECT_EQ(detect_tool_format("<function=example>"), ToolFormat::FunctionaryV31);
    EXPECT_EQ(detect_tool_format("<start_of_turn>model"), ToolFormat::Gemma);
    EXPECT_EQ(detect_tool_format("<|im_start|>"), ToolFormat::Generic);
    EXPECT_EQ(detect_tool_format(""), ToolFormat::Generic);
    EXPECT_STREQ(tool_format_name(ToolFormat::FunctionaryV32), "functionary-v3.2");
}

TEST(ToolFormatDetect, RealTemplates) {
    LOKAL_REQUIRE_TESTDATA("templates/cases.json");
    const std::vector<std::pair<const char*, ToolFormat>> expected = {
        {"meta-llama-Llama-3.1-8B-Instruct", ToolFormat::Llama3},
        {"meta-llama-Llama-3.2-3B-Instruct", ToolFormat::Llama3},
        {"NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", ToolFormat::Hermes},
        {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use", ToolFormat::Hermes},
        {"Qwen-Qwen2.5-7B-Instruct", ToolFormat::Hermes},
        {"Qwen-Qwen3-0.6B", ToolFormat::Hermes},
        {"Qwen3-Coder", ToolFormat::Hermes},
        {"Qwen3.5-4B", ToolFormat::Hermes},
        {"ibm-granite-granite-4.0", ToolFormat::Hermes},
        {"mistralai-Mistral-Nemo-Instruct-2407", ToolFormat::Mistral},
        {"mistralai-Ministral-3-14B-Reasoning-2512", ToolFormat::Mistral},
        {"unsloth-mistral-Devstral-Small-2507", ToolFormat::Mistral},
        {"meetkai-functionary-medium-v3.1", ToolFormat::FunctionaryV31},
        {"meetkai-functionary-medium-v3.2", ToolFormat::FunctionaryV32},
        {"deepseek-ai-DeepSeek-R1-Distill-Llama-8B", ToolFormat::DeepSeek},
        {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", ToolFormat::DeepSeek},
        {"deepseek-ai-DeepSeek-V3.1", ToolFormat::DeepSeek},
        {"google-gemma-2-2b-it", ToolFormat::Gemma},
        {"microsoft-Phi-3.5-mini-instruct", ToolFormat::Generic},
    };
    for (const auto& [model, format] : expected) {
        const std::string tmpl = read_file(
            ::lokal::testing::testdata_path(std::string("templates/") + model + ".jinja"));
        ASSERT_FALSE(tmpl.empty()) << model;
        EXPECT_EQ(detect_tool_format(tmpl), format) << model;
    }
}

TEST(ToolFormatDetect, PromptOpensReasoning) {
    EXPECT_TRUE(prompt_opens_reasoning("<｜Assistant｜><think>\n"));
    EXPECT_TRUE(prompt_opens_reasoning("[/INST][THINK]"));
    EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n<think>\n\n</think>\n\n"));
    EXPECT_FALSE(prompt_opens_reasoning("<|im_start|>assistant\n"));
    EXPECT_FALSE(prompt_opens_reasoning(""));

    const ParserSetup s =
        choose_parser("{{ '<tool_call>' }}", /*has_tools=*/false, ReasoningMode::Separate,
                      "<|im_start|>assistant\n<think>\n");
    EXPECT_EQ(s.format, ToolFormat::Hermes);
    EXPECT_FALSE(s.options.tools);
    EXPECT_TRUE(s.options.starts_in_reasoning);
}

// The assistant's tool-call turn in a rendered conversation, between `open` and `close`.
struct RenderedCall {
    const char* model;
    const char* open;
    const char* close;
};

TEST(ToolCallTestdata, ParsesCallsAsTheTemplatesRenderThem) {
    LOKAL_REQUIRE_TESTDATA("templates/cases.json");
    // (DeepSeek-R1-Distill-Llama-8B's template does not render assistant tool calls at all.)
    const std::vector<RenderedCall> cases = {
        {"meta-llama-Llama-3.1-8B-Instruct", "<|start_header_id|>assistant<|end_header_id|>\n\n",
         "<|eot_id|>"},
        {"meta-llama-Llama-3.2-3B-Instruct", "<|start_header_id|>assistant<|end_header_id|>\n\n",
         "<|eot_id|>"},
        {"meetkai-functionary-medium-v3.1", "<|start_header_id|>assistant<|end_header_id|>\n\n",
         "<|eom_id|>"},
        {"NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", "<|im_start|>assistant\n", "<|im_end|>"},
        {"NousResearch-Hermes-3-Llama-3.1-8B-tool_use", "<|im_start|>assistant\n", "<|im_end|>"},
        {"Qwen-Qwen2.5-7B-Instruct", "<|im_start|>assistant\n", "<|im_end|>"},
        {"Qwen-Qwen3-0.6B", "<|im_start|>assistant\n", "<|im_end|>"},
        {"Qwen3-Coder", "<|im_start|>assistant\n", "<|im_end|>"},
        {"Qwen3.5-4B", "<|im_start|>assistant\n", "<|im_end|>"},
        {"StepFun3.5-Flash", "<|im_start|>assistant\n", "<|im_end|>"},
        {"Bielik-11B-v3.0-Instruct", "<|im_start|>assistant\n", "<|im_end|>"},
        {"ibm-granite-granite-4.0", "<|start_of_role|>assistant<|end_of_role|>", "<|end_of_text|>"},
        {"unsloth-mistral-Devstral-Small-2507", "[/INST]", "<|eos|>"},
        {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", "<｜Assistant｜>", "<｜end▁of▁sentence｜>"},
        {"deepseek-ai-DeepSeek-V3.1", "<｜Assistant｜>", "<｜end▁of▁sentence｜>"},
    };
    for (const RenderedCall& c : cases) {
        const std::string dir = std::string("templates/") + c.model;
        const std::string rendered = read_file(::lokal::testing::testdata_path(dir + "/tools.out"));
        ASSERT_FALSE(rendered.empty()) << c.model;
        const size_t user = rendered.find("What's the weather in Paris?");
        const size_t start = rendered.find(c.open, user);
        ASSERT_NE(start, std::string::npos) << c.model;
        const size_t body = start + std::string(c.open).size();
        const size_t end = rendered.find(c.close, body);
        ASSERT_NE(end, std::string::npos) << c.model;
        const std::string turn = rendered.substr(body, end - body);
        const ToolFormat format =
            detect_tool_format(read_file(::lokal::testing::testdata_path(dir + ".jinja")));
        const ParsedMessage m = testing::parse_all_ways(turn, format);
        ASSERT_EQ(m.tool_calls.size(), 1u) << c.model << ": " << turn;
        EXPECT_EQ(m.tool_calls[0].name, "get_weather") << c.model;
        EXPECT_EQ(m.tool_calls[0].arguments, R"({"city":"Paris","unit":"celsius"})") << c.model;
        EXPECT_EQ(m.content, "") << c.model << ": " << turn;
        EXPECT_TRUE(m.errors.empty()) << c.model;
    }
}

}  // namespace
}  // namespace lokal::chat
