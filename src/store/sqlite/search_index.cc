#include "store/sqlite/search_index.h"

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <unordered_map>
#include <variant>

#include "json/parse.h"
#include "search/extract.h"
#include "search/query.h"
#include "search/registry.h"
#include "store/sqlite/connection.h"

namespace vesta::store {
namespace {

constexpr int kMaxIncluded = 1000;  // included resources per page
constexpr int kMaxIterate = 3;      // rounds of _include:iterate

// ---- Writing index rows ------------------------------------------------------------------------

constexpr const char* kIndexTables[] = {"search_token",  "search_string",    "search_date",
                                        "search_number", "search_quantity",  "search_reference",
                                        "search_uri",    "search_composite", "search_compartment"};

// Deletes the index rows of `seq` except its full-text row; true when it has one (has_text).
Result<bool> DeleteRows(SqlExecutor& sql, int64_t seq) {
  const SqlValue arg[] = {seq};
  ASSIGN_OR_RETURN(
      std::optional<std::string> has_text,
      sql.QueryBytes("DELETE FROM search_resource WHERE seq = ?1 RETURNING has_text", arg));
  for (const char* table : kIndexTables) {
    RETURN_IF_ERROR(sql.Execute(std::string("DELETE FROM ") + table + " WHERE seq = ?1", arg));
  }
  return has_text.has_value() && *has_text == "1";
}

// The full-text row of `seq` holds exactly `text` (schema/009_text.sql: the table is contentless,
// so FTS5 removes a row's words only given the words it was inserted with).
Status DeleteText(SqlExecutor& sql, int64_t seq, const search::TextRow& text) {
  if (text.empty()) return Status::Ok();  // no row was inserted
  const SqlValue a[] = {seq, std::string_view(text.narrative), std::string_view(text.content)};
  return sql.Execute(
      "INSERT INTO search_text (search_text, rowid, narrative, content)"
      " VALUES ('delete', ?1, ?2, ?3)",
      a);
}

// The full-text columns of a version's JSON, as InsertRows wrote them (ExtractRows: nothing for
// bytes that are not a resource of `type`).
search::TextRow TextOf(const std::string& type, std::string_view json_text) {
  Result<json::Document> doc = json::Parse(json_text);
  if (!doc.ok() || doc->root().FindString("resourceType") != type) return search::TextRow();
  return search::ExtractText(doc->root());
}

// The index values of a resource's JSON. The REST layer only stores validated resources; other
// bytes (store tests) are listed in search_resource without index rows rather than failing.
search::IndexRows ExtractRows(const std::string& type, std::string_view json_text) {
  Result<json::Document> doc = json::Parse(json_text);
  search::IndexRows rows;
  if (doc.ok() && doc->root().FindString("resourceType") == type) {
    rows = search::ExtractIndexRows(search::Registry::Active(), doc->root());
  }
  return rows;
}

Status InsertRows(SqlExecutor& sql, const std::string& type, const std::string& id, int64_t seq,
                  int64_t last_updated, const search::IndexRows& rows) {
  const std::string_view t = type;
  {
    const SqlValue a[] = {seq, t, std::string_view(id), last_updated,
                          int64_t{rows.text.empty() ? 0 : 1}};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_resource (seq, type, id, last_updated, has_text)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
                    a));
  }
  for (const auto& r : rows.tokens) {
    const SqlValue a[] = {seq,
                          t,
                          std::string_view(r.param),
                          std::string_view(r.system),
                          std::string_view(r.code),
                          std::string_view(r.text)};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_token (seq, type, param, system, code, text)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    a));
  }
  for (const auto& r : rows.strings) {
    const SqlValue a[] = {seq, t, std::string_view(r.param), std::string_view(r.norm),
                          std::string_view(r.exact)};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_string (seq, type, param, norm, exact)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
                    a));
  }
  for (const auto& r : rows.dates) {
    const SqlValue a[] = {seq, t, std::string_view(r.param), r.low, r.high};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_date (seq, type, param, low, high)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
                    a));
  }
  for (const auto& r : rows.numbers) {
    const SqlValue a[] = {seq, t, std::string_view(r.param), r.value};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_number (seq, type, param, value)"
                    " VALUES (?1, ?2, ?3, ?4)",
                    a));
  }
  for (const auto& r : rows.quantities) {
    const SqlValue a[] = {seq,
                          t,
                          std::string_view(r.param),
                          r.value,
                          std::string_view(r.system),
                          std::string_view(r.code),
                          std::string_view(r.canonical_code),
                          r.canonical_value};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_quantity (seq, type, param, value, system, code, "
                    "canonical_code, canonical_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    a));
  }
  static_assert(search::kMaxComponents == 3, "the INSERT below names 3 components");
  for (const auto& r : rows.composites) {
    // Every component's 7 columns (schema/008_composite.sql); a part the parameter does not have
    // is bound as the columns' defaults.
    static const search::CompositePart kNone;
    SqlValue a[3 + 7 * search::kMaxComponents];
    a[0] = seq;
    a[1] = t;
    a[2] = std::string_view(r.param);
    for (size_t i = 0; i < search::kMaxComponents; ++i) {
      const search::CompositePart& p = i < r.parts.size() ? r.parts[i] : kNone;
      SqlValue* c = a + 3 + 7 * i;
      c[0] = std::string_view(p.code);
      c[1] = std::string_view(p.system);
      c[2] = std::visit([](auto v) { return SqlValue(v); }, p.low);
      c[3] = std::visit([](auto v) { return SqlValue(v); }, p.high);
      c[4] = std::string_view(p.canonical_code);
      c[5] = p.canonical_low;
      c[6] = p.canonical_high;
    }
    RETURN_IF_ERROR(sql.Execute(
        "INSERT INTO search_composite (seq, type, param,"
        " code1, system1, low1, high1, canonical_code1, canonical_low1, canonical_high1,"
        " code2, system2, low2, high2, canonical_code2, canonical_low2, canonical_high2,"
        " code3, system3, low3, high3, canonical_code3, canonical_low3, canonical_high3)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
        a));
  }
  for (const auto& r : rows.references) {
    const SqlValue a[] = {seq,
                          t,
                          std::string_view(r.param),
                          std::string_view(r.target_type),
                          std::string_view(r.target_id),
                          std::string_view(r.url)};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_reference (seq, type, param, target_type, "
                    "target_id, url) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    a));
  }
  for (const auto& r : rows.uris) {
    const SqlValue a[] = {seq, t, std::string_view(r.param), std::string_view(r.uri)};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_uri (seq, type, param, uri)"
                    " VALUES (?1, ?2, ?3, ?4)",
                    a));
  }
  for (const std::string& p : rows.patients) {
    const SqlValue a[] = {std::string_view(p), seq};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_compartment (patient_id, seq) VALUES (?1, ?2)", a));
  }
  if (!rows.text.empty()) {
    // One full-text row per resource (_text, _content); the writer only tokenizes it.
    const SqlValue a[] = {seq, std::string_view(rows.text.narrative),
                          std::string_view(rows.text.content)};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_text (rowid, narrative, content) VALUES (?1, ?2, ?3)", a));
  }
  return Status::Ok();
}

