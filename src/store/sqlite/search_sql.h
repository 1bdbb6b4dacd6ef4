// A search plan (search/plan.h) rendered as SQLite SQL over the index tables of
// schema/002_search.sql and 008_composite.sql and the full-text table of 009_text.sql
// (docs/search.md, "How a request becomes SQL").
//
//   ASSIGN_OR_RETURN(search::Plan plan, search::PlanSearch(search::Registry::Active(), spec));
//   store::sql::Sql page = store::sql::PageSql(plan);  // run it, then read resources by seq
//
// Every condition becomes `seq IN (SELECT seq FROM <index table> WHERE key = <the parameter's
// id> AND <value test>)` (or NOT IN) as a list, or `EXISTS (SELECT 1 FROM <index table> WHERE seq =
// r.seq ...)` as a probe of one candidate row, so each one is a range lookup of an index keyed by
// (key, value) or by seq. The parameter's id is a subquery of search_key by (type, param), and a
// token's system one of search_system by URI (schema/020_search_keys.sql). Chains and _has nest
// the same shape. Values are always bound, never spliced into the text. What is SQLite's own: a
// code set is one bound JSON array read with json_each; `near` uses SQLite's math functions;
// _text / _content use FTS5.
//
// Thread-safety: pure functions of the plan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "search/plan.h"

namespace vesta::store::sql {

using SqlArg = search::Value;

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

// The search as a condition over a `search_resource r` row: the types and every condition, the
// first as its list and the others in their forms.
Sql WhereSql(const search::Plan& plan);
// The same without the first condition: what a row the first condition found must also pass.
Sql FilterSql(const search::Plan& plan);
// The first condition's rows (`SELECT seq FROM ...`, one column), when it is a set
// (plan.HasDrivingSet()); nullopt otherwise.
std::optional<Sql> DrivingSetSql(const search::Plan& plan);

// The page: `SELECT seq, k1, k2... FROM ... ORDER BY ... LIMIT count + 1` (one more row than
// the page tells whether there is a next page). Columns: seq, then plan.KeyColumns() keys.
Sql PageSql(const search::Plan& plan);
// Plan::CountThenWalk: whether the driving list holds at least walk_above rows (1 or 0), and
// the page as a walk of the type's rows with every condition probed.
Sql WalkCheckSql(const search::Plan& plan);
Sql WalkPageSql(const search::Plan& plan);

// SELECT count(*) of all matches (no cursor, no limit).
Sql CountSql(const search::Plan& plan);
// _total=estimate (search::EstimateTotal): the driving set's rows, counted from its index;
// its first `limit` rows (one column, the seq); and how many of the seqs in `seqs_json` (a JSON
// array of integers) match the rest of the search. REQUIRES: plan.HasDrivingSet().
Sql SetCountSql(const search::Plan& plan);
Sql SetSampleSql(const search::Plan& plan, int64_t limit);
Sql SampleMatchesSql(const search::Plan& plan, const std::string& seqs_json);

// https://hl7.org/fhir/R4/search.html#include: the rows the resource row `seq` refers to through
// `inc` (or, `reverse`, for _revinclude, the rows that refer to it), at most `limit`.
Sql IncludeSql(const search::IncludeSpec& inc, bool reverse, int64_t seq, int64_t limit);

// One condition's list form (`seq IN (...)`, `seq NOT IN (...)`, or a constant), for tests.
Sql ListSql(const search::Condition& condition);

// A parsed _text / _content value as an FTS5 MATCH expression
// (https://www.sqlite.org/fts5.html#full_text_query_syntax) over the index of schema/009_text.sql
// (one row per current resource, columns `narrative` and `content`): built only from phrases
// quoted here, so that no user text is ever read as FTS5 syntax; kNarrative limits it to the
// `narrative` column.
std::string Fts5MatchExpression(const search::TextQuery& query, search::TextScope scope);
// ParseTextQuery, then Fts5MatchExpression.
Result<std::string> TextMatchExpression(std::string_view value, search::TextScope scope);

}  // namespace vesta::store::sql
