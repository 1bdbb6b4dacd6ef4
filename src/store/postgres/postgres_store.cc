#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "postgres/pool.h"
#include "store/audit_chain.h"
#include "store/postgres/migrations.h"
#include "store/postgres/search_index.h"
#include "store/postgres/search_run.h"
#include "store/postgres/write_sql.h"
#include "store/write_checks.h"

namespace vesta::store {

namespace {

using postgres::Pool;
using postgres::Rows;
using postgres::Value;

Status ClosedError() { return Status(StatusCode::kUnavailable, "the store is closed"); }

std::string Name(const std::string& type, const std::string& id) { return type + "/" + id; }

Micros WallClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The columns every version-returning query selects, in this order; read in binary form
// (postgres::Format::kBinary: the json's bytes as stored, not hex text to decode).
constexpr std::string_view kVersionColumns =
    "r.seq, r.type, r.id, r.version, r.last_updated, r.deleted, r.json";

StoredVersion VersionRow(const Rows& rows, int row) {
  StoredVersion v;
  v.type = std::string(rows.Text(row, 1));
  v.id = std::string(rows.Text(row, 2));
  v.version = rows.Int(row, 3);
  v.last_updated = rows.Int(row, 4);
  v.deleted = rows.Int(row, 5) != 0;
  if (!v.deleted) v.json = rows.Bytes(row, 6);
  return v;
}

class PostgresStore : public Store {
 public:
  PostgresStore(const std::string& uri, Pool::Options options) : pool_(uri, std::move(options)) {}
  ~PostgresStore() override { (void)Close(); }

  Pool& pool() { return pool_; }

  Result<StoredVersion> Read(const std::string& type, const std::string& id) override;
  Result<StoredVersion> ReadVersion(const std::string& type, const std::string& id,
                                    int64_t version) override;
  Result<std::vector<WriteResult>> Write(std::span<const WriteOp> ops) override;
  Result<HistoryPage> History(const HistoryQuery& query) override;
  Result<int64_t> ExpungeHistory(const std::string& type, const std::string& id) override;
  Result<ChangePage> Changes(const ChangeQuery& query) override;
  Result<SearchPage> Search(const SearchQuery& query) override;
  Status AppendAudit(std::span<const AuditAppend> records) override;
  Result<std::vector<AuditEntry>> ReadAudit(int64_t after_seq, int limit) override;
  Result<std::vector<AuditEntry>> SearchAudit(const AuditSearch& query) override;
  Status Close() override;

 private:
  Result<WriteResult> ApplyOp(postgres::Connection& db, const WriteOp& op,
                              const IndexRowsParams& index);

