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
// ReadVersion, History, Search) run on one pool of read-only connections, concurrently with the
// writer; Close() waits for them.
//
// Thread-safety: the returned Store may be used from any number of threads. One process should
// open a given directory at a time (a second opener works, but writes of the two are not grouped).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/sqlite/write_hook.h"
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
  // The most read-only connections opened (lazily) for Read, ReadVersion, History, Search and
  // the search index hook's reads of replaced versions: one pool (sqlite/reader_pool.h), which
  // Close() waits for.
  int read_connections = 4;
  // Memory for the current versions of recently read resources (VersionCache): a repeated read
  // of the same resource skips SQLite. 0 turns it off.
  size_t read_cache_bytes = size_t{64} << 20;
  // Called for each written version, in order, after the search index hook that
  // OpenSqliteStore installs first; see WriteHook (write_hook.h).
  std::vector<std::shared_ptr<WriteHook>> write_hooks;
  // A bulk load (docs/storage.md, "Bulk loads"; bulk_load.h): into a store of at most 100,000
  // versions, the indexes whose keys arrive in random order are dropped at open and built by
  // Close(), one sort each, which keeps the load's rate flat as the store grows. Reads and
  // searches meanwhile give the same results, more slowly. A process that stops during the load
  // leaves the indexes to the next open, which builds them first. For `vesta import`.
  bool bulk_load = false;
  // New versions' bodies are stored as zstd frames, with a dictionary per resource type trained
  // from the store's first bodies of the type (docs/storage.md, "Compressed bodies"). false:
  // stored as the JSON itself. Either way every row, of any age, stays readable.
  bool compress_bodies = true;
  // Durability::kFull: makes the write-ahead log durable, given its file descriptor; returns 0
  // or -1 with errno set, like fdatasync (the default). Tests replace it to hold or fail syncs.
  std::function<int(int fd)> log_sync;
};

// Opens or creates the store in `options.directory`, applies pending schema migrations and starts
// the writer thread. The store comes with search: the index hook (search_index.h) writes the
// index rows of every version, and Search runs on the same reader pool (search_run.h); it is
// assembled in open.cc. Fails with kInvalid on bad options, kUnavailable when the database was
// written by a newer schema, kInternal when the directory or database cannot be opened.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options);

// The schema version this binary migrates databases to (the highest schema/NNN_*.sql).
int64_t SqliteSchemaVersion();

}  // namespace vesta::store
