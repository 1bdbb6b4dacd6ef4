// The embedded store: the Store interface on one SQLite database file in WAL mode.
//
//   SqliteStoreOptions options;
//   options.directory = data_dir;  // e.g. from --data-dir
//   ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenSqliteStore(options));
//   ASSIGN_OR_RETURN(auto written, store->Write(ops));
//
// Layout, schema, migrations and the group commit are described in docs/storage.md.
//
// Writes go through one writer thread that takes every pending Write() call, runs each in its own
// SAVEPOINT inside one BEGIN IMMEDIATE ... COMMIT and then wakes the callers: concurrent writers
// share one fsync, and a call that fails rolls back only its own savepoint. Reads (Read,
// ReadVersion, History) run on a pool of read-only connections, concurrently with the writer.
//
// Thread-safety: the returned Store may be used from any number of threads. One process should
// open a given directory at a time (a second opener works, but writes of the two are not grouped).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace vesta::store {

// What "durable" means when Write() returns OK.
enum class Durability {
  // synchronous=FULL: every commit fsyncs the write-ahead log. A power cut loses nothing that
  // was acknowledged. The default.
  kFull,
  // synchronous=NORMAL: commits are not synced; the log is synced at checkpoints. A power cut
  // (not a process crash) may lose the last acknowledged writes. For bulk loads that can be
  // rerun.
  kNormal,
};

// ---- Extension point: extra rows written in the same transaction as a version. ----------------
//
// Search index tables (and the compartment table) must change in the same transaction as the
// resource rows they describe. A WriteHook is called by the writer thread once per written
// version, inside the savepoint of the Write() call, after the `resource` and `resource_current`
// rows are in place; whatever it executes through the SqlExecutor commits or rolls back with that
// call. Its tables come from a schema migration (schema/NNN_name.sql).

// A value bound to the parameter `?N` (1-based) of a hook's statement.
using SqlValue = std::variant<std::nullptr_t, int64_t, double, std::string_view>;

// Runs statements on the writer's connection, inside the current write. Statements are prepared
// once and cached by their SQL text, so pass constant SQL and bind the values.
class SqlExecutor {
 public:
  virtual ~SqlExecutor() = default;
  virtual Status Execute(std::string_view sql, std::span<const SqlValue> params) = 0;
  // Runs a query and returns the first column of its first row as bytes; nullopt when there is
  // no row or the value is NULL. For a hook that needs a row written before, e.g. the JSON of
  // the version being replaced.
  virtual Result<std::optional<std::string>> QueryBytes(std::string_view sql,
                                                        std::span<const SqlValue> params) = 0;
};

// The version just written, as a hook sees it.
struct WrittenVersion {
  const WriteOp& op;  // the caller's operation (type, id, kind, json)
  int64_t version = 0;
  int64_t seq = 0;           // resource.seq of the new row: what index rows point at
  int64_t previous_seq = 0;  // resource.seq of the version it replaced; 0 for a first version
  // What this hook's Prepare() returned for `op` (nullptr when it prepares nothing).
  const void* prepared = nullptr;
};

class WriteHook {
 public:
  virtual ~WriteHook() = default;
  // Called on the writer thread only (hooks need no locking against each other). An error
  // fails the whole Write() call that contains `written` and rolls back its savepoint, hook rows
  // included. Must not block: every concurrent writer waits for it. Must not call the Store (a
  // Write() from the writer thread would wait for itself).
  virtual Status OnWrite(const WrittenVersion& written, SqlExecutor& sql) = 0;
  // Called on the caller's thread, before the write joins the writer's queue: the place for
  // work that depends only on `op` (e.g. extracting search index values with FHIRPath), so that
  // it runs in parallel across callers instead of on the single writer thread. The result is
  // handed to OnWrite as WrittenVersion::prepared. An error fails the Write() call up front.
  virtual Result<std::shared_ptr<const void>> Prepare(const WriteOp& op) {
    (void)op;
    return std::shared_ptr<const void>();
  }
};

struct SqliteStoreOptions {
  // The data directory, created when missing. The database is `<directory>/vesta.db` (with its
  // `-wal` and `-shm` files beside it).
  std::string directory;
  Durability durability = Durability::kFull;
  // How long the writer waits, after the first pending write arrives, for more to join its
  // commit. Zero (the default) still groups: writes that arrive while a commit is syncing all go
  // into the next one. A positive window trades single-writer latency for fewer fsyncs.
  std::chrono::microseconds group_commit_window{0};
  // The most Write() calls in one commit; bounds the latency of the first call of a batch.
  int max_batch = 512;
  // The most read-only connections opened (lazily) for Read, ReadVersion and History.
  int read_connections = 4;
  // Memory for the current versions of recently read resources (VersionCache): a repeated read
  // of the same resource skips SQLite. 0 turns it off.
  size_t read_cache_bytes = size_t{64} << 20;
  // Called for each written version, in order; see WriteHook.
  std::vector<std::shared_ptr<WriteHook>> write_hooks;
  // Durability::kFull: makes the write-ahead log durable, given its file descriptor; returns 0
  // or -1 with errno set, like fdatasync (the default). Tests replace it to hold or fail syncs.
  std::function<int(int fd)> log_sync;
};

// Opens or creates the store in `options.directory`, applies pending schema migrations and starts
// the writer thread. Fails with kInvalid on bad options, kUnavailable when the database was
// written by a newer schema, kInternal when the directory or database cannot be opened.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options);

// The schema version this binary migrates databases to (the highest schema/NNN_*.sql).
int64_t SqliteSchemaVersion();

}  // namespace vesta::store
