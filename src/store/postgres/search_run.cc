#include "store/postgres/search_run.h"

#include <algorithm>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "postgres/connection.h"
#include "search/parse.h"
#include "search/plan.h"
#include "search/registry.h"
#include "store/postgres/search_sql.h"
#include "store/search_spec.h"

namespace vesta::store {
namespace {

constexpr int kMaxIncluded = 1000;  // included resources per page
constexpr int kMaxIterate = 3;      // rounds of _include:iterate

// Runs `sql`, unprepared unless `prepared`: then prepared on the connection the first time its
// text is seen (postgres::Connection::Query, a bounded number of statements per connection).
// The args' strings live in `sql`.
// `format`: postgres::Format::kBinary for statements whose columns are integers, floats, text or
// bytea only (the page's keys and the resources' columns).
Result<postgres::Rows> Run(postgres::Connection& db, const pgsql::Sql& sql, bool prepared = false,
                           postgres::Format format = postgres::Format::kText) {
  std::vector<postgres::Value> params;
  params.reserve(sql.args.size());
  for (const pgsql::SqlArg& a : sql.args) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) {
            params.emplace_back(std::string_view(v));
          } else {
            params.emplace_back(v);
          }
        },
        a);
  }
  return prepared ? db.Query(sql.Text(), params, format)
                  : db.QueryUncached(sql.Text(), params, format);
}

Result<int64_t> Count(postgres::Connection& db, const pgsql::Sql& sql) {
  ASSIGN_OR_RETURN(postgres::Rows rows, Run(db, sql));
  return rows.size() == 1 ? rows.Int(0, 0) : 0;
}

// A column as a cursor key.
pgsql::SqlArg ColumnArg(const postgres::Rows& rows, int row, int column) {
  switch (rows.Type(column)) {
    case postgres::ColumnType::kInteger:
      return rows.Int(row, column);
    case postgres::ColumnType::kFloat:
      return rows.Double(row, column);
    default:
      return std::string(rows.Text(row, column));
  }
}

// The current versions of `seqs`, in that order, in one statement.
Result<std::vector<StoredVersion>> ReadBySeq(postgres::Connection& db,
                                             const std::vector<int64_t>& seqs) {
  std::vector<StoredVersion> out(seqs.size());
  if (seqs.empty()) return out;
  std::unordered_map<int64_t, size_t> at;
  for (size_t i = 0; i < seqs.size(); ++i) at.emplace(seqs[i], i);
  const std::string array = pgsql::ArrayLiteral(seqs);
  ASSIGN_OR_RETURN(postgres::Rows rows,
                   db.Query("SELECT seq, type, id, version, last_updated, json FROM resource"
                            " WHERE seq = ANY($1::int8[])",
                            {std::string_view(array)}, postgres::Format::kBinary));
  std::vector<bool> found(seqs.size());
  for (int i = 0; i < rows.size(); ++i) {
    auto it = at.find(rows.Int(i, 0));
    if (it == at.end()) continue;
    StoredVersion& v = out[it->second];
    v.type = std::string(rows.Text(i, 1));
    v.id = std::string(rows.Text(i, 2));
    v.version = rows.Int(i, 3);
    v.last_updated = rows.Int(i, 4);
    v.json = rows.Bytes(i, 5);
    found[it->second] = true;
  }
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (!found[i]) {
      return Internal("search: resource row " + std::to_string(seqs[i]) + " is missing");
    }
  }
  return out;
}

// Bundle.total as the plan asks for it (https://hl7.org/fhir/R4/search.html#total): counted,
// estimated (search::EstimateTotal) or, when nullopt, left to the page.
Result<std::optional<int64_t>> ComputeTotal(postgres::Connection& db, const search::Plan& plan) {
  if (plan.total == search::TotalMode::kEstimate && plan.HasDrivingSet()) {
    ASSIGN_OR_RETURN(int64_t set_rows, Count(db, pgsql::SetCountSql(plan)));
    ASSIGN_OR_RETURN(postgres::Rows sample,
                     Run(db, pgsql::SetSampleSql(plan, search::kEstimateSample)));
    std::vector<int64_t> seqs;
    for (int i = 0; i < sample.size(); ++i) seqs.push_back(sample.Int(i, 0));
    ASSIGN_OR_RETURN(int64_t matches, Count(db, pgsql::SampleMatchesSql(plan, seqs)));
    return std::optional<int64_t>(
        search::EstimateTotal(set_rows, static_cast<int64_t>(seqs.size()), matches));
  }
  if (plan.total == search::TotalMode::kEstimate || plan.total == search::TotalMode::kAccurate ||
      plan.summary_count) {
    ASSIGN_OR_RETURN(int64_t n, Count(db, pgsql::CountSql(plan)));
    return std::optional<int64_t>(n);
  }
  return std::optional<int64_t>();
}