  Pool pool_;
  std::atomic<bool> closed_{false};
};

Result<StoredVersion> PostgresStore::Read(const std::string& type, const std::string& id) {
  if (closed_) return ClosedError();
  ASSIGN_OR_RETURN(Pool::Lease db, pool_.Acquire());
  ASSIGN_OR_RETURN(Rows rows, db->Query(std::string("SELECT ") + std::string(kVersionColumns) +
                                            " FROM resource_current c"
                                            " JOIN resource r ON r.seq = c.seq"
                                            " WHERE c.type = $1 AND c.id = $2",
                                        {std::string_view(type), std::string_view(id)},
                                        postgres::Format::kBinary));
  if (rows.size() == 0) return NotFound(Name(type, id) + " not found");
  return VersionRow(rows, 0);
}

Result<StoredVersion> PostgresStore::ReadVersion(const std::string& type, const std::string& id,
                                                 int64_t version) {
  if (closed_) return ClosedError();
  ASSIGN_OR_RETURN(Pool::Lease db, pool_.Acquire());
  ASSIGN_OR_RETURN(
      Rows rows,
      db->Query(std::string("SELECT ") + std::string(kVersionColumns) +
                    " FROM resource r WHERE r.type = $1 AND r.id = $2 AND r.version = $3",
                {std::string_view(type), std::string_view(id), version},
                postgres::Format::kBinary));
  if (rows.size() == 0) {
    return NotFound(Name(type, id) + " has no version " + std::to_string(version));
  }
  return VersionRow(rows, 0);
}

// One transaction per call (READ COMMITTED): all its ops or none, durable at COMMIT
// (synchronous_commit = on, the server's default; concurrent commits share WAL flushes by
// PostgreSQL's own grouping). Calls are not batched together as in the SQLite store: every
// connection of the pool writes at once, and row locks order them. Each op is one statement
// (write_sql.h), so a call of one op is one round trip, with no BEGIN or COMMIT of its own.
Result<std::vector<WriteResult>> PostgresStore::Write(std::span<const WriteOp> ops) {
  if (closed_) return ClosedError();
  for (const WriteOp& op : ops) RETURN_IF_ERROR(CheckWriteOp(op));
  std::vector<WriteResult> out;
  if (ops.empty()) return out;
  out.reserve(ops.size());
  // The search index values, extracted before a connection is taken: the costly part of a
  // write runs on the caller's thread, outside the transaction.
  std::vector<IndexRowsParams> index;
  index.reserve(ops.size());
  for (const WriteOp& op : ops) index.push_back(PrepareIndexRows(op));
  ASSIGN_OR_RETURN(Pool::Lease db, pool_.Acquire());
  if (ops.size() == 1) {
    ASSIGN_OR_RETURN(WriteResult r, ApplyOp(*db, ops[0], index[0]));
    out.push_back(r);
    return out;
  }
  if (std::all_of(ops.begin(), ops.end(),
                  [](const WriteOp& op) { return op.expected_version == kExpectNone; })) {
    // Only creates (a bulk load, a transaction of new resources): one statement for all.
    std::vector<std::string> storage;
    const std::vector<Value> params = pgwrite::BulkParams(ops, index, &storage);
    Result<Rows> rows = db->Query(pgwrite::BulkCreateStatement(), params);
    if (!rows.ok()) {
      if (rows.status().code() != StatusCode::kConflict) return rows.status();
      return Conflict("a resource of this call already exists or was written concurrently: " +
                      rows.status().message());
    }
    out.assign(ops.size(), WriteResult{1});
    return out;
  }
  RETURN_IF_ERROR(postgres::InTransaction(*db, postgres::Isolation::kReadCommitted, [&]() {
    for (size_t i = 0; i < ops.size(); ++i) {
      ASSIGN_OR_RETURN(WriteResult r, ApplyOp(*db, ops[i], index[i]));
      out.push_back(r);
    }
    return Status::Ok();
  }));
  return out;
}

// The compare-and-set is in the statement (write_sql.h): a create that finds the resource
// fails on a unique index, a replace whose expected version is no longer current writes nothing
// and returns no seq. Either way the call fails with kConflict naming the resource; outside a
// transaction (a call of one op) the message also says which version is current. A failure
// inside a transaction aborts it: the whole call fails and nothing of it is written.
Result<WriteResult> PostgresStore::ApplyOp(postgres::Connection& db, const WriteOp& op,
                                           const IndexRowsParams& index) {
  const std::string name = Name(op.type, op.id);
  const bool create = op.expected_version == kExpectNone;
  std::string shard_key;
  const std::vector<Value> params = pgwrite::Params(op, index, &shard_key);
  Result<Rows> rows =
      db.Query(create ? pgwrite::CreateStatement() : pgwrite::ReplaceStatement(), params);
  if (rows.ok() && rows->size() == 1 && !rows->IsNull(0, 0)) {
    return WriteResult{op.expected_version + 1};
  }
  // Class 23 (unique violation) and 40 (deadlock between two multi-op calls) are kConflict in
  // the adapter; other errors are passed on as they are.
  if (!rows.ok() && rows.status().code() != StatusCode::kConflict) return rows.status();
  Status why = Conflict(name + " was written concurrently" +
                        (rows.ok() ? std::string() : ": " + rows.status().message()));
  if (db.InTransaction()) return why;  // aborted (or about to be): no more statements
  Result<Rows> current =
      db.Query("SELECT version FROM resource_current WHERE type = $1 AND id = $2",
               {std::string_view(op.type), std::string_view(op.id)});
  if (!current.ok()) return why;
  Status precise = CheckExpectedVersion(
      op, current->size() == 1 ? std::optional<int64_t>(current->Int(0, 0)) : std::nullopt);
  return precise.ok() ? why : precise;
}

// https://hl7.org/fhir/R4/http.html#history
// Newest first; keyset paging on (last_updated, seq), so page N costs the same as page 1. The
// page and the total are read in one REPEATABLE READ snapshot, so they agree.
Result<HistoryPage> PostgresStore::History(const HistoryQuery& query) {
  if (closed_) return ClosedError();
  if (query.count < 1) return Invalid("history page size must be at least 1");
  if (query.type.empty() && !query.id.empty()) return Invalid("history of an id needs a type");

  // Parameters are numbered in the order the filter uses them (PostgreSQL infers each one's type
  // from its use, so none may be left out); each variant of the SQL is prepared once per
  // connection.
  std::vector<Value> params;
  auto param = [&](Value v) {
    params.push_back(v);
    return "$" + std::to_string(params.size());
  };
  std::string where = " WHERE true";
  if (!query.type.empty()) where += " AND r.type = " + param(std::string_view(query.type));
  if (!query.id.empty()) where += " AND r.id = " + param(std::string_view(query.id));
  if (query.since.has_value()) where += " AND r.last_updated >= " + param(*query.since);
  // A version is current from its last_updated until the next version's (superseded_at):
  // it overlaps [low, high] when it starts by `high` and has not been replaced by `low`.
  if (query.at.has_value()) {
    std::string high = param(query.at->second);
    where += " AND r.last_updated <= " + high +
             " AND (r.superseded_at IS NULL OR r.superseded_at > " + param(query.at->first) + ")";
  }
  const size_t filter_params = params.size();
  std::string page_sql =
      std::string("SELECT ") + std::string(kVersionColumns) + " FROM resource r" + where;
  if (query.after.has_value()) {
    // (last_updated, seq) < (cursor), spelled so that the first conjunct bounds an index range.
    std::string last_updated = param(query.after->last_updated);
    page_sql += " AND r.last_updated <= " + last_updated + " AND (r.last_updated < " +
                last_updated + " OR r.seq < " + param(query.after->seq) + ")";
  }
  page_sql += " ORDER BY r.last_updated DESC, r.seq DESC LIMIT " +
              param(static_cast<int64_t>(query.count) + 1);  // one more tells has_more

  ASSIGN_OR_RETURN(Pool::Lease db, pool_.Acquire());
  HistoryPage page;
  RETURN_IF_ERROR(postgres::InTransaction(*db, postgres::Isolation::kRepeatableRead, [&]() {
    ASSIGN_OR_RETURN(Rows rows, db->Query(page_sql, params, postgres::Format::kBinary));
    for (int i = 0; i < rows.size(); ++i) {
      if (static_cast<int64_t>(page.entries.size()) == query.count) {
        page.has_more = true;
        break;
      }
      HistoryEntry entry;
      entry.version = VersionRow(rows, i);
      entry.cursor = HistoryCursor{entry.version.last_updated, rows.Int(i, 0)};
      page.entries.push_back(std::move(entry));
    }
    ASSIGN_OR_RETURN(Rows total, db->Query("SELECT count(*) FROM resource r" + where,
                                           std::span<const Value>(params.data(), filter_params)));
    if (total.size() == 1) page.total = total.Int(0, 0);
    return Status::Ok();
  }));
  return page;
}

// One statement, its own transaction. `cur` locks the resource_current row as a write's
// compare-and-set does (write_sql.h), so expunges and writes of one resource take turns: a write
// that committed while this waited for the lock is seen by the lock (READ COMMITTED returns the
// row's newest version), and its version is the one kept; the rows deleted are those of the
// statement's snapshot other than that one, which cannot include a version committed later. Only
// `resource` holds versions that are no longer current (every index table holds the current
// seq's rows), and the current row keeps the resource's largest seq: change feed positions and
// history cursors read before stay valid. The store keeps no cache of its own, so other nodes
// have nothing to forget.
Result<int64_t> PostgresStore::ExpungeHistory(const std::string& type, const std::string& id) {
  if (closed_) return ClosedError();
  ASSIGN_OR_RETURN(Pool::Lease db, pool_.Acquire());
  ASSIGN_OR_RETURN(
      Rows rows,
      db->Query("WITH cur AS (SELECT seq FROM resource_current"
                " WHERE type = $1::text AND id = $2::text FOR UPDATE),"
                " gone AS (DELETE FROM resource r USING cur"
                " WHERE r.type = $1::text AND r.id = $2::text AND r.seq <> cur.seq RETURNING 1)"
                " SELECT (SELECT count(*) FROM cur), (SELECT count(*) FROM gone)",
                {std::string_view(type), std::string_view(id)}));
  if (rows.size() != 1 || rows.Int(0, 0) == 0) return NotFound(Name(type, id) + " not found");
  return rows.Int(0, 1);
}

// A position in the change feed: the largest seq read (`wm`), and the transactions that were
// running when it was read (`xids`, 32-bit as the xmin column holds them) with `floor`, a seq
// below every seq they can have taken. Spelled "wm" or "wm:floor:xid,xid,...".
struct ChangePosition {
  int64_t wm = 0;
  int64_t floor = 0;
  std::vector<std::string> xids;  // decimal

