// Read-only connections to one database, handed to one thread at a time. Every reader of the
// store (reads, history, searches, the index hook's look at a replaced version) takes its
// connection here, so that Close() can promise that no read runs on a closed database.
//
//   ReaderPool pool(path, ReaderPool::Options());
//   ASSIGN_OR_RETURN(ReaderPool::Lease db, pool.Acquire());
//   ASSIGN_OR_RETURN(sqlite::Statement stmt, db->Prepare("SELECT ..."));
//
// Connections are opened lazily, up to `max_open`, and kept (with their cached statements) for
// the next Acquire(). Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "sqlite/connection.h"

namespace vesta::sqlite {

class ReaderPool {
 public:
  struct Options {
    int max_open = 4;  // the most connections in existence; Acquire() waits beyond it
    OpenOptions connection = OpenOptions::ReadOnly();
  };

  ReaderPool(std::string path, Options options);
  ~ReaderPool();  // Close()
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  // A connection on loan; returns to the pool when destroyed. REQUIRES: the pool outlives it.
  class Lease {
   public:
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() const { return *db_; }
    Connection* operator->() const { return db_.get(); }

   private:
    friend class ReaderPool;
    Lease(ReaderPool* pool, std::unique_ptr<Connection> db) : pool_(pool), db_(std::move(db)) {}
    ReaderPool* pool_;
    std::unique_ptr<Connection> db_;
  };

  // An idle connection, a new one (while fewer than max_open exist), or else waits for one to
  // come back. kUnavailable once Close() has begun; an open failure is returned as is.
  Result<Lease> Acquire();

  // Refuses new Acquire() calls, waits until every lease has come back, and closes every
  // connection. Idempotent.
  void Close();

 private:
  void Release(std::unique_ptr<Connection> db);

  const std::string path_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // connections in existence: idle or leased
  bool closed_ = false;
};

}  // namespace vesta::sqlite