// ---- A minimal sqlite3 adapter for dynamic SQL (not cached: every search has its own text) ----

Status DbError(sqlite3* db, std::string_view what) {
  return Internal("search: " + std::string(what) + ": " + sqlite3_errmsg(db));
}

class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool read_only) {
    sqlite3* db = nullptr;
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
      Status s = Internal("search: cannot open " + path + ": " +
                          (db ? sqlite3_errmsg(db) : "out of memory"));
      sqlite3_close(db);
      return s;
    }
    sqlite3_busy_timeout(db, 10000);
    if (read_only) sqlite_internal::MapForReading(db);
    return std::unique_ptr<Db>(new Db(db));
  }
  ~Db() {
    for (auto& [sql, stmt] : cached_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  sqlite3* get() { return db_; }

  // From now on, adds the virtual machine steps of every statement run to `*steps` (tests
  // measure how much work a search does with it); nullptr stops counting.
  void CountSteps(int64_t* steps) { steps_ = steps; }

  Status Exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "error";
      sqlite3_free(err);
      return Internal("search: " + m);
    }
    return Status::Ok();
  }

  // Runs `sql`, calling `row(stmt)` for each row. With kCache the prepared statement is kept
  // for the next call with the same text (constant SQL only: search SQL varies per request).
  enum class Cache { kNo, kYes };
  template <typename F>
  Status Query(std::string_view sql, std::span<const search::SqlArg> args, F row,
               Cache cache = Cache::kNo) {
    sqlite3_stmt* stmt = nullptr;
    if (cache == Cache::kYes) {
      auto it = cached_.find(std::string(sql));
      if (it != cached_.end()) stmt = it->second;
    }
    if (stmt == nullptr) {
      if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
          SQLITE_OK) {
        return DbError(db_, "prepare");
      }
      if (cache == Cache::kYes) cached_.emplace(std::string(sql), stmt);
    }
    for (size_t i = 0; i < args.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      if (const int64_t* v = std::get_if<int64_t>(&args[i])) {
        sqlite3_bind_int64(stmt, idx, *v);
      } else if (const double* d = std::get_if<double>(&args[i])) {
        sqlite3_bind_double(stmt, idx, *d);
      } else {
        const std::string& s = std::get<std::string>(args[i]);
        sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      }
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) row(stmt);
    Status status = rc == SQLITE_DONE ? Status::Ok() : DbError(db_, "step");
    if (steps_ != nullptr) *steps_ += sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_VM_STEP, 1);
    if (cache == Cache::kYes) {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    } else {
      sqlite3_finalize(stmt);
    }
    return status;
  }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cached_;
  int64_t* steps_ = nullptr;
};

