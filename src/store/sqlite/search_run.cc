#include "store/sqlite/search_run.h"

#include <algorithm>
#include <memory>
#include <set>
#include <span>
#include <type_traits>
#include <utility>
#include <variant>

#include "search/parse.h"
#include "search/plan.h"
#include "search/registry.h"
#include "sqlite/connection.h"
#include "store/search_spec.h"
#include "store/sqlite/body_codec.h"
#include "store/sqlite/search_sql.h"

namespace vesta::store {
namespace {

constexpr int kMaxIncluded = 1000;  // included resources per page
constexpr int kMaxIterate = 3;      // rounds of _include:iterate

// ---- Search SQL on a connection -----------------------------------------------------------------

// Binds `args` to ?1, ?2...: the one place that knows the shape of sql::SqlArg.
void BindArgs(sqlite::Statement& stmt, std::span<const sql::SqlArg> args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, int64_t>) {
            stmt.Bind(index, v);
          } else if constexpr (std::is_same_v<T, double>) {
            stmt.BindDouble(index, v);
          } else {
            stmt.Bind(index, std::string_view(v));
          }
        },
        args[i]);
  }
}

// A column as a cursor key.
sql::SqlArg ColumnArg(const sqlite::Statement& s, int i) {
  switch (s.Type(i)) {
    case sqlite::ColumnType::kInteger:
      return s.Int(i);
    case sqlite::ColumnType::kFloat:
      return s.Double(i);
    default:
      return s.Text(i);
  }
}

// Runs search SQL on one connection, uncached (every search has its own text), and optionally
// adds up the virtual machine steps of what it runs (tests measure a search's work with it).
class SearchDb {
 public:
  explicit SearchDb(sqlite::Connection& db, int64_t* steps = nullptr) : db_(db), steps_(steps) {}

  sqlite::Connection& connection() { return db_; }

  // Calls `row(stmt)` for each row. `cached`: for SQL whose text is the same on every call
  // (reading a resource row by seq), prepared once per connection.
  template <typename F>
  Status Query(std::string_view sql, std::span<const sql::SqlArg> args, F row,
               bool cached = false) {
    ASSIGN_OR_RETURN(sqlite::Statement stmt, cached ? db_.Prepare(sql) : db_.PrepareUncached(sql));
    BindArgs(stmt, args);
    Status status = Status::Ok();
    for (;;) {
      Result<bool> more = stmt.Step();
      if (!more.ok()) {
        status = more.status();
        break;
      }
      if (!*more) break;
      row(static_cast<const sqlite::Statement&>(stmt));
    }
    if (steps_ != nullptr) *steps_ += stmt.TakeVmSteps();
    return status;
  }

 private:
  sqlite::Connection& db_;
  int64_t* steps_;
};

// ---- Searching ---------------------------------------------------------------------------------

// The resources that `seqs` reference (include) or that reference them (revinclude).
Status FollowIncludes(SearchDb& db, const search::IncludeSpec& inc, bool reverse,
                      const std::vector<int64_t>& seqs, std::set<int64_t>* out) {
  for (int64_t seq : seqs) {
    const sql::Sql s = sql::IncludeSql(inc, reverse, seq, kMaxIncluded);
    RETURN_IF_ERROR(db.Query(s.text, s.args, [&](const sqlite::Statement& st) {
      if (out->size() < static_cast<size_t>(kMaxIncluded)) out->insert(st.Int(0));
    }));
  }
  return Status::Ok();
}

Result<StoredVersion> ReadBySeq(SearchDb& db, int64_t seq) {
  StoredVersion v;
  bool found = false;
  const sql::SqlArg arg[] = {seq};
  RETURN_IF_ERROR(db.Query(
      "SELECT type, id, version, last_updated, json FROM resource"
      " WHERE seq = ?",
      arg,
      [&](const sqlite::Statement& s) {
        v.type = s.Text(0);
        v.id = s.Text(1);
        v.version = s.Int(2);
        v.last_updated = s.Int(3);
        v.json = s.Text(4);
        found = true;
      },
      /*cached=*/true));
  if (!found) return Internal("search: resource row " + std::to_string(seq) + " is missing");
  ASSIGN_OR_RETURN(v.json, sqlite_internal::DecodeBody(std::move(v.json), db.connection()));
  return v;
}

