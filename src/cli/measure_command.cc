// `vesta measure evaluate` (docs/measures.md): a quality measure evaluated over the store's
// patients, or over patient Bundles read from files without storing them, into a MeasureReport.
//
//   vesta measure evaluate --measure http://ecqi.healthit.gov/ecqms/Measure/CMS122
//       --period-start 2019-01-01 --period-end 2019-12-31 --data-dir ./vesta-data
//   vesta measure evaluate --measure measure-bundle.json --resources valuesets.json
//       --bundles tests-*.json --period-start 2019-01-01 --period-end 2019-12-31
//
// The Measure is a canonical URL (the store's Measure with that url) or a JSON file holding a
// Measure or a Bundle with one. Libraries and value sets come from --resources files first, then
// from the store. The report goes to standard output (or --out); a summary to stderr.
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/store_choice.h"
#include "json/parse.h"
#include "json/writer.h"
#include "measure/evaluate.h"
#include "store/sqlite/sqlite_store.h"

namespace vesta::cli {
namespace {

struct MeasureFlags {
  std::string measure;
  std::vector<std::string> resources;
  std::vector<std::string> bundles;
  std::string period_start, period_end;
  std::string subject;
  std::string report_type;
  int threads = 0;
  std::string out;
  std::string data_dir = "./vesta-data";
  std::string store;
};

Result<json::Document> ReadJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kNotFound, "cannot open " + path);
  std::stringstream text;
  text << in.rdbuf();
  Result<json::Document> doc = json::Parse(text.str());
  if (!doc.ok()) return Status(StatusCode::kInvalid, path + ": " + doc.status().message());
  return doc;
}

Result<std::unique_ptr<store::Store>> OpenStore(const MeasureFlags& flags) {
  ASSIGN_OR_RETURN(StoreChoice choice, ChooseStore(flags.store, flags.data_dir));
  struct stat dir;
  if (!choice.postgres && stat(choice.directory.c_str(), &dir) != 0) {
    return Status(StatusCode::kNotFound,
                  "no store in " + choice.directory + " (give --data-dir or --store)");
  }
  if (choice.postgres) return OpenPostgresStore(choice.uri, 4);
  store::SqliteStoreOptions options;
  options.directory = choice.directory;
  return store::OpenSqliteStore(options);
}

