#include "server/vector_store_registry.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "rag/chunker.h"
#include "rag/extract.h"
#include "rag/indexer.h"
#include "rag/knowledge_base.h"
#include "server/api_util.h"
#include "store/sha256.h"
#include "store/store.h"

namespace lokal::server {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

constexpr size_t kEmbedBatch = 32;

Error no_store(const std::string& id) {
    return Error("vector store '" + id + "' not found", ErrorKind::NotFound);
}

std::vector<std::vector<float>> embed_chunks(rag::Embedder& embedder,
                                             const std::vector<rag::Chunk>& chunks) {
    std::vector<std::vector<float>> out;
    std::vector<std::string> batch;
    for (size_t i = 0; i < chunks.size(); i += kEmbedBatch) {
        batch.clear();
        for (size_t j = i; j < std::min(chunks.size(), i + kEmbedBatch); ++j) {
            batch.push_back(chunks[j].text);
        }
        for (auto& v : embedder.embed(batch)) out.push_back(std::move(v));
    }
    return out;
}

}  // namespace

fs::path VectorStoreRegistry::default_dir() {
    return store::Store::default_root() / "vector_stores";
}

fs::path VectorStoreRegistry::meta_path(const std::string& id) const {
    return dir_ / (id + ".json");
}

fs::path VectorStoreRegistry::kb_path(const std::string& id) const {
    return dir_ / (id + ".sqlite");
}

std::optional<VectorStoreInfo> VectorStoreRegistry::load_locked(const std::string& id) const {
    if (!is_vector_store_id(id)) return std::nullopt;
    std::ifstream in(meta_path(id), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    const json j = json::parse(ss.str(), nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return vector_store_from_record(j);
}

void VectorStoreRegistry::save_locked(const VectorStoreInfo& vs) {
    fs::create_directories(dir_);
    store::write_file_atomic(meta_path(vs.id),
                             vector_store_record(vs).dump(-1, ' ', false, kReplaceInvalidUtf8));
}

void VectorStoreRegistry::put_entry_locked(VectorStoreInfo& vs, const VectorStoreFile& f) {
    auto it = std::find_if(vs.files.begin(), vs.files.end(),
                           [&](const VectorStoreFile& x) { return x.file_id == f.file_id; });
    if (it == vs.files.end()) {
        vs.files.push_back(f);
    } else {
        *it = f;
    }
    save_locked(vs);
}

VectorStoreInfo VectorStoreRegistry::create(const std::string& name,
                                            const std::string& embedding_model,
                                            const json& metadata) {
    VectorStoreInfo vs;
    vs.id = random_id("vs_");
    vs.name = name;
    vs.created_at = unix_now();
    vs.embedding_model = embedding_model;
    vs.metadata = metadata.is_object() ? metadata : json::object();
    std::lock_guard<std::mutex> lock(mutex_);
    fs::create_directories(dir_);
    rag::KnowledgeBase kb(kb_path(vs.id).string());
    kb.set_meta("embed_model", embedding_model);
    save_locked(vs);
    return vs;
}

std::vector<VectorStoreInfo> VectorStoreRegistry::list() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<VectorStoreInfo> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
        if (e.path().extension() != ".json") continue;
        try {
            if (auto vs = load_locked(e.path().stem().string())) out.push_back(std::move(*vs));
        } catch (const Error&) {
            // A damaged record is left out of the list rather than failing it.
        }
    }
    std::sort(out.begin(), out.end(), [](const VectorStoreInfo& a, const VectorStoreInfo& b) {
        return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
    });
    return out;
}

std::optional<VectorStoreInfo> VectorStoreRegistry::get(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return load_locked(id);
}

bool VectorStoreRegistry::update(const std::string& id, const std::optional<std::string>& name,
                                 const std::optional<json>& metadata) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto vs = load_locked(id);
    if (!vs) return false;
    if (name) vs->name = *name;
    if (metadata) vs->metadata = *metadata;
    save_locked(*vs);
    return true;
}

bool VectorStoreRegistry::remove(const std::string& id) {
    if (!is_vector_store_id(id)) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    std::error_code ec;
    const bool had = fs::remove(meta_path(id), ec);
    for (const char* suffix : {".sqlite", ".sqlite-wal", ".sqlite-shm"}) {
        fs::remove(dir_ / (id + suffix), ec);
    }
    return had;
}

VectorStoreFile VectorStoreRegistry::add_file(const std::string& id, const UploadedFile& file,
                                              const std::string& content, rag::Embedder& embedder) {
    VectorStoreFile entry{file.id, file.filename, "in_progress", unix_now(), 0, ""};
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto vs = load_locked(id);
        if (!vs) throw no_store(id);
        put_entry_locked(*vs, entry);
    }
    rag::TextKind kind = rag::text_kind(file.filename);
    if (kind == rag::TextKind::Unsupported) kind = rag::TextKind::Prose;  // uploads: any text
    std::string why;
    std::optional<std::vector<rag::Chunk>> found = rag::file_chunks(kind, content, {}, why);
    std::vector<rag::Chunk> chunks;
    std::vector<std::vector<float>> vectors;
    if (found) {
        chunks = std::move(*found);
        try {
            vectors = embed_chunks(embedder, chunks);
        } catch (const std::exception& ex) {
            entry.last_error = std::string("cannot embed the file: ") + ex.what();
        }
    } else {
        entry.last_error = "the file is " + why;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    auto vs = load_locked(id);
    if (!vs) throw no_store(id);  // deleted while the file was being embedded
    if (entry.last_error.empty()) {
        rag::KnowledgeBase kb(kb_path(id).string());
        kb.put_file({0, file.id, store::sha256_hex(content), 0, content.size()}, chunks, vectors);
        entry.status = "completed";
        entry.usage_bytes = 0;
        for (const rag::Chunk& c : chunks) entry.usage_bytes += c.text.size();
    } else {
        entry.status = "failed";
    }
    put_entry_locked(*vs, entry);
    return entry;
}

bool VectorStoreRegistry::remove_file(const std::string& id, const std::string& file_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto vs = load_locked(id);
    if (!vs) throw no_store(id);
    auto it = std::find_if(vs->files.begin(), vs->files.end(),
                           [&](const VectorStoreFile& x) { return x.file_id == file_id; });
    if (it == vs->files.end()) return false;
    vs->files.erase(it);
    rag::KnowledgeBase kb(kb_path(id).string());
    kb.remove_files({file_id});
    save_locked(*vs);
    return true;
}

StoreHits VectorStoreRegistry::search(const std::string& id, const std::string& query,
                                      const std::vector<float>& query_vector, int k) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto vs = load_locked(id);
    if (!vs) throw no_store(id);
    rag::KnowledgeBase kb(kb_path(id).string());
    StoreHits out;
    const rag::SearchMode mode =
        query_vector.empty() ? rag::SearchMode::Bm25 : rag::SearchMode::Hybrid;
    for (rag::Hit& h : rag::search(kb, query_vector, query, k, mode)) {
        std::string filename = h.chunk.path;
        for (const VectorStoreFile& f : vs->files) {
            if (f.file_id == h.chunk.path) filename = f.filename;
        }
        // Hybrid scores are fused in [0, 1], as OpenAI's scores are.
        out.results.push_back({h.chunk.path, filename, h.score, {h.chunk.text}});
        h.chunk.path = filename;
        out.hits.push_back(std::move(h));
    }
    return out;
}

}  // namespace lokal::server