std::string ColumnText(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  return p ? std::string(static_cast<const char*>(p), n) : std::string();
}

search::SqlArg ColumnArg(sqlite3_stmt* s, int i) {
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER:
      return sqlite3_column_int64(s, i);
    case SQLITE_FLOAT:
      return sqlite3_column_double(s, i);
    default:
      return ColumnText(s, i);
  }
}

// Runs prepared statements for the hook when reindexing outside the store.
class DbExecutor : public SqlExecutor {
 public:
  explicit DbExecutor(Db& db) : db_(db) {}
  Status Execute(std::string_view sql, std::span<const SqlValue> params) override {
    ASSIGN_OR_RETURN(std::vector<search::SqlArg> args, Args(params));
    return db_.Query(
        sql, args, [](sqlite3_stmt*) {}, Db::Cache::kYes);
  }
  Result<std::optional<std::string>> QueryBytes(std::string_view sql,
                                                std::span<const SqlValue> params) override {
    ASSIGN_OR_RETURN(std::vector<search::SqlArg> args, Args(params));
    std::optional<std::string> out;
    RETURN_IF_ERROR(db_.Query(
        sql, args,
        [&](sqlite3_stmt* s) {
          if (!out && sqlite3_column_type(s, 0) != SQLITE_NULL) out = ColumnText(s, 0);
        },
        Db::Cache::kYes));
    return out;
  }

 private:
  static Result<std::vector<search::SqlArg>> Args(std::span<const SqlValue> params) {
    std::vector<search::SqlArg> args;
    for (const SqlValue& v : params) {
      if (const int64_t* i = std::get_if<int64_t>(&v)) {
        args.emplace_back(*i);
      } else if (const double* d = std::get_if<double>(&v)) {
        args.emplace_back(*d);
      } else if (const std::string_view* s = std::get_if<std::string_view>(&v)) {
        args.emplace_back(std::string(*s));
      } else {
        return Internal("search: NULL is not used by the index");
      }
    }
    return args;
  }

  Db& db_;
};

// ---- Searching ---------------------------------------------------------------------------------

// Read-only connections, opened on demand; up to `max_idle` are kept for reuse: a new connection
// reads the schema again and starts with an empty page cache. Searches keep enough for every HTTP
// thread (serve's default is 64) to search at once without opening one per request.
class ReaderPool {
 public:
  ReaderPool(std::string path, size_t max_idle) : path_(std::move(path)), max_idle_(max_idle) {}

  Result<std::unique_ptr<Db>> Take() {
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        std::unique_ptr<Db> db = std::move(free_.back());
        free_.pop_back();
        return db;
      }
    }
    return Db::Open(path_, /*read_only=*/true);
  }
  void Give(std::unique_ptr<Db> db) {
    std::lock_guard lock(mu_);
    if (free_.size() < max_idle_) free_.push_back(std::move(db));
  }

 private:
  std::string path_;
  size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Db>> free_;
};

// What the hook's Prepare() hands to OnWrite(): the new version's index rows, and the full-text
// columns of the version it replaces (to remove them from the contentless full-text table).
struct PreparedWrite {
  search::IndexRows rows;
  bool has_replaced = false;     // `replaced_text` was read, for `replaced_version`
  int64_t replaced_version = 0;  // the op's expected version
  search::TextRow replaced_text;
};

