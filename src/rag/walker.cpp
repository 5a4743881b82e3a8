#include "rag/walker.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "base/error.h"
#include "rag/gitignore.h"

namespace lokal::rag {
namespace fs = std::filesystem;
namespace {

struct Walker {
    const WalkOptions& options;
    WalkResult result;
    GitignoreRules rules;
    std::set<std::pair<dev_t, ino_t>> visited;

    void read_gitignore(const fs::path& dir, const std::string& rel) {
        std::ifstream in(dir / ".gitignore", std::ios::binary);
        if (!in) return;
        std::ostringstream ss;
        ss << in.rdbuf();
        rules.add(rel, ss.str());
    }

    void visit_dir(const fs::path& dir, const std::string& rel) {
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0) {
            result.skipped.push_back({rel, "cannot read the directory"});
            return;
        }
        if (!visited.insert({st.st_dev, st.st_ino}).second) {
            result.skipped.push_back({rel, "a symlink loop (directory already visited)"});
            return;
        }
        read_gitignore(dir, rel);
        std::error_code ec;
        fs::directory_iterator it(dir, ec);
        if (ec) {
            result.skipped.push_back({rel.empty() ? "." : rel, "cannot read the directory: " + ec.message()});
            return;
        }
        std::vector<fs::path> entries;
        for (; it != fs::directory_iterator(); it.increment(ec)) {
            if (ec) break;
            entries.push_back(it->path());
        }
        std::sort(entries.begin(), entries.end());
        for (const fs::path& p : entries) {
            const std::string name = p.filename().string();
            if (name == ".git") continue;
            std::string child = rel;
            if (!child.empty()) child += '/';
            child += name;
            struct stat cs {};
            if (::stat(p.c_str(), &cs) != 0) {
                struct stat ls {};
                const bool is_link = ::lstat(p.c_str(), &ls) == 0 && S_ISLNK(ls.st_mode);
                result.skipped.push_back(
                    {child, is_link ? "a broken or looping symlink" : "cannot stat the file"});
                continue;
            }
            if (S_ISDIR(cs.st_mode)) {
                if (!rules.ignored(child, true)) visit_dir(p, child);
                continue;
            }
            if (!S_ISREG(cs.st_mode) || rules.ignored(child, false)) continue;
            visit_file(p, child, cs);
        }
    }

    void visit_file(const fs::path& p, const std::string& rel, const struct stat& st) {
        const TextKind kind = text_kind(p.filename().string());
        if (kind == TextKind::Unsupported) return;
        if ((uint64_t)st.st_size > options.max_file_bytes) {
            result.skipped.push_back({rel, "larger than " +
                                               std::to_string(options.max_file_bytes >> 20) +
                                               " MB"});
            return;
        }
        if (::access(p.c_str(), R_OK) != 0) {
            result.skipped.push_back({rel, "not readable"});
            return;
        }
        FoundFile f;
        f.path = rel;
        f.abs = p;
        f.size = (uint64_t)st.st_size;
        f.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        f.kind = kind;
        result.files.push_back(std::move(f));
    }
};

}  // namespace

WalkResult walk_folder(const fs::path& root, const WalkOptions& options) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        throw Error("'" + root.string() + "' is not a directory", ErrorKind::NotFound);
    }
    Walker w{options, {}, {}, {}};
    w.visit_dir(root, "");
    std::sort(w.result.files.begin(), w.result.files.end(),
              [](const FoundFile& a, const FoundFile& b) { return a.path < b.path; });
    return std::move(w.result);
}

}  // namespace lokal::rag
