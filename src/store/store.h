// The Store interface: versioned resource storage. Backends: sqlite/ (embedded, the default) and,
// later, postgres/. The REST layer links this header only, never a backend.
//
// Model (see docs/storage.md): one row per resource version holding the exact JSON served for
// that version (with id, meta.versionId and meta.lastUpdated already set by the caller). A delete
// is a version too, marked deleted, with no JSON. Version ids are 1, 2, 3... per resource.
//
// Writes use compare-and-set on the current version: the caller reads the current version,
// prepares the next one and writes it stating the version it expects to replace. A concurrent
// writer that got there first makes the write fail with kConflict (the caller retries, or answers
// 412 when the client sent If-Match). Write() is durable when it returns OK: the transaction is
// committed and synced. Concurrent Write() calls are grouped into one commit (group commit), each
// call still all-or-nothing.
//
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "search/spec.h"

namespace vesta::json {
class Document;
}

namespace vesta::store {

// One stored version of a resource.
struct StoredVersion {
  std::string type;
  std::string id;
  int64_t version = 0;
  Micros last_updated = 0;
  bool deleted = false;
  std::string json;  // the exact bytes served; empty when deleted
};

enum class WriteKind { kCreate, kUpdate, kDelete };

// The version a write expects to replace.
//   kNone: the resource must not exist yet (create, update-as-create); version = 1.
//   an integer N >= 1: the current version must be N (it may be a deleted version); the write
//   makes version N + 1.
inline constexpr int64_t kExpectNone = 0;

struct WriteOp {
  WriteKind kind = WriteKind::kCreate;
  std::string type;
  std::string id;
  int64_t expected_version = kExpectNone;
  Micros last_updated = 0;
  std::string json;  // the new version's bytes; must be empty for kDelete
  // Optional: the parsed form of `json` (what json::Parse(json) would give: id and meta set as
  // stored), so that a backend that indexes the resource does not parse the bytes again. The
  // caller keeps it alive until Write() returns, and it must describe `json` exactly: it is
  // trusted, not compared. When absent, a backend that needs the tree parses `json`.
  const json::Document* document = nullptr;
};

// What a successful write made.
struct WriteResult {
  int64_t version = 0;
};

// Keyset position in a history listing (newest first): entries strictly older than this.
struct HistoryCursor {
  Micros last_updated = 0;
  int64_t seq = 0;  // the store's row sequence; breaks ties between equal timestamps
};

struct HistoryQuery {
  std::string type;  // empty: the whole system
  std::string id;    // empty: the whole type (or system)
  // https://hl7.org/fhir/R4/http.html#history
  std::optional<Micros> since;  // _since: only versions with lastUpdated >= since
  // _at: only versions current at some moment in [at_low, at_high] (a date's precision is a
  // range: `_at=2026` is the whole year)
  std::optional<std::pair<Micros, Micros>> at;
  int count = 50;                      // page size, >= 1
  std::optional<HistoryCursor> after;  // the next page starts after this entry
};

struct HistoryEntry {
  StoredVersion version;
  HistoryCursor cursor;  // pass as `after` to continue after this entry
};

struct HistoryPage {
  std::vector<HistoryEntry> entries;  // newest first
  bool has_more = false;
  int64_t total = 0;  // the number of versions matching the query (all pages)
};

// A search (https://hl7.org/fhir/R4/search.html) as the REST layer hands it to the store: the
// decoded query parameters, uninterpreted. The store parses and plans them (src/search) and
// answers kInvalid, naming the parameter, for a request it cannot run.
struct SearchQuery {
  // [type]?...: one type. System search (/?_type=...): empty, the types come from `_type`.
  std::vector<std::string> types;
  std::vector<std::pair<std::string, std::string>> params;  // in order, repeated names kept
  // The codes a token :below, :above, :in or :not-in parameter stands for, by the index of its
  // pair in `params` (the REST layer asks the terminology); search/spec.h, CodeSet.
  std::map<size_t, search::CodeSet> code_sets;
  std::string compartment_patient;  // Patient/[id]/[type]: the patient id; "" otherwise
  bool strict = false;              // Prefer: handling=strict: unknown parameters are errors
  int default_count = 50;
  int max_count = 1000;
  Micros now = 0;  // for date `ap`
  // An unsorted search whose driving condition matches at least this many resources walks the
  // type's rows in order instead of collecting them (docs/search.md). Tests lower it.
  int64_t walk_above = 2000;
};

enum class SearchMode { kMatch, kInclude };  // Bundle.entry.search.mode

struct SearchHit {
  StoredVersion version;
  SearchMode mode = SearchMode::kMatch;
};

struct SearchPage {
  std::vector<SearchHit> entries;  // the matches of this page in order, then included resources
  std::optional<int64_t> total;    // all matches (every page); absent when not computed
  // The parameters the search used, in order, for the self link (unknown ones ignored under
  // lenient handling are left out); paging links add `_cursor`.
  std::vector<std::pair<std::string, std::string>> used_params;
  std::string next_cursor;  // the `_cursor` value of the next page; empty on the last page
};

// The audit trail (docs/security.md, "Audit trail"): one record per request the server answered,
// appended in order to a hash chain. The store assigns each record its sequence number (1, 2,
// 3... with no gap) and its hash, AuditChainHash(the previous record's hash, the record's bytes)
// (store/audit_chain.h; the first record's previous hash is kAuditGenesisHash). Records are never
// changed or removed through the store.
struct AuditAppend {
  Micros recorded = 0;  // when the request was answered
  std::string record;   // the record's bytes (audit/record.h, EncodeStored); kept byte for byte
  // What SearchAudit finds the record by, taken from it (columns beside it, not in the chain's
  // hash: a search shows the stored record itself, which the chain covers).
  std::string patient;  // the patient's id, or ""
  std::string agent;    // the user: "Practitioner/7", or the token's subject; ""
  std::string entity;   // the resource, "Type/id", or ""
  int outcome = 0;      // AuditEvent.outcome: 0, 4 or 8
};

// A search of the audit trail (https://hl7.org/fhir/R4/auditevent.html#search: date, patient,
// agent, entity, outcome), newest first. Empty fields do not restrict.
struct AuditSearch {
  Micros from = 0;   // recorded >= from (0: no bound)
  Micros until = 0;  // recorded < until (0: no bound)
  std::string patient, agent, entity;
  int outcome = -1;        // -1: any
  int64_t before_seq = 0;  // only records older than this one (paging); 0: from the newest
  int limit = 50;          // >= 1
};

struct AuditEntry {
  int64_t seq = 0;
  Micros recorded = 0;
  std::string record;
  std::string previous_hash;  // 64 lower-case hex digits
  std::string hash;           // 64 lower-case hex digits
};

// The change feed (docs/analytics.md, "Materialized views"): what consumers that keep data
// derived from the store up to date (materialized views) read. A page lists, in commit order,
// the versions that were current when it was read among those committed after the position
// `after`; a version already replaced is left out, since its successor comes later in the feed.
// Positions are opaque strings; "" is the beginning. Reading from a saved position after a
// restart misses nothing; a version may be listed again (consumers apply versions
// idempotently: replace what a resource contributed by what its listed version contributes).
struct ChangeQuery {
  std::string after;               // "" or a ChangePage::next
  std::vector<std::string> types;  // only these types; empty: all
  int limit = 1000;                // at most this many versions (>= 1)
};

struct ChangePage {
  std::vector<StoredVersion> versions;  // in commit order; deleted versions have no json
  std::string next;                     // the position after this page
  bool has_more = false;                // another page follows now
};

class Store {
 public:
  virtual ~Store() = default;

