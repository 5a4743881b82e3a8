#include "rag/chunker.h"

#include <algorithm>

namespace lokal::rag {
namespace {

bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

bool is_heading(std::string_view line) {
    size_t n = 0;
    while (n < line.size() && line[n] == '#') ++n;
    return n >= 1 && n <= 6 && (n == line.size() || line[n] == ' ');
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        pos = nl + 1;
    }
    return lines;
}

// A run of non-blank lines [first, last] (0-based); `section` starts a new chunk.
struct Block {
    int first = 0;
    int last = 0;
    bool section = false;
};

std::vector<Block> find_blocks(const std::vector<std::string_view>& lines, TextKind kind) {
    std::vector<Block> blocks;
    bool in_fence = false;  // Markdown ``` code: its blank lines and '#' lines are not structure
    for (int i = 0; i < (int)lines.size(); ++i) {
        const std::string_view line = lines[i];
        const bool fence = kind == TextKind::Markdown && line.starts_with("```");
        const bool heading = kind == TextKind::Markdown && !in_fence && is_heading(line);
        if (fence) in_fence = !in_fence;
        if (is_blank(line) && !in_fence) continue;
        const bool continues = !blocks.empty() && blocks.back().last == i - 1 && !heading;
        if (continues) {
            blocks.back().last = i;
        } else {
            blocks.push_back({i, i, heading});
        }
    }
    return blocks;
}

}  // namespace

std::vector<Chunk> chunk_text(std::string_view text, TextKind kind, const ChunkOptions& options) {
    const std::vector<std::string_view> lines = split_lines(text);
    const std::vector<Block> blocks = find_blocks(lines, kind);
    std::vector<Chunk> chunks;
    // The open chunk: lines [start, end] (0-based; start -1: none), of which those from
    // new_from on are not the previous chunk's overlap.
    int start = -1;
    int end = -1;
    int new_from = 0;
    size_t chars = 0;
    auto line_chars = [&](int i) { return lines[i].size() + 1; };
    auto reset = [&] {
        start = end = -1;
        chars = 0;
    };
    // Emits the open chunk if it has new lines; the next starts with its last overlap lines
    // unless `fresh`.
    auto close = [&](bool fresh) {
        if (start >= 0 && end >= new_from) {
            Chunk c;
            c.start_line = start + 1;
            c.end_line = end + 1;
            for (int i = start; i <= end; ++i) {
                if (i > start) c.text += '\n';
                c.text.append(lines[i]);
            }
            chunks.push_back(std::move(c));
        }
        if (fresh || start < 0) return reset();
        int s = std::max(start + 1, end - options.overlap_lines + 1);
        while (s <= end && is_blank(lines[s])) ++s;
        if (s > end || options.overlap_lines <= 0) return reset();
        start = s;
        new_from = end + 1;
        chars = 0;
        for (int i = start; i <= end; ++i) chars += line_chars(i);
    };
    auto make_room = [&](size_t needed) {
        if (start < 0 || chars + needed <= options.max_chars) return;
        if (end >= new_from) close(false);
        if (start >= 0 && chars + needed > options.max_chars) reset();  // the overlap must go
    };
    for (const Block& b : blocks) {
        if (b.section) close(true);
        // The blank lines between the open chunk and line i belong to the chunk's text too.
        auto gap = [&](int i) { return start < 0 ? size_t{0} : (size_t)(i - end - 1); };
        size_t block_chars = 0;
        for (int i = b.first; i <= b.last; ++i) block_chars += line_chars(i);
        make_room(gap(b.first) + block_chars);
        for (int i = b.first; i <= b.last; ++i) {
            make_room(gap(i) + line_chars(i));
            if (start < 0) start = new_from = i;
            chars += gap(i) + line_chars(i);
            end = i;
        }
    }
    close(true);
    return chunks;
}

}  // namespace lokal::rag
