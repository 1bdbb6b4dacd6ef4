// Search against the real server (https://hl7.org/fhir/R4/search.html, /http.html#search) over
// the official R4 examples (Patient, Observation, Practitioner, Organization, Condition,
// Encounter), loaded with PUT so that their references resolve: request → expected ids.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <thread>

#include "fhir/datetime.h"
#include "integration/test_server.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::testing {
namespace {

using Ids = std::vector<std::string>;

class SearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = VESTA_FHIR_PACKAGE_DIR;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return;
    std::vector<std::string> files;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      for (const char* type : {"Patient-", "Observation-", "Practitioner-", "Organization-",
                               "Condition-", "Encounter-", "List-", "Location-"}) {
        if (name.rfind(type, 0) == 0 && name.size() > 5 &&
            name.substr(name.size() - 5) == ".json") {
          files.push_back(name);
        }
      }
    }
    closedir(d);
    std::sort(files.begin(), files.end());
    dir_ = new TempDir();
    server_ = new ServerProcess(dir_->path(),
                                {"--durability", "normal", "--referential-integrity", "off"});
    if (!server_->ok()) return;
    loaded_ = new std::set<std::string>();
    for (const std::string& f : files) {
      std::ifstream in(dir + "/" + f, std::ios::binary);
      std::stringstream body;
      body << in.rdbuf();
      auto doc = json::Parse(body.str());
      if (!doc.ok()) continue;
      std::string type(doc->root().FindString("resourceType"));
      std::string id(doc->root().FindString("id"));
      HttpResult r = HttpRequest(server_->port(), "PUT", "/" + type + "/" + id, body.str(),
                                 {{"Content-Type", "application/fhir+json"}});
      if (r.status == 201 || r.status == 200) loaded_->insert(type + "/" + id);
    }
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->Stop(), 0);
    }
    delete server_;
    delete dir_;
    delete loaded_;
    server_ = nullptr;
    dir_ = nullptr;
    loaded_ = nullptr;
  }
  void SetUp() override {
    if (loaded_ == nullptr) GTEST_SKIP() << "the R4 examples package is not installed";
    ASSERT_TRUE(server_->ok());
    ASSERT_GT(loaded_->size(), 100u) << "the R4 examples did not load";
  }

  static HttpResult Do(const std::string& method, const std::string& target,
                       const std::string& body = "",
                       const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return HttpRequest(server_->port(), method, target, body, headers);
  }

  static json::Document Parse(const std::string& s) {
    auto doc = json::Parse(s);
    EXPECT_TRUE(doc.ok()) << s;
    return doc.ok() ? std::move(doc).value() : json::Document();
  }

  // "Type/id" of the entries with the given search mode, in Bundle order.
  static Ids EntryIds(const json::Document& bundle, std::string_view mode = "match") {
    Ids out;
    const json::Value* entries = bundle.root().Find("entry");
    if (entries == nullptr) return out;
    for (const json::Value& e : entries->items()) {
      const json::Value* search = e.Find("search");
      if (search == nullptr || search->FindString("mode") != mode) continue;
      const json::Value* r = e.Find("resource");
      out.push_back(std::string(r->FindString("resourceType")) + "/" +
                    std::string(r->FindString("id")));
    }
    return out;
  }

  static std::string Link(const json::Document& bundle, std::string_view relation) {
    const json::Value* links = bundle.root().Find("link");
    if (links == nullptr) return "";
    for (const json::Value& l : links->items()) {
      if (l.FindString("relation") == relation) return std::string(l.FindString("url"));
    }
    return "";
  }

  // The path and query of an absolute link.
  static std::string Target(const std::string& url) {
    size_t scheme = url.find("://");
    size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return slash == std::string::npos ? "/" : url.substr(slash);
  }

  // Sorted ids of the matches of a GET.
  static Ids Search(const std::string& target) {
    HttpResult r = Do("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    Ids ids = EntryIds(Parse(r.body));
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // The expected ids that were loaded (some examples may be rejected by validation).
  static Ids Loaded(Ids ids) {
    Ids out;
    for (const std::string& id : ids) {
      if (loaded_->count(id)) out.push_back(id);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static TempDir* dir_;
  static ServerProcess* server_;
  static std::set<std::string>* loaded_;
};

TempDir* SearchTest::dir_ = nullptr;
ServerProcess* SearchTest::server_ = nullptr;
std::set<std::string>* SearchTest::loaded_ = nullptr;

TEST_F(SearchTest, OfficialExamplesGiveTheExpectedIds) {
  const std::pair<const char*, Ids> cases[] = {
      {"/Patient?family=everywoman", {"Patient/genetics-example1", "Patient/mom"}},
      {"/Patient?name=SOLO",
       {"Patient/infant-mom", "Patient/infant-twin-1", "Patient/infant-twin-2"}},
      {"/Patient?gender=female&birthdate=1973-05-31", {"Patient/genetics-example1", "Patient/mom"}},
      {"/Patient?birthdate=lt1940", {"Patient/glossy", "Patient/xcda"}},
      {"/Observation?code=http://loinc.org%7C85354-9",
       {"Observation/blood-pressure", "Observation/blood-pressure-cancel",
        "Observation/blood-pressure-dar"}},
      {"/Observation?code=85354-9&date=2012-09-17&subject=Patient/example",
       {"Observation/blood-pressure", "Observation/blood-pressure-cancel",
        "Observation/blood-pressure-dar"}},
      {"/Observation?code=85354-9&subject:Patient.family=chalmers",
       {"Observation/blood-pressure", "Observation/blood-pressure-cancel",
        "Observation/blood-pressure-dar"}},
      {"/Observation?code=http://loinc.org%7C29463-7,http://loinc.org%7C85354-9&date=ge2016",
       {"Observation/example"}},
      {"/Patient?_has:Observation:subject:code=29463-7&_id=example,pat1", {"Patient/example"}},
      {"/Patient/example/Observation?code=85354-9",
       {"Observation/blood-pressure", "Observation/blood-pressure-cancel",
        "Observation/blood-pressure-dar"}},
      {"/?_type=Patient,Practitioner&_id=f001", {"Patient/f001", "Practitioner/f001"}},
      // https://hl7.org/fhir/R4/search.html#list: List/example's entries are two Conditions;
      // List/long's are 255 Patients, among them every Patient example.
      {"/Condition?_list=example", {"Condition/example", "Condition/example2"}},
      {"/Condition?_list=long,example&code=39065001", {"Condition/example"}},
      {"/Patient?_list=example", {}},
      // Location near: Location/1 is in Ann Arbor; Location/hl7 gives its coordinates swapped,
      // which still makes a valid point (latitude -83.69).
      {"/Location?near=42.2547%7C-83.6946%7C5%7Ckm", {"Location/1"}},
      {"/Location?near=-83.69471%7C42.2565%7C1%7Ckm", {"Location/hl7"}},
      {"/Location?near=42.2547%7C-83.6946%7C5%7Ckm,-83.69471%7C42.2565%7C1%7Ckm",
       {"Location/1", "Location/hl7"}},
      {"/Location?near:missing=true",
       {"Location/2", "Location/amb", "Location/ph", "Location/ukp"}},
      {"/Patient?_list=long&_id=pat1,f001,nosuch", {"Patient/f001", "Patient/pat1"}},
  };
  for (const auto& [target, expected] : cases) {
    EXPECT_EQ(Search(target), Loaded(expected)) << target;
  }
}

// "name=value&..." with each value percent-encoded (UCUM codes hold [ ] { }; '|' and '$' are
// sent as they are, '|' as %7C like the cases above).
std::string Query(const std::vector<std::pair<std::string, std::string>>& pairs) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const auto& [name, value] : pairs) {
    out += (out.empty() ? "?" : "&") + name + "=";
    for (unsigned char c : value) {
      if (std::isalnum(c) ||
          std::string_view("-._~,$:/").find(static_cast<char>(c)) != std::string_view::npos) {
        out.push_back(static_cast<char>(c));
      } else {
        out += {'%', kHex[c >> 4], kHex[c & 15]};
      }
    }
  }
  return out;
}

// Composite parameters (https://hl7.org/fhir/R4/search.html#composite) over the official
// examples: Observation/blood-pressure has components 8480-6 = 107 mm[Hg] and 8462-4 = 60
// mm[Hg]; blood-pressure-dar has 8480-6 = 107 mm[Hg] and 8462-4 with a dataAbsentReason;
// f205 has 48643-1 and 48642-3 = 60 mL/min/{1.73_m2}; map-sitting 8478-0 = 60 mm[Hg].
TEST_F(SearchTest, CompositeParametersOverTheExamples) {
  using P = std::vector<std::pair<std::string, std::string>>;
  const std::pair<P, Ids> cases[] = {
      // Each part with its type's syntax and prefixes.
      {{{"component-code-value-quantity", "http://loinc.org|8480-6$gt100"}},
       {"Observation/blood-pressure", "Observation/blood-pressure-dar"}},
      {{{"component-code-value-quantity", "http://loinc.org|8462-4$lt100"}},
       {"Observation/blood-pressure"}},
      {{{"component-code-value-quantity", "8480-6$107"}},
       {"Observation/blood-pressure", "Observation/blood-pressure-dar"}},
      {{{"component-code-value-quantity",
         "http://loinc.org|8480-6$ge100|http://unitsofmeasure.org|mm[Hg]"}},
       {"Observation/blood-pressure", "Observation/blood-pressure-dar"}},
      // Pairing: dar's 107 belongs to its 8480-6 component, never to its 8462-4.
      {{{"component-code-value-quantity", "http://loinc.org|8462-4$gt100"}}, {}},
      {{{"component-code-value-quantity", "http://loinc.org|8462-4$gt50"}},
       {"Observation/blood-pressure"}},
      // The value part compares in canonical units: 107 mm[Hg] = 14.27 kPa.
      {{{"component-code-value-quantity",
         "http://loinc.org|8480-6$ge14|http://unitsofmeasure.org|kPa"}},
       {"Observation/blood-pressure", "Observation/blood-pressure-dar"}},
      {{{"component-code-value-quantity",
         "http://loinc.org|8480-6$ge15|http://unitsofmeasure.org|kPa"}},
       {}},
      // Comma = OR of tuples; a repeated parameter = AND.
      {{{"component-code-value-quantity",
         "http://loinc.org|8462-4$lt100,http://loinc.org|48643-1$ge60"}},
       {"Observation/blood-pressure", "Observation/f205"}},
      {{{"component-code-value-quantity", "8480-6$gt100"},
        {"component-code-value-quantity", "8462-4$lt100"}},
       {"Observation/blood-pressure"}},
      // code-value-quantity pairs Observation.code with Observation.value only.
      {{{"code-value-quantity", "http://loinc.org|8480-6$gt100"}}, {}},
      {{{"code-value-quantity", "http://loinc.org|8310-5$gt37|http://unitsofmeasure.org|Cel"}},
       {"Observation/f202"}},
      {{{"code-value-quantity", "8310-5$gt99|http://unitsofmeasure.org|[degF]"}},
       {"Observation/f202"}},
      {{{"code-value-quantity", "http://loinc.org|29463-7$gt80|http://unitsofmeasure.org|kg"}},
       {"Observation/example"}},
      // combo-*: the Observation's own code and value, or a component's.
      {{{"combo-code-value-quantity", "http://loinc.org|8480-6$gt100"}},
       {"Observation/blood-pressure", "Observation/blood-pressure-dar"}},
      {{{"combo-code-value-quantity", "http://loinc.org|8478-0$lt70"}},
       {"Observation/map-sitting"}},
      // :missing
      {{{"component-code-value-quantity:missing", "false"}},
       {"Observation/blood-pressure", "Observation/blood-pressure-dar", "Observation/f205"}},
      {{{"component-code-value-quantity:missing", "false"}, {"code", "85354-9"}},
       {"Observation/blood-pressure", "Observation/blood-pressure-dar"}},
      {{{"component-code-value-quantity:missing", "true"}, {"code", "85354-9"}},
       {"Observation/blood-pressure-cancel"}},
  };
  for (const auto& [params, expected] : cases) {
    std::string target = "/Observation" + Query(params);
    EXPECT_EQ(Search(target), Loaded(expected)) << target;
  }
}

TEST_F(SearchTest, MalformedCompositeValuesAre400NamingTheParameter) {
  for (const char* value :
       {"http://loinc.org|8480-6", "8480-6$gt100$x", "8480-6$gtabc", "8480-6$", "$100"}) {
    std::string target = "/Observation" + Query({{"component-code-value-quantity", value}});
    HttpResult r = Do("GET", target);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("component-code-value-quantity"), std::string::npos) << r.body;
  }
  HttpResult r = Do("GET", "/Observation" + Query({{"code-value-quantity:exact", "x$1"}}));
  EXPECT_EQ(r.status, 400) << r.body;
}

