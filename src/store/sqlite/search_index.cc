#include "store/sqlite/search_index.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "base/log.h"
#include "json/parse.h"
#include "search/extract.h"
#include "search/registry.h"
#include "search/text.h"
#include "sqlite/connection.h"
#include "sqlite/reader_pool.h"
#include "store/sqlite/body_codec.h"

namespace vesta::store {
namespace {

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

// Loads body dictionaries inside the current write (sqlite_internal::DecodeBody).
sqlite_internal::DictionaryLoader DictionariesOf(SqlExecutor& sql) {
  return [&sql](int64_t id) {
    const SqlValue arg[] = {id};
    return sql.QueryBytes("SELECT dict FROM body_dictionary WHERE id = ?1", arg);
  };
}

// The resource a version's JSON holds: nullptr for bytes that are not a resource of `type`. The
// REST layer only stores validated resources; other bytes (store tests) are listed in
// search_resource without index rows rather than failing.
const json::Value* ResourceOf(const std::string& type, const json::Document& doc) {
  return doc.root().FindString("resourceType") == type ? &doc.root() : nullptr;
}

// The full-text columns of a version's JSON, as InsertRows wrote them (nothing for bytes that
// are not a resource of `type`).
search::TextRow TextOf(const std::string& type, std::string_view json_text) {
  Result<json::Document> doc = json::Parse(json_text);
  const json::Value* resource = doc.ok() ? ResourceOf(type, *doc) : nullptr;
  return resource != nullptr ? search::ExtractText(*resource) : search::TextRow();
}

search::IndexRows RowsOf(const std::string& type, const json::Document& doc) {
  const json::Value* resource = ResourceOf(type, doc);
  if (resource == nullptr) return search::IndexRows();
  return search::ExtractIndexRows(search::Registry::Active(), *resource);
}

// The index values of a version: from the tree the caller parsed (WriteOp::document), so that a
// write is parsed once, or else from its bytes.
search::IndexRows ExtractRows(const WriteOp& op) {
  if (op.document != nullptr) return RowsOf(op.type, *op.document);
  Result<json::Document> doc = json::Parse(op.json);
  return doc.ok() ? RowsOf(op.type, *doc) : search::IndexRows();
}

// The ids of (type, param) pairs and of code systems in the index tables (schema/
// 020_search_keys.sql). A pair or system not yet known is added in the writer's transaction, with
// the rows that need it. Known ids are kept in memory only once committed: an id added by a write
// that rolls back is gone, and SQLite may give it to another pair later. So a hook's cache holds
// what it read from a committed snapshot (Reload, on a reader connection), and an id found or
// added on the writer is used for that write only, the cache marked stale; a reindex, one
// transaction that commits or rolls back as a whole, keeps what it adds (`trust_uncommitted`).
// Thread-safety: Key and System on the writer thread (or the reindex's); Reload and the
// staleness from any thread.
class SearchKeys {
 public:
  explicit SearchKeys(bool trust_uncommitted) : trust_uncommitted_(trust_uncommitted) {}

  // `reference`: the key of a reference parameter, marked `ref` (what `_revinclude=*` reads).
  Result<int64_t> Key(SqlExecutor& sql, std::string_view type, std::string_view param,
                      bool reference = false) {
    std::string name;
    name.reserve(type.size() + 2 + param.size());
    name.append(type).push_back('\0');
    name.append(param);
    // Reference keys are cached under a name of their own: one found as another kind's (a
    // SearchParameter redefined with another type) goes through the marking below once.
    if (reference) name.push_back('\1');
    if (std::optional<int64_t> id = Cached(keys_, name)) return *id;
    const SqlValue a[] = {type, param, int64_t{reference ? 1 : 0}};
    RETURN_IF_ERROR(
        sql.Execute("INSERT OR IGNORE INTO search_key (type, param, ref) VALUES (?1, ?2, ?3)", a));
    const SqlValue pair[] = {type, param};
    if (reference) {
      RETURN_IF_ERROR(sql.Execute(
          "UPDATE search_key SET ref = 1 WHERE type = ?1 AND param = ?2 AND ref = 0", pair));
    }
    ASSIGN_OR_RETURN(
        std::optional<std::string> id,
        sql.QueryBytes("SELECT id FROM search_key WHERE type = ?1 AND param = ?2", pair));
    return Found(keys_, std::move(name), id);
  }

