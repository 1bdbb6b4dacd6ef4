// The analytics database: where materialized views live as plain tables an analyst queries with
// SQL (docs/analytics.md, "Materialized views"). Two kinds, one interface:
//   - SQLite: a file `analytics.db` beside the embedded store (OpenSqliteAnalytics);
//   - PostgreSQL: the schema `analytics` in the store's own database (OpenPostgresAnalytics).
// Each holds, besides the views' tables, a catalog `vesta_views` (one row per materialized view:
// its ViewDefinition, the table, and how far into the store's change feed the table is) and
// `vesta_state` (the catalog's own position in the feed).
//
// A table has a column `_resource` ("Patient/1", indexed) naming the resource each row came
// from, then the view's columns in order, typed from the view (ColumnSqlType). Apply() replaces
// what resources contributed and moves the view's position in one transaction, so a table and
// its position never disagree: a restart resumes where the last commit left off.
//
// Thread-safety: one thread at a time per AnalyticsDb.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace vesta::analytics {

// A cell: NULL, an integer, a real, a boolean or text (JSON text for a collection or a complex
// value).
using Cell = std::variant<std::monostate, int64_t, double, bool, std::string>;

enum class SqlType : uint8_t { kText, kInteger, kReal, kBoolean, kJson };

struct TableColumn {
  std::string name;
  SqlType type = SqlType::kText;
  bool indexed = false;  // a resource or reference key: joins go through it
};

struct TableSpec {
  std::string name;  // the view's name: ^[A-Za-z][A-Za-z0-9_]*$
  std::vector<TableColumn> columns;
};

// One materialized view in the catalog.
struct ViewEntry {
  std::string id;           // the stored ViewDefinition's id
  std::string table;        // its table
  std::string fingerprint;  // of the definition the table was built from
  std::string view_json;    // that definition
  std::string position;     // the change feed position the table is up to date with
  int64_t rows = 0;         // rows in the table
  int64_t skipped = 0;      // resources the view failed on (no rows for them)
  std::string last_error;   // the last of those failures, or why the view cannot be built
  Micros refreshed = 0;     // the last Apply()
};

// What a page of the change feed does to a view's table.
struct Batch {
  std::vector<std::string> cleared;  // resources whose rows are removed first ("Type/id")
  struct Row {
    std::string resource;  // "Type/id"
    std::vector<Cell> cells;
  };
  std::vector<Row> rows;      // then inserted
  std::string from_position;  // the position the batch was read from
  std::string to_position;    // the position after it
  int64_t skipped = 0;        // resources of the page the view failed on
  std::string last_error;     // and the last such failure
};

class AnalyticsDb {
 public:
  virtual ~AnalyticsDb() = default;

  virtual Result<std::vector<ViewEntry>> Catalog() = 0;
  // The catalog's position in the feed of ViewDefinitions ("" at first).
  virtual Result<std::string> CatalogPosition() = 0;
  virtual Status SetCatalogPosition(const std::string& position) = 0;

  // Registers a view and (re)creates its table, empty, at position "": an earlier table of the
  // same view is dropped. kConflict when another view has the table name.
  virtual Status Create(const ViewEntry& entry, const TableSpec& table) = 0;
  // Drops a view's table and catalog row; OK when there is none.
  virtual Status Drop(const std::string& id) = 0;
  // Records why a view cannot be built (its table stays as it is).
  virtual Status SetError(const std::string& id, const std::string& message) = 0;

  // Applies `batch` to view `id`'s table and sets its position to batch.to_position, in one
  // transaction, if the view is still at batch.from_position; false (nothing changed) when
  // another writer moved it first.
  virtual Result<bool> Apply(const std::string& id, const TableSpec& table, const Batch& batch) = 0;

  // Runs a query and returns its rows as text (NULL as ""), for tests and `vesta view table`.
  virtual Result<std::vector<std::vector<std::string>>> Query(const std::string& sql) = 0;

  // A view's table as SQL names it here ("obs" in SQLite, analytics."obs" in PostgreSQL).
  virtual std::string QualifiedTable(const std::string& table) const = 0;

  // Where the database is, for messages ("analytics.db in DIR", "schema analytics").
  virtual std::string Describe() const = 0;
};

// `directory`/analytics.db, created when missing.
Result<std::unique_ptr<AnalyticsDb>> OpenSqliteAnalytics(const std::string& directory);
// The schema `analytics` in the database at `uri`, created when missing.
Result<std::unique_ptr<AnalyticsDb>> OpenPostgresAnalytics(const std::string& uri);

// A SQL identifier, double-quoted (the names are checked before, this only guards).
std::string QuoteIdentifier(const std::string& name);

}  // namespace vesta::analytics
