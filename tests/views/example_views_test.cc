// The example views shipped in views/ (docs/analytics.md, "Example views"), run by the vesta binary
// over a generated population: every file validates, gives its declared columns in order, with a
// type each, and rows whose values are checked against the resources they come from (counted
// and read here independently of the view runner); a run over the store (after `vesta import`)
// gives the same rows as the run over the NDJSON files; and the SQL of the docs runs in sqlite3
// over the views' CSV output, so the documented queries cannot rot.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "integration/test_server.h"
#include "json/parse.h"
#include "json/writer.h"
#include "views/view.h"

namespace vesta::views {
namespace {

using vesta::testing::StoreFlags;
using vesta::testing::TempDir;
using vesta::testing::VestaBinary;

constexpr int kPatients = 80;
const std::string kViewsDir = std::string(VESTA_SOURCE_DIR) + "/views";
const std::string kIcd10Cm = "http://hl7.org/fhir/sid/icd-10-cm";
const std::string kLoinc = "http://loinc.org";

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Runs a shell command; its exit status (-1 when it did not exit normally).
int Shell(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string Str(const json::Value& v, std::string_view key) {
  return std::string(v.FindString(key));
}

// A dotted path of members, taking the first item of each array on the way.
const json::Value* At(const json::Value& v, const std::vector<std::string>& path) {
  const json::Value* cur = &v;
  for (const std::string& key : path) {
    if (cur->is_array()) cur = cur->items().empty() ? nullptr : &cur->items()[0];
    if (cur == nullptr) return nullptr;
    cur = cur->Find(key);
    if (cur == nullptr) return nullptr;
  }
  if (cur->is_array()) return cur->items().empty() ? nullptr : &cur->items()[0];
  return cur;
}

std::string AtString(const json::Value& v, const std::vector<std::string>& path) {
  const json::Value* x = At(v, path);
  return x != nullptr && x->is_string() ? std::string(x->string_value()) : "";
}

// The code of the first coding of `codeable` in `system`, or "".
std::string CodeIn(const json::Value* codeable, const std::string& system) {
  const json::Value* codings = codeable != nullptr ? codeable->Find("coding") : nullptr;
  if (codings == nullptr || !codings->is_array()) return "";
  for (const json::Value& c : codings->items()) {
    if (c.FindString("system") == system) return Str(c, "code");
  }
  return "";
}

double Number(const json::Value* v) {
  return v != nullptr && v->is_number()
             ? std::strtod(std::string(v->number_text()).c_str(), nullptr)
             : -1e300;
}

// A view's rows (NDJSON output, one parsed object per row) keyed by nothing: in output order.
struct Rows {
  std::vector<std::string> lines;
  std::vector<json::Document> docs;
};

// The generated population and what the tests share: generated once per process.
class ExampleViewsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    pop_ = dir_->path() + "/pop";
    ASSERT_EQ(Shell(Quote(VestaBinary()) + " generate --patients " + std::to_string(kPatients) +
                    " --seed 11 --quiet --out " + Quote(pop_)),
              0);
    for (const auto& entry : std::filesystem::directory_iterator(pop_)) {
      const std::string type = entry.path().stem().string();
      for (const std::string& line : Lines(ReadFile(entry.path().string()))) {
        Result<json::Document> doc = json::Parse(line);
        ASSERT_TRUE(doc.ok()) << entry.path() << ": " << doc.status().message();
        resources_[type].push_back(std::move(*doc));
      }
    }
    for (const auto& entry : std::filesystem::directory_iterator(kViewsDir)) {
      if (entry.path().extension() == ".json") view_names_.push_back(entry.path().stem().string());
    }
    std::sort(view_names_.begin(), view_names_.end());
  }
  static void TearDownTestSuite() {
    resources_.clear();
    dir_.reset();
  }

  void SetUp() override {
    if (::vesta::testing::CurrentTestStore() == ::vesta::testing::TestStore::kPostgres &&
        !std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())
             .starts_with("Store")) {
      GTEST_SKIP() << "reads NDJSON files only: run by the .sqlite entry";
    }
  }

  static std::string ViewFile(const std::string& name) { return kViewsDir + "/" + name + ".json"; }

  static Result<View> LoadView(const std::string& name) {
    return View::ParseText(ReadFile(ViewFile(name)));
  }

