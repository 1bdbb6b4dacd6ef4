#include "store/postgres/read_replica.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <utility>

#include "base/log.h"
#include "postgres/pool.h"
#include "store/postgres/postgres_store.h"

namespace vesta::store {

namespace {

using postgres::Pool;
using postgres::Rows;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// LSNs as byte positions in the WAL (pg_lsn minus 0/0), which compare as integers.
constexpr std::string_view kPrimaryLsn = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint";
// NULL when the server is not (or no longer) in recovery.
constexpr std::string_view kReplayedLsn =
    "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint";

Result<int64_t> QueryLsn(Pool& pool, std::string_view sql) {
  ASSIGN_OR_RETURN(Pool::Lease db, pool.Acquire());
  ASSIGN_OR_RETURN(Rows rows, db->Query(sql));
  if (rows.size() != 1 || rows.IsNull(0, 0)) {
    return Status(StatusCode::kUnavailable, "the replica is not replaying WAL (promoted?)");
  }
  return rows.Int(0, 0);
}

void RaiseTo(std::atomic<int64_t>& value, int64_t to) {
  int64_t seen = value.load();
  while (seen < to && !value.compare_exchange_weak(seen, to)) {
  }
}

// LSN pools: one or two short statements at a time, and a read would rather go to the primary
// than wait long for one.
Pool::Options LsnPoolOptions(const postgres::Options& connection) {
  Pool::Options options;
  options.size = 4;
  options.acquire_timeout = milliseconds(1000);
  options.connection = connection;
  return options;
}

class ReadReplicaStore : public Store {
 public:
  ReadReplicaStore(std::unique_ptr<Store> primary, const ReadReplicaOptions& options)
      : primary_(std::move(primary)),
        max_wait_(options.max_wait),
        primary_lsn_(options.primary_uri, LsnPoolOptions(options.connection), "PostgreSQL"),
        replica_lsn_(options.replica_uri, LsnPoolOptions(options.connection),
                     "the PostgreSQL read replica") {}
  ~ReadReplicaStore() override { (void)Close(); }

  // Before the store on the replica is opened: the replica must have the primary's schema.
  Status WaitForReplica(milliseconds bound);
  void set_replica(std::unique_ptr<Store> replica) { replica_ = std::move(replica); }

  Result<StoredVersion> Read(const std::string& type, const std::string& id) override {
    return Route([&](Store& s) { return s.Read(type, id); });
  }
  Result<StoredVersion> ReadVersion(const std::string& type, const std::string& id,
                                    int64_t version) override {
    return Route([&](Store& s) { return s.ReadVersion(type, id, version); });
  }
  Result<HistoryPage> History(const HistoryQuery& query) override {
    return Route([&](Store& s) { return s.History(query); });
  }
  Result<SearchPage> Search(const SearchQuery& query) override {
    return Route([&](Store& s) { return s.Search(query); });
  }
  Result<std::vector<WriteResult>> Write(std::span<const WriteOp> ops) override;
  // A write as any other: on the primary, and this node's reads wait for the replica to replay
  // it, so that a history read here after an expunge lists what is left.
  Result<int64_t> ExpungeHistory(const std::string& type, const std::string& id) override {
    if (closed_) return Status(StatusCode::kUnavailable, "the store is closed");
    Result<int64_t> removed = primary_->ExpungeHistory(type, id);
    if (removed.ok() || removed.status().code() == StatusCode::kUnavailable) NoteWrite();
    return removed;
  }
  // The audit trail lives on the primary: it is appended there, and read there so that a
  // verification sees the chain's head.
  Status AppendAudit(std::span<const AuditAppend> records) override {
    if (closed_) return Status(StatusCode::kUnavailable, "the store is closed");
    return primary_->AppendAudit(records);
  }
  Result<std::vector<AuditEntry>> SearchAudit(const AuditSearch& query) override {
    return primary_->SearchAudit(query);  // the chain is the primary's, read as written
  }
  Result<std::vector<AuditEntry>> ReadAudit(int64_t after_seq, int limit) override {
    if (closed_) return Status(StatusCode::kUnavailable, "the store is closed");
    return primary_->ReadAudit(after_seq, limit);
  }
  Status Close() override;

 private:
  // Whether the replica has replayed everything this node wrote, waiting up to max_wait_.
  bool ReplicaCaughtUp();
  // Records the primary's current LSN as written by this node (after a write that may have
  // committed); when the primary cannot say, reads go to it until it can.
  void NoteWrite();

  // The read on the replica when it has caught up (and answers), else on the primary.
  template <typename F>
  auto Route(F&& read) -> decltype(read(std::declval<Store&>())) {
    if (closed_) return Status(StatusCode::kUnavailable, "the store is closed");
    if (ReplicaCaughtUp()) {
      auto result = read(*replica_);
      if (result.ok() || result.status().code() != StatusCode::kUnavailable) {
        ++replica_reads_;
        return result;
      }
      // The replica went away between the LSN check and the read: the primary answers.
    }
    ++primary_reads_;
    return read(*primary_);
  }

