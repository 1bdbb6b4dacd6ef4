#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "base/log.h"
#include "sqlite/connection.h"
#include "sqlite/reader_pool.h"
#include "store/audit_chain.h"
#include "store/sqlite/audit_blocks.h"
#include "store/sqlite/audit_read.h"
#include "store/sqlite/body_codec.h"
#include "store/sqlite/bulk_load.h"
#include "store/sqlite/change_feed.h"
#include "store/sqlite/expunge.h"
#include "store/sqlite/history_sql.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/version_cache.h"
#include "store/sqlite/version_store.h"
#include "store/sqlite/write_hook.h"
#include "store/write_checks.h"

namespace vesta::store {

namespace {

using sqlite::Connection;
using sqlite::ReaderPool;
using sqlite::Statement;
using sqlite_internal::BodyDictionary;
using sqlite_internal::BodyEncoder;

Status Unavailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}

Status ClosedError() { return Unavailable("the store is closed"); }

std::string Name(const std::string& type, const std::string& id) { return type + "/" + id; }

// The columns every version-returning query selects, in this order.
constexpr std::string_view kVersionColumns =
    "r.seq, r.type, r.id, r.version, r.last_updated, r.deleted, r.json";

// ---- The writer ------------------------------------------------------------------------------

// One pending Write() or AppendAudit() call: its ops or audit records (owned by the caller, who
// waits) and where to put the result.
struct WriteRequest {
  std::span<const WriteOp> ops;
  std::span<const AuditAppend> audit;               // an AppendAudit() call: no ops
  sqlite_internal::ExpungeCall* expunge = nullptr;  // an ExpungeHistory() call: no ops
  // prepared[i * hooks + h]: hook h's Prepare() result for ops[i].
  std::vector<std::shared_ptr<const void>> prepared;
  // bodies[i]: what resource.json gets for ops[i] (compressed on the caller's thread).
  std::vector<std::string> bodies;
  // Dictionaries the bodies need that may not be stored yet: inserted before the ops.
  std::vector<std::shared_ptr<const BodyDictionary>> dictionaries;
  std::promise<Result<std::vector<WriteResult>>> done;
};

class SqliteStore final : public Store {
 public:
  // `wal_fd`: the write-ahead log, open for syncing when durability is kFull (else -1); owned.
  SqliteStore(const SqliteStoreOptions& options, std::shared_ptr<ReaderPool> readers,
              sqlite_internal::SearchFunction search, std::unique_ptr<Connection> writer,
              std::unique_ptr<Connection> checkpointer, int wal_fd,
              std::unique_ptr<BodyEncoder> encoder, bool bulk_load)
      : options_(options),
        bulk_load_(bulk_load),
        encoder_(std::move(encoder)),
        db_(std::move(writer)),
        readers_(std::move(readers)),
        search_(std::move(search)),
        cache_(options.read_cache_bytes),
        executor_(*db_),
        wal_fd_(wal_fd),
        checkpoint_db_(std::move(checkpointer)) {
    // Checkpoints run on their own thread and connection, so that the writer never stops to copy
    // the log into the database file. SQLite calls the hook after each commit with the log's size.
    db_->OnLogCommit([this](int log_pages) { OnLogCommit(log_pages); });
    checkpoint_thread_ = std::thread([this] { CheckpointLoop(); });
    if (wal_fd_ >= 0) sync_thread_ = std::thread([this] { SyncLoop(); });
    writer_thread_ = std::thread([this] { WriterLoop(); });
  }

  ~SqliteStore() override {
    (void)Close();
    if (wal_fd_ >= 0) ::close(wal_fd_);
  }

  Result<StoredVersion> Read(const std::string& type, const std::string& id) override {
    const uint64_t ticket = cache_.Ticket();  // before the snapshot: see VersionCache
    if (std::optional<StoredVersion> hit = cache_.Find(type, id)) return std::move(*hit);
    ASSIGN_OR_RETURN(auto db, readers_->Acquire());
    static const std::string kSql = std::string("SELECT ") + std::string(kVersionColumns) +
                                    " FROM resource_current c JOIN resource r ON r.seq = c.seq"
                                    " WHERE c.type = ?1 AND c.id = ?2";
    ASSIGN_OR_RETURN(Statement stmt, db->Prepare(kSql));
    stmt.Bind(1, type).Bind(2, id);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFound(Name(type, id) + " does not exist");
    ASSIGN_OR_RETURN(StoredVersion v, sqlite_internal::ReadVersionRow(stmt, *db));
    cache_.Fill(ticket, v);
    return v;
  }