  // `vesta view run NAME.json SOURCE --format FORMAT`: the output, or a failure.
  static std::string RunView(const std::string& name, const std::string& source,
                             const std::string& format) {
    const std::string out = dir_->path() + "/" + name + "." + format;
    const std::string cmd = Quote(VestaBinary()) + " view run " + Quote(ViewFile(name)) + " " +
                            source + " --format " + format + " --out " + Quote(out) + " 2>" +
                            Quote(dir_->path() + "/stderr.txt");
    EXPECT_EQ(Shell(cmd), 0) << cmd << ": " << ReadFile(dir_->path() + "/stderr.txt");
    return ReadFile(out);
  }

  static std::string NdjsonSource(const std::string& type) {
    return "--ndjson " + Quote(pop_ + "/" + type + ".ndjson");
  }

  static Rows RunNdjson(const std::string& name) {
    Result<View> view = LoadView(name);
    EXPECT_TRUE(view.ok()) << name << ": " << view.status().message();
    Rows rows;
    if (!view.ok()) return rows;
    rows.lines = Lines(RunView(name, NdjsonSource(view->resource_type()), "ndjson"));
    for (const std::string& line : rows.lines) {
      Result<json::Document> doc = json::Parse(line);
      EXPECT_TRUE(doc.ok()) << line;
      if (doc.ok()) rows.docs.push_back(std::move(*doc));
    }
    return rows;
  }

  static const std::vector<json::Document>& Of(const std::string& type) { return resources_[type]; }

  static std::unique_ptr<TempDir> dir_;
  static std::string pop_;
  static std::map<std::string, std::vector<json::Document>> resources_;
  static std::vector<std::string> view_names_;
};

std::unique_ptr<TempDir> ExampleViewsTest::dir_;
std::string ExampleViewsTest::pop_;
std::map<std::string, std::vector<json::Document>> ExampleViewsTest::resources_;
std::vector<std::string> ExampleViewsTest::view_names_;

TEST_F(ExampleViewsTest, EveryViewValidatesAndGivesItsTypedColumnsInOrder) {
  const std::set<std::string> checked = {"conditions",
                                         "encounters",
                                         "immunizations",
                                         "medication_requests",
                                         "observation_components",
                                         "observations",
                                         "patient_demographics"};
  ASSERT_FALSE(view_names_.empty());
  for (const std::string& name : view_names_) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(checked.count(name)) << "views/" << name << ".json has no value checks here";
    EXPECT_EQ(
        Shell(Quote(VestaBinary()) + " view validate " + Quote(ViewFile(name)) + " >/dev/null"), 0);
    Result<View> view = LoadView(name);
    ASSERT_TRUE(view.ok()) << view.status().message();
    EXPECT_EQ(view->name(), name) << "the view's name is its file's";
    std::vector<std::string> columns;
    for (const ColumnInfo& c : view->columns()) {
      EXPECT_FALSE(c.type.empty()) << c.name << " has no type";
      columns.push_back(c.name);
    }
    Rows rows = RunNdjson(name);
    EXPECT_GT(rows.docs.size(), 0u);
    for (const json::Document& row : rows.docs) {
      std::vector<std::string> keys;
      for (const json::Member& m : row.root().members()) keys.emplace_back(m.key);
      ASSERT_EQ(keys, columns);
    }
    // The CSV header names the same columns.
    const std::vector<std::string> csv =
        Lines(RunView(name, NdjsonSource(view->resource_type()), "csv"));
    ASSERT_FALSE(csv.empty());
    std::string header;
    for (const std::string& c : columns) header += (header.empty() ? "" : ",") + c;
    EXPECT_EQ(csv[0], header);
    EXPECT_EQ(csv.size(), rows.docs.size() + 1);
  }
}