  // The current version of a resource, which may be a deleted version (deleted = true).
  // kNotFound when the resource never existed.
  virtual Result<StoredVersion> Read(const std::string& type, const std::string& id) = 0;
  // A specific version. kNotFound when there is no such version.
  virtual Result<StoredVersion> ReadVersion(const std::string& type, const std::string& id,
                                            int64_t version) = 0;
  // Applies all `ops` atomically and durably, in order. On kConflict (an expected version did
  // not match) nothing is written; the Status message names the resource.
  virtual Result<std::vector<WriteResult>> Write(std::span<const WriteOp> ops) = 0;
  virtual Result<HistoryPage> History(const HistoryQuery& query) = 0;
  // Runs a search over the current versions. Backends without search indexes answer
  // kNotSupported. Paging is keyset-based: `_cursor` in `params` continues after a page.
  virtual Result<SearchPage> Search(const SearchQuery& query) {
    (void)query;
    return Status(StatusCode::kNotSupported, "this store does not support search");
  }
  // Appends `records` to the audit chain, in order, in one transaction: all of them or none,
  // durable when it returns OK (as Write()). Appends are serialised against every other writer
  // of the chain (other threads, processes, and PostgreSQL nodes on the same database), so that
  // the chain stays one sequence. Backends without an audit trail answer kNotSupported.
  virtual Status AppendAudit(std::span<const AuditAppend> records) {
    (void)records;
    return Status(StatusCode::kNotSupported, "this store keeps no audit trail");
  }
  // The audit records with seq > after_seq, in seq order, at most `limit` (>= 1) of them, exactly
  // as stored (a reader checking the chain sees what is there, gaps included).
  virtual Result<std::vector<AuditEntry>> ReadAudit(int64_t after_seq, int limit) {
    (void)after_seq;
    (void)limit;
    return Status(StatusCode::kNotSupported, "this store keeps no audit trail");
  }
  // The audit records `query` finds, newest first (by seq), at most `query.limit`. Records
  // appended before the search columns existed are found by date only.
  virtual Result<std::vector<AuditEntry>> SearchAudit(const AuditSearch& query) {
    (void)query;
    return Status(StatusCode::kNotSupported, "this store keeps no audit trail");
  }
  // Removes every version of type/id but its current one, for good: for data that must not be
  // kept once a newer version has replaced it (docs/hl7v2.md, "Retention"). Returns how many
  // versions were removed (0 when the resource has one version). Atomic and durable as Write(),
  // and serialised with the writes of the resource: a Write() that commits first makes its
  // version the one kept; one that commits after adds its version to the one kept. Afterwards
  // History lists the current version alone, and ReadVersion of a removed version is kNotFound.
  // The current version, which may be a deleted version, is untouched: Read, Search and the
  // change feed (which lists current versions only) see no difference, and change feed
  // positions read before stay valid. kNotFound when the resource never existed. Backends
  // without it answer kNotSupported.
  virtual Result<int64_t> ExpungeHistory(const std::string& type, const std::string& id) {
    (void)type;
    (void)id;
    return Status(StatusCode::kNotSupported, "this store cannot remove versions");
  }
  // The change feed after `query.after` (ChangeQuery). Backends without one answer
  // kNotSupported.
  virtual Result<ChangePage> Changes(const ChangeQuery& query) {
    (void)query;
    return Status(StatusCode::kNotSupported, "this store has no change feed");
  }
  // Flushes and closes. Further calls fail with kUnavailable. Idempotent.
  virtual Status Close() = 0;
};

}  // namespace vesta::store
