#include "server/cors.h"

#include <gtest/gtest.h>

namespace lokal::server {
namespace {

TEST(Cors, LocalPagesAndEditorShellsAreAllowedByDefault) {
    const OriginPolicy policy;
    for (const char* ok : {"http://localhost", "http://localhost:3000", "https://127.0.0.1:8443",
                           "http://[::1]:5173", "http://0.0.0.0:8080", "app://obsidian.md",
                           "vscode-webview://abc123", "file://", "HTTP://LOCALHOST:1"}) {
        EXPECT_TRUE(policy.allowed(ok)) << ok;
    }
    for (const char* bad : {"https://evil.example", "http://localhost.evil.example",
                            "http://127.0.0.1.nip.io", "null", "https://localhostx"}) {
        EXPECT_FALSE(policy.allowed(bad)) << bad;
    }
}

TEST(Cors, ExtraPatternsWithWildcards) {
    const OriginPolicy policy(" https://*.example.com , https://chat.acme.org,");
    EXPECT_TRUE(policy.allowed("https://app.example.com"));
    EXPECT_TRUE(policy.allowed("https://chat.acme.org"));
    EXPECT_FALSE(policy.allowed("https://example.com"));
    EXPECT_FALSE(policy.allowed("http://app.example.com"));
    EXPECT_TRUE(OriginPolicy("*").allowed("https://anything.test"));
}

TEST(Cors, GlobMatch) {
    EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
    EXPECT_TRUE(glob_match("*", ""));
    EXPECT_FALSE(glob_match("a*c", "abcd"));
    EXPECT_TRUE(glob_match("**x", "x"));
}

}  // namespace
}  // namespace lokal::server
