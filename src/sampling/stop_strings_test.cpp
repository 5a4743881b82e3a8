#include "sampling/stop_strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lokal::sampling {
namespace {

// Feeds the pieces and returns everything released, including flush() when no stop was hit.
std::string run(StopMatcher& m, const std::vector<std::string>& pieces) {
    std::string out;
    for (const auto& p : pieces) {
        auto r = m.feed(p);
        out += r.text;
        if (r.stopped) return out;
    }
    return out + m.flush();
}

TEST(StopMatcher, NoStopsPassesEverythingThrough) {
    StopMatcher m({});
    auto r = m.feed("hello <");
    EXPECT_EQ(r.text, "hello <");
    EXPECT_FALSE(r.stopped);
    EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcher, EmptyStopStringsAreIgnored) {
    StopMatcher m({"", ""});
    EXPECT_EQ(run(m, {"abc", "def"}), "abcdef");
    EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, NoStopHitReleasesAllText) {
    StopMatcher m({"</s>", "User:"});
    auto r = m.feed("Hello ");
    EXPECT_EQ(r.text, "Hello ");
    r = m.feed("Use");  // could be the start of "User:"
    EXPECT_EQ(r.text, "");
    EXPECT_EQ(m.held(), 3u);
    r = m.feed("ful <");  // "Useful" is not a stop; "<" might be
    EXPECT_EQ(r.text, "Useful ");
    EXPECT_EQ(m.flush(), "<");
    EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, StopSpanningSeveralPieces) {
    StopMatcher m({"</s>"});
    auto r = m.feed("Hello <");
    EXPECT_EQ(r.text, "Hello ");
    EXPECT_FALSE(r.stopped);
    r = m.feed("/");
    EXPECT_EQ(r.text, "");
    r = m.feed("s");
    EXPECT_EQ(r.text, "");
    r = m.feed("> and more");
    EXPECT_EQ(r.text, "");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(m.matched(), "</s>");
    EXPECT_EQ(m.flush(), "");
    // Everything after a stop is dropped.
    r = m.feed("later");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.text, "");
}

TEST(StopMatcher, TextBeforeStopInSamePieceIsReleased) {
    StopMatcher m({"###"});
    auto r = m.feed("answer: 42###ignored");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.text, "answer: 42");
}

TEST(StopMatcher, FalseStartIsReleased) {
    StopMatcher m({"</s>"});
    EXPECT_EQ(run(m, {"a <", "/", "b> c"}), "a </b> c");
    EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, OverlappingPrefixes) {
    // "aaab": the held "aa" must still be recognised as the start of "aab".
    StopMatcher m({"aab"});
    EXPECT_EQ(m.feed("a").text, "");
    EXPECT_EQ(m.feed("a").text, "");
    EXPECT_EQ(m.feed("a").text, "a");
    auto r = m.feed("b");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.text, "");

    StopMatcher m2({"abab"});
    EXPECT_EQ(run(m2, {"xab", "a", "bab"}), "x");
    EXPECT_TRUE(m2.stopped());
}

TEST(StopMatcher, EarliestOfSeveralStopsWins) {
    StopMatcher m({"world", "lo w"});
    EXPECT_EQ(run(m, {"hel", "lo", " wor", "ld"}), "hel");
    EXPECT_EQ(m.matched(), "lo w");
}

TEST(StopMatcher, StopAtTheVeryStart) {
    StopMatcher m({"STOP"});
    auto r = m.feed("STOP and more");
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.text, "");
    EXPECT_EQ(m.flush(), "");

    StopMatcher split({"STOP"});
    EXPECT_EQ(run(split, {"ST", "OP"}), "");
    EXPECT_TRUE(split.stopped());
}

TEST(StopMatcher, ResetStartsOver) {
    StopMatcher m({"x"});
    EXPECT_TRUE(m.feed("x").stopped);
    m.reset();
    EXPECT_FALSE(m.stopped());
    EXPECT_EQ(run(m, {"abc"}), "abc");
}

TEST(StopMatcher, DoesNotSplitWholeUtf8Characters) {
    // "café" ends with "é", the start of the stop "été": hold the whole character.
    StopMatcher m({"\xC3\xA9t\xC3\xA9"});
    auto r = m.feed("caf\xC3\xA9");
    EXPECT_EQ(r.text, "caf");
    r = m.feed(" noir");
    EXPECT_EQ(r.text, "\xC3\xA9 noir");

    // A (malformed) stop starting mid-character must not cut "é" in half either.
    StopMatcher odd({"\xA9x"});
    r = odd.feed("caf\xC3\xA9");
    EXPECT_EQ(r.text, "caf");
    EXPECT_EQ(odd.flush(), "\xC3\xA9");

    // Multi-byte stop strings spanning pieces.
    StopMatcher m2(
        {"\xE2\x80\x94"
         "END"});  // "—END"
    EXPECT_EQ(run(m2, {"ok \xE2\x80\x94", "EN", "D tail"}), "ok ");
    EXPECT_TRUE(m2.stopped());
}

}  // namespace
}  // namespace lokal::sampling