// UCUM quantities compare in canonical units (https://hl7.org/fhir/R4/search.html#quantity);
// other systems match the unit as written.
TEST_F(SearchTest, QuantitiesCompareInCanonicalUcumUnits) {
  const char* glucose[][2] = {
      {"ucum-ug", R"("value":5500,"unit":"µg","system":"http://unitsofmeasure.org","code":"ug")"},
      {"ucum-g", R"("value":0.0055,"unit":"g","system":"http://unitsofmeasure.org","code":"g")"},
      {"ucum-mg", R"("value":5.3,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg")"},
      {"local-mg", R"("value":6,"unit":"mg","system":"http://example.org/units","code":"mg")"},
  };
  for (const auto& [id, quantity] : glucose) {
    std::string body = std::string(R"({"resourceType":"Observation","id":")") + id +
                       R"(","status":"final","code":{"coding":[{"system":)"
                       R"("http://example.org/codes","code":"ucum-test"}]},"valueQuantity":{)" +
                       quantity + "}}";
    HttpResult r = Do("PUT", std::string("/Observation/") + id, body,
                      {{"Content-Type", "application/fhir+json"}});
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.body;
  }
  using P = std::vector<std::pair<std::string, std::string>>;
  const std::pair<P, Ids> cases[] = {
      {{{"code", "ucum-test"}, {"value-quantity", "gt5.4|http://unitsofmeasure.org|mg"}},
       {"Observation/ucum-g", "Observation/ucum-ug"}},
      {{{"code", "ucum-test"}, {"value-quantity", "5.5|http://unitsofmeasure.org|mg"}},
       {"Observation/ucum-g", "Observation/ucum-ug"}},
      {{{"code", "ucum-test"}, {"value-quantity", "5500|http://unitsofmeasure.org|ug"}},
       {"Observation/ucum-g", "Observation/ucum-ug"}},
      {{{"code", "ucum-test"}, {"value-quantity", "lt0.0054|http://unitsofmeasure.org|g"}},
       {"Observation/ucum-mg"}},
      {{{"code", "ucum-test"}, {"value-quantity", "le5.5|http://unitsofmeasure.org|mg"}},
       {"Observation/ucum-g", "Observation/ucum-mg", "Observation/ucum-ug"}},
      // Not UCUM: exact system and unit; no system: the unit as written, in any system.
      {{{"code", "ucum-test"}, {"value-quantity", "6|http://example.org/units|mg"}},
       {"Observation/local-mg"}},
      {{{"code", "ucum-test"}, {"value-quantity", "gt5||mg"}},
       {"Observation/local-mg", "Observation/ucum-mg"}},
      {{{"code-value-quantity",
         "http://example.org/codes|ucum-test$ge5.5|http://unitsofmeasure.org|mg"}},
       {"Observation/ucum-g", "Observation/ucum-ug"}},
      // Over the examples: 185 [lb_av] = 83.9 kg; 6.2 kPa = 46.5 mm[Hg]; 7.2 g/dL = 72 g/L;
      // 25 cm and 51.2 cm are under 1000 mm, 66.9 [in_i] is not.
      {{{"value-quantity", "gt80|http://unitsofmeasure.org|kg"}}, {"Observation/example"}},
      {{{"value-quantity", "46.5|http://unitsofmeasure.org|mm[Hg]"}}, {"Observation/f003"}},
      {{{"value-quantity", "72|http://unitsofmeasure.org|g/L"}}, {"Observation/f005"}},
      {{{"value-quantity", "lt1000|http://unitsofmeasure.org|mm"}},
       {"Observation/body-length", "Observation/head-circumference"}},
      {{{"value-quantity", "122|http://snomed.info/sct|258814008"}}, {"Observation/f204"}},
  };
  loaded_->insert(
      {"Observation/ucum-ug", "Observation/ucum-g", "Observation/ucum-mg", "Observation/local-mg"});
  for (const auto& [params, expected] : cases) {
    std::string target = "/Observation" + Query(params);
    EXPECT_EQ(Search(target), Loaded(expected)) << target;
  }
}

TEST_F(SearchTest, CapabilityStatementListsCompositeParameters) {
  HttpResult r = Do("GET", "/metadata");
  ASSERT_EQ(r.status, 200);
  json::Document cs = Parse(r.body);
  std::map<std::string, std::string> observation;  // name → type
  for (const json::Value& rest : cs.root().Find("rest")->items()) {
    for (const json::Value& res : rest.Find("resource")->items()) {
      if (res.FindString("type") != "Observation") continue;
      for (const json::Value& p : res.Find("searchParam")->items()) {
        observation[std::string(p.FindString("name"))] = std::string(p.FindString("type"));
      }
    }
  }
  for (const char* name :
       {"code-value-quantity", "code-value-concept", "code-value-date", "code-value-string",
        "combo-code-value-quantity", "combo-code-value-concept", "component-code-value-quantity",
        "component-code-value-concept"}) {
    EXPECT_EQ(observation[name], "composite") << name;
  }
  EXPECT_EQ(observation["_list"], "special");
}

TEST_F(SearchTest, IncludeAndRevinclude) {
  HttpResult r = Do("GET", "/Observation?_id=blood-pressure&_include=Observation:subject");
  ASSERT_EQ(r.status, 200) << r.body;
  json::Document b = Parse(r.body);
  EXPECT_EQ(EntryIds(b), Loaded({"Observation/blood-pressure"}));
  EXPECT_EQ(EntryIds(b, "include"), Loaded({"Patient/example"}));
  EXPECT_EQ(b.root().FindString("type"), "searchset");

  r = Do("GET", "/Patient?_id=example&_revinclude=Observation:subject&code=x");
  ASSERT_EQ(r.status, 200);
  // `code` is not a Patient parameter: ignored (lenient handling) and left out of the self link.
  EXPECT_EQ(EntryIds(Parse(r.body)), Loaded({"Patient/example"}));
  EXPECT_EQ(Link(Parse(r.body), "self").find("code="), std::string::npos);
  r = Do("GET", "/Patient?_id=example&_revinclude=Observation:subject");
  Ids included = EntryIds(Parse(r.body), "include");
  EXPECT_TRUE(std::find(included.begin(), included.end(), "Observation/blood-pressure") !=
              included.end());
}

TEST_F(SearchTest, PostSearchEqualsGet) {
  HttpResult r = Do("POST", "/Patient/_search", "family=everywoman&gender=female",
                    {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(r.status, 200) << r.body;
  Ids ids = EntryIds(Parse(r.body));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, Search("/Patient?family=everywoman&gender=female"));
}

TEST_F(SearchTest, HandlingStrictRejectsUnknownParameters) {
  HttpResult r = Do("GET", "/Patient?nonsense=1", "", {{"Prefer", "handling=strict"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
  EXPECT_NE(r.body.find("nonsense"), std::string::npos);
  r = Do("GET", "/Patient?birthdate=notadate");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("birthdate"), std::string::npos);
  r = Do("GET", "/Patient?nonsense=1&_count=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Link(Parse(r.body), "self").find("nonsense"), std::string::npos);
}

TEST_F(SearchTest, SummaryCountAndTotal) {
  HttpResult r = Do("GET", "/Observation?code=85354-9&_summary=count");
  ASSERT_EQ(r.status, 200);
  json::Document b = Parse(r.body);
  ASSERT_NE(b.root().Find("total"), nullptr);
  Ids expected = Loaded({"Observation/blood-pressure", "Observation/blood-pressure-cancel",
                         "Observation/blood-pressure-dar"});
  EXPECT_EQ(b.root().Find("total")->number_text(), std::to_string(expected.size()));
  EXPECT_EQ(b.root().Find("entry"), nullptr);
}

// Sorted by birthdate; mom and genetics-example1 share 1973-05-31: the tie is broken by the
// resource row (load order), the same on every request.
TEST_F(SearchTest, SortWithTies) {
  HttpResult r = Do("GET", "/Patient?gender=female&_sort=birthdate,_id&_count=100");
  ASSERT_EQ(r.status, 200) << r.body;
  Ids ids = EntryIds(Parse(r.body));
  auto pos = [&](const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) - ids.begin();
  };
  if (loaded_->count("Patient/proband") && loaded_->count("Patient/mom") &&
      loaded_->count("Patient/genetics-example1")) {
    EXPECT_LT(pos("Patient/proband"), pos("Patient/genetics-example1"));
    EXPECT_LT(pos("Patient/genetics-example1"), pos("Patient/mom"));
  }
  HttpResult again = Do("GET", "/Patient?gender=female&_sort=birthdate&_count=100");
  HttpResult twice = Do("GET", "/Patient?gender=female&_sort=birthdate&_count=100");
  EXPECT_EQ(EntryIds(Parse(again.body)), EntryIds(Parse(twice.body)));
}

// Pages of 7 with a writer creating Observations meanwhile: every Observation that existed
// before the first page is seen exactly once.
TEST_F(SearchTest, PagingUnderConcurrentWrites) {
  for (const char* sort : {"", "&_sort=-date"}) {
    std::set<std::string> before;
    for (const std::string& id : *loaded_) {
      if (id.rfind("Observation/", 0) == 0) before.insert(id);
    }
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      for (int i = 0; i < 40 && !stop; ++i) {
        Do("POST", "/Observation",
           R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)"
           R"("effectiveDateTime":"2015-01-01"})");
      }
    });
    std::map<std::string, int> seen;
    std::string target = std::string("/Observation?_count=7") + sort;
    for (int page = 0; page < 100 && !target.empty(); ++page) {
      HttpResult r = Do("GET", target);
      ASSERT_EQ(r.status, 200) << r.body;
      json::Document b = Parse(r.body);
      for (const std::string& id : EntryIds(b)) seen[id]++;
      std::string next = Link(b, "next");
      target = next.empty() ? "" : Target(next);
    }
    stop = true;
    writer.join();
    for (const std::string& id : before) EXPECT_EQ(seen[id], 1) << id << " sort" << sort;
  }
}

// _text and _content (https://hl7.org/fhir/R4/search.html#text) over the official examples: the
// words were picked so that each one is in one example's narrative only, or in its data only.
TEST_F(SearchTest, FullTextOverTheOfficialExamples) {
  const Ids burn_or_myringotomy = {"Condition/f203", "Encounter/f203"};
  const std::pair<const char*, Ids> cases[] = {
      {"/Encounter?_text=myringotomy", {"Encounter/f203"}},  // narrative only
      {"/Encounter?_content=myringotomy", {"Encounter/f203"}},
      {"/Condition?_text=septicemia", {"Condition/f203"}},
      {"/Patient?_text=neutered", {}},  // only in Patient/animal's data, not its narrative
      {"/Patient?_content=neutered", {"Patient/animal"}},
      // "Bénédicte" (a contact of Patient/example, not in its narrative): case and accents fold.
      {"/Patient?_content=BENEDICTE", {"Patient/example"}},
      {"/Patient?_content=b%C3%A9n%C3%A9dicte", {"Patient/example"}},
      {"/Patient?_text=benedicte", {}},
      // "Severe burn of left ear": a phrase is the words in order.
      {"/Condition?_text=%22severe%20burn%22", {"Condition/example"}},
      {"/Condition?_text=%22burn%20severe%22", {}},
      {"/Condition?_text=severe%20ear", {"Condition/example"}},
      {"/Condition?_text=severe%20myringotomy", {}},
      {"/?_type=Condition,Encounter&_text=myringotomy%20OR%20septicemia", burn_or_myringotomy},
      {"/?_type=Condition,Encounter&_text=myringotomy,septicemia", burn_or_myringotomy},
      {"/?_content=neutered", {"Patient/animal"}},
      // With other parameters (AND), in a compartment.
      {"/Patient?_content=chalmers&gender=male", {"Patient/example"}},
      {"/Patient?_content=chalmers&gender=female", {"Patient/animal"}},
      {"/Patient/f001/Observation?_text=heuvel&code=http://loinc.org%7C15074-8",
       {"Observation/f001", "Observation/unsat"}},
      {"/Patient/example/Observation?_text=heuvel", {}},
  };
  for (const auto& [target, expected] : cases) {
    EXPECT_EQ(Search(target), Loaded(expected)) << target;
  }
}

TEST_F(SearchTest, FullTextFollowsUpdatesAndDeletes) {
  auto patient = [](const std::string& narrative, const std::string& family) {
    return R"({"resourceType":"Patient","text":{"status":"generated",)"
           R"("div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">)" +
           narrative + R"(</div>"},"name":[{"family":")" + family + R"("}]})";
  };
  HttpResult c = Do("POST", "/Patient", patient("Quokkaville resident", "Wombatson"),
                    {{"Content-Type", "application/fhir+json"}});
  ASSERT_EQ(c.status, 201) << c.body;
  std::string id(Parse(c.body).root().FindString("id"));
  const Ids self = {"Patient/" + id};
  EXPECT_EQ(Search("/Patient?_text=quokkaville"), self);
  EXPECT_EQ(Search("/Patient?_text=wombatson"), Ids{});
  EXPECT_EQ(Search("/Patient?_content=wombatson"), self);

  std::string updated = patient("Moved to Numbatburg", "Wombatson");
  updated.insert(1, "\"id\":\"" + id + "\",");
  HttpResult u = Do("PUT", "/Patient/" + id, updated, {{"Content-Type", "application/fhir+json"}});
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(Search("/Patient?_text=quokkaville"), Ids{});
  EXPECT_EQ(Search("/Patient?_text=numbatburg"), self);

  ASSERT_EQ(Do("DELETE", "/Patient/" + id).status, 200);
  EXPECT_EQ(Search("/Patient?_text=numbatburg"), Ids{});
  EXPECT_EQ(Search("/Patient?_content=wombatson"), Ids{});
}

TEST_F(SearchTest, MalformedFullTextIs400NamingTheParameter) {
  for (const char* target :
       {"/Patient?_text=%22open", "/Patient?_content=a%20OR", "/Patient?_content:missing=true",
        "/Patient?_text=", "/Patient?_text=x*", "/?_content=%28%29"}) {
    HttpResult r = Do("GET", target);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << r.body;
    std::string name =
        std::string(target).find("_text") != std::string::npos ? "_text" : "_content";
    EXPECT_NE(r.body.find(name), std::string::npos) << target << ": " << r.body;
  }
  // _text is defined on DomainResource: for a Bundle it is an unknown parameter.
  HttpResult bundle = Do("GET", "/Bundle?_text=x", "", {{"Prefer", "handling=strict"}});
  EXPECT_EQ(bundle.status, 400) << bundle.body;
  EXPECT_EQ(Do("GET", "/Bundle?_content=x", "", {{"Prefer", "handling=strict"}}).status, 200);
}

// _total=estimate (https://hl7.org/fhir/R4/search.html#total): on sets this small, the estimate
// samples the whole driving set and is exact; none gives no total.
TEST_F(SearchTest, TotalEstimateAccurateAndNone) {
  auto total = [](const std::string& target) -> int64_t {
    HttpResult r = Do("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    json::Document bundle = Parse(r.body);
    const json::Value* t = bundle.root().Find("total");
    return t == nullptr ? -1 : std::stoll(std::string(t->number_text()));
  };
  for (const char* query :
       {"_content=heuvel", "status=final", "code=85354-9", "", "_content=heuvel&status=final"}) {
    std::string base = std::string("/Observation?_count=1&") + query;
    int64_t accurate = total(base + "&_total=accurate");
    EXPECT_GT(accurate, 0) << query;
    EXPECT_EQ(total(base + "&_total=estimate"), accurate) << query;
  }
  EXPECT_EQ(total("/Observation?_count=1&_total=estimate&_text=heuvel"),
            static_cast<int64_t>(Loaded({"Observation/ekg", "Observation/f001", "Observation/f002",
                                         "Observation/f003", "Observation/f004", "Observation/f005",
                                         "Observation/unsat"})
                                     .size()));
  EXPECT_EQ(total("/Observation?_count=1&_total=none&status=final"), -1);
}

TEST_F(SearchTest, CapabilityStatementListsTheFullTextParameters) {
  HttpResult r = Do("GET", "/metadata");
  ASSERT_EQ(r.status, 200);
  json::Document doc = Parse(r.body);
  const json::Value& rest = doc.root().Find("rest")->items()[0];
  std::map<std::string, std::set<std::string>> params;  // type → search parameter names
  for (const json::Value& res : rest.Find("resource")->items()) {
    for (const json::Value& p : res.Find("searchParam")->items()) {
      params[std::string(res.FindString("type"))].insert(std::string(p.FindString("name")));
    }
  }
  EXPECT_TRUE(params["Location"].count("near"));
  EXPECT_TRUE(params["Patient"].count("_list"));
  EXPECT_TRUE(params["Patient"].count("_text"));
  EXPECT_TRUE(params["Patient"].count("_content"));
  EXPECT_FALSE(params["Bundle"].count("_text"));
  EXPECT_TRUE(params["Bundle"].count("_content"));
  std::set<std::string> system;
  for (const json::Value& p : rest.Find("searchParam")->items()) {
    system.insert(std::string(p.FindString("name")));
  }
  EXPECT_EQ(system, (std::set<std::string>{"_id", "_lastUpdated", "_list", "_text", "_content"}));
}

// Synthea patients ($VESTA_SHARED_DATA/synthea/patients, transaction Bundles): batch and
// transaction are not implemented yet, so each entry is PUT on its own with its urn:uuid
// references rewritten to Type/id. Expected results are computed from the Bundles themselves.
class SyntheaSearchTest : public SearchTest {
 protected:
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {}
  void SetUp() override {}
};

TEST_F(SyntheaSearchTest, PatientRecordsAreFoundAsLoaded) {
  const char* shared = std::getenv("VESTA_SHARED_DATA");
  std::string dir = std::string(shared ? shared : "") + "/synthea/patients";
  DIR* d = shared ? opendir(dir.c_str()) : nullptr;
  if (d == nullptr) GTEST_SKIP() << "no Synthea bundles in $VESTA_SHARED_DATA/synthea/patients";
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 5 && name.substr(name.size() - 5) == ".json") files.push_back(name);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  if (files.size() > 2) files.resize(2);  // bounded: two patients, ~1,000 resources

  TempDir data;
  ServerProcess server(data.path(), {"--durability", "normal"});
  ASSERT_TRUE(server.ok());
  for (const std::string& f : files) {
    std::ifstream in(dir + "/" + f, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto bundle = json::Parse(text.str());
    ASSERT_TRUE(bundle.ok()) << f;
    const json::Value* entries = bundle->root().Find("entry");
    ASSERT_NE(entries, nullptr);
    std::map<std::string, std::string> urn_to_ref;
    for (const json::Value& e : entries->items()) {
      const json::Value* r = e.Find("resource");
      urn_to_ref[std::string(e.FindString("fullUrl"))] =
          std::string(r->FindString("resourceType")) + "/" + std::string(r->FindString("id"));
    }
    std::string patient_id, family;
    std::map<std::string, int> loaded_by_type;
    std::map<std::string, std::vector<std::string>> obs_by_code;  // loaded Observation ids
    for (const json::Value& e : entries->items()) {
      const json::Value* r = e.Find("resource");
      std::string body = json::ToString(*r);
      for (size_t at = body.find("\"urn:uuid:"); at != std::string::npos;
           at = body.find("\"urn:uuid:", at + 1)) {
        size_t end = body.find('"', at + 1);
        auto it = urn_to_ref.find(body.substr(at + 1, end - at - 1));
        if (it != urn_to_ref.end()) body.replace(at + 1, end - at - 1, it->second);
      }
      std::string type(r->FindString("resourceType"));
      std::string id(r->FindString("id"));
      HttpResult put = HttpRequest(server.port(), "PUT", "/" + type + "/" + id, body,
                                   {{"Content-Type", "application/fhir+json"}});
      if (put.status != 201 && put.status != 200) continue;
      loaded_by_type[type]++;
      if (type == "Patient") {
        patient_id = id;
        const json::Value* names = r->Find("name");
        if (names != nullptr && names->size() > 0) {
          family = std::string(names->items()[0].FindString("family"));
        }
      }
      if (type == "Observation") {
        const json::Value* coding = r->Find("code")->Find("coding");
        if (coding != nullptr && coding->size() > 0 && r->Find("effectiveDateTime")) {
          const json::Value& c = coding->items()[0];
          obs_by_code[std::string(c.FindString("system")) + "|" + std::string(c.FindString("code"))]
              .push_back(id);
        }
      }
    }
    ASSERT_FALSE(patient_id.empty()) << f << ": the Patient did not load";
    auto total = [&](const std::string& target) -> int64_t {
      HttpResult r = HttpRequest(server.port(), "GET", target);
      EXPECT_EQ(r.status, 200) << target << ": " << r.body;
      json::Document b = Parse(r.body);
      const json::Value* t = b.root().Find("total");
      return t ? std::stoll(std::string(t->number_text())) : -1;
    };
    const std::string p = patient_id;
    EXPECT_EQ(total("/Observation?subject=Patient/" + p + "&_summary=count"),
              loaded_by_type["Observation"]);
    EXPECT_EQ(total("/Patient/" + p + "/Encounter?_summary=count"), loaded_by_type["Encounter"]);
    EXPECT_EQ(total("/Immunization?patient=" + p + "&_summary=count"),
              loaded_by_type["Immunization"]);
    // The most frequent Observation code, by patient and code, newest first.
    std::string code;
    for (const auto& [c, ids] : obs_by_code) {
      if (code.empty() || ids.size() > obs_by_code[code].size()) code = c;
    }
    if (code.empty()) continue;
    std::string encoded_code = code;
    encoded_code.replace(encoded_code.find('|'), 1, "%7C");
    HttpResult r = HttpRequest(
        server.port(), "GET",
        "/Observation?patient=" + p + "&code=" + encoded_code + "&_sort=-date&_count=1000");
    ASSERT_EQ(r.status, 200) << r.body;
    json::Document b = Parse(r.body);
    Ids got = EntryIds(b);
    Ids expected;
    for (const std::string& id : obs_by_code[code]) expected.push_back("Observation/" + id);
    Ids sorted_got = got;
    std::sort(sorted_got.begin(), sorted_got.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(sorted_got, expected) << code;
    int64_t previous = INT64_MAX;
    for (const json::Value& e : b.root().Find("entry")->items()) {
      auto when = fhir::ParseTimeRange(e.Find("resource")->FindString("effectiveDateTime"));
      ASSERT_TRUE(when.ok());
      EXPECT_LE(when->high, previous) << "not newest first";
      previous = when->high;
    }
    // Chained and reverse chained.
    if (!family.empty()) {
      EXPECT_EQ(total("/Observation?subject:Patient.family=" + family + "&code=" + encoded_code +
                      "&_summary=count"),
                static_cast<int64_t>(expected.size()));
    }
    HttpResult has =
        HttpRequest(server.port(), "GET",
                    "/Patient?_id=" + p + "&_has:Observation:subject:code=" + encoded_code);
    ASSERT_EQ(has.status, 200) << has.body;
    EXPECT_EQ(EntryIds(Parse(has.body)), Ids{"Patient/" + p});
  }
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace vesta::testing
