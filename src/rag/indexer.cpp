#include "rag/indexer.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "base/error.h"
#include "rag/extract.h"
#include "rag/pdf_text.h"
#include "store/sha256.h"

namespace lokal::rag {
namespace {

bool read_file(const std::filesystem::path& p, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return false;
    out = std::move(ss).str();
    return true;
}

// Files waiting for their vectors: small files are embedded together, so that each encoder pass
// carries options.batch chunks; each file is then stored in its own transaction.
class PendingFiles {
  public:
    PendingFiles(KnowledgeBase& kb, Embedder& embedder, size_t batch)
        : kb_(kb), embedder_(embedder), batch_(std::max<size_t>(batch, 1)) {}

    // Queues the file; embeds and stores the queue once it holds a batch of chunks.
    void add(StoredFile file, std::vector<Chunk> chunks) {
        n_chunks_ += chunks.size();
        files_.push_back({std::move(file), std::move(chunks)});
        if (n_chunks_ >= batch_) flush();
    }

    void flush() {
        std::vector<std::string> texts;
        texts.reserve(n_chunks_);
        for (const auto& [file, chunks] : files_) {
            for (const Chunk& c : chunks) texts.push_back(c.text);
        }
        std::vector<std::vector<float>> vectors;
        for (size_t i = 0; i < texts.size(); i += batch_) {
            const std::vector<std::string> part(
                texts.begin() + (std::ptrdiff_t)i,
                texts.begin() + (std::ptrdiff_t)std::min(texts.size(), i + batch_));
            std::vector<std::vector<float>> v = embedder_.embed(part);
            if (v.size() != part.size()) {
                throw Error("the embedder returned too few vectors", ErrorKind::Internal);
            }
            for (auto& e : v) vectors.push_back(std::move(e));
        }
        size_t next = 0;
        for (const auto& [file, chunks] : files_) {
            const std::vector<std::vector<float>> mine(
                std::make_move_iterator(vectors.begin() + (std::ptrdiff_t)next),
                std::make_move_iterator(vectors.begin() + (std::ptrdiff_t)(next + chunks.size())));
            kb_.put_file(file, chunks, mine);
            next += chunks.size();
        }
        files_.clear();
        n_chunks_ = 0;
    }

  private:
    KnowledgeBase& kb_;
    Embedder& embedder_;
    size_t batch_;
    std::vector<std::pair<StoredFile, std::vector<Chunk>>> files_;
    size_t n_chunks_ = 0;
};

}  // namespace

std::optional<std::vector<Chunk>> file_chunks(TextKind kind, const std::string& bytes,
                                              const ChunkOptions& options, std::string& why) {
    if (kind == TextKind::Pdf) {
        const std::optional<std::vector<std::string>> pages = pdf_pages(bytes);
        if (!pages) {
            why = "not a PDF that can be read (damaged, encrypted or not a PDF)";
            return std::nullopt;
        }
        std::vector<Chunk> chunks;
        for (size_t i = 0; i < pages->size(); ++i) {
            for (Chunk& c : chunk_text((*pages)[i], TextKind::Prose, options)) {
                c.page = (int)i + 1;
                chunks.push_back(std::move(c));
            }
        }
        return chunks;
    }
    if (looks_binary(bytes)) {
        why = "binary (a NUL byte in the first 8 KiB)";
        return std::nullopt;
    }
    return chunk_text(kind == TextKind::Html ? html_to_text(bytes) : bytes, kind, options);
}

IndexStats index_folder(KnowledgeBase& kb, const std::filesystem::path& root, Embedder& embedder,
                        const IndexOptions& options,
                        const std::function<void(const IndexProgress&)>& progress) {
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    WalkResult walk = walk_folder(root, options.walk);
    IndexStats stats;
    stats.skipped = std::move(walk.skipped);
    stats.files_seen = walk.files.size();
    std::map<std::string, StoredFile> stored;
    for (StoredFile& f : kb.files()) stored.emplace(f.path, std::move(f));

    std::set<std::string> kept;
    IndexProgress p;
    p.files_total = walk.files.size();
    std::string bytes;
    PendingFiles pending(kb, embedder, options.batch);
    for (const FoundFile& f : walk.files) {
        const auto old = stored.find(f.path);
        const bool known = old != stored.end();
        if (known && old->second.mtime_ns == f.mtime_ns && old->second.size == f.size) {
            kept.insert(f.path);
            ++stats.files_unchanged;
        } else if (!read_file(f.abs, bytes)) {
            stats.skipped.push_back({f.path, "cannot read the file"});
        } else {
            StoredFile sf{0, f.path, store::sha256_hex(bytes), f.mtime_ns, f.size};
            if (known && old->second.hash == sf.hash) {
                kept.insert(f.path);
                kb.touch_file(f.path, f.mtime_ns);
                ++stats.files_unchanged;
            } else {
                std::string why;
                std::optional<std::vector<Chunk>> chunks =
                    file_chunks(f.kind, bytes, options.chunk, why);
                if (chunks) {
                    kept.insert(f.path);
                    ++stats.files_indexed;
                    stats.chunks_embedded += chunks->size();
                    pending.add(sf, std::move(*chunks));
                } else {
                    stats.skipped.push_back({f.path, why});
                }
            }
        }
        ++p.files_done;
        p.chunks_embedded = stats.chunks_embedded;
        p.seconds = elapsed();
        if (progress) progress(p);
    }
    pending.flush();
    std::vector<std::string> gone;
    for (const auto& [path, f] : stored) {
        if (!kept.count(path)) gone.push_back(path);
    }
    kb.remove_files(gone);
    stats.files_removed = gone.size();
    stats.seconds = elapsed();
    return stats;
}

}  // namespace lokal::rag