TEST_F(ExampleViewsTest, PatientDemographicsHasEachPatientsValues) {
  Rows rows = RunNdjson("patient_demographics");
  ASSERT_EQ(rows.docs.size(), Of("Patient").size());
  ASSERT_EQ(Of("Patient").size(), static_cast<size_t>(kPatients));
  std::map<std::string, const json::Value*> by_id;
  for (const json::Document& row : rows.docs) by_id[Str(row.root(), "id")] = &row.root();
  int deceased = 0;
  for (const json::Document& p : Of("Patient")) {
    const std::string id = "Patient/" + Str(p.root(), "id");
    SCOPED_TRACE(id);
    ASSERT_TRUE(by_id.count(id));
    const json::Value& row = *by_id[id];
    // The generator writes one identifier, the MRN (docs/generate.md).
    EXPECT_EQ(Str(row, "mrn"), AtString(p.root(), {"identifier", "value"}));
    EXPECT_EQ(Str(row, "mrn").size(), 10u);
    EXPECT_EQ(Str(row, "family"), AtString(p.root(), {"name", "family"}));
    EXPECT_EQ(Str(row, "given"), AtString(p.root(), {"name", "given"}));
    EXPECT_EQ(Str(row, "gender"), Str(p.root(), "gender"));
    EXPECT_EQ(Str(row, "birth_date"), Str(p.root(), "birthDate"));
    const std::string died = Str(p.root(), "deceasedDateTime");
    ASSERT_TRUE(row.Find("deceased")->is_bool());
    EXPECT_EQ(row.Find("deceased")->bool_value(), !died.empty());
    EXPECT_EQ(Str(row, "deceased_date_time"), died);
    deceased += died.empty() ? 0 : 1;
    EXPECT_EQ(Str(row, "postal_code"), AtString(p.root(), {"address", "postalCode"}));
    EXPECT_EQ(Str(row, "organization_id"),
              AtString(p.root(), {"managingOrganization", "reference"}));
  }
  EXPECT_LT(deceased, kPatients);
}

TEST_F(ExampleViewsTest, ConditionsHaveOneRowPerConditionCodedInIcd10Cm) {
  Rows rows = RunNdjson("conditions");
  // Each patient's rows against the number of its Conditions with an ICD-10-CM coding.
  std::map<std::string, int> expected, got;
  std::map<std::string, std::string> icd10_by_id;
  for (const json::Document& c : Of("Condition")) {
    const std::string code = CodeIn(c.root().Find("code"), kIcd10Cm);
    if (code.empty()) continue;
    ++expected[AtString(c.root(), {"subject", "reference"})];
    icd10_by_id["Condition/" + Str(c.root(), "id")] = code;
  }
  ASSERT_FALSE(expected.empty());
  for (const json::Document& row : rows.docs) {
    const json::Value& r = row.root();
    ++got[Str(r, "patient_id")];
    const std::string id = Str(r, "id");
    ASSERT_TRUE(icd10_by_id.count(id)) << id;
    EXPECT_EQ(Str(r, "icd10_code"), icd10_by_id[id]);
    EXPECT_FALSE(Str(r, "icd10_display").empty());
    const std::string status = Str(r, "clinical_status");
    EXPECT_TRUE(status == "active" || status == "resolved") << status;
    // A resolved encounter diagnosis has its abatement; an active problem has none.
    EXPECT_EQ(status == "resolved", !Str(r, "abatement").empty()) << id;
  }
  EXPECT_EQ(got, expected);
}

TEST_F(ExampleViewsTest, ObservationsCarryLoincCodeAndValue) {
  Rows rows = RunNdjson("observations");
  ASSERT_EQ(rows.docs.size(), Of("Observation").size());
  std::map<std::string, const json::Value*> by_id;
  for (const json::Document& o : Of("Observation")) {
    by_id["Observation/" + Str(o.root(), "id")] = &o.root();
  }
  int hba1c = 0, quantities = 0, codes = 0, integers = 0;
  for (const json::Document& row : rows.docs) {
    const json::Value& r = row.root();
    ASSERT_TRUE(by_id.count(Str(r, "id")));
    const json::Value& o = *by_id[Str(r, "id")];
    SCOPED_TRACE(Str(r, "id"));
    EXPECT_EQ(Str(r, "loinc_code"), CodeIn(o.Find("code"), kLoinc));
    EXPECT_EQ(Str(r, "patient_id"), AtString(o, {"subject", "reference"}));
    EXPECT_EQ(Str(r, "effective"), Str(o, "effectiveDateTime"));
    if (const json::Value* q = o.Find("valueQuantity")) {
      ++quantities;
      EXPECT_EQ(Number(r.Find("value_quantity")), Number(q->Find("value")));
      EXPECT_EQ(Str(r, "value_unit"), Str(*q, "unit"));
      EXPECT_EQ(Str(r, "value_ucum"), Str(*q, "code"));  // every generated unit is UCUM
    } else {
      EXPECT_TRUE(r.Find("value_quantity")->is_null());
    }
    if (o.Find("valueCodeableConcept") != nullptr) {
      ++codes;
      EXPECT_EQ(Str(r, "value_code"), AtString(o, {"valueCodeableConcept", "coding", "code"}));
    }
    if (const json::Value* i = o.Find("valueInteger")) {
      ++integers;
      EXPECT_EQ(Number(r.Find("value_integer")), Number(i));
    }
    if (Str(r, "loinc_code") == "4548-4") {  // HbA1c, in % (docs/generate.md)
      ++hba1c;
      EXPECT_EQ(Str(r, "value_ucum"), "%");
      EXPECT_GE(Number(r.Find("value_quantity")), 4.0);
      EXPECT_LE(Number(r.Find("value_quantity")), 13.5);
      EXPECT_EQ(Str(r, "category"), "laboratory");
    }
  }
  EXPECT_GT(hba1c, 0);
  EXPECT_GT(quantities, 0);
  EXPECT_GT(codes, 0);
  EXPECT_GT(integers, 0);
}

