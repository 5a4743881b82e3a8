#include "server/request_options.h"

#include <gtest/gtest.h>

#include "server/http_error.h"

namespace lokal::server {
namespace {

using json = nlohmann::ordered_json;

int status_of(const std::function<void()>& f, std::string* param = nullptr) {
    try {
        f();
    } catch (const HttpError& e) {
        if (param) *param = e.param;
        return e.status;
    }
    return 200;
}

TEST(OllamaParams, DefaultsThenStoredThenRequest) {
    const json stored = {{"temperature", 0.2}, {"stop", {"<end>"}}, {"num_ctx", 2048}};
    const json options = {{"temperature", 0.0}, {"top_k", 5}, {"num_predict", 7}, {"seed", 42}};
    GenerationParams p = ollama_params(stored, &options);
    EXPECT_EQ(p.sampling.temperature, 0.0f);
    EXPECT_EQ(p.sampling.top_k, 5);
    EXPECT_FLOAT_EQ(p.sampling.top_p, 0.9f);  // Ollama's default
    EXPECT_FLOAT_EQ(p.sampling.repeat_penalty, 1.1f);
    EXPECT_EQ(p.sampling.seed, 42u);
    EXPECT_EQ(p.generate.max_tokens, 7);
    EXPECT_EQ(p.n_ctx, 2048);
    ASSERT_EQ(p.generate.stop.size(), 1u);
    EXPECT_EQ(p.generate.stop[0], "<end>");
    const json neg = {{"num_predict", -1}, {"seed", -1}};
    p = ollama_params(json::object(), &neg);
    EXPECT_EQ(p.generate.max_tokens, -1);
    EXPECT_EQ(p.sampling.seed, sampling::kRandomSeed);
}

TEST(OllamaParams, BadValuesAre400NamingTheField) {
    for (const char* bad : {R"({"temperature": "hot"})", R"({"top_p": 2})", R"({"top_k": 1.5})",
                            R"({"stop": [1]})", R"({"num_ctx": 0})", R"({"min_p": -1})"}) {
        const json options = json::parse(bad);
        std::string param;
        EXPECT_EQ(status_of([&] { ollama_params(json::object(), &options); }, &param), 400) << bad;
        EXPECT_EQ(param, "options." + options.begin().key()) << bad;
    }
    const json not_object = json::array();
    EXPECT_EQ(status_of([&] { ollama_params(json::object(), &not_object); }), 400);
    // A stored parameter that cannot be used is skipped, not an error for every request.
    EXPECT_EQ(status_of([&] { ollama_params(json{{"temperature", "x"}}, nullptr); }), 200);
}

TEST(OpenAiParams, FieldsAndRanges) {
    const json body = {{"temperature", 0.5},
                       {"top_p", 0.8},
                       {"max_tokens", 3},
                       {"stop", "\n"},
                       {"seed", 9},
                       {"presence_penalty", 1},
                       {"logit_bias", {{"17", -100}}}};
    GenerationParams p = openai_params(json::object(), body);
    EXPECT_FLOAT_EQ(p.sampling.temperature, 0.5f);
    EXPECT_FLOAT_EQ(p.sampling.repeat_penalty, 1.0f);
    EXPECT_EQ(p.sampling.top_k, 0);
    EXPECT_EQ(p.generate.max_tokens, 3);
    ASSERT_EQ(p.generate.stop.size(), 1u);
    EXPECT_EQ(p.sampling.logit_bias.at(17), -100.0f);
    p = openai_params(json::object(), json{{"max_completion_tokens", 11}});
    EXPECT_EQ(p.generate.max_tokens, 11);
    std::string param;
    EXPECT_EQ(status_of(
                  [&] {
                      openai_params(json::object(), json{{"temperature", 3}});
                  },
                  &param),
              400);
    EXPECT_EQ(param, "temperature");
    EXPECT_EQ(status_of([&] {
                  openai_params(json::object(), json{{"logit_bias", {{"x", 1}}}});
              }),
              400);
    EXPECT_EQ(status_of([&] { openai_params(json::object(), json{{"max_tokens", -2}}); }), 400);
}

TEST(KeepAlive, NumbersAndGoDurations) {
    EXPECT_FALSE(parse_keep_alive(json::object()).has_value());
    EXPECT_EQ(*parse_keep_alive(json{{"keep_alive", 30}}), 30);
    EXPECT_EQ(*parse_keep_alive(json{{"keep_alive", "5m"}}), 300);
    EXPECT_EQ(*parse_keep_alive(json{{"keep_alive", "1h30m"}}), 5400);
    EXPECT_EQ(*parse_keep_alive(json{{"keep_alive", "10s"}}), 10);
    EXPECT_EQ(*parse_keep_alive(json{{"keep_alive", "500ms"}}), 0.5);
    EXPECT_EQ(*parse_keep_alive(json{{"keep_alive", "-1"}}), -1);
    EXPECT_EQ(*parse_keep_alive(json{{"keep_alive", "0"}}), 0);
    for (const char* bad : {"", "5x", "m", "1h-3m", "--1"}) {
        EXPECT_EQ(status_of([&] { parse_keep_alive(json{{"keep_alive", bad}}); }), 400) << bad;
    }
    EXPECT_EQ(status_of([&] { parse_keep_alive(json{{"keep_alive", true}}); }), 400);
}

}  // namespace
}  // namespace lokal::server
