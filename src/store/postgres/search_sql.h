// A search plan (search/plan.h) rendered as PostgreSQL SQL over the index tables of
// schema/002_search.sql: the twin of the SQLite store's renderer (store/sqlite/search_sql.h),
// the same shapes spelled in PostgreSQL's dialect (docs/search.md, "How a plan becomes SQL").
//
//   ASSIGN_OR_RETURN(search::Plan plan, search::PlanSearch(search::Registry::Active(), spec));
//   store::pgsql::Sql page = store::pgsql::PageSql(plan);  // run it, then read resources by seq
//
// Every condition becomes `seq IN (SELECT seq FROM <index table> WHERE type = $1 AND param = $2
// AND <value test>)` (or NOT IN) as a list, or `EXISTS (SELECT 1 FROM <index table> WHERE seq =
// r.seq ...)` as a probe of one candidate row. What differs from SQLite:
//   * placeholders are $1, $2..., each cast to its value's type ($1::text, $2::int8,
//     $3::float8), so that no parameter's type is left to inference;
//   * a code set is one bound text array (`code = ANY($1::text[])`); a prefix is `LIKE 'p%'`,
//     which a "C"-collated b-tree index serves as a range;
//   * SQLite's `+column` (no index for this term) has no equivalent and is left out;
//   * `near` uses PostgreSQL's math functions; _text / _content match a tsquery written by
//     store/postgres/text_search.h against the tsvector columns of search_text;
//   * includes read the references of a whole page in one statement.
// Values are always bound, never spliced into the text.
//
// Thread-safety: pure functions of the plan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "search/plan.h"

namespace vesta::store::pgsql {

using SqlArg = search::Value;

// SQL text and its values in order. While it is built, each placeholder is `?` (no other `?`
// occurs in the text: every value is bound); Text() numbers them $1, $2...
struct Sql {
  std::string text;
  std::vector<SqlArg> args;

  // The text to run, placeholders numbered.
  std::string Text() const;

  Sql& operator<<(std::string_view s) {
    text += s;
    return *this;
  }
  // `?::int8`, `?::float8` or `?::text` by the value's type.
  Sql& Arg(SqlArg a);
  // `?::<type>` for a value whose SQL type is not its C++ one (an array literal: "text[]").
  Sql& Arg(std::string value, std::string_view type);
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

// The page: `SELECT seq, k0, k1... ... ORDER BY ... LIMIT count + 1` (one more row than the page
// tells whether there is a next page). Columns: seq, then plan.KeyColumns() keys.
Sql PageSql(const search::Plan& plan);
// Plan::CountThenWalk: whether the driving list holds at least walk_above rows (1 or 0), and
// the page as a walk of the type's rows with every condition probed.
Sql WalkCheckSql(const search::Plan& plan);
Sql WalkPageSql(const search::Plan& plan);

// SELECT count(*) of all matches (no cursor, no limit).
Sql CountSql(const search::Plan& plan);
// _total=estimate (search::EstimateTotal): the driving set's rows; its first `limit` rows (one
// column, the seq); and how many of `seqs` match the rest of the search.
// REQUIRES: plan.HasDrivingSet().
Sql SetCountSql(const search::Plan& plan);
Sql SetSampleSql(const search::Plan& plan, int64_t limit);
Sql SampleMatchesSql(const search::Plan& plan, const std::vector<int64_t>& seqs);

// https://hl7.org/fhir/R4/search.html#include: the rows the resource rows `seqs` refer to
// through `inc` (or, `reverse`, for _revinclude, the rows that refer to them), at most `limit`.
Sql IncludeSql(const search::IncludeSpec& inc, bool reverse, const std::vector<int64_t>& seqs,
               int64_t limit);

// One condition's list form (`seq IN (...)`, `seq NOT IN (...)`, or a constant), for tests.
Sql ListSql(const search::Condition& condition);

// A PostgreSQL array literal of `values` ({"a","b"} / {1,2}), for a `$n::text[]` or
// `$n::int8[]` parameter.
std::string ArrayLiteral(const std::vector<std::string_view>& values);
std::string ArrayLiteral(const std::vector<int64_t>& values);

}  // namespace vesta::store::pgsql