TEST_F(ExampleViewsTest, ObservationComponentsHaveOneRowPerComponent) {
  Rows rows = RunNdjson("observation_components");
  size_t components = 0;
  for (const json::Document& o : Of("Observation")) {
    if (const json::Value* c = o.root().Find("component")) components += c->size();
  }
  ASSERT_GT(components, 0u);
  ASSERT_EQ(rows.docs.size(), components);
  // Blood pressure panels: systolic (index 0) above diastolic (index 1).
  std::map<std::string, std::pair<double, double>> bp;
  for (const json::Document& row : rows.docs) {
    const json::Value& r = row.root();
    if (Str(r, "observation_code") != "85354-9") continue;
    EXPECT_EQ(Str(r, "value_ucum"), "mm[Hg]");
    const std::string code = Str(r, "loinc_code");
    const double index = Number(r.Find("component_index"));
    if (code == "8480-6") {
      EXPECT_EQ(index, 0);
      bp[Str(r, "observation_id")].first = Number(r.Find("value_quantity"));
    } else {
      EXPECT_EQ(code, "8462-4");
      EXPECT_EQ(index, 1);
      bp[Str(r, "observation_id")].second = Number(r.Find("value_quantity"));
    }
  }
  ASSERT_FALSE(bp.empty());
  for (const auto& [id, p] : bp) EXPECT_GT(p.first, p.second) << id;
}

TEST_F(ExampleViewsTest, EncountersMedicationRequestsAndImmunizations) {
  {
    Rows rows = RunNdjson("encounters");
    ASSERT_EQ(rows.docs.size(), Of("Encounter").size());
    for (const json::Document& row : rows.docs) {
      const json::Value& r = row.root();
      const std::string cls = Str(r, "class_code");
      EXPECT_TRUE(cls == "AMB" || cls == "EMER" || cls == "IMP") << cls;
      EXPECT_LT(Str(r, "period_start"), Str(r, "period_end"));
      EXPECT_EQ(cls == "IMP", !Str(r, "discharge_disposition").empty()) << Str(r, "id");
      EXPECT_TRUE(Str(r, "practitioner_id").starts_with("Practitioner/"));
    }
  }
  {
    Rows rows = RunNdjson("medication_requests");
    ASSERT_EQ(rows.docs.size(), Of("MedicationRequest").size());
    std::set<std::string> conditions;
    for (const json::Document& c : Of("Condition")) {
      conditions.insert("Condition/" + Str(c.root(), "id"));
    }
    for (const json::Document& row : rows.docs) {
      const json::Value& r = row.root();
      EXPECT_FALSE(Str(r, "rxnorm_code").empty());
      EXPECT_TRUE(Str(r, "patient_id").starts_with("Patient/"));
      const std::string reason = Str(r, "reason_condition_id");
      if (!reason.empty()) {
        EXPECT_TRUE(conditions.count(reason)) << reason;
      }
    }
  }
  {
    Rows rows = RunNdjson("immunizations");
    ASSERT_EQ(rows.docs.size(), Of("Immunization").size());
    for (const json::Document& row : rows.docs) {
      const json::Value& r = row.root();
      EXPECT_FALSE(Str(r, "cvx_code").empty());
      EXPECT_FALSE(Str(r, "occurrence").empty());
      EXPECT_TRUE(r.Find("primary_source")->is_bool());
    }
  }
}

// `vesta import` of the population, then every view over the store: the same rows as over the
// NDJSON files (in another order: the store's).
TEST_F(ExampleViewsTest, StoreRunGivesTheRowsOfTheNdjsonRun) {
  const std::string data = dir_->path() + "/data";
  ASSERT_EQ(Shell(Quote(VestaBinary()) + " import" + StoreFlags(data) + " --quiet " + Quote(pop_)),
            0);
  for (const std::string& name : view_names_) {
    SCOPED_TRACE(name);
    Rows from_files = RunNdjson(name);
    std::vector<std::string> from_store = Lines(RunView(name, StoreFlags(data), "ndjson"));
    std::sort(from_files.lines.begin(), from_files.lines.end());
    std::sort(from_store.begin(), from_store.end());
    EXPECT_EQ(from_store.size(), from_files.lines.size());
    EXPECT_TRUE(from_store == from_files.lines);
  }
}