class SearchIndexHook : public WriteHook {
 public:
  // Prepare() runs on every writing request thread at once: keep a connection for each.
  explicit SearchIndexHook(const std::string& directory)
      : readers_(directory + "/vesta.db", /*max_idle=*/64) {}

  // Extraction is the costly part: it runs on the caller's thread, in parallel. That includes
  // the full-text columns of the version being replaced, read back from the store: the
  // compare-and-set guarantees that if this write happens, it replaces exactly
  // `op.expected_version`.
  Result<std::shared_ptr<const void>> Prepare(const WriteOp& op) override {
    auto prepared = std::make_shared<PreparedWrite>();
    if (op.kind != WriteKind::kDelete) prepared->rows = ExtractRows(op.type, op.json);
    if (op.expected_version != kExpectNone) {
      Result<std::optional<std::string>> replaced = ReadVersionJson(op);
      if (replaced.ok() && replaced->has_value()) {
        prepared->has_replaced = true;
        prepared->replaced_version = op.expected_version;
        if (!(*replaced)->empty()) prepared->replaced_text = TextOf(op.type, **replaced);
      }
      // Otherwise (no such version: the compare-and-set will fail; or a read error) OnWrite
      // reads the replaced version itself.
    }
    return std::shared_ptr<const void>(std::move(prepared));
  }

  Status OnWrite(const WrittenVersion& written, SqlExecutor& sql) override {
    const auto* prepared = static_cast<const PreparedWrite*>(written.prepared);
    if (written.previous_seq != 0) {
      // A version without a full-text row (no text, or stored before migration 009 and not yet
      // reindexed) must not be deleted from it: FTS5 would count a row that is not there.
      ASSIGN_OR_RETURN(bool had_text, DeleteRows(sql, written.previous_seq));
      if (had_text && prepared != nullptr && prepared->has_replaced &&
          prepared->replaced_version == written.version - 1) {
        RETURN_IF_ERROR(DeleteText(sql, written.previous_seq, prepared->replaced_text));
      } else if (had_text) {
        // Rare (the same resource written twice in one call): extract here, on the writer.
        const SqlValue arg[] = {written.previous_seq};
        ASSIGN_OR_RETURN(std::optional<std::string> json,
                         sql.QueryBytes("SELECT json FROM resource WHERE seq = ?1", arg));
        if (json) {
          RETURN_IF_ERROR(DeleteText(sql, written.previous_seq, TextOf(written.op.type, *json)));
        }
      }
    }
    if (written.op.kind == WriteKind::kDelete) return Status::Ok();
    if (prepared != nullptr) {
      return InsertRows(sql, written.op.type, written.op.id, written.seq, written.op.last_updated,
                        prepared->rows);
    }
    return InsertRows(sql, written.op.type, written.op.id, written.seq, written.op.last_updated,
                      ExtractRows(written.op.type, written.op.json));
  }

 private:
  // The stored JSON of the version `op` expects to replace: "" for a deleted version, nullopt
  // when there is no such version.
  Result<std::optional<std::string>> ReadVersionJson(const WriteOp& op) {
    ASSIGN_OR_RETURN(std::unique_ptr<Db> db, readers_.Take());
    std::optional<std::string> json;
    const search::SqlArg args[] = {op.type, op.id, op.expected_version};
    Status status = db->Query(
        "SELECT json FROM resource WHERE type = ? AND id = ? AND version = ?", args,
        [&](sqlite3_stmt* s) { json = ColumnText(s, 0); }, Db::Cache::kYes);
    readers_.Give(std::move(db));
    RETURN_IF_ERROR(status);
    return json;
  }

  ReaderPool readers_;
};

search::SearchSpec SpecFor(const SearchQuery& q) {
  search::SearchSpec spec;
  spec.types = q.types;
  spec.params = q.params;
  spec.compartment_patient = q.compartment_patient;
  spec.handling = q.strict ? search::Handling::kStrict : search::Handling::kLenient;
  spec.default_count = q.default_count;
  spec.max_count = q.max_count;
  spec.walk_above = q.walk_above;
  spec.now_micros = q.now;
  return spec;
}

