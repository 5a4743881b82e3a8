#include "store/registry_auth.h"

#include <gtest/gtest.h>

namespace lokal::store {
namespace {

TEST(BearerChallenge, QuotedParams) {
    auto c = parse_bearer_challenge(
        R"(Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:library/llama:pull")");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->realm, "https://auth.example.com/token");
    EXPECT_EQ(c->service, "registry.example.com");
    EXPECT_EQ(c->scope, "repository:library/llama:pull");
}

TEST(BearerChallenge, CommasEscapesSpacesAndCase) {
    auto c = parse_bearer_challenge(
        R"(bearer  Realm = "https://a/t?x=1,y=2" , SCOPE="repository:a/b:pull,push", service=plain)");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->realm, "https://a/t?x=1,y=2");
    EXPECT_EQ(c->scope, "repository:a/b:pull,push");
    EXPECT_EQ(c->service, "plain");
    c = parse_bearer_challenge(R"(Bearer realm="https://a/\"q\"\\t")");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->realm, R"(https://a/"q"\t)");
    EXPECT_TRUE(c->service.empty());
}

TEST(BearerChallenge, PicksBearerAmongSeveral) {
    auto c = parse_bearer_challenge(
        R"(Basic realm="basic, with comma", Bearer realm="https://t",scope="s", Other x="y")");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->realm, "https://t");
    EXPECT_EQ(c->scope, "s");
}

TEST(BearerChallenge, Rejects) {
    EXPECT_FALSE(parse_bearer_challenge(""));
    EXPECT_FALSE(parse_bearer_challenge(R"(Basic realm="x")"));
    EXPECT_FALSE(parse_bearer_challenge("Bearer"));
    EXPECT_FALSE(parse_bearer_challenge(R"(Bearer service="s")"));  // no realm
    EXPECT_FALSE(parse_bearer_challenge(R"(Bearer realm="unterminated)"));
    EXPECT_FALSE(parse_bearer_challenge(R"(Bearer realm="a" junk="b")"));  // missing comma
    EXPECT_FALSE(parse_bearer_challenge(R"(Bearer ="x")"));
}

TEST(TokenResponse, Fields) {
    EXPECT_EQ(parse_token_response(R"({"token":"abc","expires_in":60})"), "abc");
    EXPECT_EQ(parse_token_response(R"({"access_token":"xyz"})"), "xyz");
    EXPECT_EQ(parse_token_response(R"({"token":"","access_token":"xyz"})"), "xyz");
    EXPECT_FALSE(parse_token_response(R"({"token":5})"));
    EXPECT_FALSE(parse_token_response("not json"));
    EXPECT_FALSE(parse_token_response("[]"));
}

TEST(TokenUrl, EncodesQuery) {
    EXPECT_EQ(token_url({"https://a/token", "reg.io", "repository:library/x:pull"}),
              "https://a/token?service=reg.io&scope=repository%3Alibrary%2Fx%3Apull");
    EXPECT_EQ(token_url({"https://a/token?v=2", "", "a b"}), "https://a/token?v=2&scope=a%20b");
    EXPECT_EQ(url_encode("AZaz09-._~&="), "AZaz09-._~%26%3D");
}

TEST(UrlOrigin, SchemeHostPort) {
    EXPECT_EQ(url_origin("https://Registry.Example.com/v2/x"), "https://registry.example.com:443");
    EXPECT_EQ(url_origin("http://127.0.0.1:8080/a"), "http://127.0.0.1:8080");
    EXPECT_NE(url_origin("http://127.0.0.1:8080/a"), url_origin("http://localhost:8080/a"));
    EXPECT_NE(url_origin("https://a.com/"), url_origin("http://a.com/"));
}

}  // namespace
}  // namespace lokal::store

namespace lokal::store {
namespace {

TEST(RegistryErrorMessage, FirstMessageOfTheErrorsList) {
    EXPECT_EQ(registry_error_message(
                  R"({"errors":[{"code":"DIGEST_INVALID","message":"digest did not match"}]})"),
              "digest did not match");
    EXPECT_EQ(registry_error_message(R"({"errors":[{"code":"X"},{"message":"second"}]})"),
              "second");
    EXPECT_EQ(registry_error_message("injected failure"), "");
    EXPECT_EQ(registry_error_message(R"({"errors":"no"})"), "");
}

TEST(ResolveUrl, UploadLocations) {
    // Upload locations come relative (the registry's own path) or absolute (storage elsewhere).
    EXPECT_EQ(resolve_url("http://127.0.0.1:5000/", "/upload/u1?_state=x"),
              "http://127.0.0.1:5000/upload/u1?_state=x");
    EXPECT_EQ(resolve_url("https://r.example/", "https://cdn.example/up/1"),
              "https://cdn.example/up/1");
    EXPECT_EQ(resolve_url("https://r.example/v2/a/b/", "uploads/2"),
              "https://r.example/v2/a/b/uploads/2");
}

}  // namespace
}  // namespace lokal::store
