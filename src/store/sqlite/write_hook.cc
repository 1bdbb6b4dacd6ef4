#include "store/sqlite/write_hook.h"

#include "sqlite/connection.h"

namespace vesta::store {
namespace {

Result<sqlite::Statement> Bound(sqlite::Connection& db, std::string_view sql,
                                std::span<const SqlValue> params) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt, db.Prepare(sql));
  for (size_t i = 0; i < params.size(); ++i) stmt.BindValue(static_cast<int>(i) + 1, params[i]);
  return stmt;
}

}  // namespace

Status ConnectionExecutor::Execute(std::string_view sql, std::span<const SqlValue> params) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt, Bound(db_, sql, params));
  return stmt.Run();
}

Result<std::optional<std::string>> ConnectionExecutor::QueryBytes(
    std::string_view sql, std::span<const SqlValue> params) {
  ASSIGN_OR_RETURN(sqlite::Statement stmt, Bound(db_, sql, params));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  std::optional<std::string> out;
  if (row && !stmt.IsNull(0)) out = stmt.Text(0);
  return out;
}

}  // namespace vesta::store