  std::unique_ptr<Store> primary_;
  std::unique_ptr<Store> replica_;
  const milliseconds max_wait_;
  Pool primary_lsn_;
  Pool replica_lsn_;
  std::atomic<int64_t> written_lsn_{0};   // the highest LSN this node has written
  std::atomic<int64_t> replayed_lsn_{0};  // the highest replay LSN the replica has reported
  std::atomic<bool> written_unknown_{false};
  std::atomic<bool> closed_{false};
  std::atomic<int64_t> replica_reads_{0}, primary_reads_{0}, waited_out_{0};
};

Status ReadReplicaStore::WaitForReplica(milliseconds bound) {
  {
    ASSIGN_OR_RETURN(Pool::Lease db, replica_lsn_.Acquire());
    ASSIGN_OR_RETURN(Rows rows, db->Query("SELECT pg_is_in_recovery()"));
    if (rows.size() != 1 || rows.Text(0, 0) != "t") {
      return Invalid(
          "the --read-store database is not a hot standby (pg_is_in_recovery() is false): "
          "name a streaming replica of the --store database");
    }
  }
  ASSIGN_OR_RETURN(int64_t target, QueryLsn(primary_lsn_, kPrimaryLsn));
  const SteadyClock::time_point deadline = SteadyClock::now() + bound;
  for (;;) {
    ASSIGN_OR_RETURN(int64_t replayed, QueryLsn(replica_lsn_, kReplayedLsn));
    RaiseTo(replayed_lsn_, replayed);
    if (replayed >= target) return Status::Ok();
    if (SteadyClock::now() >= deadline) {
      return Status(StatusCode::kUnavailable, "the read replica is " +
                                                  std::to_string(target - replayed) +
                                                  " bytes of WAL behind the primary after " +
                                                  std::to_string(bound.count()) + " ms");
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
}

bool ReadReplicaStore::ReplicaCaughtUp() {
  if (written_unknown_) {
    // The primary's current LSN is at least that of the write whose LSN was not learned.
    Result<int64_t> now = QueryLsn(primary_lsn_, kPrimaryLsn);
    if (!now.ok()) return false;
    RaiseTo(written_lsn_, *now);
    written_unknown_ = false;
  }
  const int64_t need = written_lsn_.load();
  if (replayed_lsn_.load() >= need) return true;
  // Poll: 1, 2, 4... ms apart, at most 20, until the replica has it or max_wait_ is spent.
  const SteadyClock::time_point deadline = SteadyClock::now() + max_wait_;
  milliseconds pause(1);
  for (;;) {
    Result<int64_t> replayed = QueryLsn(replica_lsn_, kReplayedLsn);
    if (!replayed.ok()) return false;
    RaiseTo(replayed_lsn_, *replayed);
    if (*replayed >= need) return true;
    const SteadyClock::time_point now = SteadyClock::now();
    if (now >= deadline) {
      ++waited_out_;
      return false;
    }
    std::this_thread::sleep_for(std::min<SteadyClock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, milliseconds(20));
  }
}

void ReadReplicaStore::NoteWrite() {
  Result<int64_t> lsn = QueryLsn(primary_lsn_, kPrimaryLsn);
  if (lsn.ok()) {
    RaiseTo(written_lsn_, *lsn);
  } else {
    written_unknown_ = true;
  }
}

Result<std::vector<WriteResult>> ReadReplicaStore::Write(std::span<const WriteOp> ops) {
  if (closed_) return Status(StatusCode::kUnavailable, "the store is closed");
  Result<std::vector<WriteResult>> written = primary_->Write(ops);
  // Committed; or perhaps committed (the connection lost during COMMIT); or beaten by another
  // writer, whose write the retry's re-read must see.
  const StatusCode code = written.ok() ? StatusCode::kOk : written.status().code();
  if (code == StatusCode::kOk || code == StatusCode::kUnavailable ||
      code == StatusCode::kConflict) {
    NoteWrite();
  }
  return written;
}

Status ReadReplicaStore::Close() {
  if (closed_.exchange(true)) return Status::Ok();
  Status replica = replica_ != nullptr ? replica_->Close() : Status::Ok();
  Status primary = primary_->Close();
  primary_lsn_.Close();
  replica_lsn_.Close();
  LogInfo("reads: " + std::to_string(replica_reads_.load()) + " served by the read replica, " +
          std::to_string(primary_reads_.load()) + " by the primary (" +
          std::to_string(waited_out_.load()) + " after waiting " +
          std::to_string(max_wait_.count()) + " ms for the replica to replay this node's writes)");
  return primary.ok() ? replica : primary;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenReadReplicaStore(std::unique_ptr<Store> primary,
                                                    const ReadReplicaOptions& options) {
  if (primary == nullptr) return Invalid("the read replica store needs the primary's store");
  if (options.primary_uri.empty() || options.replica_uri.empty()) {
    return Invalid("the read replica store needs the primary's and the replica's URIs");
  }
  auto store = std::make_unique<ReadReplicaStore>(std::move(primary), options);
  RETURN_IF_ERROR(store->WaitForReplica(options.open_wait));
  PostgresStoreOptions replica_options;
  replica_options.uri = options.replica_uri;
  replica_options.pool_size = options.replica_pool_size;
  replica_options.connection = options.connection;
  ASSIGN_OR_RETURN(std::unique_ptr<Store> replica, OpenPostgresStore(replica_options));
  store->set_replica(std::move(replica));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace vesta::store
