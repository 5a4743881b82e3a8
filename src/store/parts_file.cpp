#include "store/parts_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

#include "base/error.h"

namespace lokal::store {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "lokal-parts 1";
constexpr size_t kMaxFileBytes = 16 * 1024;

// Splits on single spaces; every field must be non-empty.
std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    size_t pos = 0;
    while (pos <= line.size()) {
        size_t sp = line.find(' ', pos);
        if (sp == std::string_view::npos) sp = line.size();
        out.push_back(line.substr(pos, sp - pos));
        pos = sp + 1;
    }
    return out;
}

bool parse_u64(std::string_view s, uint64_t& out) {
    if (s.empty() || s.size() > 20) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

uint64_t PartsPlan::done_bytes() const {
    uint64_t n = 0;
    for (const Part& p : parts) n += p.done;
    return n;
}

bool PartsPlan::finished() const {
    for (const Part& p : parts) {
        if (!p.finished()) return false;
    }
    return true;
}

PartsPlan plan_parts(uint64_t size, int n) {
    PartsPlan plan;
    plan.size = size;
    if (size == 0) return plan;
    uint64_t count = static_cast<uint64_t>(std::clamp(n, 1, kMaxParts));
    if (count > size) count = size;
    uint64_t len = (size + count - 1) / count;
    for (uint64_t start = 0; start < size; start += len) {
        plan.parts.push_back(Part{start, std::min(size, start + len), 0});
    }
    return plan;
}

std::string format_parts(const PartsPlan& plan) {
    std::string s(kMagic);
    s += "\nsize " + std::to_string(plan.size) + "\n";
    for (const Part& p : plan.parts) {
        s += "part " + std::to_string(p.start) + " " + std::to_string(p.end) + " " +
             std::to_string(p.done) + "\n";
    }
    return s;
}

std::optional<PartsPlan> parse_parts(std::string_view text, uint64_t size) {
    if (text.size() > kMaxFileBytes || !text.ends_with('\n')) return std::nullopt;
    text.remove_suffix(1);
    std::vector<std::string_view> lines;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        lines.push_back(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    if (lines.size() < 3 || lines[0] != kMagic) return std::nullopt;
    auto sz = fields(lines[1]);
    uint64_t declared = 0;
    if (sz.size() != 2 || sz[0] != "size" || !parse_u64(sz[1], declared) || declared != size) {
        return std::nullopt;
    }
    PartsPlan plan;
    plan.size = size;
    uint64_t expect_start = 0;
    for (size_t i = 2; i < lines.size(); ++i) {
        auto f = fields(lines[i]);
        Part p;
        if (f.size() != 4 || f[0] != "part" || !parse_u64(f[1], p.start) ||
            !parse_u64(f[2], p.end) || !parse_u64(f[3], p.done)) {
            return std::nullopt;
        }
        if (p.start != expect_start || p.end <= p.start || p.end > size ||
            p.done > p.end - p.start) {
            return std::nullopt;
        }
        expect_start = p.end;
        plan.parts.push_back(p);
        if (plan.parts.size() > static_cast<size_t>(kMaxParts)) return std::nullopt;
    }
    if (expect_start != size) return std::nullopt;
    return plan;
}

fs::path parts_path(const fs::path& partial) {
    fs::path p = partial;
    p += ".parts";
    return p;
}

std::optional<PartsPlan> read_parts_file(const fs::path& path, uint64_t size) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text(kMaxFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    return parse_parts(text, size);
}

void write_parts_file(const fs::path& path, const PartsPlan& plan) {
    fs::path tmp = path;
    tmp += ".tmp";
    std::string text = format_parts(plan);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error("cannot write '" + tmp.string() + "': " + std::strerror(errno), ErrorKind::Io);
    size_t off = 0;
    while (off < text.size()) {
        ssize_t w = ::write(fd, text.data() + off, text.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw Error("cannot write '" + tmp.string() + "': " + std::strerror(e), ErrorKind::Io);
        }
        off += static_cast<size_t>(w);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        throw Error("cannot write '" + path.string() + "': " + std::strerror(e), ErrorKind::Io);
    }
}

void remove_parts_file(const fs::path& path) {
    ::unlink(path.c_str());
    fs::path tmp = path;
    tmp += ".tmp";
    ::unlink(tmp.c_str());
}

}  // namespace lokal::store
