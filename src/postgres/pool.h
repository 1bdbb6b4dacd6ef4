// Connections to one PostgreSQL database, lent to one thread at a time. Every user of the
// database takes its connection here, so that Close() can promise that nothing runs on a closed
// pool, and so that a connection lost with the server is replaced without the caller's help.
//
//   postgres::Pool pool(uri, postgres::Pool::Options());
//   ASSIGN_OR_RETURN(postgres::Pool::Lease db, pool.Acquire());
//   ASSIGN_OR_RETURN(postgres::Rows rows, db->Query("SELECT ...", {id}));
//
// Connections are opened lazily, up to `size`, and kept (with their prepared statements) for the
// next Acquire(). A connection that comes back inside a transaction is rolled back; one that
// comes back lost, or cannot be rolled back, is closed, and a new one is opened when needed.
//
// The pool is where a lost database shows, so it tells the log, once per change and not per
// call: a warning when the database becomes unreachable (a connection fails to open or comes
// back lost), a reminder every 10 s while it stays so, an info line when a connection opens
// again; and a warning, at most every 10 s, when calls gave up waiting for a free connection.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "postgres/connection.h"

namespace vesta::postgres {

class Pool {
 public:
  struct Options {
    int size = 8;  // the most connections in existence; Acquire() waits beyond it
    // How long Acquire() waits for a connection to come back before it gives up (kUnavailable).
    std::chrono::milliseconds acquire_timeout{5000};
    postgres::Options connection;
  };

  // `name` says which database in log lines ("PostgreSQL", "the PostgreSQL replica"...).
  Pool(std::string uri, Options options, std::string name = "PostgreSQL");
  ~Pool();  // Close()
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A connection on loan; returns to the pool when destroyed. REQUIRES: the pool outlives it.
  class Lease {
   public:
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() const { return *db_; }
    Connection* operator->() const { return db_.get(); }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Connection> db) : pool_(pool), db_(std::move(db)) {}
    Pool* pool_;
    std::unique_ptr<Connection> db_;
  };

  // An idle connection that does not look lost (Connection::LooksAlive, no round trip; a lost
  // one is reconnected first), a new one while fewer than `size` exist, or else waits up to
  // acquire_timeout for one to come back. kUnavailable when that wait runs out, once Close() has
  // begun, or when the server cannot be reached (the Status of Connection::Open).
  Result<Lease> Acquire();

  // Refuses new Acquire() calls, waits until every lease has come back, and closes every
  // connection. Idempotent.
  void Close();

  // Connections in existence (idle or lent), for tests and metrics.
  int open() const;

 private:
  void Release(std::unique_ptr<Connection> db);
  // Wakes one waiter of cv_, or all once closed_. REQUIRES: mu_ held.
  void NotifyFreed();
  // The log lines of the class comment. Called without mu_ held.
  void NoteUnreachable(const Status& why);
  void NoteReachable();
  void NoteExhausted();

  const std::string uri_;
  const Options options_;
  const std::string name_;
  // What the log was last told (health_mu_, never held with mu_ or while logging).
  std::mutex health_mu_;
  bool unreachable_ = false;
  std::chrono::steady_clock::time_point down_since_;
  std::chrono::steady_clock::time_point down_logged_;
  int64_t failures_ = 0;  // connection failures since down_since_
  std::chrono::steady_clock::time_point exhausted_logged_;
  int64_t exhausted_ = 0;  // calls that gave up waiting since exhausted_logged_
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;  // connections in existence: idle, lent, or being opened
  bool closed_ = false;
};

}  // namespace vesta::postgres
