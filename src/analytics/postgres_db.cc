// The analytics database as the schema `analytics` in the PostgreSQL store's database
// (analytics_db.h). Every node of a deployment may run the materializer: Apply() locks the
// view's catalog row and checks its position, so one node applies a page and the others find it
// done.
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "analytics/analytics_db.h"
#include "postgres/connection.h"
#include "postgres/pool.h"

namespace vesta::analytics {
namespace {

using postgres::Pool;
using postgres::Rows;
using postgres::Value;

// The advisory lock that serialises creating the schema and changing the catalog: "vestaana".
constexpr int64_t kCatalogLockKey = 0x76657374616e61;

const char* PostgresType(SqlType type) {
  switch (type) {
    case SqlType::kInteger:
      return "bigint";
    case SqlType::kReal:
      return "numeric";
    case SqlType::kBoolean:
      return "boolean";
    case SqlType::kJson:
      return "jsonb";
    case SqlType::kText:
      return "text";
  }
  return "text";
}

class PostgresAnalytics final : public AnalyticsDb {
 public:
  explicit PostgresAnalytics(std::unique_ptr<Pool> pool) : pool_(std::move(pool)) {}

  // The schema is `analytics` beside a store in `public`; a store kept in another schema S (a
  // search_path in the URI) gets S_analytics, so that stores sharing a database stay apart.
  Status Init() {
    ASSIGN_OR_RETURN(Pool::Lease db, pool_->Acquire());
    ASSIGN_OR_RETURN(Rows current, db->Query("SELECT current_schema()", {}));
    const std::string store_schema = current.size() == 1 ? std::string(current.Text(0, 0)) : "";
    schema_name_ = store_schema.empty() || store_schema == "public" ? "analytics"
                                                                    : store_schema + "_analytics";
    schema_ = QuoteIdentifier(schema_name_);
    return postgres::InTransaction(*db, postgres::Isolation::kReadCommitted, [&]() -> Status {
      RETURN_IF_ERROR(
          db->Query("SELECT pg_advisory_xact_lock($1::int8)", {kCatalogLockKey}).status());
      return db->Exec(
          "CREATE SCHEMA IF NOT EXISTS " + schema_ + ";" + "CREATE TABLE IF NOT EXISTS " + schema_ +
          ".vesta_views ("
          " id text PRIMARY KEY, table_name text NOT NULL UNIQUE, fingerprint text NOT NULL,"
          " view text NOT NULL, position text NOT NULL, rows bigint NOT NULL DEFAULT 0,"
          " skipped bigint NOT NULL DEFAULT 0, last_error text, refreshed bigint);"
          "CREATE TABLE IF NOT EXISTS " +
          schema_ + ".vesta_state (key text PRIMARY KEY, value text NOT NULL);");
    });
  }

  Result<std::vector<ViewEntry>> Catalog() override {
    ASSIGN_OR_RETURN(Pool::Lease db, pool_->Acquire());
    ASSIGN_OR_RETURN(Rows rows,
                     db->Query("SELECT id, table_name, fingerprint, view, position, rows, skipped,"
                               " last_error, refreshed FROM " +
                                   schema_ + ".vesta_views ORDER BY id",
                               {}));
    std::vector<ViewEntry> out;
    for (int i = 0; i < rows.size(); ++i) {
      ViewEntry e;
      e.id = std::string(rows.Text(i, 0));
      e.table = std::string(rows.Text(i, 1));
      e.fingerprint = std::string(rows.Text(i, 2));
      e.view_json = std::string(rows.Text(i, 3));
      e.position = std::string(rows.Text(i, 4));
      e.rows = rows.Int(i, 5);
      e.skipped = rows.Int(i, 6);
      e.last_error = std::string(rows.Text(i, 7));
      e.refreshed = rows.Int(i, 8);
      out.push_back(std::move(e));
    }
    return out;
  }

  Result<std::string> CatalogPosition() override {
    ASSIGN_OR_RETURN(Pool::Lease db, pool_->Acquire());
    ASSIGN_OR_RETURN(
        Rows rows,
        db->Query("SELECT value FROM " + schema_ + ".vesta_state WHERE key = 'catalog'", {}));
    return rows.size() == 1 ? std::string(rows.Text(0, 0)) : std::string();
  }