  Result<StoredVersion> ReadVersion(const std::string& type, const std::string& id,
                                    int64_t version) override {
    ASSIGN_OR_RETURN(auto db, readers_->Acquire());
    static const std::string kSql = std::string("SELECT ") + std::string(kVersionColumns) +
                                    " FROM resource r"
                                    " WHERE r.type = ?1 AND r.id = ?2 AND r.version = ?3";
    ASSIGN_OR_RETURN(Statement stmt, db->Prepare(kSql));
    stmt.Bind(1, type).Bind(2, id).Bind(3, version);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) {
      return NotFound(Name(type, id) + " has no version " + std::to_string(version));
    }
    return sqlite_internal::ReadVersionRow(stmt, *db);
  }

  Result<std::vector<WriteResult>> Write(std::span<const WriteOp> ops) override {
    for (const WriteOp& op : ops) RETURN_IF_ERROR(CheckWriteOp(op));
    // Shared with the writer so that the promise outlives the end of set_value() even when this
    // thread wakes and returns first.
    auto request = std::make_shared<WriteRequest>();
    request->ops = ops;
    // Body compression, like the hooks' work, runs here on the caller's thread, in parallel.
    request->bodies.resize(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind == WriteKind::kDelete) continue;
      BodyEncoder::Encoded body = encoder_->Encode(ops[i].type, ops[i].json);
      request->bodies[i] = std::move(body.bytes);
      if (body.dictionary != nullptr &&
          std::find(request->dictionaries.begin(), request->dictionaries.end(), body.dictionary) ==
              request->dictionaries.end()) {
        request->dictionaries.push_back(std::move(body.dictionary));
      }
    }
    // Hooks' per-op work (search index extraction) runs here, on the caller's thread.
    if (!options_.write_hooks.empty()) {
      request->prepared.reserve(ops.size() * options_.write_hooks.size());
      for (const WriteOp& op : ops) {
        for (const auto& hook : options_.write_hooks) {
          ASSIGN_OR_RETURN(std::shared_ptr<const void> prepared, hook->Prepare(op));
          request->prepared.push_back(std::move(prepared));
        }
      }
    }
    return Submit(std::move(request), /*empty=*/ops.empty());
  }

  // On the writer thread like a Write() call, in its own savepoint (expunge.h).
  Result<int64_t> ExpungeHistory(const std::string& type, const std::string& id) override {
    sqlite_internal::ExpungeCall call{type, id};
    auto request = std::make_shared<WriteRequest>();
    request->expunge = &call;
    RETURN_IF_ERROR(Submit(std::move(request), /*empty=*/false).status());
    return call.removed;
  }

  Result<HistoryPage> History(const HistoryQuery& query) override;
  Result<ChangePage> Changes(const ChangeQuery& query) override {
    ASSIGN_OR_RETURN(auto db, readers_->Acquire());
    return sqlite_internal::ReadChanges(*db, query);
  }

  // On the writer thread like a Write() call, in its own savepoint of the batch's transaction:
  // the head of the chain is read there, and BEGIN IMMEDIATE serialises other processes.
  Status AppendAudit(std::span<const AuditAppend> records) override {
    auto request = std::make_shared<WriteRequest>();
    request->audit = records;
    return Submit(std::move(request), /*empty=*/records.empty()).status();
  }

  Result<std::vector<AuditEntry>> ReadAudit(int64_t after_seq, int limit) override {
    if (limit < 1) return Invalid("an audit read needs a limit of at least 1");
    ASSIGN_OR_RETURN(auto db, readers_->Acquire());
    return sqlite_internal::ReadAuditRows(*db, after_seq, limit);
  }

  Result<std::vector<AuditEntry>> SearchAudit(const AuditSearch& q) override {
    if (q.limit < 1) return Invalid("an audit search needs a limit of at least 1");
    ASSIGN_OR_RETURN(auto db, readers_->Acquire());
    return sqlite_internal::SearchAuditRows(*db, q);
  }

  Result<SearchPage> Search(const SearchQuery& query) override {
    if (!search_) return Store::Search(query);
    ASSIGN_OR_RETURN(auto db, readers_->Acquire());
    return search_(*db, query);
  }

  Status Close() override {
    std::lock_guard close_lock(close_mu_);
    if (closed_) return Status::Ok();
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_one();
    writer_thread_.join();  // the writer drains the queue before it exits
    if (sync_thread_.joinable()) {
      {
        std::lock_guard lock(sync_mu_);
        sync_stop_ = true;
      }
      sync_cv_.notify_one();
      sync_thread_.join();  // the syncer answers the last batches before it exits
    }
    {
      std::lock_guard lock(checkpoint_mu_);
      checkpoint_stop_ = true;
    }
    checkpoint_cv_.notify_one();
    checkpoint_thread_.join();
    checkpoint_db_.reset();
    readers_->Close();
    if (cache_.enabled()) {
      // For the operator sizing --read-cache-mb: how often reads found their version in memory.
      VersionCache::Stats stats = cache_.stats();
      if (stats.hits + stats.misses > 0) {
        LogInfo("read cache: " + std::to_string(stats.hits) + " hits, " +
                std::to_string(stats.misses) + " misses, " + std::to_string(stats.entries) +
                " versions in " + std::to_string(stats.bytes >> 10) + " KiB at close");
      }
    }
    // A bulk load ends with its indexes built: one sort per index.
    Status built = bulk_load_ ? sqlite_internal::FinishBulkLoad(*db_) : Status::Ok();
    if (!built.ok()) LogWarning("building the deferred indexes: " + built.message());
    // Fold the log into the database file and truncate it, so the directory holds one
    // self-contained file after a clean shutdown (easy to copy for backup).
    Status status = db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    if (status.ok()) status = built;
    db_.reset();
    closed_ = true;
    return status;
  }

 private:
  using CallResult = Result<std::vector<WriteResult>>;
  // A committed batch waiting for the log sync, with what each of its calls will hear.
  struct Committed {
    std::vector<std::shared_ptr<WriteRequest>> calls;
    std::vector<CallResult> results;
  };

  static Status SyncFailedError() {
    return Unavailable(
        "the store stopped taking writes: syncing the write-ahead log failed (see the log); "
        "restart the server once the disk is healthy");
  }

  // Queues a call for the writer and waits for its answer; an `empty` call is answered at once.
  Result<std::vector<WriteResult>> Submit(std::shared_ptr<WriteRequest> request, bool empty) {
    auto result = request->done.get_future();
    {
      std::lock_guard lock(mu_);
      if (stopping_) return ClosedError();
      if (sync_failed_) return SyncFailedError();
      if (empty) return std::vector<WriteResult>();
      queue_.push_back(std::move(request));
    }
    work_cv_.notify_one();
    return result.get();
  }
  void WriterLoop();
  void SyncLoop();
  // Runs one transaction-control statement on the writer's connection, prepared once.
  Status Run(std::string_view sql) {
    ASSIGN_OR_RETURN(Statement stmt, db_->Prepare(sql));
    return stmt.Run();
  }
  void CheckpointLoop();
  void OnLogCommit(int log_pages);  // after each of the writer's commits
  void RestartLogIfLong();          // writer thread only
  // Empties the read cache when another process committed since the last look. Writer thread.
  void ForgetForeignWrites();
  // Drops the versions the batch wrote from the read cache (committed or not: harmless).
  void InvalidateWritten(const std::vector<std::shared_ptr<WriteRequest>>& batch);
  // Tells the hooks which versions of the batch committed (WriteHook::OnCommitted).
  void NotifyCommitted(const std::vector<std::shared_ptr<WriteRequest>>& batch,
                       const std::vector<CallResult>& results);
  std::atomic<int> log_pages_{0};  // the log's size after the last commit
  // Applies and commits a batch; returns what each call will hear.
  // `isolate_all`: a savepoint around every call, not only around calls of several ops.
  std::vector<CallResult> CommitBatch(const std::vector<std::shared_ptr<WriteRequest>>& batch,
                                      bool isolate_all = false);
  // Answers the calls of a committed batch: at once, or after the log sync (kFull).
  void Acknowledge(std::vector<std::shared_ptr<WriteRequest>> calls,
                   std::vector<CallResult> results);
  // `wrote` becomes true once any op changed the database (a failure before that left no trace).
  Result<std::vector<WriteResult>> ApplyOps(const WriteRequest& request, bool* wrote);
  // Appends an AppendAudit() call's records after the head of the chain.
  Status ApplyAudit(std::span<const AuditAppend> records, bool* wrote);
  // `prepared`: the hooks' Prepare() results for `op`, one per hook (or null when none).
  // `body`: what resource.json gets (the op's JSON, compressed or not).
  Result<WriteResult> ApplyOp(const WriteOp& op, std::string_view body,
                              const std::shared_ptr<const void>* prepared, bool* wrote);
  // Marks the dictionaries of the committed calls as stored (BodyDictionary::stored).
  static void NoteStoredDictionaries(const std::vector<std::shared_ptr<WriteRequest>>& batch,
                                     const std::vector<CallResult>& results);

  const SqliteStoreOptions options_;
  const bool bulk_load_;  // indexes were deferred at open (bulk_load.h): Close() builds them
  const std::unique_ptr<BodyEncoder> encoder_;
  std::unique_ptr<Connection> db_;  // the writer's connection; used by the writer thread only
  // Every read-only connection: reads, history, searches and the index hook's reads.
  std::shared_ptr<ReaderPool> readers_;
  const sqlite_internal::SearchFunction search_;
  VersionCache cache_;
  // PRAGMA data_version on the writer's connection when last looked at: it moves only when
  // another connection (another process) commits. Writer thread only.
  int64_t data_version_ = -1;
  ConnectionExecutor executor_;

  std::mutex mu_;  // guards queue_ and stopping_
  std::condition_variable work_cv_;
  std::deque<std::shared_ptr<WriteRequest>> queue_;
  bool stopping_ = false;
  std::thread writer_thread_;

  // The log syncer (Durability::kFull). Commits do not sync (synchronous=NORMAL); this thread
  // fdatasyncs the log and only then answers the calls, while the writer goes on with the next
  // batch. One sync covers every batch committed before it started.
  const int wal_fd_;
  std::mutex sync_mu_;  // guards the two below
  std::condition_variable sync_cv_;
  std::vector<Committed> sync_queue_;
  bool sync_stop_ = false;
  std::atomic<bool> sync_failed_ = false;  // set for good once a sync fails
  std::thread sync_thread_;

  // The checkpointer: wakes when the log has grown past kCheckpointPages since its last pass.
  std::unique_ptr<Connection> checkpoint_db_;  // used by the checkpoint thread only
  std::mutex checkpoint_mu_;                   // guards the two below
  std::condition_variable checkpoint_cv_;
  bool checkpoint_due_ = false;
  bool checkpoint_stop_ = false;
  std::thread checkpoint_thread_;

  std::mutex close_mu_;
  bool closed_ = false;
};

