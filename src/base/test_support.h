// Shared helpers for tests that read ../shared/testdata: they skip with a message when it is
// absent (a user's checkout) and fail when CI=true.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace lokal::testing {

inline std::string testdata_dir() {
    if (const char* env = std::getenv("LOKAL_TESTDATA")) return env;
#ifdef LOKAL_TESTDATA_DIR
    return LOKAL_TESTDATA_DIR;
#else
    return "../shared/testdata";
#endif
}

inline std::string testdata_path(const std::string& rel) {
    return testdata_dir() + "/" + rel;
}

inline bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci && std::string(ci) == "true";
}

}  // namespace lokal::testing

// Use at the top of a test body: skips (or fails in CI) when the file is missing.
#define LOKAL_REQUIRE_TESTDATA(rel)                                                              \
    do {                                                                                         \
        if (!std::filesystem::exists(::lokal::testing::testdata_path(rel))) {                    \
            if (::lokal::testing::in_ci()) {                                                     \
                FAIL() << "test data missing in CI: " << ::lokal::testing::testdata_path(rel);   \
            } else {                                                                             \
                GTEST_SKIP() << "test data not found: " << ::lokal::testing::testdata_path(rel); \
            }                                                                                    \
        }                                                                                        \
    } while (0)
