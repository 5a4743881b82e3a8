// Progress of a multi-part download, kept next to its partial file as
// blobs/sha256-<hex>-partial.parts so an interrupted pull resumes each part where it stopped.
// Text format (one record a line):
//   lokal-parts 1
//   size <total bytes>
//   part <start> <end> <done>      (bytes [start, end) of the blob; the first `done` are written)
// The parts cover [0, size) in order without gaps. The file is replaced atomically (written to a
// temporary, then renamed); `done` is only recorded after those bytes were written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lokal::store {

struct Part {
    uint64_t start = 0;
    uint64_t end = 0;   // exclusive
    uint64_t done = 0;  // bytes written from `start`

    uint64_t length() const { return end - start; }
    bool finished() const { return done == length(); }
};

struct PartsPlan {
    uint64_t size = 0;
    std::vector<Part> parts;

    uint64_t done_bytes() const;
    bool finished() const;
};

constexpr int kMaxParts = 64;

// At most `n` parts (n capped at kMaxParts and at one per byte) of equal length, the last one
// shorter: part i starts at i * ceil(size / n).
PartsPlan plan_parts(uint64_t size, int n);

std::string format_parts(const PartsPlan& plan);
// nullopt when the text is not a well-formed plan for a blob of `size` bytes.
std::optional<PartsPlan> parse_parts(std::string_view text, uint64_t size);

// The sidecar path for a partial file: "<partial>.parts".
std::filesystem::path parts_path(const std::filesystem::path& partial);
// Reads a sidecar; nullopt when it is missing, unreadable or corrupt.
std::optional<PartsPlan> read_parts_file(const std::filesystem::path& path, uint64_t size);
// Writes it atomically (temporary file + rename). Throws lokal::Error.
void write_parts_file(const std::filesystem::path& path, const PartsPlan& plan);
void remove_parts_file(const std::filesystem::path& path);

}  // namespace lokal::store
