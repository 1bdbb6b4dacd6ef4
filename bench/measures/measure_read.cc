// The ceiling of the measures benchmark (bench/measures/measures_bench.py): a population
// evaluation of a stored Measure in this process, against the same patients' compartments read
// without evaluating anything.
//
//   measure_read --data-dir ./vesta-data --measure http://.../Measure/X
//       --period-start 2024-01-01 --period-end 2024-12-31 --threads 2 --rounds 3
//
// First an untimed evaluation (src/measure's Evaluate over StoreSubjects, as
// Measure/[id]/$evaluate-measure runs it) records which types each patient's evaluation
// retrieved. Then, `--rounds` times, alternating:
//   read      the same patients paged the same way (StoreSubjects::Next, 256 at a time), each
//             patient's data opened with StoreSubjects::Data and exactly the recorded types
//             retrieved (a compartment search per type, every resource parsed), on the same
//             number of threads; nothing evaluated;
//   evaluate  the population evaluation again.
// One line per run: `<what> round=R patients=N retrieves=K resources=M seconds=S`, and a last
// line with the report's populations. Exit status 1 on an error.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "json/parse.h"
#include "measure/evaluate.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace {

using vesta::Result;
using vesta::Status;
namespace measure = vesta::measure;

// Types each patient's evaluation retrieved, in the order first asked for.
class TypeLog {
 public:
  void Add(const std::string& patient, std::string_view type) {
    std::lock_guard lock(mu_);
    types_[patient].emplace_back(type);
  }
  const std::vector<std::string>* Find(const std::string& patient) const {
    auto it = types_.find(patient);
    return it == types_.end() ? nullptr : &it->second;
  }
  int64_t retrieves() const {
    int64_t n = 0;
    for (const auto& [p, t] : types_) n += static_cast<int64_t>(t.size());
    return n;
  }
  std::map<std::string, int64_t> by_type() const {
    std::map<std::string, int64_t> n;
    for (const auto& [p, t] : types_) {
      for (const std::string& type : t) ++n[type];
    }
    return n;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> types_;
};

// A patient's data that logs the first retrieve of each type (the inner provider caches them).
class LoggingData : public vesta::cql::DataProvider {
 public:
  LoggingData(std::unique_ptr<vesta::cql::DataProvider> inner, std::string patient, TypeLog* log)
      : inner_(std::move(inner)), patient_(std::move(patient)), log_(log) {}
  std::vector<const vesta::json::Value*> Retrieve(std::string_view type) override {
    bool seen = false;
    for (const std::string& t : seen_) seen = seen || t == type;
    if (!seen) {
      seen_.emplace_back(type);
      log_->Add(patient_, type);
    }
    return inner_->Retrieve(type);
  }

 private:
  std::unique_ptr<vesta::cql::DataProvider> inner_;
  std::string patient_;
  TypeLog* log_;
  std::vector<std::string> seen_;
};

class LoggingSubjects : public measure::Subjects {
 public:
  LoggingSubjects(measure::Subjects& inner, TypeLog* log) : inner_(inner), log_(log) {}
  Result<std::vector<std::string>> Next(int n) override { return inner_.Next(n); }
  Result<std::unique_ptr<vesta::cql::DataProvider>> Data(const std::string& id) override {
    Result<std::unique_ptr<vesta::cql::DataProvider>> d = inner_.Data(id);
    if (!d.ok()) return d;
    return std::unique_ptr<vesta::cql::DataProvider>(
        new LoggingData(std::move(d).value(), id, log_));
  }

