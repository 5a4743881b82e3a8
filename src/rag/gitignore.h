// .gitignore rules for the RAG folder walker: `*`, `?`, `[...]`, `**`, a leading `/` (or any
// inner `/`) anchoring a pattern to its file's directory, a trailing `/` matching directories
// only, and `!` re-including. A rule file in a subdirectory applies below that directory; the
// last rule that matches decides, as in git.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lokal::rag {

// Whether `text` matches the glob `pattern`: `*` and `?` do not cross `/`, `**` does.
bool glob_match(std::string_view pattern, std::string_view text);

class GitignoreRules {
  public:
    // Adds the rules of a .gitignore whose directory is `dir` (relative to the walk's root, with
    // `/` separators; empty for the root itself).
    void add(const std::string& dir, std::string_view content);

    // Whether the path (relative to the root, `/` separators) is ignored.
    bool ignored(std::string_view path, bool is_dir) const;

  private:
    struct Rule {
        std::string dir;      // the .gitignore's directory ("" or "a/b")
        std::string pattern;  // without `!`, leading `/` and trailing `/`
        bool negate = false;
        bool dir_only = false;
        bool anchored = false;  // matched against the whole path below dir, not only the name
    };
    std::vector<Rule> rules_;
};

}  // namespace lokal::rag
