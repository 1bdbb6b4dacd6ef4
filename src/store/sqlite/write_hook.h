// The SQLite store's extension point: extra rows written in the same transaction as a version.
//
// Search index tables (and the compartment table) must change in the same transaction as the
// resource rows they describe. A WriteHook is called by the writer thread once per written
// version, inside the savepoint of the Write() call, after the `resource` and `resource_current`
// rows are in place; whatever it executes through the SqlExecutor commits or rolls back with that
// call. Its tables come from a schema migration (schema/NNN_name.sql). Hooks are installed with
// SqliteStoreOptions::write_hooks (sqlite_store.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "base/status.h"
#include "store/store.h"

namespace vesta::sqlite {
class Connection;
}

namespace vesta::store {

// A value bound to the parameter `?N` (1-based) of a hook's statement (the same alternatives
// as sqlite::Value).
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

// The SqlExecutor over one connection (the store's writer; `vesta reindex`'s own connection).
class ConnectionExecutor final : public SqlExecutor {
 public:
  explicit ConnectionExecutor(sqlite::Connection& db) : db_(db) {}
  Status Execute(std::string_view sql, std::span<const SqlValue> params) override;
  Result<std::optional<std::string>> QueryBytes(std::string_view sql,
                                                std::span<const SqlValue> params) override;

 private:
  sqlite::Connection& db_;
};

// The version just written, as a hook sees it.
struct WrittenVersion {
  const WriteOp& op;  // the caller's operation (type, id, kind, json, document)
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
  // work that depends only on `op` (e.g. extracting search index values with FHIRPath from
  // `op.document`), so that it runs in parallel across callers instead of on the single writer
  // thread. The result is handed to OnWrite as WrittenVersion::prepared. An error fails the
  // Write() call up front.
  virtual Result<std::shared_ptr<const void>> Prepare(const WriteOp& op) {
    (void)op;
    return std::shared_ptr<const void>();
  }
  // Called on the writer thread once the transaction holding `op`'s new `version` has committed
  // (before its caller hears back), with what Prepare() returned for it: from here on that
  // version exists for good. Not called for writes that failed or were rolled back. Must not
  // block.
  virtual void OnCommitted(const WriteOp& op, int64_t version, const void* prepared) {
    (void)op;
    (void)version;
    (void)prepared;
  }
};

}  // namespace vesta::store