// Pages of log between checkpoints: 4,000 (16 MiB), four times SQLite's own default. A page
// changed by many commits between two checkpoints is copied into the database once; measured on
// 32-client creates, this took the checkpoint's CPU per create down by a sixth at the cost of a
// log file up to about 16 MiB (plus what is written while a pass runs).
constexpr int kCheckpointPages = 4000;

// Pages of log past which the writer restarts the log itself (RestartLogIfLong): 16,000 (64 MiB).
constexpr int kRestartPages = 4 * kCheckpointPages;

// How often an idle writer looks for other processes' commits (ForgetForeignWrites).
constexpr std::chrono::milliseconds kForeignWritePoll{100};

void SqliteStore::OnLogCommit(int log_pages) {
  log_pages_.store(log_pages, std::memory_order_relaxed);
  if (log_pages >= kCheckpointPages) {
    {
      std::lock_guard lock(checkpoint_mu_);
      checkpoint_due_ = true;
    }
    checkpoint_cv_.notify_one();
  }
}

// PASSIVE checkpoints, as SQLite's automatic ones: copy what no reader still needs, never block
// the writer or a reader. Once a pass has copied the whole log, the writer's next commit starts
// the log over from its beginning, so the file stays near kCheckpointPages pages.
void SqliteStore::CheckpointLoop() {
  for (;;) {
    {
      std::unique_lock lock(checkpoint_mu_);
      checkpoint_cv_.wait(lock, [&] { return checkpoint_stop_ || checkpoint_due_; });
      if (checkpoint_stop_) return;
      checkpoint_due_ = false;
    }
    Result<bool> done = checkpoint_db_->Checkpoint(Connection::CheckpointMode::kPassive);
    if (!done.ok()) {
      // Not fatal: the log only grows until the next pass succeeds (or Close() checkpoints).
      LogWarning(done.status().message());
    }
  }
}

