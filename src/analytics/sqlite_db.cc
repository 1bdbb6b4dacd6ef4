// The analytics database as a SQLite file beside the embedded store (analytics_db.h).
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "analytics/analytics_db.h"
#include "sqlite/connection.h"

namespace vesta::analytics {
namespace {

using sqlite::Connection;
using sqlite::Statement;

Micros NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// https://www.sqlite.org/datatype3.html: a declared type gives the column its affinity.
const char* SqliteType(SqlType type) {
  switch (type) {
    case SqlType::kInteger:
    case SqlType::kBoolean:
      return "INTEGER";
    case SqlType::kReal:
      return "REAL";
    case SqlType::kText:
    case SqlType::kJson:
      return "TEXT";
  }
  return "TEXT";
}

constexpr std::string_view kSchema =
    "CREATE TABLE IF NOT EXISTS vesta_views ("
    " id TEXT PRIMARY KEY, table_name TEXT NOT NULL UNIQUE, fingerprint TEXT NOT NULL,"
    " view TEXT NOT NULL, position TEXT NOT NULL, rows INTEGER NOT NULL DEFAULT 0,"
    " skipped INTEGER NOT NULL DEFAULT 0, last_error TEXT, refreshed INTEGER);"
    "CREATE TABLE IF NOT EXISTS vesta_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);";

class SqliteAnalytics final : public AnalyticsDb {
 public:
  SqliteAnalytics(std::unique_ptr<Connection> db, std::string path)
      : db_(std::move(db)), path_(std::move(path)) {}

  Result<std::vector<ViewEntry>> Catalog() override {
    ASSIGN_OR_RETURN(Statement stmt,
                     db_->Prepare("SELECT id, table_name, fingerprint, view, position, rows,"
                                  " skipped, last_error, refreshed FROM vesta_views ORDER BY id"));
    std::vector<ViewEntry> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ViewEntry e;
      e.id = stmt.Text(0);
      e.table = stmt.Text(1);
      e.fingerprint = stmt.Text(2);
      e.view_json = stmt.Text(3);
      e.position = stmt.Text(4);
      e.rows = stmt.Int(5);
      e.skipped = stmt.Int(6);
      e.last_error = stmt.Text(7);
      e.refreshed = stmt.Int(8);
      out.push_back(std::move(e));
    }
    return out;
  }

  Result<std::string> CatalogPosition() override {
    ASSIGN_OR_RETURN(Statement stmt,
                     db_->Prepare("SELECT value FROM vesta_state WHERE key = 'catalog'"));
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    return row ? stmt.Text(0) : std::string();
  }

