// Materialized views (docs/analytics.md, "Materialized views"): ViewDefinitions stored on the
// server and tagged for materialization become tables in the analytics database
// (analytics_db.h), kept up to date from the store's change feed (store.h, Store::Changes).
//
//   analytics::Materializer m(store, *db);
//   m.Start();          // the server: a pass every interval on a thread of its own
//   m.RunOnce();        // `vesta view materialize`: one pass, until every table is caught up
//
// A pass (1) reads the ViewDefinitions written since the catalog's position: a view tagged
// kMaterializeTag whose definition (its fingerprint) is new or changed gets its table created
// afresh, one untagged or deleted loses it; (2) for each view, reads the feed of its resource
// type from the table's position a page at a time and applies each page (the rows of the
// resources listed replace what they contributed before) with the new position, in one
// transaction of the analytics database. A restart resumes from the committed positions:
// nothing is lost, and what is read again replaces itself. Tables lag the store by up to one
// interval plus the time of a pass.
//
// A resource the view fails on (a column that is not a collection gets several values; a value
// that does not fit the column's type) contributes no rows; the view's catalog row counts it
// (`skipped`) and keeps the message (`last_error`).
//
// Thread-safety: RunOnce() is called by one thread at a time (the background thread once
// started). Start()/Stop() from the owner's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "analytics/analytics_db.h"
#include "base/periodic_thread.h"
#include "base/status.h"
#include "json/value.h"
#include "store/store.h"
#include "views/view.h"

namespace vesta::analytics {

// meta.tag of a stored ViewDefinition to be materialized.
inline constexpr std::string_view kMaterializeTagSystem = "urn:vesta:analytics";
inline constexpr std::string_view kMaterializeTagCode = "materialize";

bool MarkedForMaterialization(const json::Value& view);

// A hash of what defines the view's rows (every member but id, meta and text): a view stored
// again unchanged keeps its table.
std::string Fingerprint(const json::Value& view);

// The table of `view`: its columns in order, typed from their declared FHIR types (boolean →
// boolean; integer, positiveInt, unsignedInt, integer64 → integer; decimal → real (numeric in
// PostgreSQL); collections → JSON; the rest, dates included, text), and an index on each column
// whose path calls getResourceKey() or getReferenceKey(). kInvalid when the view has no name
// fit for a table (^[A-Za-z][A-Za-z0-9_]*$, at most 63 characters).
Result<TableSpec> TableFor(const views::View& view);

struct MaterializerOptions {
  int page_size = 1000;                     // versions per page of the feed
  std::chrono::milliseconds interval{250};  // between passes of the background thread
};

struct PassStats {
  int64_t versions = 0;  // resource versions read from the feed
  int64_t rows = 0;      // rows inserted
  int views = 0;         // materialized views
};

class Materializer {
 public:
  Materializer(store::Store& store, AnalyticsDb& db, MaterializerOptions options = {});
  ~Materializer();  // Stop()

  // One pass; with `max_pages` > 0 at most that many pages per view (the background thread's
  // passes stay short), else until every table has caught up with the feed.
  Result<PassStats> RunOnce(int max_pages = 0);

  void Start();
  void Stop();

 private:
  struct Compiled;
  Status SyncCatalog();
  Result<PassStats> CatchUp(const ViewEntry& entry, int max_pages);
  Result<Compiled*> Compile(const ViewEntry& entry);

  store::Store& store_;
  AnalyticsDb& db_;
  MaterializerOptions options_;
  std::map<std::string, std::unique_ptr<Compiled>> compiled_;  // by view id

  std::string last_error_;  // the background passes' last failure, logged once
  PeriodicThread worker_;   // last: stopped before the members its passes use go
};

}  // namespace vesta::analytics