void SqliteStore::WriterLoop() {
  const size_t max_batch = static_cast<size_t>(std::max(options_.max_batch, 1));
  for (;;) {
    ForgetForeignWrites();
    std::vector<std::shared_ptr<WriteRequest>> batch;
    {
      std::unique_lock lock(mu_);
      if (!work_cv_.wait_for(lock, kForeignWritePoll,
                             [&] { return stopping_ || !queue_.empty(); })) {
        continue;  // idle: look for other processes' writes again
      }
      if (queue_.empty()) return;  // stopping, and nothing left to drain
      if (options_.group_commit_window.count() > 0 && !stopping_) {
        work_cv_.wait_for(lock, options_.group_commit_window,
                          [&] { return stopping_ || queue_.size() >= max_batch; });
      }
      size_t n = std::min(queue_.size(), max_batch);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    std::vector<CallResult> results = CommitBatch(batch);
    NoteStoredDictionaries(batch, results);
    InvalidateWritten(batch);  // before any writer hears back, so it reads its own write
    NotifyCommitted(batch, results);
    Acknowledge(std::move(batch), std::move(results));
    RestartLogIfLong();
  }
}

// Under a steady stream of writes the PASSIVE checkpoints never catch up with the log's end (new
// frames arrive while a pass copies the old ones), and SQLite starts the log over only after a
// pass that copied all of it: the log then grows without bound (1.3 GB after 20,000 creates in
// 4 s), and every page lookup searches more of its index. Past kRestartPages the writer, between
// batches, runs a RESTART checkpoint itself: it copies what the checkpoint thread has not yet
// copied (little), waits for readers of older snapshots (up to the busy timeout), and the next
// commit writes at the log's start. Batches it follows are durable by the checkpoint's own syncs
// of the log and the database, whatever the sync thread does next. Writes wait meanwhile.
void SqliteStore::RestartLogIfLong() {
  if (log_pages_.load(std::memory_order_relaxed) < kRestartPages) return;
  Result<bool> done = db_->Checkpoint(Connection::CheckpointMode::kRestart);
  if (!done.ok()) {
    LogWarning("restarting the log: " + done.status().message());
  } else if (*done) {
    log_pages_.store(0, std::memory_order_relaxed);
  }
}

void SqliteStore::NoteStoredDictionaries(const std::vector<std::shared_ptr<WriteRequest>>& batch,
                                         const std::vector<CallResult>& results) {
  for (size_t c = 0; c < batch.size(); ++c) {
    if (!results[c].ok()) continue;
    for (const auto& dict : batch[c]->dictionaries)
      dict->stored.store(true, std::memory_order_release);
  }
}

void SqliteStore::InvalidateWritten(const std::vector<std::shared_ptr<WriteRequest>>& batch) {
  if (!cache_.enabled()) return;
  std::vector<std::pair<std::string_view, std::string_view>> written;
  for (const auto& call : batch) {
    for (const WriteOp& op : call->ops) written.emplace_back(op.type, op.id);
  }
  cache_.Invalidate(written);
}

void SqliteStore::NotifyCommitted(const std::vector<std::shared_ptr<WriteRequest>>& batch,
                                  const std::vector<CallResult>& results) {
  const size_t hooks = options_.write_hooks.size();
  for (size_t c = 0; c < batch.size(); ++c) {
    if (!results[c].ok() || batch[c]->prepared.empty()) continue;
    for (size_t i = 0; i < batch[c]->ops.size(); ++i) {
      for (size_t h = 0; h < hooks; ++h) {
        options_.write_hooks[h]->OnCommitted(batch[c]->ops[i], (*results[c])[i].version,
                                             batch[c]->prepared[i * hooks + h].get());
      }
    }
  }
}

// The cache sees this process's writes; a second process writing the same database (a CLI
// import while the server runs) shows up only in data_version, looked at before every batch and
// every kForeignWritePoll while idle: such writes reach cached reads within that time.
void SqliteStore::ForgetForeignWrites() {
  if (!cache_.enabled()) return;
  Result<Statement> stmt = db_->Prepare("PRAGMA data_version");
  if (!stmt.ok()) return;
  Result<bool> row = stmt->Step();
  if (!row.ok() || !*row) return;
  int64_t version = stmt->Int(0);
  if (data_version_ >= 0 && version != data_version_) cache_.Clear();
  data_version_ = version;
}

void SqliteStore::Acknowledge(std::vector<std::shared_ptr<WriteRequest>> calls,
                              std::vector<CallResult> results) {
  if (wal_fd_ < 0) {
    for (size_t i = 0; i < calls.size(); ++i) calls[i]->done.set_value(std::move(results[i]));
    return;
  }
  // Failed calls wrote nothing: they hear back now. The rest wait for the sync.
  Committed committed;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (results[i].ok()) {
      committed.calls.push_back(std::move(calls[i]));
      committed.results.push_back(std::move(results[i]));
    } else {
      calls[i]->done.set_value(std::move(results[i]));
    }
  }
  if (committed.calls.empty()) return;
  {
    std::lock_guard lock(sync_mu_);
    sync_queue_.push_back(std::move(committed));
  }
  sync_cv_.notify_one();
}

