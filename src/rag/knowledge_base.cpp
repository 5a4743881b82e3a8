#include "rag/knowledge_base.h"

#include "base/error.h"

namespace lokal::rag {
namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA foreign_keys=ON;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    hash TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- ids never come back: vector_index.h's tag needs it
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB,
    page INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks(file_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
)sql";

}  // namespace

KnowledgeBase::KnowledgeBase(const std::string& path) : db_(path) {
    db_.exec(kSchema);
    // Bases made before chunks had pages.
    Statement cols(db_.handle(),
                   "SELECT count(*) FROM pragma_table_info('chunks') WHERE name = 'page'");
    cols.step();
    if (cols.int_at(0) == 0) {
        db_.exec("ALTER TABLE chunks ADD COLUMN page INTEGER NOT NULL DEFAULT 0");
    }
}

std::optional<std::string> KnowledgeBase::meta(const std::string& key) {
    Statement st(db_.handle(), "SELECT value FROM meta WHERE key = ?");
    st.bind(1, key);
    if (!st.step()) return std::nullopt;
    return st.text_at(0);
}

void KnowledgeBase::set_meta(const std::string& key, const std::string& value) {
    Statement st(db_.handle(), "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
    st.bind(1, key).bind(2, value);
    st.step();
}

std::vector<StoredFile> KnowledgeBase::files() {
    Statement st(db_.handle(), "SELECT id, path, hash, mtime_ns, size FROM files ORDER BY path");
    std::vector<StoredFile> out;
    while (st.step()) {
        out.push_back(
            {st.int_at(0), st.text_at(1), st.text_at(2), st.int_at(3), (uint64_t)st.int_at(4)});
    }
    return out;
}

void KnowledgeBase::put_file(const StoredFile& file, const std::vector<Chunk>& chunks,
                             const std::vector<std::vector<float>>& vectors) {
    LOKAL_ASSERT(vectors.size() == chunks.size());
    Transaction tx(db_);
    {
        // Deleting the file row cascades to its chunks (and, by trigger, their FTS rows).
        Statement del(db_.handle(), "DELETE FROM files WHERE path = ?");
        del.bind(1, file.path);
        del.step();
    }
    Statement ins(db_.handle(),
                  "INSERT INTO files(path, hash, mtime_ns, size) VALUES (?, ?, ?, ?)");
    ins.bind(1, file.path).bind(2, file.hash).bind(3, file.mtime_ns).bind(4, (int64_t)file.size);
    ins.step();
    const int64_t file_id = db_.last_insert_id();
    Statement chunk_ins(db_.handle(),
                        "INSERT INTO chunks(file_id, start_line, end_line, text, vector, page) "
                        "VALUES (?, ?, ?, ?, ?, ?)");
    for (size_t i = 0; i < chunks.size(); ++i) {
        chunk_ins.bind(1, file_id)
            .bind(2, (int64_t)chunks[i].start_line)
            .bind(3, (int64_t)chunks[i].end_line)
            .bind(4, chunks[i].text)
            .bind_blob(5, vectors[i])
            .bind(6, (int64_t)chunks[i].page);
        chunk_ins.step();
        chunk_ins.reset();
    }
    tx.commit();
}

void KnowledgeBase::touch_file(const std::string& path, int64_t mtime_ns) {
    Statement st(db_.handle(), "UPDATE files SET mtime_ns = ? WHERE path = ?");
    st.bind(1, mtime_ns).bind(2, path);
    st.step();
}

void KnowledgeBase::remove_files(const std::vector<std::string>& paths) {
    if (paths.empty()) return;
    Transaction tx(db_);
    Statement del(db_.handle(), "DELETE FROM files WHERE path = ?");
    for (const std::string& p : paths) {
        del.bind(1, p);
        del.step();
        del.reset();
    }
    tx.commit();
}

int64_t KnowledgeBase::chunk_count() {
    Statement st(db_.handle(), "SELECT count(*) FROM chunks");
    st.step();
    return st.int_at(0);
}

ChunkRow KnowledgeBase::chunk(int64_t id) {
    Statement st(db_.handle(),
                 "SELECT c.id, f.path, c.start_line, c.end_line, c.text, c.page FROM chunks c "
                 "JOIN files f ON f.id = c.file_id WHERE c.id = ?");
    st.bind(1, id);
    if (!st.step()) throw Error("no chunk " + std::to_string(id), ErrorKind::NotFound);
    return {st.int_at(0),      st.text_at(1), (int)st.int_at(2),
            (int)st.int_at(3), st.text_at(4), (int)st.int_at(5)};
}

std::vector<std::pair<int64_t, double>> KnowledgeBase::bm25(const std::string& fts_query,
                                                            int limit) {
    std::vector<std::pair<int64_t, double>> out;
    if (fts_query.empty()) return out;
    Statement st(db_.handle(),
                 "SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
                 "ORDER BY bm25(chunks_fts) LIMIT ?");
    st.bind(1, fts_query).bind(2, (int64_t)limit);
    while (st.step()) out.emplace_back(st.int_at(0), -st.double_at(1));
    return out;
}

}  // namespace lokal::rag