  Status SetCatalogPosition(const std::string& position) override {
    ASSIGN_OR_RETURN(Pool::Lease db, pool_->Acquire());
    return db
        ->Query("INSERT INTO " + schema_ +
                    ".vesta_state (key, value) VALUES ('catalog', $1::text)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                {std::string_view(position)})
        .status();
  }

  Status Create(const ViewEntry& entry, const TableSpec& table) override {
    ASSIGN_OR_RETURN(Pool::Lease db, pool_->Acquire());
    return postgres::InTransaction(*db, postgres::Isolation::kReadCommitted, [&]() -> Status {
      RETURN_IF_ERROR(
          db->Query("SELECT pg_advisory_xact_lock($1::int8)", {kCatalogLockKey}).status());
      ASSIGN_OR_RETURN(Rows taken,
                       db->Query("SELECT id FROM " + schema_ +
                                     ".vesta_views"
                                     " WHERE table_name = $1::text AND id <> $2::text",
                                 {std::string_view(table.name), std::string_view(entry.id)}));
      if (taken.size() > 0) {
        return Status(StatusCode::kConflict, "the table '" + table.name +
                                                 "' belongs to the view ViewDefinition/" +
                                                 std::string(taken.Text(0, 0)));
      }
      RETURN_IF_ERROR(DropTable(*db, entry.id));
      std::string sql = "CREATE TABLE " + Table(table.name) + " (_resource text NOT NULL";
      for (const TableColumn& c : table.columns) {
        sql += ", " + QuoteIdentifier(c.name) + " " + PostgresType(c.type);
      }
      sql += ")";
      RETURN_IF_ERROR(db->Exec(sql));
      RETURN_IF_ERROR(db->Exec("CREATE INDEX ON " + Table(table.name) + " (_resource)"));
      for (const TableColumn& c : table.columns) {
        if (!c.indexed) continue;
        RETURN_IF_ERROR(db->Exec("CREATE INDEX ON " + Table(table.name) + " (" +
                                 QuoteIdentifier(c.name) + ")"));
      }
      return db
          ->Query("INSERT INTO " + schema_ +
                      ".vesta_views (id, table_name, fingerprint, view, position)"
                      " VALUES ($1::text, $2::text, $3::text, $4::text, '')",
                  {std::string_view(entry.id), std::string_view(table.name),
                   std::string_view(entry.fingerprint), std::string_view(entry.view_json)})
          .status();
    });
  }

  Status Drop(const std::string& id) override {
    ASSIGN_OR_RETURN(Pool::Lease db, pool_->Acquire());
    return postgres::InTransaction(*db, postgres::Isolation::kReadCommitted, [&]() -> Status {
      RETURN_IF_ERROR(
          db->Query("SELECT pg_advisory_xact_lock($1::int8)", {kCatalogLockKey}).status());
      return DropTable(*db, id);
    });
  }

  Status SetError(const std::string& id, const std::string& message) override {
    ASSIGN_OR_RETURN(Pool::Lease db, pool_->Acquire());
    return db
        ->Query("UPDATE " + schema_ + ".vesta_views SET last_error = $2::text WHERE id = $1::text",
                {std::string_view(id), std::string_view(message)})
        .status();
  }

  Result<bool> Apply(const std::string& id, const TableSpec& table, const Batch& batch) override {
    ASSIGN_OR_RETURN(Pool::Lease db, pool_->Acquire());
    bool applied = false;
    RETURN_IF_ERROR(
        postgres::InTransaction(*db, postgres::Isolation::kReadCommitted, [&]() -> Status {
          ASSIGN_OR_RETURN(Rows at, db->Query("SELECT position FROM " + schema_ +
                                                  ".vesta_views"
                                                  " WHERE id = $1::text FOR UPDATE",
                                              {std::string_view(id)}));
          if (at.size() != 1 || at.Text(0, 0) != batch.from_position) return Status::Ok();
          int64_t removed = 0;
          if (!batch.cleared.empty()) {
            std::string keys = "{";
            for (size_t i = 0; i < batch.cleared.size(); ++i) {
              if (i > 0) keys += ",";
              keys += "\"" + batch.cleared[i] + "\"";  // "Type/id": no quote or backslash
            }
            keys += "}";
            ASSIGN_OR_RETURN(Rows del, db->QueryUncached("DELETE FROM " + Table(table.name) +
                                                             " WHERE _resource = ANY($1::text[])",
                                                         {std::string_view(keys)}));
            removed = del.affected();
          }
          if (!batch.rows.empty()) {
            ASSIGN_OR_RETURN(postgres::CopyIn copy,
                             db->CopyFrom("COPY " + Table(table.name) + " FROM STDIN"));
            std::string chunk;
            std::vector<Value> values;
            for (const Batch::Row& row : batch.rows) {
              values.clear();
              values.push_back(std::string_view(row.resource));
              for (const Cell& cell : row.cells) {
                if (const auto* v = std::get_if<int64_t>(&cell)) {
                  values.push_back(*v);
                } else if (const auto* d = std::get_if<double>(&cell)) {
                  values.push_back(*d);
                } else if (const auto* b = std::get_if<bool>(&cell)) {
                  values.push_back(std::string_view(*b ? "t" : "f"));
                } else if (const auto* s = std::get_if<std::string>(&cell)) {
                  values.push_back(std::string_view(*s));
                } else {
                  values.push_back(nullptr);
                }
              }
              postgres::AppendCopyRow(chunk, values);
              if (chunk.size() > (1 << 20)) {
                RETURN_IF_ERROR(copy.Write(chunk));
                chunk.clear();
              }
            }
            if (!chunk.empty()) RETURN_IF_ERROR(copy.Write(chunk));
            RETURN_IF_ERROR(copy.End().status());
          }
          RETURN_IF_ERROR(
              db->Query("UPDATE " + schema_ +
                            ".vesta_views SET position = $2::text, rows = rows + $3::int8,"
                            " skipped = skipped + $4::int8, last_error = coalesce($5::text, "
                            "last_error),"
                            " refreshed = (extract(epoch from clock_timestamp()) * 1000000)::int8"
                            " WHERE id = $1::text",
                        {std::string_view(id), std::string_view(batch.to_position),
                         static_cast<int64_t>(batch.rows.size()) - removed, batch.skipped,
                         batch.last_error.empty() ? Value(nullptr)
                                                  : Value(std::string_view(batch.last_error))})
                  .status());
          applied = true;
          return Status::Ok();
        }));
    return applied;
  }

  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql) override {
    ASSIGN_OR_RETURN(Pool::Lease db, pool_->Acquire());
    ASSIGN_OR_RETURN(Rows rows, db->QueryUncached(sql, {}));
    std::vector<std::vector<std::string>> out;
    for (int i = 0; i < rows.size(); ++i) {
      std::vector<std::string> cells;
      for (int c = 0; c < rows.columns(); ++c) cells.emplace_back(rows.Text(i, c));
      out.push_back(std::move(cells));
    }
    return out;
  }

