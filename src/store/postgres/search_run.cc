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

// Runs `sql` once, unprepared (every search has its own text). The args' strings live in `sql`.
Result<postgres::Rows> Run(postgres::Connection& db, const pgsql::Sql& sql) {
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
  return db.QueryUncached(sql.Text(), params);
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
                            {std::string_view(array)}));
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