  Result<int64_t> System(SqlExecutor& sql, std::string_view uri) {
    if (uri.empty()) return 0;  // schema/020: the row (0, '')
    if (std::optional<int64_t> id = Cached(systems_, std::string(uri))) return *id;
    const SqlValue a[] = {uri};
    RETURN_IF_ERROR(sql.Execute("INSERT OR IGNORE INTO search_system (uri) VALUES (?1)", a));
    ASSIGN_OR_RETURN(std::optional<std::string> id,
                     sql.QueryBytes("SELECT id FROM search_system WHERE uri = ?1", a));
    return Found(systems_, std::string(uri), id);
  }

  bool stale() const { return stale_.load(std::memory_order_acquire); }

  // Replaces the cache with every id committed in `db`'s snapshot.
  Status Reload(sqlite::Connection& db) {
    Map keys, systems;
    {
      ASSIGN_OR_RETURN(sqlite::Statement stmt,
                       db.Prepare("SELECT id, type || char(0) || param FROM search_key UNION ALL"
                                  " SELECT id, type || char(0) || param || char(1) FROM"
                                  " search_key WHERE ref = 1"));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) break;
        keys.emplace(stmt.Text(1), stmt.Int(0));
      }
    }
    {
      ASSIGN_OR_RETURN(sqlite::Statement stmt, db.Prepare("SELECT id, uri FROM search_system"));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) break;
        systems.emplace(stmt.Text(1), stmt.Int(0));
      }
    }
    std::unique_lock lock(mu_);
    stale_.store(false, std::memory_order_release);
    keys_ = std::move(keys);
    systems_ = std::move(systems);
    return Status::Ok();
  }

 private:
  using Map = std::unordered_map<std::string, int64_t>;

  std::optional<int64_t> Cached(const Map& map, const std::string& name) {
    std::shared_lock lock(mu_);
    auto it = map.find(name);
    if (it == map.end()) return std::nullopt;
    return it->second;
  }

  Result<int64_t> Found(Map& map, std::string name, const std::optional<std::string>& id) {
    int64_t value = 0;
    if (!id || std::from_chars(id->data(), id->data() + id->size(), value).ec != std::errc()) {
      return Status(StatusCode::kInternal, "the search index could not number its keys");
    }
    if (trust_uncommitted_) {
      std::unique_lock lock(mu_);
      map.emplace(std::move(name), value);
    } else {
      stale_.store(true, std::memory_order_release);
    }
    return value;
  }

  const bool trust_uncommitted_;
  std::shared_mutex mu_;  // guards the maps
  Map keys_;              // "type\0param", and "type\0param\1" if marked ref -> search_key.id
  Map systems_;           // uri -> search_system.id
  std::atomic<bool> stale_ = true;
};

