// Measure evaluation over many subjects (docs/measures.md, "$evaluate-measure"): a Measure with
// its libraries and value sets made ready once (PrepareMeasure), then evaluated for one patient
// or a population, in parallel over patients, into a MeasureReport
// (https://hl7.org/fhir/R4/measure-operation-evaluate-measure.html). Shared by
// `Measure/[id]/$evaluate-measure` (rest/evaluate_measure.cc) and `vesta measure evaluate`.
//
//   measure::StoreArtifacts artifacts(store);
//   ASSIGN_OR_RETURN(auto prepared, measure::PrepareMeasure(measure_json, artifacts));
//   measure::StoreSubjects subjects(store, "");            // every patient
//   ASSIGN_OR_RETURN(std::string report, measure::Evaluate(*prepared, subjects, request));
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "cql/library.h"
#include "cql/measure.h"
#include "json/value.h"
#include "store/store.h"

namespace vesta::measure {

// Where a measure's Library and ValueSet resources come from (by canonical URL, and libraries
// also by name, as ELM includes name them).
class Artifacts {
 public:
  virtual ~Artifacts() = default;
  // The JSON of the `type` resource with this canonical url (and version when not empty);
  // nullopt when there is none.
  virtual Result<std::optional<std::string>> ByUrl(const std::string& type, const std::string& url,
                                                   const std::string& version) = 0;
  virtual Result<std::optional<std::string>> LibraryByName(const std::string& name,
                                                           const std::string& version) = 0;
};

// Artifacts stored on the server, found by the `url`, `version` and `name` search parameters.
class StoreArtifacts : public Artifacts {
 public:
  explicit StoreArtifacts(store::Store& store) : store_(store) {}
  Result<std::optional<std::string>> ByUrl(const std::string& type, const std::string& url,
                                           const std::string& version) override;
  Result<std::optional<std::string>> LibraryByName(const std::string& name,
                                                   const std::string& version) override;

 private:
  Result<std::optional<std::string>> Find(const std::string& type,
                                          std::vector<std::pair<std::string, std::string>> params);
  store::Store& store_;
};

// Artifacts held in memory (files given to `vesta measure evaluate`), looked up first, then
// `fallback` when given.
class MemoryArtifacts : public Artifacts {
 public:
  explicit MemoryArtifacts(Artifacts* fallback = nullptr) : fallback_(fallback) {}
  // A resource, or every resource in a Bundle's entries (Measure, Library, ValueSet kept).
  void Add(const json::Value& resource);
  // The first Measure added, or nullptr.
  const json::Value* FirstMeasure() const { return measures_.empty() ? nullptr : measures_[0]; }
  Result<std::optional<std::string>> ByUrl(const std::string& type, const std::string& url,
                                           const std::string& version) override;
  Result<std::optional<std::string>> LibraryByName(const std::string& name,
                                                   const std::string& version) override;

 private:
  Artifacts* fallback_;
  std::vector<const json::Value*> resources_;
  std::vector<const json::Value*> measures_;
};

// A measure ready to evaluate: immutable, shared by the threads of an evaluation.
struct PreparedMeasure {
  std::string url, version;  // the Measure's canonical
  cql::MeasureDefinition definition;
  cql::LibrarySet libraries;
  cql::Terminology terminology;
  std::vector<std::string> library_names;  // loaded, "Name|version"
};

// Loads the measure's primary library, every library it includes (recursively, by name and
// version), and the value sets they declare, and links the libraries. kNotFound naming what is
// missing; kNotSupported naming an ELM node type the evaluator lacks.
Result<std::unique_ptr<PreparedMeasure>> PrepareMeasure(const json::Value& measure,
                                                        Artifacts& artifacts);

// The patients to evaluate and their data.
class Subjects {
 public:
  virtual ~Subjects() = default;
  // Up to `n` more patient ids; empty when there are no more. Called by one thread at a time.
  virtual Result<std::vector<std::string>> Next(int n) = 0;
  // The data of one patient (its compartment). Called from several threads at once.
  virtual Result<std::unique_ptr<cql::DataProvider>> Data(const std::string& patient_id) = 0;
};

// Patients of the store: one (`subject`, a Patient id) or all of them, page by page. Each
// patient's data is read once per type a retrieve asks for (its Patient compartment).
class StoreSubjects : public Subjects {
 public:
  StoreSubjects(store::Store& store, std::string subject)
      : store_(store), subject_(std::move(subject)) {}
  Result<std::vector<std::string>> Next(int n) override;
  Result<std::unique_ptr<cql::DataProvider>> Data(const std::string& patient_id) override;

 private:
  store::Store& store_;
  std::string subject_;
  std::string cursor_;
  bool done_ = false;
};

// Patients of Bundles in memory (test decks): every Patient in them, or `subject` only.
class BundleSubjects : public Subjects {
 public:
  explicit BundleSubjects(std::string subject) : subject_(std::move(subject)) {}
  // Keeps the bundle alive for the evaluation.
  void Add(json::Document bundle);
  Result<std::vector<std::string>> Next(int n) override;
  Result<std::unique_ptr<cql::DataProvider>> Data(const std::string& patient_id) override;

 private:
  std::string subject_;
  std::deque<json::Document> bundles_;
  std::vector<std::string> ids_;
  // The bundles holding each patient's Patient resource, and those holding no Patient (given to
  // every patient): a patient's data is read from these alone, not from every bundle.
  std::map<std::string, std::vector<size_t>, std::less<>> bundles_by_patient_;
  std::vector<size_t> shared_bundles_;
  size_t next_ = 0;
};

// Calls `work(thread, patient id, its data)` for every patient `subjects` gives, on `threads`
// threads (the calling one is thread 0; `thread` < `threads`), pulling ids a page at a time; each
// patient's data is given once, held only while `work` runs. Stops at the first error, `work`'s
// or the subjects', and returns it.
using SubjectWork =
    std::function<Status(int thread, const std::string& patient_id, cql::DataProvider& data)>;
Status ForEachSubject(Subjects& subjects, int threads, const SubjectWork& work);

// reportType (R4's values for the operation): subject (one patient: an individual report),
// subject-list (a summary with the patients of each population as contained Lists) and
// population (a summary).
enum class ReportType { kSubject, kSubjectList, kPopulation };
Result<ReportType> ParseReportType(std::string_view text);

struct EvaluationRequest {
  std::string period_start, period_end;  // a date or dateTime each (the Measurement Period)
  ReportType type = ReportType::kPopulation;
  std::string subject;  // "Patient/x" for kSubject
  int threads = 0;      // 0: the machine's cores
  Micros now = 0;       // MeasureReport.date, and Now() in the logic
};

struct EvaluationStats {
  int64_t patients = 0;
};

// The MeasureReport's JSON. kInvalid for a bad period; an error evaluating a patient stops the
// evaluation and names the patient (kUnprocessable).
Result<std::string> Evaluate(const PreparedMeasure& measure, Subjects& subjects,
                             const EvaluationRequest& request, EvaluationStats* stats = nullptr);

}  // namespace vesta::measure
