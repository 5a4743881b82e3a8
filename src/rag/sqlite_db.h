// A small RAII layer over SQLite: a connection, prepared statements with positional binding,
// and a transaction that rolls back unless committed. Errors throw lokal::Error with SQLite's
// message.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace lokal::rag {

class Statement {
  public:
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Positions are 1-based, as SQLite numbers them.
    Statement& bind(int pos, int64_t v);
    Statement& bind(int pos, std::string_view text);
    Statement& bind_blob(int pos, std::span<const float> floats);
    // Steps once: true while a row is there.
    bool step();
    // Clears the bindings and rewinds, for the next use.
    void reset();

    int64_t int_at(int col) const;
    double double_at(int col) const;
    std::string text_at(int col) const;
    std::span<const float> floats_at(int col) const;  // valid until the next step

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

class Database {
  public:
    // Opens (creating) the file.
    explicit Database(const std::string& path);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(std::string_view sql);
    int64_t last_insert_id() const;
    sqlite3* handle() const { return db_; }

  private:
    sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless commit() ran.
class Transaction {
  public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

  private:
    Database& db_;
    bool done_ = false;
};

}  // namespace lokal::rag