Status InsertRows(SqlExecutor& sql, SearchKeys& keys, const std::string& type,
                  const std::string& id, int64_t seq, int64_t last_updated,
                  const search::IndexRows& rows) {
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
    ASSIGN_OR_RETURN(int64_t key, keys.Key(sql, t, r.param));
    ASSIGN_OR_RETURN(int64_t system, keys.System(sql, r.system));
    const SqlValue a[] = {seq, key, system, std::string_view(r.code), std::string_view(r.text)};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_token (seq, key, sys, code, text)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
                    a));
  }
  for (const auto& r : rows.strings) {
    ASSIGN_OR_RETURN(int64_t key, keys.Key(sql, t, r.param));
    const SqlValue a[] = {seq, key, std::string_view(r.norm), std::string_view(r.exact)};
    RETURN_IF_ERROR(sql.Execute(
        "INSERT INTO search_string (seq, key, norm, exact) VALUES (?1, ?2, ?3, ?4)", a));
  }
  for (const auto& r : rows.dates) {
    ASSIGN_OR_RETURN(int64_t key, keys.Key(sql, t, r.param));
    const SqlValue a[] = {seq, key, r.low, r.high};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_date (seq, key, low, high) VALUES (?1, ?2, ?3, ?4)", a));
  }
  for (const auto& r : rows.numbers) {
    ASSIGN_OR_RETURN(int64_t key, keys.Key(sql, t, r.param));
    const SqlValue a[] = {seq, key, r.value};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_number (seq, key, value) VALUES (?1, ?2, ?3)", a));
  }
  for (const auto& r : rows.quantities) {
    ASSIGN_OR_RETURN(int64_t key, keys.Key(sql, t, r.param));
    ASSIGN_OR_RETURN(int64_t system, keys.System(sql, r.system));
    const SqlValue a[] = {seq,
                          key,
                          r.value,
                          system,
                          std::string_view(r.code),
                          std::string_view(r.canonical_code),
                          r.canonical_value};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_quantity (seq, key, value, sys, code, canonical_code,"
                    " canonical_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    a));
  }
  static_assert(search::kMaxComponents == 3, "the INSERT below names 3 components");
  for (const auto& r : rows.composites) {
    // Every component's 7 columns (schema/008_composite.sql); a part the parameter does not have
    // is bound as the columns' defaults.
    static const search::CompositePart kNone;
    ASSIGN_OR_RETURN(int64_t key, keys.Key(sql, t, r.param));
    SqlValue a[2 + 7 * search::kMaxComponents];
    a[0] = seq;
    a[1] = key;
    for (size_t i = 0; i < search::kMaxComponents; ++i) {
      const search::CompositePart& p = i < r.parts.size() ? r.parts[i] : kNone;
      SqlValue* c = a + 2 + 7 * i;
      c[0] = std::string_view(p.code);
      c[1] = std::string_view(p.system);
      c[2] = std::visit([](auto v) { return SqlValue(v); }, p.low);
      c[3] = std::visit([](auto v) { return SqlValue(v); }, p.high);
      c[4] = std::string_view(p.canonical_code);
      c[5] = p.canonical_low;
      c[6] = p.canonical_high;
    }
    RETURN_IF_ERROR(sql.Execute(
        "INSERT INTO search_composite (seq, key,"
        " code1, system1, low1, high1, canonical_code1, canonical_low1, canonical_high1,"
        " code2, system2, low2, high2, canonical_code2, canonical_low2, canonical_high2,"
        " code3, system3, low3, high3, canonical_code3, canonical_low3, canonical_high3)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18, ?19, ?20, ?21, ?22, ?23)",
        a));
  }
  for (const auto& r : rows.references) {
    // A relative reference written as `Type/id` (most of them) keeps an empty url: its target is
    // the same text, and only references without a target id are searched by url (schema/
    // 006_reference_url_partial.sql). A sort by the parameter puts it back (search_sql.cc).
    const bool url_is_target = !r.target_id.empty() &&
                               r.url.size() == r.target_type.size() + 1 + r.target_id.size() &&
                               r.url.starts_with(r.target_type) &&
                               r.url[r.target_type.size()] == '/' && r.url.ends_with(r.target_id);
    ASSIGN_OR_RETURN(int64_t key, keys.Key(sql, t, r.param, /*reference=*/true));
    const SqlValue a[] = {seq, key, std::string_view(r.target_type), std::string_view(r.target_id),
                          url_is_target ? std::string_view() : std::string_view(r.url)};
    RETURN_IF_ERROR(
        sql.Execute("INSERT INTO search_reference (seq, key, target_type, target_id, url)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
                    a));
  }
  for (const auto& r : rows.uris) {
    ASSIGN_OR_RETURN(int64_t key, keys.Key(sql, t, r.param));
    const SqlValue a[] = {seq, key, std::string_view(r.uri)};
    RETURN_IF_ERROR(sql.Execute("INSERT INTO search_uri (seq, key, uri) VALUES (?1, ?2, ?3)", a));
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

// What the hook's Prepare() hands to OnWrite(): the new version's index rows, and the full-text
// columns of the version it replaces (to remove them from the contentless full-text table).
struct PreparedWrite {
  search::IndexRows rows;
  bool has_replaced = false;     // `replaced_text` was read, for `replaced_version`
  int64_t replaced_version = 0;  // the op's expected version
  search::TextRow replaced_text;
};

// The full-text columns of recently committed versions, by type, id and version, so that the
// write that replaces one can remove its words without reading and parsing it again. Sound
// because a committed version never changes: entries are added only after their commit
// (WriteHook::OnCommitted), and a version is replaced at most once, so an entry is taken out when
// used. Bounded by the bytes of text it holds; the oldest entries go first. Thread-safe.
class CommittedText {
 public:
  explicit CommittedText(size_t max_bytes) : max_bytes_(max_bytes) {}

  void Put(const WriteOp& op, int64_t version, const search::TextRow& text) {
    if (Size(text) > max_bytes_) return;
    std::string key = Key(op.type, op.id, version);
    std::lock_guard lock(mu_);
    if (!entries_.try_emplace(key, text).second) return;
    order_.push_back(std::move(key));
    bytes_ += Size(text);
    while (bytes_ > max_bytes_ && !order_.empty()) {
      auto old = entries_.find(order_.front());
      order_.pop_front();
      if (old == entries_.end()) continue;  // taken already
      bytes_ -= Size(old->second);
      entries_.erase(old);
    }
    // Keys of taken entries stay in order_ until they reach its front; drop them when they
    // outnumber the entries, so that order_ stays proportional to what is kept.
    if (order_.size() > 2 * entries_.size() + 1024) {
      std::erase_if(order_, [&](const std::string& k) { return !entries_.contains(k); });
    }
  }

  // The text of that version, removed from the cache; nullopt when it is not there.
  std::optional<search::TextRow> Take(const WriteOp& op, int64_t version) {
    const std::string key = Key(op.type, op.id, version);
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    std::optional<search::TextRow> text = std::move(it->second);
    bytes_ -= Size(*text);
    entries_.erase(it);
    return text;
  }

 private:
  static size_t Size(const search::TextRow& t) {
    return t.narrative.size() + t.content.size() + 64;
  }
  static std::string Key(const std::string& type, const std::string& id, int64_t version) {
    return type + '/' + id + '/' + std::to_string(version);
  }

  const size_t max_bytes_;
  std::mutex mu_;
  std::unordered_map<std::string, search::TextRow> entries_;
  std::deque<std::string> order_;  // keys put, oldest first (some already taken)
  size_t bytes_ = 0;
};

// Text of recently committed versions kept for the writes that replace them.
constexpr size_t kCommittedTextBytes = size_t{16} << 20;

class SearchIndexHook : public WriteHook {
 public:
  explicit SearchIndexHook(std::shared_ptr<sqlite::ReaderPool> readers)
      : readers_(std::move(readers)), committed_(kCommittedTextBytes) {}

  // Extraction is the costly part: it runs on the caller's thread, in parallel. That includes
  // the full-text columns of the version being replaced: kept from its own write when this
  // process committed it recently, else read back from the store and parsed. The
  // compare-and-set guarantees that if this write happens, it replaces exactly
  // `op.expected_version`.
  Result<std::shared_ptr<const void>> Prepare(const WriteOp& op) override {
    RefreshKeys();
    auto prepared = std::make_shared<PreparedWrite>();
    if (op.kind != WriteKind::kDelete) prepared->rows = ExtractRows(op);
    if (op.expected_version == kExpectNone) return std::shared_ptr<const void>(std::move(prepared));
    if (std::optional<search::TextRow> kept = committed_.Take(op, op.expected_version)) {
      prepared->has_replaced = true;
      prepared->replaced_version = op.expected_version;
      prepared->replaced_text = std::move(*kept);
    } else {
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

  // Keeps the committed version's text (empty for a delete) for the write that replaces it.
  void OnCommitted(const WriteOp& op, int64_t version, const void* prepared) override {
    if (prepared == nullptr) return;
    committed_.Put(op, version, static_cast<const PreparedWrite*>(prepared)->rows.text);
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
        ASSIGN_OR_RETURN(std::optional<std::string> stored,
                         sql.QueryBytes("SELECT json FROM resource WHERE seq = ?1", arg));
        if (stored) {
          ASSIGN_OR_RETURN(std::string json,
                           sqlite_internal::DecodeBody(std::move(*stored), DictionariesOf(sql)));
          RETURN_IF_ERROR(DeleteText(sql, written.previous_seq, TextOf(written.op.type, json)));
        }
      }
    }
    if (written.op.kind == WriteKind::kDelete) return Status::Ok();
    if (prepared != nullptr) {
      return InsertRows(sql, keys_, written.op.type, written.op.id, written.seq,
                        written.op.last_updated, prepared->rows);
    }
    return InsertRows(sql, keys_, written.op.type, written.op.id, written.seq,
                      written.op.last_updated, ExtractRows(written.op));
  }

 private:
  // Reads the committed key and system ids again when the writer had to look one up (a pair or
  // a system the cache did not know: new, or added since by another process). At most every
  // kKeyReloadInterval: until the write that added it commits, a reload does not see it.
  void RefreshKeys() {
    if (!keys_.stale()) return;
    {
      std::lock_guard lock(reload_mu_);
      const auto now = std::chrono::steady_clock::now();
      if (now - last_reload_ < kKeyReloadInterval) return;
      last_reload_ = now;
    }
    Result<sqlite::ReaderPool::Lease> db = readers_->Acquire();
    if (!db.ok()) return;  // the writer looks ids up itself meanwhile
    if (Status s = keys_.Reload(**db); !s.ok()) LogWarning("search keys: " + s.message());
  }

  // The stored JSON of the version `op` expects to replace: "" for a deleted version, nullopt
  // when it is not the current version (then the compare-and-set fails). Through
  // resource_current, whose key every store keeps (a bulk load defers resource_version).
  Result<std::optional<std::string>> ReadVersionJson(const WriteOp& op) {
    ASSIGN_OR_RETURN(sqlite::ReaderPool::Lease db, readers_->Acquire());
    ASSIGN_OR_RETURN(
        sqlite::Statement stmt,
        db->Prepare("SELECT r.json FROM resource_current c JOIN resource r ON r.seq = c.seq"
                    " WHERE c.type = ?1 AND c.id = ?2 AND c.version = ?3"));
    stmt.Bind(1, op.type).Bind(2, op.id).Bind(3, op.expected_version);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    std::optional<std::string> json;
    if (row) {
      ASSIGN_OR_RETURN(json, sqlite_internal::DecodeBody(stmt.Text(0), *db));
    }
    return json;
  }

  static constexpr std::chrono::milliseconds kKeyReloadInterval{20};

  std::shared_ptr<sqlite::ReaderPool> readers_;  // the store's
  CommittedText committed_;
  SearchKeys keys_{/*trust_uncommitted=*/false};
  std::mutex reload_mu_;  // guards last_reload_
  std::chrono::steady_clock::time_point last_reload_;
};

}  // namespace

std::shared_ptr<WriteHook> MakeSearchIndexHook(std::shared_ptr<sqlite::ReaderPool> readers) {
  return std::make_shared<SearchIndexHook>(std::move(readers));
}

Result<int64_t> ReindexSqliteStore(const std::string& directory) {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Connection> db,
                   sqlite::Connection::Open(directory + "/vesta.db", sqlite::Mode::kReadWrite));
  int64_t indexed = 0;
  RETURN_IF_ERROR(sqlite::InTransaction(*db, [&]() -> Status {
    RETURN_IF_ERROR(db->Exec("DELETE FROM search_resource"));
    for (const char* table : kIndexTables) {
      RETURN_IF_ERROR(db->Exec(std::string("DELETE FROM ") + table));
    }
    RETURN_IF_ERROR(db->Exec("INSERT INTO search_text (search_text) VALUES ('delete-all')"));
    // The current versions (superseded_at IS NULL), in batches by seq: memory stays flat.
    ConnectionExecutor exec(*db);
    SearchKeys keys(/*trust_uncommitted=*/true);  // one transaction: all of it commits or none
    int64_t after = 0;
    for (;;) {
      std::vector<WriteOp> ops;
      std::vector<int64_t> seqs;
      {
        ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         db->Prepare("SELECT type, id, json, seq, last_updated FROM resource"
                                     " WHERE seq > ?1 AND superseded_at IS NULL AND deleted = 0"
                                     " ORDER BY seq LIMIT 1000"));
        stmt.Bind(1, after);
        for (;;) {
          ASSIGN_OR_RETURN(bool row, stmt.Step());
          if (!row) break;
          WriteOp op;
          op.type = stmt.Text(0);
          op.id = stmt.Text(1);
          ASSIGN_OR_RETURN(op.json, sqlite_internal::DecodeBody(stmt.Text(2), *db));
          op.last_updated = stmt.Int(4);
          ops.push_back(std::move(op));
          seqs.push_back(stmt.Int(3));
        }
      }
      if (ops.empty()) break;
      for (size_t i = 0; i < ops.size(); ++i) {
        RETURN_IF_ERROR(InsertRows(exec, keys, ops[i].type, ops[i].id, seqs[i], ops[i].last_updated,
                                   ExtractRows(ops[i])));
        ++indexed;
      }
      after = seqs.back();
    }
    // One b-tree for the whole full-text index instead of the segments the inserts left.
    return db->Exec("INSERT INTO search_text (search_text) VALUES ('optimize')");
  }));
  return indexed;
}

Result<int> ActivateStoredSearchParameters(const std::string& directory,
                                           std::vector<std::string>* skipped) {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Connection> db,
                   sqlite::Connection::Open(directory + "/vesta.db", sqlite::Mode::kReadOnly));
  std::vector<std::string> stored;
  {
    ASSIGN_OR_RETURN(sqlite::Statement stmt,
                     db->Prepare("SELECT r.json FROM resource_current c JOIN resource r"
                                 " ON r.seq = c.seq"
                                 " WHERE c.type = 'SearchParameter' AND r.deleted = 0"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(std::string json, sqlite_internal::DecodeBody(stmt.Text(0), *db));
      stored.push_back(std::move(json));
    }
  }
  if (stored.empty()) return 0;
  ASSIGN_OR_RETURN(std::unique_ptr<search::Registry> registry,
                   search::Registry::R4WithSearchParameters(stored, skipped));
  search::Registry::SetActive(std::move(registry));
  return static_cast<int>(stored.size());
}

}  // namespace vesta::store