// Bundle.total as the plan asks for it (https://hl7.org/fhir/R4/search.html#total): counted,
// estimated (search::EstimateTotal) or, when nullopt, left to the page.
Result<std::optional<int64_t>> ComputeTotal(SearchDb& db, const search::Plan& plan) {
  auto count = [&](const sql::Sql& query) -> Result<int64_t> {
    int64_t n = 0;
    RETURN_IF_ERROR(
        db.Query(query.text, query.args, [&](const sqlite::Statement& s) { n = s.Int(0); }));
    return n;
  };
  if (plan.total == search::TotalMode::kEstimate && plan.HasDrivingSet()) {
    ASSIGN_OR_RETURN(int64_t set_rows, count(sql::SetCountSql(plan)));
    std::string seqs = "[";
    int64_t sampled = 0;
    sql::Sql sample = sql::SetSampleSql(plan, search::kEstimateSample);
    RETURN_IF_ERROR(db.Query(sample.text, sample.args, [&](const sqlite::Statement& s) {
      seqs += (sampled++ > 0 ? "," : "") + std::to_string(s.Int(0));
    }));
    seqs += "]";
    ASSIGN_OR_RETURN(int64_t matches, count(sql::SampleMatchesSql(plan, seqs)));
    return std::optional<int64_t>(search::EstimateTotal(set_rows, sampled, matches));
  }
  if (plan.total == search::TotalMode::kEstimate || plan.total == search::TotalMode::kAccurate ||
      plan.summary_count) {
    ASSIGN_OR_RETURN(int64_t n, count(sql::CountSql(plan)));
    return std::optional<int64_t>(n);
  }
  return std::optional<int64_t>();
}

Result<SearchPage> RunSearch(SearchDb& db, const SearchQuery& query) {
  ASSIGN_OR_RETURN(search::Plan plan,
                   search::PlanSearch(search::Registry::Active(), SpecFor(query)));
  SearchPage page;
  page.used_params = plan.used;
  // One snapshot for the page, its total and its includes.
  sqlite::ReadSnapshot snapshot(db.connection());
  RETURN_IF_ERROR(snapshot.Begin());

  ASSIGN_OR_RETURN(page.total, ComputeTotal(db, plan));
  if (plan.summary_count) return page;

  sql::Sql page_sql = sql::PageSql(plan);
  if (plan.Is<search::Plan::CountThenWalk>()) {
    int64_t long_list = 0;
    const sql::Sql check = sql::WalkCheckSql(plan);
    RETURN_IF_ERROR(db.Query(check.text, check.args,
                             [&](const sqlite::Statement& s) { long_list = s.Int(0); }));
    if (long_list) page_sql = sql::WalkPageSql(plan);
  }
  std::vector<int64_t> seqs;
  std::vector<sql::SqlArg> last_keys;
  bool more = false;
  RETURN_IF_ERROR(db.Query(page_sql.text, page_sql.args, [&](const sqlite::Statement& s) {
    if (static_cast<int>(seqs.size()) >= plan.count) {
      more = true;
      return;
    }
    seqs.push_back(s.Int(0));
    last_keys.clear();
    for (size_t i = 0; i < plan.KeyColumns(); ++i) {
      last_keys.push_back(ColumnArg(s, static_cast<int>(i) + 1));
    }
  }));
  if (more && !seqs.empty())
    page.next_cursor = search::EncodeCursor(search::Cursor{last_keys, seqs.back()});
  if (!page.total && plan.total == search::TotalMode::kDefault && !more && !plan.cursor) {
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

}  // namespace

Result<SearchPage> RunSqliteSearch(sqlite::Connection& db, const SearchQuery& query) {
  SearchDb search_db(db);
  return RunSearch(search_db, query);
}

Result<std::vector<std::string>> ExplainSqliteSearch(const std::string& directory,
                                                     const SearchQuery& query) {
  ASSIGN_OR_RETURN(search::Plan plan,
                   search::PlanSearch(search::Registry::Active(), SpecFor(query)));
  ASSIGN_OR_RETURN(
      std::unique_ptr<sqlite::Connection> connection,
      sqlite::Connection::Open(directory + "/vesta.db", sqlite::OpenOptions::ReadOnly()));
  sql::Sql page_sql = sql::PageSql(plan);
  std::vector<std::string> lines;
  SearchDb db(*connection);
  RETURN_IF_ERROR(db.Query("EXPLAIN QUERY PLAN " + page_sql.text, page_sql.args,
                           [&](const sqlite::Statement& s) { lines.push_back(s.Text(3)); }));
  return lines;
}

Result<TotalCost> MeasureSqliteTotal(const std::string& directory, const SearchQuery& query) {
  ASSIGN_OR_RETURN(search::Plan plan,
                   search::PlanSearch(search::Registry::Active(), SpecFor(query)));
  ASSIGN_OR_RETURN(
      std::unique_ptr<sqlite::Connection> connection,
      sqlite::Connection::Open(directory + "/vesta.db", sqlite::OpenOptions::ReadOnly()));
  TotalCost cost;
  SearchDb db(*connection, &cost.vm_steps);
  ASSIGN_OR_RETURN(cost.total, ComputeTotal(db, plan));
  return cost;
}

}  // namespace vesta::store
