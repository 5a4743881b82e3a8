#include "server/http_error.h"

#include <gtest/gtest.h>

namespace lokal::server {
namespace {

TEST(HttpError, EveryErrorKindHasItsStatus) {
    EXPECT_EQ(http_status(ErrorKind::InvalidInput), 400);
    EXPECT_EQ(http_status(ErrorKind::Unsupported), 400);
    EXPECT_EQ(http_status(ErrorKind::NotFound), 404);
    EXPECT_EQ(http_status(ErrorKind::Busy), 503);
    EXPECT_EQ(http_status(ErrorKind::Io), 500);
    EXPECT_EQ(http_status(ErrorKind::Internal), 500);
}

}  // namespace
}  // namespace lokal::server
