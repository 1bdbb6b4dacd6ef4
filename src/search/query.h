// A search request (https://hl7.org/fhir/R4/search.html) parsed and planned into SQL over the
// index tables of schema/002_search.sql and 008_composite.sql and the full-text table of
// 009_text.sql (see docs/search.md for the translation).
//
//   search::SearchSpec spec;
//   spec.types = {"Observation"};
//   spec.params = {{"code", "http://loinc.org|8867-4"}};
//   ASSIGN_OR_RETURN(search::Plan plan, search::PlanSearch(search::Registry::R4(), spec));
//   search::Sql page = search::PageSql(plan);   // run it, then read resources by seq
//
// Every condition becomes `seq IN (SELECT seq FROM <index table> WHERE type = ? AND param = ?
// AND <value test>)` (or NOT IN), so each one is a range lookup of an index keyed by
// (type, param, value). Chains and _has nest the same shape. The SQL is the subset SQLite and
// PostgreSQL share, except for long token OR lists (query.cc: their codes are one bound JSON
// array read with SQLite's json_each); values are always bound, never spliced into the text.
//
// Errors: a malformed value, an unsupported modifier or (with strict handling) an unknown
// parameter is kInvalid naming the parameter; the REST layer answers 400.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"
#include "search/registry.h"

namespace vesta::search {

using SqlArg = std::variant<int64_t, double, std::string>;

// SQL text with `?` placeholders and their values in order.
struct Sql {
  std::string text;
  std::vector<SqlArg> args;