// The resources that `seqs` reference (include) or that reference them (revinclude).
Status FollowIncludes(Db& db, const search::IncludeSpec& inc, bool reverse,
                      const std::vector<int64_t>& seqs, std::set<int64_t>* out) {
  for (int64_t seq : seqs) {
    search::Sql s;
    if (!reverse) {
      s << "SELECT r2.seq FROM search_reference x JOIN search_resource r2"
           " ON r2.type = x.target_type AND r2.id = x.target_id WHERE x.seq = ";
      s.Arg(seq);
      if (inc.source_type != "*") {
        s << " AND x.type = ";
        s.Arg(inc.source_type);
      }
      if (!inc.param.empty()) {
        s << " AND x.param = ";
        s.Arg(inc.param);
      }
    } else {
      s << "SELECT x.seq FROM search_resource me JOIN search_reference x"
           " ON x.target_type = me.type AND x.target_id = me.id WHERE me.seq = ";
      s.Arg(seq);
      if (inc.source_type != "*") {
        s << " AND x.type = ";
        s.Arg(inc.source_type);
      }
      if (!inc.param.empty()) {
        s << " AND x.param = ";
        s.Arg(inc.param);
      }
    }
    if (!inc.target_type.empty()) {
      s << (reverse ? " AND me.type = " : " AND x.target_type = ");
      s.Arg(inc.target_type);
    }
    s << " LIMIT ";
    s.Arg(static_cast<int64_t>(kMaxIncluded));
    RETURN_IF_ERROR(db.Query(s.text, s.args, [&](sqlite3_stmt* st) {
      if (out->size() < static_cast<size_t>(kMaxIncluded)) out->insert(sqlite3_column_int64(st, 0));
    }));
  }
  return Status::Ok();
}

Result<StoredVersion> ReadBySeq(Db& db, int64_t seq) {
  StoredVersion v;
  bool found = false;
  const search::SqlArg arg[] = {seq};
  RETURN_IF_ERROR(
      db.Query("SELECT type, id, version, last_updated, json FROM resource"
               " WHERE seq = ?",
               arg, [&](sqlite3_stmt* s) {
                 v.type = ColumnText(s, 0);
                 v.id = ColumnText(s, 1);
                 v.version = sqlite3_column_int64(s, 2);
                 v.last_updated = sqlite3_column_int64(s, 3);
                 v.json = ColumnText(s, 4);
                 found = true;
               }));
  if (!found) return Internal("search: resource row " + std::to_string(seq) + " is missing");
  return v;
}

// Bundle.total as the plan asks for it (https://hl7.org/fhir/R4/search.html#total): counted,
// estimated (search::EstimateTotal) or, when nullopt, left to the page.
Result<std::optional<int64_t>> ComputeTotal(Db& db, const search::Plan& plan) {
  auto count = [&](const search::Sql& sql) -> Result<int64_t> {
    int64_t n = 0;
    RETURN_IF_ERROR(
        db.Query(sql.text, sql.args, [&](sqlite3_stmt* s) { n = sqlite3_column_int64(s, 0); }));
    return n;
  };
  if (plan.total == search::TotalMode::kEstimate && plan.driving_set) {
    ASSIGN_OR_RETURN(int64_t set_rows, count(search::SetCountSql(plan)));
    std::string seqs = "[";
    int64_t sampled = 0;
    search::Sql sample = search::SetSampleSql(plan, search::kEstimateSample);
    RETURN_IF_ERROR(db.Query(sample.text, sample.args, [&](sqlite3_stmt* s) {
      seqs += (sampled++ > 0 ? "," : "") + std::to_string(sqlite3_column_int64(s, 0));
    }));
    seqs += "]";
    ASSIGN_OR_RETURN(int64_t matches, count(search::SampleMatchesSql(plan, seqs)));
    return std::optional<int64_t>(search::EstimateTotal(set_rows, sampled, matches));
  }
  if (plan.total == search::TotalMode::kEstimate || plan.total == search::TotalMode::kAccurate ||
      plan.summary_count) {
    ASSIGN_OR_RETURN(int64_t n, count(search::CountSql(plan)));
    return std::optional<int64_t>(n);
  }
  return std::optional<int64_t>();
}