// The ```sql blocks of docs/analytics.md's "Example views" section.
std::vector<std::string> DocumentedSql() {
  const std::string doc = ReadFile(std::string(VESTA_SOURCE_DIR) + "/docs/analytics.md");
  const size_t begin = doc.find("\n## Example views");
  if (begin == std::string::npos) return {};
  const size_t end = doc.find("\n## ", begin + 1);
  const std::string section = doc.substr(begin, end == std::string::npos ? end : end - begin);
  std::vector<std::string> blocks;
  for (size_t at = section.find("```sql\n"); at != std::string::npos;
       at = section.find("```sql\n", at)) {
    at += 7;
    const size_t close = section.find("```", at);
    if (close == std::string::npos) break;
    blocks.push_back(section.substr(at, close - at));
    at = close + 3;
  }
  return blocks;
}

// Splits sqlite3 -csv output (no quoted commas in the documented results' fields).
std::vector<std::vector<std::string>> CsvTable(const std::string& text) {
  std::vector<std::vector<std::string>> table;
  for (const std::string& line : Lines(text)) {
    std::vector<std::string> fields;
    std::stringstream in(line);
    for (std::string f; std::getline(in, f, ',');) fields.push_back(f);
    table.push_back(fields);
  }
  return table;
}

TEST_F(ExampleViewsTest, DocumentedSqlRunsOverTheCsvInSqlite3) {
  if (Shell("command -v sqlite3 >/dev/null") != 0) GTEST_SKIP() << "sqlite3 is not installed";
  const std::vector<std::string> blocks = DocumentedSql();
  ASSERT_GE(blocks.size(), 3u) << "docs/analytics.md: no ```sql blocks under ## Example views";
  // As the docs load them: one CSV per view, .import --csv into a table of the view's name.
  const std::string db = dir_->path() + "/analytics.sqlite";
  std::string load;
  for (const std::string& name : view_names_) {
    Result<View> view = LoadView(name);
    ASSERT_TRUE(view.ok());
    const std::string csv = dir_->path() + "/" + name + ".csv";
    std::ofstream(csv, std::ios::binary)
        << RunView(name, NdjsonSource(view->resource_type()), "csv");
    load += ".import --csv " + csv + " " + name + "\n";
  }
  std::ofstream(dir_->path() + "/load.sql") << load;
  ASSERT_EQ(Shell("sqlite3 -batch -bail " + Quote(db) + " <" + Quote(dir_->path() + "/load.sql")),
            0);

  int hba1c = 0;
  for (const json::Document& o : Of("Observation")) {
    hba1c += CodeIn(o.root().Find("code"), kLoinc) == "4548-4" ? 1 : 0;
  }
  ASSERT_GT(hba1c, 0);
  bool saw_hba1c = false;
  for (const std::string& sql : blocks) {
    SCOPED_TRACE(sql);
    const std::string script = dir_->path() + "/query.sql", out = dir_->path() + "/query.csv";
    std::ofstream(script) << sql;
    ASSERT_EQ(Shell("sqlite3 -batch -bail -csv -header " + Quote(db) + " <" + Quote(script) + " >" +
                    Quote(out) + " 2>&1"),
              0)
        << ReadFile(out);
    const auto table = CsvTable(ReadFile(out));
    ASSERT_GE(table.size(), 2u) << "a header and at least one row: " << ReadFile(out);
    if (sql.find("'4548-4'") == std::string::npos) continue;
    // HbA1c by age band: every result falls in one band, and a band's patients are at most its
    // results.
    saw_hba1c = true;
    const auto& header = table[0];
    const auto col = [&](const std::string& name) {
      return std::find(header.begin(), header.end(), name) - header.begin();
    };
    const size_t results = col("results"), patients = col("patients");
    ASSERT_LT(results, header.size());
    ASSERT_LT(patients, header.size());
    int total = 0;
    for (size_t i = 1; i < table.size(); ++i) {
      total += std::stoi(table[i][results]);
      EXPECT_LE(std::stoi(table[i][patients]), std::stoi(table[i][results]));
    }
    EXPECT_EQ(total, hba1c);
  }
  EXPECT_TRUE(saw_hba1c) << "no documented query of HbA1c (LOINC 4548-4)";
}

}  // namespace
}  // namespace vesta::views