void SqliteStore::SyncLoop() {
  for (;;) {
    std::vector<Committed> batches;
    {
      std::unique_lock lock(sync_mu_);
      sync_cv_.wait(lock, [&] { return sync_stop_ || !sync_queue_.empty(); });
      if (sync_queue_.empty()) return;  // stopping, and every batch answered
      batches.swap(sync_queue_);
    }
    // fdatasync flushes the file's data however it was written, here by SQLite's own descriptor:
    // every frame of every batch taken above was written before this call.
    bool synced = (options_.log_sync ? options_.log_sync(wal_fd_) : ::fdatasync(wal_fd_)) == 0;
    if (!synced) {
      // After a failed sync the kernel may have dropped the dirty pages: whether these commits
      // survive a power cut is unknown, so nothing is acknowledged and no write is taken again.
      LogError(std::string("fdatasync of the write-ahead log failed: ") + std::strerror(errno));
      sync_failed_ = true;
    }
    for (Committed& b : batches) {
      for (size_t i = 0; i < b.calls.size(); ++i) {
        if (synced) {
          b.calls[i]->done.set_value(std::move(b.results[i]));
        } else {
          b.calls[i]->done.set_value(
              Status(StatusCode::kUnavailable,
                     "the write was committed but syncing the write-ahead log failed: it may not "
                     "survive a power cut"));
        }
      }
    }
  }
}