Result<SearchPage> RunSearch(Db& db, const SearchQuery& query) {
  ASSIGN_OR_RETURN(search::Plan plan,
                   search::PlanSearch(search::Registry::Active(), SpecFor(query)));
  SearchPage page;
  page.used_params = plan.used;
  // One snapshot for the page, its total and its includes.
  RETURN_IF_ERROR(db.Exec("BEGIN"));
  struct Commit {
    Db& db;
    ~Commit() { (void)db.Exec("COMMIT"); }
  } commit{db};

  ASSIGN_OR_RETURN(page.total, ComputeTotal(db, plan));
  if (plan.summary_count) return page;

  search::Sql sql = search::PageSql(plan);
  if (plan.walk_check) {
    int64_t long_list = 0;
    RETURN_IF_ERROR(db.Query(plan.walk_check->text, plan.walk_check->args,
                             [&](sqlite3_stmt* s) { long_list = sqlite3_column_int64(s, 0); }));
    if (long_list) sql = search::WalkPageSql(plan);
  }
  std::vector<int64_t> seqs;
  std::vector<search::SqlArg> last_keys;
  bool more = false;
  RETURN_IF_ERROR(db.Query(sql.text, sql.args, [&](sqlite3_stmt* s) {
    if (static_cast<int>(seqs.size()) >= plan.count) {
      more = true;
      return;
    }
    seqs.push_back(sqlite3_column_int64(s, 0));
    last_keys.clear();
    for (size_t i = 0; i < search::KeyColumns(plan); ++i) {
      last_keys.push_back(ColumnArg(s, static_cast<int>(i) + 1));
    }
  }));
  if (more && !seqs.empty()) page.next_cursor = search::EncodeCursor(last_keys, seqs.back());
  if (!page.total && plan.total == search::TotalMode::kDefault && !more && !plan.has_cursor) {
    page.total = static_cast<int64_t>(seqs.size());
  }

  std::set<int64_t> included;
  std::vector<int64_t> frontier = seqs;
  for (int round = 0; round < kMaxIterate && !frontier.empty(); ++round) {
    std::set<int64_t> found;
    // https://hl7.org/fhir/R4/search.html#revinclude: only :iterate ones follow included ones.
    for (const auto& inc : plan.includes) {
      if (round > 0 && !inc.iterate) continue;
      RETURN_IF_ERROR(FollowIncludes(db, inc, /*reverse=*/false, frontier, &found));
    }
    for (const auto& inc : plan.revincludes) {
      if (round > 0 && !inc.iterate) continue;
      RETURN_IF_ERROR(FollowIncludes(db, inc, /*reverse=*/true, frontier, &found));
    }
    frontier.clear();
    for (int64_t s : found) {
      if (std::find(seqs.begin(), seqs.end(), s) == seqs.end() && included.insert(s).second) {
        frontier.push_back(s);
      }
    }
  }
  for (int64_t s : seqs) {
    ASSIGN_OR_RETURN(StoredVersion v, ReadBySeq(db, s));
    page.entries.push_back(SearchHit{std::move(v), SearchMode::kMatch});
  }
  for (int64_t s : included) {
    ASSIGN_OR_RETURN(StoredVersion v, ReadBySeq(db, s));
    page.entries.push_back(SearchHit{std::move(v), SearchMode::kInclude});
  }
  return page;
}

class SearchableStore : public Store {
 public:
  SearchableStore(std::unique_ptr<Store> inner, const std::string& directory)
      : inner_(std::move(inner)), readers_(directory + "/vesta.db", /*max_idle=*/8) {}

  Result<StoredVersion> Read(const std::string& type, const std::string& id) override {
    return inner_->Read(type, id);
  }
  Result<StoredVersion> ReadVersion(const std::string& type, const std::string& id,
                                    int64_t version) override {
    return inner_->ReadVersion(type, id, version);
  }
  Result<std::vector<WriteResult>> Write(std::span<const WriteOp> ops) override {
    return inner_->Write(ops);
  }
  Result<HistoryPage> History(const HistoryQuery& query) override { return inner_->History(query); }
  Status Close() override { return inner_->Close(); }

  Result<SearchPage> Search(const SearchQuery& query) override {
    ASSIGN_OR_RETURN(std::unique_ptr<Db> db, readers_.Take());
    Result<SearchPage> page = RunSearch(*db, query);
    readers_.Give(std::move(db));
    return page;
  }

 private:
  std::unique_ptr<Store> inner_;
  ReaderPool readers_;
};

}  // namespace