  Status SetCatalogPosition(const std::string& position) override {
    ASSIGN_OR_RETURN(Statement stmt,
                     db_->Prepare("INSERT INTO vesta_state (key, value) VALUES ('catalog', ?1)"
                                  " ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
    stmt.Bind(1, position);
    return stmt.Run();
  }

  Status Create(const ViewEntry& entry, const TableSpec& table) override {
    return sqlite::InTransaction(*db_, [&]() -> Status {
      {
        ASSIGN_OR_RETURN(Statement taken, db_->Prepare("SELECT id FROM vesta_views"
                                                       " WHERE table_name = ?1 AND id <> ?2"));
        taken.Bind(1, table.name).Bind(2, entry.id);
        ASSIGN_OR_RETURN(bool row, taken.Step());
        if (row) {
          return Status(
              StatusCode::kConflict,
              "the table '" + table.name + "' belongs to the view ViewDefinition/" + taken.Text(0));
        }
      }
      RETURN_IF_ERROR(DropTable(entry.id));
      std::string sql = "CREATE TABLE " + QuoteIdentifier(table.name) + " (_resource TEXT NOT NULL";
      for (const TableColumn& c : table.columns) {
        sql += ", " + QuoteIdentifier(c.name) + " " + SqliteType(c.type);
      }
      sql += ")";
      RETURN_IF_ERROR(db_->Exec(sql));
      RETURN_IF_ERROR(db_->Exec("CREATE INDEX " + QuoteIdentifier(table.name + "__resource") +
                                " ON " + QuoteIdentifier(table.name) + " (_resource)"));
      for (const TableColumn& c : table.columns) {
        if (!c.indexed) continue;
        RETURN_IF_ERROR(db_->Exec("CREATE INDEX " + QuoteIdentifier(table.name + "_" + c.name) +
                                  " ON " + QuoteIdentifier(table.name) + " (" +
                                  QuoteIdentifier(c.name) + ")"));
      }
      ASSIGN_OR_RETURN(Statement insert,
                       db_->Prepare("INSERT INTO vesta_views (id, table_name, fingerprint, view,"
                                    " position) VALUES (?1, ?2, ?3, ?4, '')"));
      insert.Bind(1, entry.id)
          .Bind(2, table.name)
          .Bind(3, entry.fingerprint)
          .Bind(4, entry.view_json);
      return insert.Run();
    });
  }

  Status Drop(const std::string& id) override {
    return sqlite::InTransaction(*db_, [&]() { return DropTable(id); });
  }

  Status SetError(const std::string& id, const std::string& message) override {
    ASSIGN_OR_RETURN(Statement stmt,
                     db_->Prepare("UPDATE vesta_views SET last_error = ?2 WHERE id = ?1"));
    stmt.Bind(1, id).Bind(2, message);
    return stmt.Run();
  }

  Result<bool> Apply(const std::string& id, const TableSpec& table, const Batch& batch) override {
    bool applied = false;
    RETURN_IF_ERROR(sqlite::InTransaction(*db_, [&]() -> Status {
      {
        ASSIGN_OR_RETURN(Statement at, db_->Prepare("SELECT position FROM vesta_views"
                                                    " WHERE id = ?1"));
        at.Bind(1, id);
        ASSIGN_OR_RETURN(bool row, at.Step());
        if (!row || at.Text(0) != batch.from_position) return Status::Ok();
      }
      const std::string quoted = QuoteIdentifier(table.name);
      int64_t removed = 0;
      {
        ASSIGN_OR_RETURN(Statement del,
                         db_->PrepareUncached("DELETE FROM " + quoted + " WHERE _resource = ?1"));
        for (const std::string& key : batch.cleared) {
          del.Bind(1, key);
          RETURN_IF_ERROR(del.Run());
          removed += db_->Changes();
        }
      }
      if (!batch.rows.empty()) {
        std::string sql = "INSERT INTO " + quoted + " VALUES (?1";
        for (size_t i = 0; i < table.columns.size(); ++i) sql += ", ?" + std::to_string(i + 2);
        sql += ")";
        ASSIGN_OR_RETURN(Statement ins, db_->PrepareUncached(sql));
        for (const Batch::Row& row : batch.rows) {
          ins.Bind(1, row.resource);
          for (size_t i = 0; i < row.cells.size(); ++i) {
            const int n = static_cast<int>(i + 2);
            const Cell& cell = row.cells[i];
            if (const auto* v = std::get_if<int64_t>(&cell)) {
              ins.Bind(n, *v);
            } else if (const auto* d = std::get_if<double>(&cell)) {
              ins.BindDouble(n, *d);
            } else if (const auto* b = std::get_if<bool>(&cell)) {
              ins.Bind(n, int64_t{*b ? 1 : 0});
            } else if (const auto* s = std::get_if<std::string>(&cell)) {
              ins.Bind(n, std::string_view(*s));
            } else {
              ins.BindNull(n);
            }
          }
          RETURN_IF_ERROR(ins.Run());
        }
      }
      ASSIGN_OR_RETURN(
          Statement moved,
          db_->Prepare("UPDATE vesta_views SET position = ?2, rows = rows + ?3,"
                       " skipped = skipped + ?4, last_error = coalesce(?5, last_error),"
                       " refreshed = ?6 WHERE id = ?1"));
      moved.Bind(1, id)
          .Bind(2, batch.to_position)
          .Bind(3, static_cast<int64_t>(batch.rows.size()) - removed)
          .Bind(4, batch.skipped)
          .BindTextOrNull(5, batch.last_error)
          .Bind(6, NowMicros());
      RETURN_IF_ERROR(moved.Run());
      applied = true;
      return Status::Ok();
    }));
    return applied;
  }

  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql) override {
    ASSIGN_OR_RETURN(Statement stmt, db_->PrepareUncached(sql));
    std::vector<std::vector<std::string>> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      std::vector<std::string> cells;
      for (int i = 0; i < stmt.ColumnCount(); ++i) cells.push_back(stmt.Text(i));
      out.push_back(std::move(cells));
    }
    return out;
  }

  std::string QualifiedTable(const std::string& table) const override {
    return QuoteIdentifier(table);
  }

  std::string Describe() const override { return path_; }

 private:
  // Inside a transaction.
  Status DropTable(const std::string& id) {
    ASSIGN_OR_RETURN(Statement find,
                     db_->Prepare("SELECT table_name FROM vesta_views WHERE id = ?1"));
    find.Bind(1, id);
    ASSIGN_OR_RETURN(bool row, find.Step());
    if (!row) return Status::Ok();
    const std::string table = find.Text(0);
    find.Reset();
    RETURN_IF_ERROR(db_->Exec("DROP TABLE IF EXISTS " + QuoteIdentifier(table)));
    ASSIGN_OR_RETURN(Statement del, db_->Prepare("DELETE FROM vesta_views WHERE id = ?1"));
    del.Bind(1, id);
    return del.Run();
  }

  std::unique_ptr<Connection> db_;
  std::string path_;
};

}  // namespace

std::string QuoteIdentifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Result<std::unique_ptr<AnalyticsDb>> OpenSqliteAnalytics(const std::string& directory) {
  const std::string path = directory + "/analytics.db";
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> db,
                   Connection::Open(path, sqlite::OpenOptions::ReadWrite(
                                              {"journal_mode = WAL", "synchronous = NORMAL"})));
  RETURN_IF_ERROR(db->Exec(kSchema));
  return std::unique_ptr<AnalyticsDb>(new SqliteAnalytics(std::move(db), path));
}

}  // namespace vesta::analytics
