#include "engine/speculation.h"

#include <gtest/gtest.h>

namespace lokal::engine {
namespace {

using Tokens = std::vector<int32_t>;

TEST(PromptLookupDraft, ProposesWhatFollowedTheLatestOccurrenceOfTheTail) {
    // ... 1 2 3 [7 8 9] ... 1 2 3 [4 5] ... 2 3 -> the later "2 3" is followed by 4 5
    const Tokens h = {1, 2, 3, 7, 8, 9, 1, 2, 3, 4, 5, 6, 2, 3};
    EXPECT_EQ(prompt_lookup_draft(h, 3), (Tokens{4, 5, 6}));
    EXPECT_EQ(prompt_lookup_draft(h, 1), (Tokens{4}));
}

TEST(PromptLookupDraft, PrefersTheLongestMatchingTail) {
    // The tail "5 1 2" occurs once, after which 9 came; "1 2" alone last preceded 3.
    const Tokens h = {5, 1, 2, 9, 9, 1, 2, 3, 0, 5, 1, 2};
    EXPECT_EQ(prompt_lookup_draft(h, 2), (Tokens{9, 9}));
}

TEST(PromptLookupDraft, StopsAtTheEndOfTheHistory) {
    const Tokens h = {4, 5, 6, 4, 5};
    EXPECT_EQ(prompt_lookup_draft(h, 8), (Tokens{6, 4, 5}));
}

TEST(PromptLookupDraft, NothingWithoutARepeatOrRoom) {
    EXPECT_TRUE(prompt_lookup_draft(Tokens{1, 2, 3, 4}, 4).empty());
    EXPECT_TRUE(prompt_lookup_draft(Tokens{1, 2, 1, 2}, 0).empty());
    EXPECT_TRUE(prompt_lookup_draft(Tokens{}, 4).empty());
    EXPECT_TRUE(prompt_lookup_draft(Tokens{7}, 4).empty());
    // Single-token tails do not count unless asked for.
    EXPECT_TRUE(prompt_lookup_draft(Tokens{3, 9, 1, 3}, 2).empty());
    EXPECT_EQ(prompt_lookup_draft(Tokens{3, 9, 1, 3}, 2, 1), (Tokens{9, 1}));
}

TEST(DraftPolicy, GrowsWhileGuessesAreKeptAndPausesAfterAMiss) {
    DraftPolicy p(16);
    EXPECT_EQ(p.want(), 4);
    p.record(4, 4);
    EXPECT_EQ(p.want(), 8);
    p.record(8, 8);
    EXPECT_EQ(p.want(), 16);
    p.record(16, 16);
    EXPECT_EQ(p.want(), 16);  // capped
    p.record(16, 5);
    EXPECT_EQ(p.want(), 6);  // what was kept, and one more
    p.record(6, 0);          // a miss: two steps without drafting, then a shorter draft
    EXPECT_EQ(p.want(), 0);
    EXPECT_EQ(p.want(), 0);
    EXPECT_EQ(p.want(), 3);
    p.record(3, 0);  // a second miss in a row pauses twice as long
    for (int i = 0; i < 4; ++i) EXPECT_EQ(p.want(), 0);
    EXPECT_GT(p.want(), 0);
}

TEST(DraftPolicy, NothingWhenTurnedOff) {
    DraftPolicy p(0);
    EXPECT_EQ(p.want(), 0);
    p.record(0, 0);
    EXPECT_EQ(p.want(), 0);
}

TEST(DraftPolicy, DraftsWithoutAGuessDoNotCount) {
    DraftPolicy p(8);
    p.record(0, 0);  // the lookup found nothing: no pause
    EXPECT_EQ(p.want(), 4);
}

}  // namespace
}  // namespace lokal::engine