 private:
  measure::Subjects& inner_;
  TypeLog* log_;
};

struct ReadTotals {
  int64_t patients = 0, retrieves = 0, resources = 0;
};

// The patients shared out as Evaluate does it (measure::ForEachSubject), each one's recorded types
// retrieved.
Status ReadAll(vesta::store::Store& store, const TypeLog& log, int threads, ReadTotals* totals) {
  measure::StoreSubjects subjects(store, "");
  std::atomic<int64_t> patients{0}, retrieves{0}, resources{0};
  Status s = measure::ForEachSubject(
      subjects, threads, [&](int, const std::string& id, vesta::cql::DataProvider& data) -> Status {
        if (const std::vector<std::string>* types = log.Find(id)) {
          for (const std::string& type : *types) {
            resources += static_cast<int64_t>(data.Retrieve(type).size());
            ++retrieves;
          }
        }
        ++patients;
        return Status::Ok();
      });
  totals->patients = patients.load();
  totals->retrieves = retrieves.load();
  totals->resources = resources.load();
  return s;
}

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Status Run(const std::map<std::string, std::string>& args) {
  auto arg = [&](const char* name, const char* def) {
    auto it = args.find(name);
    return it == args.end() ? std::string(def) : it->second;
  };
  const int threads = std::stoi(arg("threads", "2"));
  const int rounds = std::stoi(arg("rounds", "3"));
  vesta::store::SqliteStoreOptions options;
  options.directory = arg("data-dir", "./vesta-data");
  ASSIGN_OR_RETURN(std::unique_ptr<vesta::store::Store> store,
                   vesta::store::OpenSqliteStore(options));
  measure::StoreArtifacts artifacts(*store);
  const std::string url = arg("measure", "");
  ASSIGN_OR_RETURN(std::optional<std::string> text, artifacts.ByUrl("Measure", url, ""));
  if (!text) return Status(vesta::StatusCode::kNotFound, "no Measure " + url + " in the store");
  ASSIGN_OR_RETURN(vesta::json::Document measure_doc, vesta::json::Parse(*text));
  ASSIGN_OR_RETURN(std::unique_ptr<measure::PreparedMeasure> prepared,
                   measure::PrepareMeasure(measure_doc.root(), artifacts));
  measure::EvaluationRequest req;
  req.period_start = arg("period-start", "2024-01-01");
  req.period_end = arg("period-end", "2024-12-31");
  req.type = measure::ReportType::kPopulation;
  req.threads = threads;

  TypeLog log;
  std::string report;
  {
    measure::StoreSubjects inner(*store, "");
    LoggingSubjects logging(inner, &log);
    const auto t0 = std::chrono::steady_clock::now();
    measure::EvaluationStats stats;
    ASSIGN_OR_RETURN(report, measure::Evaluate(*prepared, logging, req, &stats));
    std::printf("warmup patients=%lld retrieves=%lld seconds=%.3f types=",
                static_cast<long long>(stats.patients), static_cast<long long>(log.retrieves()),
                Since(t0));
    for (const auto& [type, n] : log.by_type()) {
      std::printf("%s:%lld,", type.c_str(), static_cast<long long>(n));
    }
    std::printf("\n");
  }
  for (int r = 1; r <= rounds; ++r) {
    ReadTotals totals;
    auto t0 = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(ReadAll(*store, log, threads, &totals));
    std::printf("read round=%d patients=%lld retrieves=%lld resources=%lld seconds=%.3f\n", r,
                static_cast<long long>(totals.patients), static_cast<long long>(totals.retrieves),
                static_cast<long long>(totals.resources), Since(t0));
    std::fflush(stdout);
    measure::StoreSubjects subjects(*store, "");
    measure::EvaluationStats stats;
    t0 = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(report, measure::Evaluate(*prepared, subjects, req, &stats));
    std::printf("evaluate round=%d patients=%lld seconds=%.3f\n", r,
                static_cast<long long>(stats.patients), Since(t0));
    std::fflush(stdout);
  }
  std::printf("report %s\n", report.c_str());
  return store->Close();
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0) {
      std::fprintf(stderr, "measure_read: unexpected %s\n", argv[i]);
      return 2;
    }
    args[argv[i] + 2] = argv[i + 1];
  }
  const Status s = Run(args);
  if (!s.ok()) {
    std::fprintf(stderr, "measure_read: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
