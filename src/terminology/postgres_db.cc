#include "terminology/postgres_db.h"

#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "postgres/connection.h"
#include "postgres/pool.h"

namespace vesta::terminology::internal {
namespace {

// The key of the transaction-scoped advisory lock that serialises the terminology's writers
// (loaders and migrations), apart from the store's migration lock.
constexpr int64_t kWriteLockKey = 0x7465726d30303031;  // "term0001"

// COPY data is sent in pieces of about this size.
constexpr size_t kCopyChunk = 1 << 20;

// SQLite's spelling of the shared SQL (db.h) in PostgreSQL's: `?N` placeholders become `$N`, and
// `CROSS JOIN ... ON` (SQLite's way of fixing the join order) the inner join it means.
// REQUIRES: no `?` or "CROSS JOIN" inside a string literal of `sql` (none in this folder's SQL).
std::string ToPostgresSql(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('$');
    } else if (sql.compare(i, 11, "CROSS JOIN ") == 0) {
      out += "JOIN ";
      i += 10;
    } else {
      out.push_back(sql[i]);
    }
  }
  return out;
}

std::vector<postgres::Value> Params(std::span<const Value> params) {
  std::vector<postgres::Value> out;
  out.reserve(params.size());
  for (const Value& v : params) {
    std::visit([&](const auto& x) { out.emplace_back(x); }, v);
  }
  return out;
}

Rows Copy(const postgres::Rows& in) {
  Rows rows(in.columns());
  for (int r = 0; r < in.size(); ++r) {
    for (int c = 0; c < in.columns(); ++c) rows.Append(in.Text(r, c), in.IsNull(r, c));
  }
  return rows;
}

class PostgresBulkWriter : public BulkWriter {
 public:
  explicit PostgresBulkWriter(postgres::CopyIn copy) : copy_(std::move(copy)) {}
  Status Add(std::span<const Value> row) override {
    std::vector<postgres::Value> values = Params(row);
    postgres::AppendCopyRow(buffer_, values);
    if (buffer_.size() < kCopyChunk) return Status::Ok();
    Status s = copy_.Write(buffer_);
    buffer_.clear();
    return s;
  }
  Status Finish() override {
    if (!buffer_.empty()) {
      RETURN_IF_ERROR(copy_.Write(buffer_));
      buffer_.clear();
    }
    return copy_.End().status();
  }

 private:
  postgres::CopyIn copy_;
  std::string buffer_;
};

class PostgresDb : public Db {
 public:
  PostgresDb(const std::string& uri, postgres::Pool::Options options)
      : pool_(uri, std::move(options), "PostgreSQL (terminology)") {}
  ~PostgresDb() override { pool_.Close(); }

  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<Rows> Query(std::string_view sql, std::span<const Value> params) override {
    auto it = sql_.find(std::string(sql));
    if (it == sql_.end()) it = sql_.emplace(std::string(sql), ToPostgresSql(sql)).first;
    std::vector<postgres::Value> values = Params(params);
    return Run([&](postgres::Connection& db) { return db.Query(it->second, values); });
  }

  Result<Rows> QueryOnce(std::string_view sql, std::span<const Value> params) override {
    std::string converted = ToPostgresSql(sql);
    std::vector<postgres::Value> values = Params(params);
    return Run([&](postgres::Connection& db) { return db.QueryUncached(converted, values); });
  }

  Status ExecScript(std::string_view sql) override {
    if (!tx_) return Internal("ExecScript outside a transaction");
    return (*tx_)->Exec(sql);
  }

  Status InTransaction(const std::function<Status()>& body) override {
    if (tx_) return Internal("nested terminology transaction");
    ASSIGN_OR_RETURN(postgres::Pool::Lease lease, pool_.Acquire());
    tx_.emplace(std::move(lease));
    Status status = postgres::InTransaction(**tx_, postgres::Isolation::kReadCommitted, [&] {
      RETURN_IF_ERROR(
          (*tx_)->Query("SELECT pg_advisory_xact_lock($1::bigint)", {kWriteLockKey}).status());
      return body();
    });
    tx_.reset();
    return status;
  }

  Result<std::unique_ptr<BulkWriter>> BulkInsert(
      std::string_view table, std::span<const std::string_view> columns) override {
    if (!tx_) return Internal("BulkInsert outside a transaction");
    std::string sql = "COPY " + std::string(table) + " (";
    for (size_t i = 0; i < columns.size(); ++i) {
      sql += (i == 0 ? "" : ", ") + std::string(columns[i]);
    }
    sql += ") FROM STDIN";
    ASSIGN_OR_RETURN(postgres::CopyIn copy, (*tx_)->CopyFrom(sql));
    return std::unique_ptr<BulkWriter>(new PostgresBulkWriter(std::move(copy)));
  }

  Status NoteChange() override {
    return Exec("UPDATE terminology_change SET version = version + 1");
  }

  Result<int64_t> ChangeToken() override {
    ASSIGN_OR_RETURN(Rows rows, Query("SELECT version FROM terminology_change", {}));
    return rows.empty() ? int64_t{0} : rows.Int(0, 0);
  }

 private:
  // Runs `query` on the transaction's connection, or on one lent for it.
  template <typename F>
  Result<Rows> Run(F&& query) {
    if (tx_) {
      ASSIGN_OR_RETURN(postgres::Rows rows, query(**tx_));
      return Copy(rows);
    }
    ASSIGN_OR_RETURN(postgres::Pool::Lease lease, pool_.Acquire());
    ASSIGN_OR_RETURN(postgres::Rows rows, query(*lease));
    return Copy(rows);
  }

  postgres::Pool pool_;
  std::optional<postgres::Pool::Lease> tx_;           // while InTransaction runs
  std::unordered_map<std::string, std::string> sql_;  // SQLite spelling -> PostgreSQL's
};

}  // namespace

Result<std::unique_ptr<Db>> OpenPostgresDb(const std::string& uri, Access access) {
  postgres::Pool::Options options;
  options.size = access == Access::kWrite ? 1 : 2;
  options.connection.application_name = "vesta terminology";
  if (access == Access::kWrite) options.connection.statement_timeout_ms = 0;
  auto db = std::make_unique<PostgresDb>(uri, std::move(options));
  if (access == Access::kRead) {
    ASSIGN_OR_RETURN(Rows rows,
                     db->Query("SELECT to_regclass('terminology_schema_version') IS NOT NULL", {}));
    if (rows.empty() || rows.Text(0, 0) != "t") {
      return NotFound(
          "no terminology in this PostgreSQL database (run `vesta terminology load ... --store "
          "postgresql://...`)");
    }
  }
  return std::unique_ptr<Db>(std::move(db));
}

}  // namespace vesta::terminology::internal