// Whether an equality test (or a prefix, rendered as a range), whose rows an index finds
// whatever the value.
bool IsIndexEquality(const search::Test& t) {
  switch (t.kind) {
    case search::Test::Kind::kCompare:
      return t.op == search::Op::kEq || t.op == search::Op::kIn || t.op == search::Op::kStartsWith;
    case search::Test::Kind::kAll:
    case search::Test::Kind::kAny:
      return std::all_of(t.children.begin(), t.children.end(), IsIndexEquality);
    case search::Test::Kind::kNot:
      return false;
  }
  return false;
}

// Whether the page statement may be prepared once per connection and then run with the plan
// PostgreSQL makes without the values (a generic plan, which it picks after five runs when it
// costs no more than the plans made with them): only when there is one way to run it, a single
// positive equality (or compartment, or id) read from its index, unsorted or sorted by search
// parameters (whose keys no index holds in order: the matches are read from the condition's
// index and sorted either way). With two conditions, a range, or a sort by _id or _lastUpdated
// (which search_resource's indexes could walk in order instead), a generic plan cannot see which
// side is selective and may drive from the wrong one (measured: a chain driven from its code
// instead of the patient's name, ten times slower), so such searches are planned with their
// values each time.
bool PreparedPageIsSafe(const search::Plan& plan) {
  if (plan.conditions.size() != 1) return false;
  for (const search::SortKey& key : plan.sort) {
    if (key.source != search::SortKey::Source::kParam) return false;
  }
  const search::Condition& c = plan.conditions[0].condition;
  if (std::holds_alternative<search::CompartmentCondition>(c.test)) return true;
  if (const auto* id = std::get_if<search::IdCondition>(&c.test)) return !id->negated;
  const auto* index = std::get_if<search::IndexCondition>(&c.test);
  return index != nullptr && !index->negated &&
         std::all_of(index->alternatives.begin(), index->alternatives.end(), IsIndexEquality);
}

// Whether the page is all the search reads: no total to count, nothing to include. Such a
// search is one statement (the page joined to its resources), which is its own snapshot: no
// transaction, one round trip; a plan that walks a long list (CountThenWalk) asks first how long
// the list is, in a statement of its own: the answer only chooses between two statements that
// find the same page, so it needs no snapshot shared with the page.
bool IsOneStatement(const search::Plan& plan) {
  return !plan.summary_count && plan.total != search::TotalMode::kEstimate &&
         plan.total != search::TotalMode::kAccurate && plan.includes.empty() &&
         plan.revincludes.empty();
}

// The page's rows with their resources, in the page's order: the page's columns (seq, the keys),
// then type, id, version, last_updated and json. `page`: the page statement (PageSql, or
// WalkPageSql for a long list).
pgsql::Sql PageWithResourcesSql(const pgsql::Sql& page) {
  pgsql::Sql sql;
  sql << "WITH p AS MATERIALIZED (SELECT q.*, row_number() OVER () AS n FROM (";
  sql.Append(page);
  // (The page's first column, its seq, has a name of the plan's choosing: q's alias names it.)
  sql << ") q (page_seq)) SELECT p.*, r.type, r.id, r.version, r.last_updated, r.json FROM p"
         " JOIN resource r ON r.seq = p.page_seq ORDER BY p.n";
  return sql;
}

Status RunOneStatementSearch(postgres::Connection& db, const search::Plan& plan, SearchPage* page) {
  bool long_list = false;
  if (plan.Is<search::Plan::CountThenWalk>()) {
    ASSIGN_OR_RETURN(int64_t n, Count(db, pgsql::WalkCheckSql(plan)));
    long_list = n != 0;
  }
  ASSIGN_OR_RETURN(
      postgres::Rows rows,
      Run(db, PageWithResourcesSql(long_list ? pgsql::WalkPageSql(plan) : pgsql::PageSql(plan)),
          PreparedPageIsSafe(plan), postgres::Format::kBinary));
  const int resource = rows.columns() - 5;  // the first of the resource's columns
  std::vector<pgsql::SqlArg> last_keys;
  int64_t last_seq = 0;
  bool more = false;
  for (int i = 0; i < rows.size(); ++i) {
    if (static_cast<int>(page->entries.size()) >= plan.count) {
      more = true;
      break;
    }
    StoredVersion v;
    v.type = std::string(rows.Text(i, resource));
    v.id = std::string(rows.Text(i, resource + 1));
    v.version = rows.Int(i, resource + 2);
    v.last_updated = rows.Int(i, resource + 3);
    v.json = rows.Bytes(i, resource + 4);
    page->entries.push_back(SearchHit{std::move(v), SearchMode::kMatch});
    last_seq = rows.Int(i, 0);
    last_keys.clear();
    for (size_t k = 0; k < plan.KeyColumns(); ++k) {
      last_keys.push_back(ColumnArg(rows, i, static_cast<int>(k) + 1));
    }
  }
  if (more && !page->entries.empty()) {
    page->next_cursor = search::EncodeCursor(search::Cursor{last_keys, last_seq});
  }
  if (plan.total == search::TotalMode::kDefault && !more && !plan.cursor) {
    page->total = static_cast<int64_t>(page->entries.size());
  }
  return Status::Ok();
}

