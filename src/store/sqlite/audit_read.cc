#include "store/sqlite/audit_read.h"

#include <iterator>
#include <string>

#include "store/audit_chain.h"
#include "store/sqlite/audit_blocks.h"

namespace vesta::store::sqlite_internal {
namespace {

Result<std::vector<AuditEntry>> Collect(sqlite::Statement& stmt) {
  std::vector<AuditEntry> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(AuditEntry{stmt.Int(0), stmt.Int(1), stmt.Text(2), AuditHashHex(stmt.Text(3)),
                             AuditHashHex(stmt.Text(4))});
  }
  return out;
}

}  // namespace

Result<std::vector<AuditEntry>> ReadAuditRows(sqlite::Connection& db, int64_t after_seq,
                                              int limit) {
  // From the row at after_seq itself, when there is one: rows appended since
  // 018_audit_raw_hash keep no previous hash, which is the hash of the row before.
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db.Prepare("SELECT seq, recorded, record, previous_hash, hash FROM audit_log"
                              " WHERE seq >= ?1 ORDER BY seq LIMIT ?2"));
  stmt.Bind(1, after_seq).Bind(2, static_cast<int64_t>(limit) + 1);
  ASSIGN_OR_RETURN(std::vector<AuditEntry> rows, Collect(stmt));
  std::string previous(kAuditGenesisHash);
  std::vector<AuditEntry> out;
  out.reserve(rows.size());
  for (AuditEntry& e : rows) {
    if (e.seq <= after_seq) {
      previous = e.hash;
      continue;
    }
    if (std::ssize(out) == limit) break;
    if (e.previous_hash.empty()) e.previous_hash = previous;
    previous = e.hash;
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<AuditEntry>> SearchAuditRows(sqlite::Connection& db, const AuditSearch& q) {
  std::string sql = "SELECT seq, recorded, record, previous_hash, hash FROM audit_log WHERE 1";
  if (q.from != 0) sql += " AND recorded >= ?1";
  if (q.until != 0) sql += " AND recorded < ?2";
  if (!q.patient.empty()) sql += " AND patient = ?3";
  if (!q.agent.empty()) sql += " AND agent = ?4";
  if (!q.entity.empty()) sql += " AND entity = ?5";
  if (q.outcome >= 0) sql += " AND outcome = ?6";
  if (q.before_seq != 0) sql += " AND seq < ?7";
  // A patient or a date: the blocks whose summaries may hold a match (audit_blocks.h), newest
  // first, each a rowid range. Otherwise the table newest first.
  const bool by_block = !q.patient.empty() || q.from != 0 || q.until != 0;
  if (by_block) sql += " AND seq >= ?9 AND seq < ?10";
  sql += " ORDER BY seq DESC LIMIT ?8";
  ASSIGN_OR_RETURN(sqlite::Statement stmt, db.Prepare(sql));
  auto bind = [&](int64_t limit) {
    stmt.Bind(1, q.from).Bind(2, q.until).Bind(3, q.patient).Bind(4, q.agent).Bind(5, q.entity);
    stmt.Bind(6, static_cast<int64_t>(q.outcome)).Bind(7, q.before_seq).Bind(8, limit);
  };
  if (!by_block) {
    bind(q.limit);
    return Collect(stmt);
  }
  std::string blocks_sql = "SELECT block, patients FROM audit_block WHERE 1";
  // (Every parameter number appears, so that each may be bound: ?3 names the last.)
  blocks_sql += q.before_seq != 0 ? " AND block <= ?1" : " AND ?1 IS NULL";
  blocks_sql += q.from != 0 ? " AND last_recorded >= ?2" : " AND ?2 IS NULL";
  blocks_sql += q.until != 0 ? " AND first_recorded < ?3" : " AND ?3 IS NULL";
  blocks_sql += " ORDER BY block DESC";
  ASSIGN_OR_RETURN(sqlite::Statement blocks, db.Prepare(blocks_sql));
  if (q.before_seq != 0) blocks.Bind(1, (q.before_seq - 1) >> kAuditBlockBits);
  if (q.from != 0) blocks.Bind(2, q.from);
  if (q.until != 0) blocks.Bind(3, q.until);
  std::vector<AuditEntry> out;
  while (std::ssize(out) < q.limit) {
    ASSIGN_OR_RETURN(bool row, blocks.Step());
    if (!row) break;
    const int64_t block = blocks.Int(0);
    if (!q.patient.empty() && !blocks.IsNull(1) && !AuditBloomMayHold(blocks.Text(1), q.patient)) {
      continue;
    }
    stmt.Reset();
    bind(q.limit - std::ssize(out));
    stmt.Bind(9, block << kAuditBlockBits).Bind(10, (block + 1) << kAuditBlockBits);
    ASSIGN_OR_RETURN(std::vector<AuditEntry> found, Collect(stmt));
    for (AuditEntry& e : found) out.push_back(std::move(e));
  }
  return out;
}

}  // namespace vesta::store::sqlite_internal
