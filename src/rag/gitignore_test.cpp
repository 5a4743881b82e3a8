#include "rag/gitignore.h"

#include <gtest/gtest.h>

namespace lokal::rag {
namespace {

TEST(GlobMatch, StarsQuestionMarksAndClasses) {
    EXPECT_TRUE(glob_match("*.log", "a.log"));
    EXPECT_FALSE(glob_match("*.log", "a.log.txt"));
    EXPECT_FALSE(glob_match("*.log", "dir/a.log"));  // '*' does not cross '/'
    EXPECT_TRUE(glob_match("a?c", "abc"));
    EXPECT_FALSE(glob_match("a?c", "a/c"));
    EXPECT_TRUE(glob_match("file[0-9].txt", "file7.txt"));
    EXPECT_FALSE(glob_match("file[!0-9].txt", "file7.txt"));
    EXPECT_TRUE(glob_match("**/build", "build"));
    EXPECT_TRUE(glob_match("**/build", "a/b/build"));
    EXPECT_TRUE(glob_match("a/**/z", "a/z"));
    EXPECT_TRUE(glob_match("a/**/z", "a/b/c/z"));
    EXPECT_TRUE(glob_match("docs/**", "docs/x/y.md"));
    EXPECT_FALSE(glob_match("docs/**", "src/docs.md"));
}

TEST(GitignoreRules, UnanchoredPatternsMatchNamesAtAnyDepth) {
    GitignoreRules r;
    r.add("", "# comment\n*.tmp\nnode_modules/\n\n");
    EXPECT_TRUE(r.ignored("x.tmp", false));
    EXPECT_TRUE(r.ignored("a/b/x.tmp", false));
    EXPECT_FALSE(r.ignored("a/b/x.txt", false));
    EXPECT_TRUE(r.ignored("web/node_modules", true));
    EXPECT_FALSE(r.ignored("web/node_modules", false));  // trailing '/': directories only
}

TEST(GitignoreRules, LeadingOrInnerSlashAnchorsToTheFilesDirectory) {
    GitignoreRules r;
    r.add("", "/build\ndocs/private.md\n");
    EXPECT_TRUE(r.ignored("build", true));
    EXPECT_FALSE(r.ignored("src/build", true));
    EXPECT_TRUE(r.ignored("docs/private.md", false));
    EXPECT_FALSE(r.ignored("x/docs/private.md", false));
}

TEST(GitignoreRules, NegationReincludesAndTheLastMatchWins) {
    GitignoreRules r;
    r.add("", "*.md\n!keep.md\n");
    EXPECT_TRUE(r.ignored("a.md", false));
    EXPECT_FALSE(r.ignored("keep.md", false));
    EXPECT_FALSE(r.ignored("sub/keep.md", false));
    r.add("", "keep.md\n");
    EXPECT_TRUE(r.ignored("keep.md", false));
}

TEST(GitignoreRules, ASubdirectorysRulesApplyOnlyBelowIt) {
    GitignoreRules r;
    r.add("sub", "*.txt\n/only-here.md\n");
    EXPECT_TRUE(r.ignored("sub/a.txt", false));
    EXPECT_TRUE(r.ignored("sub/deep/a.txt", false));
    EXPECT_FALSE(r.ignored("a.txt", false));
    EXPECT_FALSE(r.ignored("subway/a.txt", false));
    EXPECT_TRUE(r.ignored("sub/only-here.md", false));
    EXPECT_FALSE(r.ignored("sub/deep/only-here.md", false));
}

}  // namespace
}  // namespace lokal::rag
