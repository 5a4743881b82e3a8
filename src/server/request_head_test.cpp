#include "server/request_head.h"

#include <gtest/gtest.h>

namespace lokal::server {
namespace {

TEST(RequestHead, CompleteOnlyOnceAnEmptyLineHasArrived) {
    EXPECT_FALSE(request_head_complete(""));
    EXPECT_FALSE(request_head_complete("GET /health HTTP/1.1\r\n"));
    EXPECT_FALSE(request_head_complete("GET /health HTTP/1.1\r\nHost: x\r\n"));
    EXPECT_FALSE(request_head_complete("GET /health HTTP/1.1\r\nHost: x\r\n\r"));
    EXPECT_TRUE(request_head_complete("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(request_head_complete("GET / HTTP/1.1\nHost: x\n\n"));      // bare LF
    EXPECT_TRUE(request_head_complete("GET / HTTP/1.1\r\nHost: x\n\r\n"));  // mixed
    // The body may follow in the same read; what matters is the blank line.
    EXPECT_TRUE(request_head_complete("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"));
    // A line that merely ends in \r\r is not empty.
    EXPECT_FALSE(request_head_complete("GET / HTTP/1.1\r\nX: a\r\r\n"));
}

TEST(PerClientCounter, RefusesBeyondTheCapPerAddressAndForgetsEmptyOnes) {
    PerClientCounter c(2);
    EXPECT_TRUE(c.try_add("127.0.0.1"));
    EXPECT_TRUE(c.try_add("127.0.0.1"));
    EXPECT_FALSE(c.try_add("127.0.0.1"));
    EXPECT_EQ(c.count("127.0.0.1"), 2U);
    EXPECT_TRUE(c.try_add("10.0.0.2"));  // another address has its own allowance
    c.remove("127.0.0.1");
    EXPECT_TRUE(c.try_add("127.0.0.1"));
    c.remove("10.0.0.2");
    c.remove("10.0.0.2");  // removing more than was added is harmless
    EXPECT_EQ(c.count("10.0.0.2"), 0U);
    EXPECT_EQ(c.clients(), 1U);
}

}  // namespace
}  // namespace lokal::server