// One transaction for the whole batch. A failing call must leave no trace while the others
// commit. A call of one op fails either at its compare-and-set, before it writes anything, or (I/O
// error, a hook's failure) rarely after: so such calls run bare, and in the rare case the batch is
// rolled back and run again with a savepoint around every call. Calls of several ops (transaction
// bundles) always get their savepoint. Savepoints are not free: each journals, in memory, every
// page its call changes, a fifth of the writer's time per create when every call had one.
std::vector<SqliteStore::CallResult> SqliteStore::CommitBatch(
    const std::vector<std::shared_ptr<WriteRequest>>& batch, bool isolate_all) {
  std::vector<std::optional<Result<std::vector<WriteResult>>>> results(batch.size());
  // Fails every call of the batch that has not failed on its own: their writes are gone.
  auto fail_succeeded = [&](const Status& why, size_t up_to) {
    for (size_t j = 0; j < up_to; ++j) {
      if (!results[j].has_value() || results[j]->ok()) {
        results[j] = Status(why.code(), "the group commit failed: " + why.message());
      }
    }
  };

  Status begin = Run("BEGIN IMMEDIATE");
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!begin.ok()) {
      results[i] = begin;
      continue;
    }
    bool wrote = false;
    if (!isolate_all && batch[i]->ops.size() == 1) {
      auto applied = ApplyOps(*batch[i], &wrote);
      if (applied.ok() || !wrote) {
        results[i] = std::move(applied);
        continue;
      }
      // Failed halfway: nothing of this batch has been answered, so run it again, isolated.
      if (db_->InTransaction()) (void)db_->Exec("ROLLBACK");
      return CommitBatch(batch, /*isolate_all=*/true);
    }
    Status savepoint = Run("SAVEPOINT write_call");
    if (!savepoint.ok()) {
      results[i] = savepoint;
      continue;
    }
    auto applied = ApplyOps(*batch[i], &wrote);
    if (applied.ok()) {
      Status release = Run("RELEASE write_call");
      results[i] = release.ok() ? std::move(applied) : Result<std::vector<WriteResult>>(release);
      continue;
    }
    results[i] = applied.status();
    if (db_->InTransaction()) {
      Status undo = Run("ROLLBACK TO write_call");
      if (undo.ok()) undo = Run("RELEASE write_call");
      if (undo.ok()) continue;
      (void)db_->Exec("ROLLBACK");
      fail_succeeded(undo, i);
    } else {
      // SQLite rolled the whole transaction back by itself (I/O error, disk full): the calls
      // before this one lost their writes too. The rest of the batch gets a fresh transaction.
      fail_succeeded(applied.status(), i);
    }
    begin = Run("BEGIN IMMEDIATE");
  }
  if (begin.ok()) {
    Status commit = Run("COMMIT");
    if (!commit.ok()) {
      if (db_->InTransaction()) (void)db_->Exec("ROLLBACK");
      fail_succeeded(commit, batch.size());
    }
  }
  std::vector<CallResult> out;
  out.reserve(batch.size());
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

Result<std::vector<WriteResult>> SqliteStore::ApplyOps(const WriteRequest& request, bool* wrote) {
  std::vector<WriteResult> out;
  if (!request.audit.empty()) {
    RETURN_IF_ERROR(ApplyAudit(request.audit, wrote));
    return out;
  }
  if (request.expunge != nullptr) {
    RETURN_IF_ERROR(sqlite_internal::ApplyExpunge(*db_, request.expunge, wrote));
    return out;
  }
  out.reserve(request.ops.size());
  if (!request.dictionaries.empty()) {
    *wrote = true;
    RETURN_IF_ERROR(sqlite_internal::StoreDictionaries(*db_, request.dictionaries));
  }
  const size_t hooks = options_.write_hooks.size();
  for (size_t i = 0; i < request.ops.size(); ++i) {
    const std::shared_ptr<const void>* prepared =
        request.prepared.empty() ? nullptr : &request.prepared[i * hooks];
    ASSIGN_OR_RETURN(WriteResult r, ApplyOp(request.ops[i], request.bodies[i], prepared, wrote));
    out.push_back(r);
  }
  return out;
}