Status Run(const MeasureFlags& flags) {
  const auto started = std::chrono::steady_clock::now();
  const bool measure_is_file = flags.measure.find("://") == std::string::npos;
  // The store is needed for patients (no --bundles) and for artifacts not in the files.
  std::unique_ptr<store::Store> store;
  if (flags.bundles.empty() || !measure_is_file) {
    ASSIGN_OR_RETURN(store, OpenStore(flags));
  }
  std::optional<measure::StoreArtifacts> stored;
  if (store) stored.emplace(*store);
  measure::MemoryArtifacts artifacts(stored ? &*stored : nullptr);
  std::deque<json::Document> files;  // kept alive: artifacts point into them
  for (const std::string& path : flags.resources) {
    ASSIGN_OR_RETURN(json::Document doc, ReadJson(path));
    files.push_back(std::move(doc));
    artifacts.Add(files.back().root());
  }
  json::Document measure_doc;
  const json::Value* measure = nullptr;
  if (measure_is_file) {
    ASSIGN_OR_RETURN(json::Document doc, ReadJson(flags.measure));
    files.push_back(std::move(doc));
    artifacts.Add(files.back().root());
    measure = artifacts.FirstMeasure();
    if (measure == nullptr)
      return Status(StatusCode::kInvalid, flags.measure + " holds no Measure");
  } else {
    ASSIGN_OR_RETURN(std::optional<std::string> text,
                     artifacts.ByUrl("Measure", flags.measure.substr(0, flags.measure.find('|')),
                                     flags.measure.find('|') == std::string::npos
                                         ? ""
                                         : flags.measure.substr(flags.measure.find('|') + 1)));
    if (!text)
      return Status(StatusCode::kNotFound, "no Measure " + flags.measure + " in the store");
    ASSIGN_OR_RETURN(measure_doc, json::Parse(*text));
    measure = &measure_doc.root();
  }
  ASSIGN_OR_RETURN(std::unique_ptr<measure::PreparedMeasure> prepared,
                   measure::PrepareMeasure(*measure, artifacts));

  const std::string subject =
      flags.subject.starts_with("Patient/") ? flags.subject.substr(8) : flags.subject;
  std::unique_ptr<measure::Subjects> subjects;
  if (!flags.bundles.empty()) {
    auto from_files = std::make_unique<measure::BundleSubjects>(subject);
    for (const std::string& path : flags.bundles) {
      ASSIGN_OR_RETURN(json::Document doc, ReadJson(path));
      from_files->Add(std::move(doc));
    }
    subjects = std::move(from_files);
  } else {
    subjects = std::make_unique<measure::StoreSubjects>(*store, subject);
  }
  measure::EvaluationRequest req;
  req.period_start = flags.period_start;
  req.period_end = flags.period_end;
  req.type = subject.empty() ? measure::ReportType::kPopulation : measure::ReportType::kSubject;
  if (!flags.report_type.empty()) {
    ASSIGN_OR_RETURN(req.type, measure::ParseReportType(flags.report_type));
  }
  req.subject = subject.empty() ? "" : "Patient/" + subject;
  req.threads = flags.threads;
  measure::EvaluationStats stats;
  ASSIGN_OR_RETURN(std::string report, measure::Evaluate(*prepared, *subjects, req, &stats));
  if (store) RETURN_IF_ERROR(store->Close());
  ASSIGN_OR_RETURN(json::Document pretty, json::Parse(report));
  const std::string text = json::ToString(pretty.root(), json::Style::kPretty) + "\n";
  if (flags.out.empty()) {
    std::cout << text;
  } else {
    std::ofstream out(flags.out, std::ios::binary);
    out << text;
    if (!out) return Status(StatusCode::kInternal, "writing " + flags.out + " failed");
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cerr << "vesta measure evaluate: " << stats.patients << " patients in " << secs << " s ("
            << prepared->library_names.size() << " libraries)\n";
  return Status::Ok();
}

void AddMeasure(CLI::App& app) {
  CLI::App* measure = app.add_subcommand("measure", "Electronic clinical quality measures");
  measure->require_subcommand(1);
  auto flags = std::make_shared<MeasureFlags>();
  CLI::App* evaluate = measure->add_subcommand(
      "evaluate", "Evaluate a Measure over the store's patients or patient Bundles");
  evaluate
      ->add_option("--measure", flags->measure,
                   "A Measure's canonical URL (in the store), or a JSON file of a Measure or "
                   "a Bundle holding one")
      ->required();
  evaluate->add_option("--resources", flags->resources,
                       "Files of Library and ValueSet resources or Bundles of them (looked up "
                       "before the store)");
  evaluate->add_option("--bundles", flags->bundles,
                       "Patient Bundles to evaluate instead of the store's patients (not stored)");
  evaluate->add_option("--period-start", flags->period_start, "The Measurement Period's start")
      ->required();
  evaluate->add_option("--period-end", flags->period_end, "The Measurement Period's end")
      ->required();
  evaluate->add_option("--subject", flags->subject, "One patient: Patient/[id] or [id]");
  evaluate
      ->add_option("--report-type", flags->report_type,
                   "subject, subject-list or population (default: subject with --subject, "
                   "else population)")
      ->check(CLI::IsMember({"subject", "subject-list", "population"}));
  evaluate->add_option("--threads", flags->threads, "Patients evaluated at once (0: the cores)")
      ->capture_default_str();
  evaluate->add_option("--out", flags->out, "The file to write (default: standard output)");
  evaluate->add_option("--data-dir", flags->data_dir, "The SQLite store")->capture_default_str();
  evaluate->add_option("--store", flags->store, "sqlite:DIR or a postgresql:// URI");
  evaluate->callback([flags] {
    Status s = Run(*flags);
    if (!s.ok()) {
      std::cerr << "vesta measure evaluate: " << s.message() << "\n";
      throw CLI::RuntimeError(1);
    }
  });
}

}  // namespace

VESTA_COMMAND(AddMeasure);

}  // namespace vesta::cli
