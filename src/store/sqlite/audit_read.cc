#include "store/sqlite/audit_read.h"

#include <string>

namespace vesta::store::sqlite_internal {
namespace {

Result<std::vector<AuditEntry>> Collect(sqlite::Statement& stmt) {
  std::vector<AuditEntry> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(AuditEntry{stmt.Int(0), stmt.Int(1), stmt.Text(2), stmt.Text(3), stmt.Text(4)});
  }
  return out;
}

}  // namespace

Result<std::vector<AuditEntry>> ReadAuditRows(sqlite::Connection& db, int64_t after_seq,
                                              int limit) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt,
                   db.Prepare("SELECT seq, recorded, record, previous_hash, hash FROM audit_log"
                              " WHERE seq > ?1 ORDER BY seq LIMIT ?2"));
  stmt.Bind(1, after_seq).Bind(2, static_cast<int64_t>(limit));
  return Collect(stmt);
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
  sql += " ORDER BY seq DESC LIMIT ?8";
  ASSIGN_OR_RETURN(sqlite::Statement stmt, db.Prepare(sql));
  stmt.Bind(1, q.from).Bind(2, q.until).Bind(3, q.patient).Bind(4, q.agent).Bind(5, q.entity);
  stmt.Bind(6, static_cast<int64_t>(q.outcome)).Bind(7, q.before_seq);
  stmt.Bind(8, static_cast<int64_t>(q.limit));
  return Collect(stmt);
}

}  // namespace vesta::store::sqlite_internal