Status SqliteStore::ApplyAudit(std::span<const AuditAppend> records, bool* wrote) {
  int64_t seq = 0;
  AuditChainer chain;
  {
    ASSIGN_OR_RETURN(Statement head,
                     db_->Prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
    ASSIGN_OR_RETURN(bool row, head.Step());
    if (row) seq = head.Int(0);
    if (!chain.Start(row ? head.Text(1) : std::string(kAuditGenesisHash))) {
      return Internal("the head of the audit chain holds a malformed hash");
    }
  }
  ASSIGN_OR_RETURN(Statement insert,
                   db_->Prepare("INSERT INTO audit_log (seq, recorded, record, previous_hash,"
                                " hash, patient, agent, entity, outcome)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  *wrote = true;
  // Since 018_audit_raw_hash: the hash as its 32 bytes and no previous hash (the previous row's
  // hash; ReadAudit fills it in), a fifth fewer bytes a record.
  const int64_t first_seq = seq + 1;
  for (const AuditAppend& r : records) {
    chain.Next(r.record);
    insert.Bind(1, ++seq).Bind(2, r.recorded).BindBlob(3, r.record).Bind(4, std::string_view());
    insert.BindBlob(5, chain.previous_raw());
    insert.BindTextOrNull(6, r.patient).BindTextOrNull(7, r.agent).BindTextOrNull(8, r.entity);
    insert.Bind(9, static_cast<int64_t>(r.outcome));
    RETURN_IF_ERROR(insert.Run());
  }
  return sqlite_internal::UpdateAuditBlocks(*db_, first_seq, records);
}

Result<WriteResult> SqliteStore::ApplyOp(const WriteOp& op, std::string_view body,
                                         const std::shared_ptr<const void>* prepared, bool* wrote) {
  const std::string name = Name(op.type, op.id);
  std::optional<std::pair<int64_t, int64_t>> current;  // version, seq
  {
    ASSIGN_OR_RETURN(Statement find, db_->Prepare("SELECT version, seq FROM resource_current"
                                                  " WHERE type = ?1 AND id = ?2"));
    find.Bind(1, op.type).Bind(2, op.id);
    ASSIGN_OR_RETURN(bool row, find.Step());
    if (row) current.emplace(find.Int(0), find.Int(1));
  }
  // The compare-and-set.
  RETURN_IF_ERROR(
      CheckExpectedVersion(op, current ? std::optional<int64_t>(current->first) : std::nullopt));
  const int64_t version = op.expected_version + 1;
  const bool deleted = op.kind == WriteKind::kDelete;

  int64_t seq = 0;
  *wrote = true;
  {
    ASSIGN_OR_RETURN(Statement insert,
                     db_->Prepare("INSERT INTO resource"
                                  " (type, id, version, last_updated, deleted, json)"
                                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    insert.Bind(1, op.type).Bind(2, op.id).Bind(3, version);
    insert.Bind(4, op.last_updated).Bind(5, deleted ? 1 : 0);
    if (deleted) {
      insert.BindNull(6);
    } else {
      insert.BindBlob(6, body);
    }
    RETURN_IF_ERROR(insert.Run());
    seq = db_->LastInsertRowId();
  }
  if (current.has_value()) {
    ASSIGN_OR_RETURN(Statement supersede,
                     db_->Prepare("UPDATE resource SET superseded_at = ?1 WHERE seq = ?2"));
    supersede.Bind(1, op.last_updated).Bind(2, current->second);
    RETURN_IF_ERROR(supersede.Run());
  }
  {
    ASSIGN_OR_RETURN(Statement upsert,
                     db_->Prepare("INSERT INTO resource_current (type, id, version, seq)"
                                  " VALUES (?1, ?2, ?3, ?4)"
                                  " ON CONFLICT (type, id) DO UPDATE"
                                  " SET version = excluded.version, seq = excluded.seq"));
    upsert.Bind(1, op.type).Bind(2, op.id).Bind(3, version).Bind(4, seq);
    RETURN_IF_ERROR(upsert.Run());
  }
  // The extension point: search indexes and compartments, in this same savepoint.
  if (!options_.write_hooks.empty()) {
    WrittenVersion written{op, version, seq, current.has_value() ? current->second : 0};
    for (size_t h = 0; h < options_.write_hooks.size(); ++h) {
      written.prepared = prepared != nullptr ? prepared[h].get() : nullptr;
      Status status = options_.write_hooks[h]->OnWrite(written, executor_);
      if (!status.ok()) {
        return Status(status.code(), name + ": " + status.message(), status.issues());
      }
    }
  }
  return WriteResult{version};
}

// https://hl7.org/fhir/R4/http.html#history
// Newest first; keyset paging on (last_updated, seq), so page N costs the same as page 1.
Result<HistoryPage> SqliteStore::History(const HistoryQuery& query) {
  if (query.count < 1) return Invalid("history page size must be at least 1");
  if (query.type.empty() && !query.id.empty()) return Invalid("history of an id needs a type");

  auto bind = [&](Statement& stmt) {
    if (!query.type.empty()) stmt.Bind(1, query.type);
    if (!query.id.empty()) stmt.Bind(2, query.id);
    if (query.since.has_value()) stmt.Bind(3, *query.since);
    if (query.at.has_value()) stmt.Bind(4, query.at->first).Bind(5, query.at->second);
  };
  const sqlite_internal::HistorySql sql = sqlite_internal::BuildHistorySql(query, kVersionColumns);

  ASSIGN_OR_RETURN(auto db, readers_->Acquire());
  sqlite::ReadSnapshot snapshot(*db);
  RETURN_IF_ERROR(snapshot.Begin());

  HistoryPage page;
  {
    ASSIGN_OR_RETURN(Statement stmt, db->Prepare(sql.page));
    bind(stmt);
    if (query.after.has_value()) {
      stmt.Bind(6, query.after->last_updated).Bind(7, query.after->seq);
    }
    stmt.Bind(8, static_cast<int64_t>(query.count) + 1);  // one more tells has_more
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      if (static_cast<int64_t>(page.entries.size()) == query.count) {
        page.has_more = true;
        break;
      }
      HistoryEntry entry;
      ASSIGN_OR_RETURN(entry.version, sqlite_internal::ReadVersionRow(stmt, *db));
      entry.cursor = HistoryCursor{entry.version.last_updated, stmt.Int(0)};
      page.entries.push_back(std::move(entry));
    }
  }
  {
    ASSIGN_OR_RETURN(Statement stmt, db->Prepare(sql.count));
    bind(stmt);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) page.total = stmt.Int(0);
  }
  return page;
}

}  // namespace

int64_t SqliteSchemaVersion() {
  auto migrations = sqlite_internal::EmbeddedMigrations();
  return migrations.empty() ? 0 : migrations.back().version;
}

namespace sqlite_internal {

Result<std::unique_ptr<Store>> OpenVersionStore(const SqliteStoreOptions& options,
                                                const std::string& path,
                                                std::shared_ptr<ReaderPool> readers,
                                                SearchFunction search) {
  // WAL: readers see the last commit while the writer works, and a commit is one append to the
  // log instead of a rollback journal's several writes.
  //
  // synchronous=NORMAL on every connection: commits are consistent but not synced, and SQLite
  // syncs the log before each checkpoint and the database file after it. Durability::kFull adds
  // the store's own log sync (SyncLoop) before any write is acknowledged: the writer does not
  // wait for the disk, it applies the next batch while the previous one is being synced.
  //
  // cache_size: large enough that a batch never spills dirty pages into the log before its
  // commit. temp_store: each call's savepoint journals the pages it changes; in memory, not in a
  // temporary file. journal_size_limit: when the log starts over, its file is cut back to 64 MiB
  // (RestartLogIfLong).
  const sqlite::OpenOptions writer = sqlite::OpenOptions::ReadWrite(
      {"journal_mode = WAL", "synchronous = NORMAL", "cache_size = -65536", "temp_store = MEMORY",
       "journal_size_limit = 67108864"});
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> db, Connection::Open(path, writer));
  const Micros migrated_at = SystemClock().Now();
  // A bulk load that stopped before its end left indexes to build: first, so that migrations
  // find the schema they expect.
  RETURN_IF_ERROR(sqlite_internal::FinishBulkLoad(*db));
  RETURN_IF_ERROR(
      sqlite_internal::ApplyMigrations(*db, sqlite_internal::EmbeddedMigrations(), migrated_at));
  {
    // Migration 009 creates the full-text index (_text, _content) empty: resources stored before
    // it are only found by those parameters after `vesta reindex`.
    ASSIGN_OR_RETURN(
        Statement stmt,
        db->Prepare("SELECT 1 FROM schema_version WHERE version = 9 AND applied_at = ?1"
                    " AND EXISTS (SELECT 1 FROM search_resource)"));
    stmt.Bind(1, migrated_at);
    ASSIGN_OR_RETURN(bool needs_reindex, stmt.Step());
    if (needs_reindex) {
      LogWarning(
          "schema migration 009_text added the full-text index for _text and _content; "
          "resources stored before it are not in it until `vesta reindex` is run");
    }
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> checkpointer,
      Connection::Open(path, sqlite::OpenOptions::ReadWrite({"synchronous = NORMAL"})));
  bool bulk_load = false;
  if (options.bulk_load) {
    ASSIGN_OR_RETURN(bulk_load, sqlite_internal::StartBulkLoad(*db));
  }
  auto encoder = std::make_unique<BodyEncoder>(options.compress_bodies);
  RETURN_IF_ERROR(encoder->Load(*db));
  int wal_fd = -1;
  if (options.durability == Durability::kFull) {
    // The log exists from the migrations' transaction on; SQLite keeps the same file while any
    // connection is open, so this descriptor syncs what SQLite writes to it.
    std::string wal = path + "-wal";
    wal_fd = ::open(wal.c_str(), O_RDWR | O_CLOEXEC);
    if (wal_fd < 0) return Internal("opening " + wal + ": " + std::strerror(errno));
  }
  return std::unique_ptr<Store>(new SqliteStore(options, std::move(readers), std::move(search),
                                                std::move(db), std::move(checkpointer), wal_fd,
                                                std::move(encoder), bulk_load));
}

}  // namespace sqlite_internal
}  // namespace vesta::store