  Sql& operator<<(std::string_view s) {
    text += s;
    return *this;
  }
  Sql& Arg(SqlArg a) {
    text += "?";
    args.push_back(std::move(a));
    return *this;
  }
  Sql& Append(const Sql& other) {
    text += other.text;
    args.insert(args.end(), other.args.begin(), other.args.end());
    return *this;
  }
};

enum class Handling { kLenient, kStrict };  // Prefer: handling=... (search.html#errors)
// _total (https://hl7.org/fhir/R4/search.html#total). kDefault: the total only when the whole
// result fits in the first page.
enum class TotalMode { kDefault, kNone, kEstimate, kAccurate };

struct SearchSpec {
  // Resource types searched: one for a type search; several (or none: every type) for a system
  // search with _type.
  std::vector<std::string> types;
  std::vector<std::pair<std::string, std::string>> params;  // decoded query pairs, in order
  std::string compartment_patient;  // Patient/[id]/[type] compartment search: the id
  Handling handling = Handling::kLenient;
  int default_count = 50;
  int max_count = 1000;
  int64_t now_micros = 0;  // for `ap` on dates
  // A driving list at least this long is not collected: the page walks the type's rows instead
  // (Plan::walk_where). Tests lower it.
  int64_t walk_above = 2000;
};

struct SortKey {
  Sql expr;  // over `r` (search_resource) in the page query
  bool descending = false;
};

// _include / _revinclude (https://hl7.org/fhir/R4/search.html#include)
struct IncludeSpec {
  std::string source_type;  // the resource type holding the reference
  std::string param;        // "" for `*`
  std::string target_type;  // "" for any
  bool iterate = false;
};

struct Plan {
  std::vector<std::string> types;  // empty: every type
  Sql where;                       // a condition over search_resource columns seq, type, id
  // When the most selective condition is one equality on a value index (`code=system|code`,
  // `subject=Patient/1`): `SELECT seq AS dseq FROM <index table> WHERE ...`, whose matches the
  // index lists in seq order, and `where` without that condition. An unsorted page then walks
  // the index from the cursor and stops after count + 1 rows instead of collecting every match.
  std::optional<Sql> driver;  // its other conditions: `filter` below
  // Otherwise, for an unsorted page whose every condition can be probed per row: whether the
  // driving condition's list holds at least SearchSpec::walk_above rows (`SELECT count(*) >= ?`
  // over the list stopped there; 1 or 0), and `where` with every condition as a probe. When the
  // list is that long, the driving condition is not selective and walking the type's rows in seq
  // order, probing each, fills a page sooner than collecting the list (WalkPageSql).
  std::optional<Sql> walk_check;
  std::optional<Sql> walk_where;
  // When the driving condition of an unsorted search is a chain (`subject:Patient.family=Smith`):
  // the page walks the references to the inner matches in ("TargetType/id", seq) order through
  // the (type, param, target_type, target_id, seq) index, testing each referring row by `filter`,
  // and stops when the page is full (ChainPageSql). Its cursor carries "TargetType/id" as a key.
  // Otherwise a page would first collect every row referring to every match (every observation
  // of every Smith), a list that grows with the data.
  struct ChainTarget {
    std::string type;  // Patient
    Sql inner;         // the inner condition over the target's search_resource row
  };
  struct ChainOrder {
    std::string type;                  // the referring type (Observation)
    std::string param;                 // its reference parameter (subject)
    std::vector<ChainTarget> targets;  // in the order of "type/" (the key's order)
  };
  std::optional<ChainOrder> chain;
  std::vector<SortKey> sort;  // empty: by seq (insertion order)
  int count = 50;
  TotalMode total = TotalMode::kDefault;
  bool summary_count = false;  // _summary=count: only the total
  std::vector<IncludeSpec> includes;
  std::vector<IncludeSpec> revincludes;
  // Keyset position (from _cursor): the sort key values and seq of the last entry of the
  // previous page.
  std::vector<SqlArg> cursor_keys;
  int64_t cursor_seq = 0;
  bool has_cursor = false;
  // The parameters that were understood, in order, for the self link (no _cursor).
  std::vector<std::pair<std::string, std::string>> used;
  // For _total=estimate: the driving condition's set (`SELECT seq FROM ...`, one column) when the
  // driving condition is `seq IN (<set>)`, and `where` without that condition.
  std::optional<Sql> driving_set;
  Sql filter;
};

Result<Plan> PlanSearch(const Registry& registry, const SearchSpec& spec);

// Location `near` (type special), the one special parameter the planner answers: by the great-
// circle distance from Location.position. Without a distance in the value, this many meters.
bool IsNearParam(std::string_view type, const Param& p);
inline constexpr double kNearDefaultMeters = 10000;

// The page: `SELECT seq, k1, k2... FROM ... ORDER BY ... LIMIT count + 1` (one more row than
// the page tells whether there is a next page). Columns: seq, then KeyColumns(plan).
Sql PageSql(const Plan& plan);
// Columns of a page row after the seq, and keys of its cursor: one per sort key, or the target
// id of a chain-ordered page (Plan::chain).
size_t KeyColumns(const Plan& plan);
// The page as a walk of the type's rows with every condition probed (Plan::walk_where).
Sql WalkPageSql(const Plan& plan);

// SELECT count(*) of all matches (no cursor, no limit).
Sql CountSql(const Plan& plan);

// _total=estimate (https://hl7.org/fhir/R4/search.html#total). When the driving condition is a
// set of rows (`seq IN (SELECT ...)`: any positive parameter condition, a chain, _has, _text, the
// compartment), the total is estimated from that set instead of counted:
//   set_rows   = SetCountSql: the rows of the set, counted from its index without reading them;
//   sample     = SetSampleSql: its first kEstimateSample rows, in the set's index order;
//   matches    = SampleMatchesSql: the distinct resources of the sample that pass the rest of the
//                search (types and other conditions);
//   total      = EstimateTotal(set_rows, sample rows, matches).
// Without such a set (no condition, or only negations, :missing=true, OR across several types)
// the count is exact (CountSql).
inline constexpr int64_t kEstimateSample = 1000;
// SELECT count(*) of the driving set. REQUIRES: plan.driving_set.
Sql SetCountSql(const Plan& plan);
// Its first `limit` rows (one column, the seq). REQUIRES: plan.driving_set.
Sql SetSampleSql(const Plan& plan, int64_t limit);
// How many of the seqs in `seqs_json` (a JSON array of integers) match the rest of the search.
Sql SampleMatchesSql(const Plan& plan, const std::string& seqs_json);
// The estimated total: exact (`matches`) when the sample holds the whole set, else the set's
// rows times the share of sampled rows that are matching resources (a resource with several rows
// in the set, e.g. two matching codes, counts once). The sample is the set's first rows in index
// order (the oldest rows for one value, the lowest values for a range): data whose other
// properties differ between old and new rows skews it.
int64_t EstimateTotal(int64_t set_rows, int64_t sampled_rows, int64_t matches);

// The opaque `_cursor` value for the row after which the next page starts.
std::string EncodeCursor(const std::vector<SqlArg>& keys, int64_t seq);

}  // namespace vesta::search