  static Result<ChangePosition> Parse(const std::string& text) {
    ChangePosition p;
    if (text.empty()) return p;
    auto bad = [&] {
      return Invalid("'" + text + "' is not a position in this store's change feed");
    };
    const size_t c1 = text.find(':');
    auto number = [&](std::string_view digits, int64_t* out) {
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
        return false;
      }
      *out = std::strtoll(std::string(digits).c_str(), nullptr, 10);
      return true;
    };
    if (!number(std::string_view(text).substr(0, c1), &p.wm)) return bad();
    if (c1 == std::string::npos) return p;
    const size_t c2 = text.find(':', c1 + 1);
    if (c2 == std::string::npos) return bad();
    if (!number(std::string_view(text).substr(c1 + 1, c2 - c1 - 1), &p.floor)) return bad();
    std::string_view rest = std::string_view(text).substr(c2 + 1);
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      std::string_view xid = rest.substr(0, comma);
      int64_t ignored = 0;
      if (!number(xid, &ignored)) return bad();
      p.xids.emplace_back(xid);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return p;
  }

  std::string ToString() const {
    std::string s = std::to_string(wm);
    if (xids.empty()) return s;
    s += ":" + std::to_string(floor) + ":";
    for (size_t i = 0; i < xids.size(); ++i) s += (i == 0 ? "" : ",") + xids[i];
    return s;
  }
};

// The change feed (store.h, ChangeQuery). Seqs are taken at insert, not at commit, so a reader
// can see seq 11 while seq 10 is still uncommitted: reading "seq > the last seq read" alone would
// skip 10. Each page is read in one REPEATABLE READ snapshot that also gives the transactions
// still running (pg_current_snapshot(): https://www.postgresql.org/docs/15/functions-info.html,
// "Snapshot Information"); the position keeps them, and the next page also reads the rows they
// wrote at or below the last seq (a range of the primary key, filtered by xmin). A transaction
// takes its id before its first seq (write_sql.cc, kXidFirst), so a transaction missing from the
// list took every one of its seqs after the snapshot, above the last seq read.
Result<ChangePage> PostgresStore::Changes(const ChangeQuery& query) {
  if (closed_) return ClosedError();
  if (query.limit < 1) return Invalid("a change page holds at least one version");
  ASSIGN_OR_RETURN(ChangePosition from, ChangePosition::Parse(query.after));

  std::string types_sql;
  std::string types_array = "{";
  if (!query.types.empty()) {
    for (size_t i = 0; i < query.types.size(); ++i) {
      if (i > 0) types_array += ",";
      types_array += "\"" + query.types[i] + "\"";  // type names: letters only
    }
    types_sql = " AND r.type = ANY($3::text[])";
  }
  types_array += "}";
  std::string xids_array = "{";
  for (size_t i = 0; i < from.xids.size(); ++i) xids_array += (i == 0 ? "" : ",") + from.xids[i];
  xids_array += "}";

  ChangePage page;
  ChangePosition next = from;
  ASSIGN_OR_RETURN(Pool::Lease db, pool_.Acquire());
  RETURN_IF_ERROR(postgres::InTransaction(*db, postgres::Isolation::kRepeatableRead, [&]() {
    // The snapshot is taken by this first statement; the reads below share it.
    ASSIGN_OR_RETURN(Rows snap,
                     db->Query("SELECT COALESCE(string_agg((x::text::int8 % 4294967296)::text,"
                               " ','), ''), (SELECT COALESCE(max(seq), 0) FROM resource)"
                               " FROM pg_snapshot_xip(pg_current_snapshot()) AS x",
                               {}));
    std::vector<std::string> running;
    {
      std::string_view list = snap.Text(0, 0);
      while (!list.empty()) {
        const size_t comma = list.find(',');
        running.emplace_back(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      }
    }
    const int64_t newest = snap.Int(0, 1);
    if (!from.xids.empty()) {
      // Rows of the transactions that were running at the last page, now committed.
      std::vector<Value> params = {from.floor, from.wm, std::string_view(types_array),
                                   std::string_view(xids_array)};
      const std::string sql = std::string("SELECT ") + std::string(kVersionColumns) +
                              " FROM resource r WHERE r.seq > $1 AND r.seq <= $2" + types_sql +
                              (types_sql.empty() ? " AND $3::text IS NOT NULL" : "") +
                              " AND r.xmin = ANY($4::xid[]) AND r.superseded_at IS NULL"
                              " ORDER BY r.seq";
      ASSIGN_OR_RETURN(Rows rows, db->Query(sql, params, postgres::Format::kBinary));
      for (int i = 0; i < rows.size(); ++i) page.versions.push_back(VersionRow(rows, i));
    }
    std::vector<Value> params = {from.wm, static_cast<int64_t>(query.limit) + 1,
                                 std::string_view(types_array)};
    const std::string sql = std::string("SELECT ") + std::string(kVersionColumns) +
                            " FROM resource r WHERE r.seq > $1" + types_sql +
                            (types_sql.empty() ? " AND $3::text IS NOT NULL" : "") +
                            " AND r.superseded_at IS NULL ORDER BY r.seq LIMIT $2";
    ASSIGN_OR_RETURN(Rows rows, db->Query(sql, params, postgres::Format::kBinary));
    int64_t last = from.wm;
    int listed = 0;
    for (int i = 0; i < rows.size(); ++i) {
      if (listed == query.limit) {
        page.has_more = true;
        break;
      }
      page.versions.push_back(VersionRow(rows, i));
      last = rows.Int(i, 0);
      ++listed;
    }
    next.wm = page.has_more ? last : std::max(last, newest);
    // A running transaction that was running at the last page too may hold seqs down to that
    // page's floor; one that started since holds seqs above the last page's wm.
    bool carried = false;
    for (const std::string& x : running) {
      if (std::find(from.xids.begin(), from.xids.end(), x) != from.xids.end()) carried = true;
    }
    next.floor = carried ? std::min(from.floor, from.wm) : from.wm;
    next.xids = std::move(running);
    return Status::Ok();
  }));
  page.next = next.ToString();
  return page;
}

Result<SearchPage> PostgresStore::Search(const SearchQuery& query) {
  if (closed_) return ClosedError();
  ASSIGN_OR_RETURN(Pool::Lease db, pool_.Acquire());
  return RunPostgresSearch(*db, query);
}

// The advisory lock that serialises appends to the audit chain, across every connection and
// node of the database: "vestaaud".
constexpr int64_t kAuditLockKey = 0x7665737461617564;

// One transaction: the lock (held to its end), the head of the chain, the rows by COPY. Appends
// wait for each other at the lock; nothing else does.
Status PostgresStore::AppendAudit(std::span<const AuditAppend> records) {
  if (closed_) return ClosedError();
  if (records.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(Pool::Lease db, pool_.Acquire());
  return postgres::InTransaction(*db, postgres::Isolation::kReadCommitted, [&]() -> Status {
    RETURN_IF_ERROR(
        db->Query("SELECT pg_advisory_xact_lock($1::bigint)", {kAuditLockKey}).status());
    ASSIGN_OR_RETURN(Rows head,
                     db->Query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
    int64_t seq = 0;
    AuditChainer chain;
    if (head.size() == 1) seq = head.Int(0, 0);
    if (!chain.Start(head.size() == 1 ? head.Text(0, 1) : kAuditGenesisHash)) {
      return Internal("the head of the audit chain holds a malformed hash");
    }
    std::string data;
    std::string previous;
    for (const AuditAppend& r : records) {
      previous = chain.previous_hex();
      const std::string& hash = chain.Next(r.record);
      auto text_or_null = [](const std::string& v) {
        return v.empty() ? Value(nullptr) : Value(std::string_view(v));
      };
      const Value row[] = {++seq,
                           r.recorded,
                           postgres::Bytes{r.record},
                           std::string_view(previous),
                           std::string_view(hash),
                           text_or_null(r.patient),
                           text_or_null(r.agent),
                           text_or_null(r.entity),
                           static_cast<int64_t>(r.outcome)};
      postgres::AppendCopyRow(data, row);
    }
    ASSIGN_OR_RETURN(postgres::CopyIn copy,
                     db->CopyFrom("COPY audit_log (seq, recorded, record, previous_hash, hash,"
                                  " patient, agent, entity, outcome) FROM STDIN"));
    RETURN_IF_ERROR(copy.Write(data));
    return copy.End().status();
  });
}

Result<std::vector<AuditEntry>> PostgresStore::ReadAudit(int64_t after_seq, int limit) {
  if (closed_) return ClosedError();
  if (limit < 1) return Invalid("an audit read needs a limit of at least 1");
  ASSIGN_OR_RETURN(Pool::Lease db, pool_.Acquire());
  ASSIGN_OR_RETURN(Rows rows, db->Query("SELECT seq, recorded, record, previous_hash, hash"
                                        " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                                        {after_seq, static_cast<int64_t>(limit)}));
  std::vector<AuditEntry> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(AuditEntry{rows.Int(i, 0), rows.Int(i, 1), rows.Bytes(i, 2),
                             std::string(rows.Text(i, 3)), std::string(rows.Text(i, 4))});
  }
  return out;
}

Result<std::vector<AuditEntry>> PostgresStore::SearchAudit(const AuditSearch& q) {
  if (closed_) return ClosedError();
  if (q.limit < 1) return Invalid("an audit search needs a limit of at least 1");
  // One statement text per combination of filters (each a prepared statement of its own).
  std::string sql = "SELECT seq, recorded, record, previous_hash, hash FROM audit_log WHERE true";
  std::vector<Value> params;
  auto add = [&](std::string_view condition, Value v) {
    params.push_back(v);
    sql += " AND " + std::string(condition) + "$" + std::to_string(params.size());
  };
  if (q.from != 0) add("recorded >= ", q.from);
  if (q.until != 0) add("recorded < ", q.until);
  if (!q.agent.empty()) add("agent = ", std::string_view(q.agent));
  if (!q.entity.empty()) add("entity = ", std::string_view(q.entity));
  if (q.outcome >= 0) add("outcome = ", static_cast<int64_t>(q.outcome));
  if (q.before_seq != 0) add("seq < ", q.before_seq);
  // A patient's records: the block index (007_audit_patient_blocks), a run of blocks at a time,
  // newest first, so that appends stay in the last block's pages.
  const bool by_block = !q.patient.empty();
  size_t blocks_param = 0;
  std::string blocks;  // the run's block numbers, a bigint[] literal
  if (by_block) {
    add("patient = ", std::string_view(q.patient));
    params.push_back(std::string_view(blocks));
    blocks_param = params.size() - 1;
    sql += " AND (seq >> " + std::to_string(kAuditBlockBits) + ") = ANY($" +
           std::to_string(params.size()) + "::bigint[])";
  }
  params.push_back(int64_t{q.limit});
  const size_t limit_param = params.size() - 1;
  sql += " ORDER BY seq DESC LIMIT $" + std::to_string(params.size());
  ASSIGN_OR_RETURN(Pool::Lease db, pool_.Acquire());
  std::vector<AuditEntry> out;
  auto collect = [&]() -> Status {
    ASSIGN_OR_RETURN(Rows rows, db->Query(sql, params));
    for (int i = 0; i < rows.size(); ++i) {
      out.push_back(AuditEntry{rows.Int(i, 0), rows.Int(i, 1), rows.Bytes(i, 2),
                               std::string(rows.Text(i, 3)), std::string(rows.Text(i, 4))});
    }
    return Status::Ok();
  };
  if (!by_block) {
    RETURN_IF_ERROR(collect());
    return out;
  }
  int64_t top = q.before_seq - 1;
  if (q.before_seq == 0) {
    ASSIGN_OR_RETURN(Rows head, db->Query("SELECT coalesce(max(seq), 0) FROM audit_log"));
    top = head.Int(0, 0);
  }
  constexpr int64_t kBlocksPerQuery = 64;
  for (int64_t block = top >> kAuditBlockBits; block >= 0 && std::ssize(out) < q.limit;
       block -= kBlocksPerQuery) {
    blocks = "{";
    for (int64_t b = block; b > block - kBlocksPerQuery && b >= 0; --b) {
      if (b != block) blocks.push_back(',');
      blocks += std::to_string(b);
    }
    blocks.push_back('}');
    params[blocks_param] = std::string_view(blocks);
    params[limit_param] = static_cast<int64_t>(q.limit - std::ssize(out));
    RETURN_IF_ERROR(collect());
  }
  return out;
}

Status PostgresStore::Close() {
  closed_ = true;
  pool_.Close();  // waits for the calls in flight to give their connections back
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresStoreOptions& options) {
  if (options.uri.empty()) return Invalid("the PostgreSQL store needs a connection URI");
  if (options.pool_size < 1) return Invalid("the PostgreSQL store needs a pool of at least 1");
  Pool::Options pool_options;
  pool_options.size = options.pool_size;
  pool_options.acquire_timeout = options.acquire_timeout;
  pool_options.connection = options.connection;
  auto store = std::make_unique<PostgresStore>(options.uri, std::move(pool_options));
  {
    ASSIGN_OR_RETURN(Pool::Lease db, store->pool().Acquire());
    // Write() is durable when it returns: refuse a setting (server, database, role or URI) that
    // would acknowledge commits before their WAL is flushed. Every connection of the pool gets
    // the same settings as this one.
    ASSIGN_OR_RETURN(Rows sync, db->QueryUncached("SELECT current_setting('synchronous_commit')"));
    if (sync.size() == 1 && sync.Text(0, 0) == "off") {
      return Invalid(
          "synchronous_commit is off for this connection (set by the server, the database, the "
          "role or the URI): acknowledged writes could be lost; the PostgreSQL store needs it on");
    }
    RETURN_IF_ERROR(postgres_internal::ApplyMigrations(*db, postgres_internal::EmbeddedMigrations(),
                                                       WallClockMicros()));
  }
  return std::unique_ptr<Store>(std::move(store));
}

Result<int> ActivatePostgresSearchParameters(const std::string& uri,
                                             std::vector<std::string>* skipped) {
  ASSIGN_OR_RETURN(std::unique_ptr<postgres::Connection> db, postgres::Connection::Open(uri, {}));
  return ActivatePostgresSearchParameters(*db, skipped);
}

Status AnalyzePostgresStore(const std::string& uri) {
  ASSIGN_OR_RETURN(std::unique_ptr<postgres::Connection> db, postgres::Connection::Open(uri, {}));
  return db->Exec("ANALYZE");
}

Result<int64_t> ReindexPostgresStore(const std::string& uri) {
  ASSIGN_OR_RETURN(std::unique_ptr<postgres::Connection> db, postgres::Connection::Open(uri, {}));
  RETURN_IF_ERROR(postgres_internal::ApplyMigrations(*db, postgres_internal::EmbeddedMigrations(),
                                                     WallClockMicros()));
  ASSIGN_OR_RETURN(int64_t indexed, ReindexPostgres(*db));
  RETURN_IF_ERROR(db->Exec("ANALYZE"));
  return indexed;
}

}  // namespace vesta::store