  std::string QualifiedTable(const std::string& table) const override { return Table(table); }

  std::string Describe() const override { return "the schema " + schema_name_; }

 private:
  std::string Table(const std::string& name) const { return schema_ + "." + QuoteIdentifier(name); }

  Status DropTable(postgres::Connection& db, const std::string& id) {
    ASSIGN_OR_RETURN(Rows found, db.Query("SELECT table_name FROM " + schema_ +
                                              ".vesta_views"
                                              " WHERE id = $1::text",
                                          {std::string_view(id)}));
    if (found.size() == 0) return Status::Ok();
    RETURN_IF_ERROR(db.Exec("DROP TABLE IF EXISTS " + Table(std::string(found.Text(0, 0)))));
    return db
        .Query("DELETE FROM " + schema_ + ".vesta_views WHERE id = $1::text",
               {std::string_view(id)})
        .status();
  }

  std::unique_ptr<Pool> pool_;
  std::string schema_name_;
  std::string schema_;  // quoted
};

}  // namespace

Result<std::unique_ptr<AnalyticsDb>> OpenPostgresAnalytics(const std::string& uri) {
  Pool::Options options;
  options.size = 2;
  auto db = std::make_unique<PostgresAnalytics>(
      std::make_unique<Pool>(uri, options, "the PostgreSQL analytics schema"));
  RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<AnalyticsDb>(std::move(db));
}

}  // namespace vesta::analytics
