// The eCQM conformance runner: every test case of $VESTA_SHARED_DATA/ecqm (its SOURCE.txt explains
// the layout) evaluated with the measure, its libraries and value sets, every population count
// compared with the expected one. The expected counts come from the case's separate expected
// MeasureReport (the one for this measure's URL), else from a MeasureReport inside the case's
// bundle, else from the case's name (denom, numer, denomexcl, denomexcpt, ip, no-ip / neg-ip).
//
// tests/cql/known_failures.txt lists the cases known to fail, one per line with the reason; the
// test fails on a failing case that is not listed and on a listed case that passes, so the list
// only shrinks.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/strings.h"
#include "cql/library.h"
#include "cql/measure.h"
#include "json/parse.h"

namespace vesta::cql {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string LastSegment(std::string_view url) {
  url = url.substr(0, url.find('|'));
  size_t slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

// Loads the library `name`/`version` and, recursively, what it includes.
// `valuesets`, when given, receives the URLs of the value sets the libraries declare.
Status LoadWithIncludes(const fs::path& dir, const std::string& name, const std::string& version,
                        LibrarySet& libs, std::set<std::string>& loaded,
                        std::vector<std::string>* valuesets = nullptr) {
  if (!loaded.insert(name + "|" + version).second) return Status::Ok();
  fs::path file = dir / ("Library-" + name + "-" + version + ".json");
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(ReadFile(file)));
  RETURN_IF_ERROR(libs.AddFhirLibrary(doc.root()));
  const json::Value* content = doc.root().Find("content");
  for (const json::Value& c : content->items()) {
    if (c.FindString("contentType") != "application/elm+json") continue;
    ASSIGN_OR_RETURN(json::Document elm, json::Parse(*Base64Decode(c.FindString("data"))));
    if (const json::Value* vs = elm.root().Find("library")->Find("valueSets"); vs && valuesets) {
      for (const json::Value& d : vs->Find("def")->items())
        valuesets->emplace_back(d.FindString("id"));
    }
    const json::Value* includes = elm.root().Find("library")->Find("includes");
    const json::Value* defs = includes ? includes->Find("def") : nullptr;
    if (!defs) continue;
    for (const json::Value& inc : defs->items()) {
      RETURN_IF_ERROR(LoadWithIncludes(dir, LastSegment(inc.FindString("path")),
                                       std::string(inc.FindString("version")), libs, loaded,
                                       valuesets));
    }
  }
  return Status::Ok();
}

using Counts = std::map<std::pair<int, std::string>, int64_t>;  // (group, population code)

void CountsOfReport(const json::Value& report, Counts& out) {
  const json::Value* groups = report.Find("group");
  if (!groups) return;
  for (size_t g = 0; g < groups->size(); ++g) {
    const json::Value* pops = groups->items()[g].Find("population");
    if (!pops) continue;
    for (const json::Value& p : pops->items()) {
      std::string code(p.Find("code")->Find("coding")->items()[0].FindString("code"));
      const json::Value* count = p.Find("count");
      out[{int(g), code}] = count ? std::atoll(std::string(count->number_text()).c_str()) : 0;
    }
  }
}

// The expected counts from a case's name: its first word names the population the patient is
// meant to land in; a trailing digit names the group (1-based) in a measure of several groups.
Counts CountsOfName(const std::string& name, const MeasureDefinition& m) {
  std::string word = name.substr(0, name.find('-'));
  if (name.starts_with("no-ip") || name.starts_with("neg-ip")) word = "none";
  int group = 0;
  if (!word.empty() && std::isdigit(static_cast<unsigned char>(word.back()))) {
    group = word.back() - '1';
    word.pop_back();
  }
  Counts out;
  for (size_t g = 0; g < m.groups.size(); ++g) {
    for (int t = 0; t < kPopulationTypes; ++t) {
      if (m.groups[g].criteria[t].empty()) continue;
      std::string code(PopulationCode(PopulationType(t)));
      bool in = false;
      if (int(g) == group && word != "none") {
        in = code == "initial-population" ||
             (code == "denominator" && (word == "denom" || word == "numer")) ||
             (code == "numerator" && word == "numer") ||
             (code == "denominator-exclusion" && (word == "denomexcl" || word == "denex")) ||
             (code == "denominator-exception" && word == "denomexcpt");
      }
      out[{int(g), code}] = in ? 1 : 0;
    }
  }
  return out;
}

std::map<std::string, std::string> KnownFailures() {
  std::map<std::string, std::string> out;
  std::ifstream in(std::string(VESTA_SOURCE_DIR) + "/tests/cql/known_failures.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.find(' ');
    out[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
  return out;
}

TEST(Ecqm, MeasureTestCases) {
  const char* shared = std::getenv("VESTA_SHARED_DATA");
  const fs::path root = shared ? fs::path(shared) / "ecqm" : fs::path();
  if (!shared || !fs::exists(root / "tests"))
    GTEST_SKIP() << "ecqm not found under VESTA_SHARED_DATA";
  const std::map<std::string, std::string> known = KnownFailures();

  // Each test folder is named after its measure; the newest version of the measure is used.
  std::map<std::string, fs::path> measures;
  for (const auto& e : fs::directory_iterator(root / "measures"))
    measures[e.path().filename()] = e.path();

  // The measurement period of the test decks: calendar 2019 (the expected reports' periods; the
  // Measures' effectivePeriod is the reporting year the measures were published for).
  EvaluationSettings settings;
  DateTime start, end;
  start.year = 2019, start.precision = Precision::kMillisecond;
  end.year = 2019, end.month = 12, end.day = 31, end.hour = 23, end.minute = 59, end.second = 59,
  end.millisecond = 999, end.precision = Precision::kMillisecond;
  settings.parameters.emplace_back(
      "Measurement Period",
      Value::FromInterval(Value::FromDateTime(start), Value::FromDateTime(end), true, true));
  settings.now = end;

  int total = 0, passed_total = 0, own_total = 0, own_passed = 0;
  std::vector<std::string> dirs;
  for (const auto& e : fs::directory_iterator(root / "tests")) dirs.push_back(e.path().filename());
  std::sort(dirs.begin(), dirs.end());
  for (const std::string& measure_name : dirs) {
    fs::path measure_file;
    for (const auto& [file, path] : measures) {
      if (file.starts_with("Measure-" + measure_name + "-"))
        measure_file = path;  // sorted: newest last
    }
    ASSERT_FALSE(measure_file.empty()) << measure_name;
    std::vector<fs::path> cases, reports;
    fs::path valuesets;
    for (const auto& e : fs::directory_iterator(root / "tests" / measure_name)) {
      std::string f = e.path().filename();
      if (f.starts_with("tests-")) cases.push_back(e.path());
      if (f.starts_with("measurereport-")) reports.push_back(e.path());
      if (f.starts_with("valuesets-")) valuesets = e.path();
    }
    std::sort(cases.begin(), cases.end());
    // Decks of our own for measures the source ships without one (tests/cql/cases/<measure>/,
    // named as the stewards name theirs), run the same way and counted apart.
    const size_t shipped = cases.size();
    const fs::path own = fs::path(VESTA_SOURCE_DIR) / "tests/cql/cases" / measure_name;
    if (fs::exists(own)) {
      std::vector<fs::path> extra;
      for (const auto& e : fs::directory_iterator(own)) extra.push_back(e.path());
      std::sort(extra.begin(), extra.end());
      cases.insert(cases.end(), extra.begin(), extra.end());
    }
    if (cases.empty()) continue;

    Result<json::Document> measure_doc = json::Parse(ReadFile(measure_file));
    ASSERT_TRUE(measure_doc.ok());
    Result<MeasureDefinition> measure = MeasureDefinition::FromResource(measure_doc->root());
    ASSERT_TRUE(measure.ok()) << measure.status().message();
    std::string version =
        measure_file.stem().string().substr(("Measure-" + measure_name + "-").size());
    LibrarySet libs;
    std::set<std::string> loaded;
    Status load = LoadWithIncludes(root / "libraries", LastSegment(measure->library_url), version,
                                   libs, loaded);
    if (load.ok()) load = libs.Link();
    Terminology terminology;
    Result<json::Document> vs_doc = json::Parse(ReadFile(valuesets));
    ASSERT_TRUE(vs_doc.ok());
    terminology.AddBundle(vs_doc->root());

    int passed = 0, own_passed_here = 0;
    for (size_t case_index = 0; case_index < cases.size(); ++case_index) {
      const fs::path& case_path = cases[case_index];
      const bool synthetic = case_index >= shipped;
      std::string case_name = case_path.filename().string();
      case_name = case_name.substr(6, case_name.size() - 6 - std::string("-bundle.json").size());
      const std::string id = measure_name + "/" + case_name;
      std::string failure;
      Result<json::Document> bundle = json::Parse(ReadFile(case_path));
      Counts expected;
      if (!bundle.ok()) {
        failure = bundle.status().message();
      } else {
        std::string key =
            case_name.ends_with("-Patient") ? case_name.substr(0, case_name.size() - 8) : case_name;
        // The report inside the case's own bundle first (it was made from that data), then a
        // separate report for this measure, then the case's name.
        bool found = false;
        std::string subject_ref;
        if (const json::Value* entries = bundle->root().Find("entry")) {
          for (const json::Value& e : entries->items()) {
            const json::Value* r = e.Find("resource");
            if (r && r->FindString("resourceType") == "MeasureReport" && !found) {
              CountsOfReport(*r, expected);
              if (const json::Value* s = r->Find("subject"))
                subject_ref = s->FindString("reference");
              found = true;
            }
          }
        }
        for (const fs::path& r : reports) {
          if (found) break;
          std::string f = r.filename();
          std::string prefix = "measurereport-" + key;
          if (!f.starts_with(prefix) || (f[prefix.size()] != '-' && f[prefix.size()] != '.'))
            continue;
          Result<json::Document> rep = json::Parse(ReadFile(r));
          if (!rep.ok() || LastSegment(rep->root().FindString("measure")) != measure_name) continue;
          CountsOfReport(rep->root(), expected);
          if (const json::Value* s = rep->root().Find("subject"))
            subject_ref = s->FindString("reference");
          found = true;
        }
        if (!found) expected = CountsOfName(case_name, *measure);
        // A bundle may hold several patients (some decks have two copies of the patient, each
        // with its own resources): the report's subject when it names one, else every patient,
        // each evaluated in its own compartment.
        std::string subject = LastSegment(subject_ref);
        if (!load.ok()) failure = load.message();
        InMemoryDataProvider data;
        data.AddBundle(bundle->root());
        std::vector<std::string> patients = data.PatientIds();
        if (std::find(patients.begin(), patients.end(), subject) != patients.end()) {
          patients = {subject};
        }
        if (patients.empty()) patients.push_back("");  // no patient: every population empty
        for (const std::string& patient : patients) {
          if (!failure.empty()) break;
          data.SetPatient(patient);
          Result<SubjectResult> r = EvaluateSubject(*measure, libs, terminology, data, settings);
          // VESTA_ECQM_TRACE=<measure>/<case> prints every definition of the measure's library.
          if (const char* trace = std::getenv("VESTA_ECQM_TRACE"); trace && id == trace) {
            const Library* lib = libs.Find(LastSegment(measure->library_url));
            Evaluator ev(libs, terminology, data, settings);
            std::printf(" patient %s\n", patient.c_str());
            for (const std::string& def : lib->expression_names()) {
              Result<Value> v = ev.Evaluate(*lib, def);
              std::printf("  %s = %s\n", def.c_str(),
                          v.ok() ? ToDebugString(*v).c_str() : v.status().message().c_str());
            }
          }
          if (!r.ok()) {
            failure = r.status().message();
            break;
          }
          Counts actual;
          for (size_t g = 0; g < r->groups.size(); ++g) {
            for (int t = 0; t < kPopulationTypes; ++t) {
              if (measure->groups[g].criteria[t].empty()) continue;
              actual[{int(g), std::string(PopulationCode(PopulationType(t)))}] =
                  r->groups[g].counts[t];
            }
          }
          for (const auto& [k, want] : expected) {
            int64_t got = actual.count(k) ? actual[k] : 0;
            if (got != want) {
              failure += "patient " + patient + " group " + std::to_string(k.first) + " " +
                         k.second + ": expected " + std::to_string(want) + ", got " +
                         std::to_string(got) + "; ";
            }
          }
        }
      }
      (synthetic ? own_total : total) += 1;
      const bool listed = known.count(id) > 0;
      if (failure.empty()) {
        (synthetic ? own_passed_here : passed) += 1;
        (synthetic ? own_passed : passed_total) += 1;
        EXPECT_FALSE(listed) << id << " passes now: remove it from tests/cql/known_failures.txt";
      } else {
        EXPECT_TRUE(listed) << id << " fails: " << failure;
        if (listed) std::printf("  known failure %s: %s\n", id.c_str(), failure.c_str());
      }
    }
    // The eCQM's short name (CMS122, EXM104) as the case files spell it.
    std::string short_name;
    std::string first = cases[0].filename().string();
    for (std::string_view prefix : {"-CMS", "-EXM"}) {
      size_t at = first.find(prefix);
      if (at == std::string::npos) continue;
      size_t end = at + 4;
      while (end < first.size() && std::isdigit(static_cast<unsigned char>(first[end]))) ++end;
      short_name = first.substr(at + 1, end - at - 1);
    }
    std::string line = short_name + " (" + measure_name + "): " + std::to_string(passed) + "/" +
                       std::to_string(shipped);
    if (cases.size() > shipped) {
      line += ", tests/cql/cases " + std::to_string(own_passed_here) + "/" +
              std::to_string(cases.size() - shipped);
    }
    std::printf("%s\n", line.c_str());
  }
  std::printf("total: %d/%d\n", passed_total, total);
  std::printf("tests/cql/cases: %d/%d\n", own_passed, own_total);
  EXPECT_EQ(total, 65);
}

// Every measure, including those without test cases of their own (colorectal, breast, ...),
// loads with its libraries and evaluates every population, stratifier and supplemental data
// expression without an error for every patient of every test deck.
TEST(Ecqm, EveryMeasureEvaluatesEveryPatient) {
  const char* shared = std::getenv("VESTA_SHARED_DATA");
  const fs::path root = shared ? fs::path(shared) / "ecqm" : fs::path();
  if (!shared || !fs::exists(root / "tests"))
    GTEST_SKIP() << "ecqm not found under VESTA_SHARED_DATA";
  std::vector<json::Document> bundles;
  Terminology terminology;
  for (const auto& dir : fs::directory_iterator(root / "tests")) {
    for (const auto& e : fs::directory_iterator(dir.path())) {
      std::string f = e.path().filename();
      Result<json::Document> doc = json::Parse(ReadFile(e.path()));
      ASSERT_TRUE(doc.ok()) << f;
      if (f.starts_with("valuesets-")) terminology.AddBundle(doc->root());
      if (f.starts_with("tests-")) bundles.push_back(std::move(*doc));
    }
  }
  EvaluationSettings settings;
  DateTime start, end;
  start.year = 2019, start.precision = Precision::kMillisecond;
  end.year = 2019, end.month = 12, end.day = 31, end.hour = 23, end.minute = 59, end.second = 59,
  end.millisecond = 999, end.precision = Precision::kMillisecond;
  settings.parameters.emplace_back(
      "Measurement Period",
      Value::FromInterval(Value::FromDateTime(start), Value::FromDateTime(end), true, true));
  settings.now = end;
  int measures = 0, evaluations = 0;
  std::chrono::steady_clock::duration evaluating{};
  for (const auto& e : fs::directory_iterator(root / "measures")) {
    Result<json::Document> doc = json::Parse(ReadFile(e.path()));
    ASSERT_TRUE(doc.ok());
    Result<MeasureDefinition> measure = MeasureDefinition::FromResource(doc->root());
    ASSERT_TRUE(measure.ok()) << measure.status().message();
    std::string stem = e.path().stem().string();
    std::string version = stem.substr(stem.rfind('-') + 1);
    LibrarySet libs;
    std::set<std::string> loaded;
    std::vector<std::string> valuesets;
    Status load = LoadWithIncludes(root / "libraries", LastSegment(measure->library_url), version,
                                   libs, loaded, &valuesets);
    if (load.ok()) load = libs.Link();
    ASSERT_TRUE(load.ok()) << stem << ": " << load.message();
    // Measures without a test deck (breast cancer screening) have no expansions here: their value
    // sets are taken as empty.
    for (const std::string& url : valuesets) {
      if (terminology.Known(url)) continue;
      Result<json::Document> empty =
          json::Parse(R"({"resourceType": "ValueSet", "url": ")" + url + "\"}");
      ASSERT_TRUE(empty.ok());
      terminology.AddValueSet(empty->root());
    }
    const Library* lib = libs.Find(LastSegment(measure->library_url));
    ++measures;
    for (const json::Document& b : bundles) {
      InMemoryDataProvider data;
      data.AddBundle(b.root());
      std::vector<std::string> patients = data.PatientIds();
      for (const std::string& patient : patients) {
        data.SetPatient(patient);
        const auto started = std::chrono::steady_clock::now();
        Result<SubjectResult> r = EvaluateSubject(*measure, libs, terminology, data, settings);
        evaluating += std::chrono::steady_clock::now() - started;
        EXPECT_TRUE(r.ok()) << stem << " patient " << patient << ": " << r.status().message();
        Evaluator ev(libs, terminology, data, settings);
        for (const std::string& sde : measure->supplemental_data) {
          Result<Value> v = ev.Evaluate(*lib, sde);
          EXPECT_TRUE(v.ok()) << stem << " " << sde << ": " << v.status().message();
        }
        ++evaluations;
      }
    }
  }
  EXPECT_EQ(measures, 15);
  std::printf("%d measures, %d measure evaluations without an error, %.0f us each on average\n",
              measures, evaluations,
              std::chrono::duration<double, std::micro>(evaluating).count() / evaluations);
}

}  // namespace
}  // namespace vesta::cql
