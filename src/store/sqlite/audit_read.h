// Internal to the SQLite store: the reads of the audit trail's table (schema/011_audit.sql,
// 012_audit_search.sql) behind Store::ReadAudit and Store::SearchAudit (store/store.h). Appends
// run on the store's writer (sqlite_store.cc).
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "sqlite/connection.h"
#include "store/store.h"

namespace vesta::store::sqlite_internal {

// The records with seq > after_seq in seq order, at most `limit` (>= 1).
Result<std::vector<AuditEntry>> ReadAuditRows(sqlite::Connection& db, int64_t after_seq, int limit);

// The records `q` finds, newest first, at most `q.limit` (>= 1).
Result<std::vector<AuditEntry>> SearchAuditRows(sqlite::Connection& db, const AuditSearch& q);

}  // namespace vesta::store::sqlite_internal