Status RunSearch(postgres::Connection& db, const search::Plan& plan, SearchPage* page) {
  ASSIGN_OR_RETURN(page->total, ComputeTotal(db, plan));
  if (plan.summary_count) return Status::Ok();

  pgsql::Sql page_sql = pgsql::PageSql(plan);
  if (plan.Is<search::Plan::CountThenWalk>()) {
    ASSIGN_OR_RETURN(int64_t long_list, Count(db, pgsql::WalkCheckSql(plan)));
    if (long_list) page_sql = pgsql::WalkPageSql(plan);
  }
  std::vector<int64_t> seqs;
  std::vector<pgsql::SqlArg> last_keys;
  bool more = false;
  {
    ASSIGN_OR_RETURN(postgres::Rows rows, Run(db, page_sql));
    for (int i = 0; i < rows.size(); ++i) {
      if (static_cast<int>(seqs.size()) >= plan.count) {
        more = true;
        break;
      }
      seqs.push_back(rows.Int(i, 0));
      last_keys.clear();
      for (size_t k = 0; k < plan.KeyColumns(); ++k) {
        last_keys.push_back(ColumnArg(rows, i, static_cast<int>(k) + 1));
      }
    }
  }
  if (more && !seqs.empty()) {
    page->next_cursor = search::EncodeCursor(search::Cursor{last_keys, seqs.back()});
  }
  if (!page->total && plan.total == search::TotalMode::kDefault && !more && !plan.cursor) {
    page->total = static_cast<int64_t>(seqs.size());
  }

  // https://hl7.org/fhir/R4/search.html#revinclude: only :iterate ones follow included ones.
  std::set<int64_t> included;
  std::vector<int64_t> frontier = seqs;
  for (int round = 0; round < kMaxIterate && !frontier.empty(); ++round) {
    std::set<int64_t> found;
    auto follow = [&](const search::IncludeSpec& inc, bool reverse) -> Status {
      if (round > 0 && !inc.iterate) return Status::Ok();
      ASSIGN_OR_RETURN(postgres::Rows rows,
                       Run(db, pgsql::IncludeSql(inc, reverse, frontier, kMaxIncluded)));
      for (int i = 0; i < rows.size() && found.size() < static_cast<size_t>(kMaxIncluded); ++i) {
        found.insert(rows.Int(i, 0));
      }
      return Status::Ok();
    };
    for (const auto& inc : plan.includes) RETURN_IF_ERROR(follow(inc, /*reverse=*/false));
    for (const auto& inc : plan.revincludes) RETURN_IF_ERROR(follow(inc, /*reverse=*/true));
    frontier.clear();
    for (int64_t s : found) {
      if (std::find(seqs.begin(), seqs.end(), s) == seqs.end() && included.insert(s).second) {
        frontier.push_back(s);
      }
    }
  }
  ASSIGN_OR_RETURN(std::vector<StoredVersion> matches, ReadBySeq(db, seqs));
  for (StoredVersion& v : matches) {
    page->entries.push_back(SearchHit{std::move(v), SearchMode::kMatch});
  }
  ASSIGN_OR_RETURN(std::vector<StoredVersion> extra,
                   ReadBySeq(db, std::vector<int64_t>(included.begin(), included.end())));
  for (StoredVersion& v : extra) {
    page->entries.push_back(SearchHit{std::move(v), SearchMode::kInclude});
  }
  return Status::Ok();
}

}  // namespace

Result<SearchPage> RunPostgresSearch(postgres::Connection& db, const SearchQuery& query) {
  ASSIGN_OR_RETURN(search::Plan plan,
                   search::PlanSearch(search::Registry::Active(), SpecFor(query)));
  SearchPage page;
  page.used_params = plan.used;
  if (IsOneStatement(plan)) {
    RETURN_IF_ERROR(RunOneStatementSearch(db, plan, &page));
    return page;
  }
  // One snapshot for the page, its total and its includes.
  RETURN_IF_ERROR(postgres::InTransaction(db, postgres::Isolation::kRepeatableRead,
                                          [&] { return RunSearch(db, plan, &page); }));
  return page;
}

Result<std::vector<std::string>> ExplainPostgresSearch(postgres::Connection& db,
                                                       const SearchQuery& query) {
  ASSIGN_OR_RETURN(search::Plan plan,
                   search::PlanSearch(search::Registry::Active(), SpecFor(query)));
  pgsql::Sql explain;
  explain << "EXPLAIN (FORMAT TEXT) ";
  explain.Append(pgsql::PageSql(plan));
  ASSIGN_OR_RETURN(postgres::Rows rows, Run(db, explain));
  std::vector<std::string> lines;
  for (int i = 0; i < rows.size(); ++i) lines.emplace_back(rows.Text(i, 0));
  return lines;
}

}  // namespace vesta::store