std::shared_ptr<WriteHook> MakeSearchIndexHook(const std::string& directory) {
  return std::make_shared<SearchIndexHook>(directory);
}

Result<std::unique_ptr<Store>> OpenSqliteStoreWithSearch(const SqliteStoreOptions& options) {
  return OpenSqliteStore(options);  // which installs the hook and adds Search
}

std::unique_ptr<Store> AddSqliteSearch(std::unique_ptr<Store> store, const std::string& directory) {
  return std::make_unique<SearchableStore>(std::move(store), directory);
}

Result<std::vector<std::string>> ExplainSqliteSearch(const std::string& directory,
                                                     const SearchQuery& query) {
  ASSIGN_OR_RETURN(search::Plan plan,
                   search::PlanSearch(search::Registry::Active(), SpecFor(query)));
  ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(directory + "/vesta.db", true));
  search::Sql sql = search::PageSql(plan);
  std::vector<std::string> lines;
  RETURN_IF_ERROR(db->Query("EXPLAIN QUERY PLAN " + sql.text, sql.args,
                            [&](sqlite3_stmt* s) { lines.push_back(ColumnText(s, 3)); }));
  return lines;
}

Result<TotalCost> MeasureSqliteTotal(const std::string& directory, const SearchQuery& query) {
  ASSIGN_OR_RETURN(search::Plan plan,
                   search::PlanSearch(search::Registry::Active(), SpecFor(query)));
  ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(directory + "/vesta.db", true));
  TotalCost cost;
  db->CountSteps(&cost.vm_steps);
  ASSIGN_OR_RETURN(cost.total, ComputeTotal(*db, plan));
  return cost;
}

Result<int64_t> ReindexSqliteStore(const std::string& directory) {
  ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(directory + "/vesta.db", false));
  RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  Status status = db->Exec("DELETE FROM search_resource");
  for (const char* table : kIndexTables) {
    if (status.ok()) status = db->Exec((std::string("DELETE FROM ") + table).c_str());
  }
  if (status.ok()) status = db->Exec("INSERT INTO search_text (search_text) VALUES ('delete-all')");
  struct Row {
    std::string type, id, json;
    int64_t seq, last_updated;
  };
  // The current versions (superseded_at IS NULL), in batches by seq: memory stays flat.
  DbExecutor exec(*db);
  int64_t after = 0, indexed = 0;
  while (status.ok()) {
    std::vector<Row> rows;
    const search::SqlArg arg[] = {after};
    status = db->Query(
        "SELECT type, id, json, seq, last_updated FROM resource"
        " WHERE seq > ? AND superseded_at IS NULL AND deleted = 0 ORDER BY seq LIMIT 1000",
        arg, [&](sqlite3_stmt* s) {
          rows.push_back(Row{ColumnText(s, 0), ColumnText(s, 1), ColumnText(s, 2),
                             sqlite3_column_int64(s, 3), sqlite3_column_int64(s, 4)});
        });
    if (rows.empty()) break;
    for (const Row& r : rows) {
      if (!status.ok()) break;
      status = InsertRows(exec, r.type, r.id, r.seq, r.last_updated, ExtractRows(r.type, r.json));
      ++indexed;
    }
    after = rows.back().seq;
  }
  // One b-tree for the whole full-text index instead of the segments the inserts left.
  if (status.ok()) status = db->Exec("INSERT INTO search_text (search_text) VALUES ('optimize')");
  if (!status.ok()) {
    (void)db->Exec("ROLLBACK");
    return status;
  }
  RETURN_IF_ERROR(db->Exec("COMMIT"));
  return indexed;
}

Result<int> ActivateStoredSearchParameters(const std::string& directory,
                                           std::vector<std::string>* skipped) {
  ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(directory + "/vesta.db", true));
  std::vector<std::string> stored;
  RETURN_IF_ERROR(
      db->Query("SELECT r.json FROM resource_current c JOIN resource r ON r.seq = c.seq"
                " WHERE c.type = 'SearchParameter' AND r.deleted = 0",
                {}, [&](sqlite3_stmt* s) { stored.push_back(ColumnText(s, 0)); }));
  if (stored.empty()) return 0;
  ASSIGN_OR_RETURN(std::unique_ptr<search::Registry> registry,
                   search::Registry::R4WithSearchParameters(stored, skipped));
  search::Registry::SetActive(std::move(registry));
  return static_cast<int>(stored.size());
}

}  // namespace vesta::store
