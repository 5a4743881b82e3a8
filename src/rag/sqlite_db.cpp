#include "rag/sqlite_db.h"

#include <sqlite3.h>

#include "base/error.h"

namespace lokal::rag {
namespace {

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
    throw Error(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"), ErrorKind::Io);
}

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.data(), (int)sql.size(), &stmt_, nullptr) != SQLITE_OK) {
        fail(db, "SQL error in '" + std::string(sql) + "'");
    }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int pos, int64_t v) {
    if (sqlite3_bind_int64(stmt_, pos, v) != SQLITE_OK) fail(db_, "sqlite bind");
    return *this;
}

Statement& Statement::bind(int pos, std::string_view text) {
    if (sqlite3_bind_text(stmt_, pos, text.data(), (int)text.size(), SQLITE_TRANSIENT) !=
        SQLITE_OK) {
        fail(db_, "sqlite bind");
    }
    return *this;
}

Statement& Statement::bind_blob(int pos, std::span<const float> floats) {
    if (sqlite3_bind_blob(stmt_, pos, floats.data(), (int)(floats.size() * sizeof(float)),
                          SQLITE_TRANSIENT) != SQLITE_OK) {
        fail(db_, "sqlite bind");
    }
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, "sqlite");
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

int64_t Statement::int_at(int col) const { return sqlite3_column_int64(stmt_, col); }

double Statement::double_at(int col) const { return sqlite3_column_double(stmt_, col); }

std::string Statement::text_at(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col))
             : std::string();
}

std::span<const float> Statement::floats_at(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    if (!p) return {};
    return {static_cast<const float*>(p), (size_t)n / sizeof(float)};
}

Database::Database(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw Error("cannot open '" + path + "': " + msg, ErrorKind::Io);
    }
    sqlite3_busy_timeout(db_, 5000);
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(std::string_view sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error("sqlite: " + msg, ErrorKind::Io);
    }
}

int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
    if (!done_) {
        try {
            db_.exec("ROLLBACK");
        } catch (const Error&) {  // nothing more to do while unwinding
        }
    }
}

void Transaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

}  // namespace lokal::rag
