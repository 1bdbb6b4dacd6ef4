// Searches over a real store with its search index, run on every backend built (SQLite, and
// PostgreSQL in a fresh schema of a throw-away cluster when its store is built and the server
// installed; tests/store/store_backends.h): request → expected ids, per parameter type, modifier
// and prefix (https://hl7.org/fhir/R4/search.html), plus paging, _sort, _include/_revinclude,
// updates and deletes, and index use (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN). ctest
// runs it once per backend (store_search_test.sqlite, store_search_test.postgres). SQLite gives
// the reference answers: both stores must agree on every row of every table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "sqlite/connection.h"
#include "store/sqlite/search_index.h"
#include "store/sqlite/search_run.h"
#include "store/store_backends.h"
#include "store/temp_dir.h"

#ifdef VESTA_STORE_POSTGRES
#include "postgres/connection.h"
#include "store/postgres/search_run.h"
#endif

namespace vesta::store {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

// "a=1&b=2" → pairs (no percent-decoding: the tests write values plainly).
Params ParseQuery(const std::string& q) {
  Params out;
  size_t start = 0;
  while (start < q.size()) {
    size_t amp = q.find('&', start);
    if (amp == std::string::npos) amp = q.size();
    std::string pair = q.substr(start, amp - start);
    size_t eq = pair.find('=');
    out.emplace_back(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
    start = amp + 1;
  }
  return out;
}

const char* kResources[] = {
    R"({"resourceType":"Patient","id":"p1","active":true,"gender":"female",
        "birthDate":"1980-05-03","name":[{"family":"Müller","given":["Anna"]}],
        "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203",
                                          "code":"MR"}]},"system":"http://hosp","value":"MRN1"}],
        "address":[{"city":"Zürich"}]})",
    R"({"resourceType":"Patient","id":"p2","gender":"male","birthDate":"1975",
        "name":[{"family":"Miller","given":["Bob"]}]})",
    R"({"resourceType":"Patient","id":"p3","gender":"female","birthDate":"2001-01-01",
        "name":[{"family":"Smith","given":["Carla"]}],"active":false,
        "identifier":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203",
                                          "code":"DL"}]},"system":"http://dmv","value":"D123"}]})",
    R"({"resourceType":"Practitioner","id":"dr1","name":[{"family":"House"}]})",
    R"({"resourceType":"Observation","id":"o1","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},
        "subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/dr1"}],
        "effectiveDateTime":"2020-03-01T10:00:00Z",
        "valueQuantity":{"value":72,"unit":"/min","system":"http://unitsofmeasure.org",
                         "code":"/min"}})",
    R"({"resourceType":"Observation","id":"o2","status":"final",
        "code":{"coding":[{"system":"http://loinc.org","code":"8480-6",
                           "display":"Systolic blood pressure"}]},
        "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2021-06-15",
        "valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org",
                         "code":"mm[Hg]"}})",
    R"({"resourceType":"Observation","id":"o3","status":"preliminary",
        "code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},
        "subject":{"reference":"Patient/p2"},"effectiveDateTime":"2019-12-31",
        "valueQuantity":{"value":80,"unit":"/min","system":"http://unitsofmeasure.org",
                         "code":"/min"}})",
    R"({"resourceType":"Observation","id":"o4","status":"final",
        "code":{"coding":[{"system":"http://snomed.info/sct","code":"271649006"}],
                "text":"Blood pressure"},
        "subject":{"reference":"Patient/p3"},"effectiveDateTime":"2022"})",
    R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p2"},
        "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]},
        "recordedDate":"2018-04-01"})",
};

// A test of what only the SQLite store has (its query plans, VM steps, FTS5 tables, schema
// history): skipped on PostgreSQL, with the reason.
#define SQLITE_ONLY(why)                      \
  if (OnPostgres()) {                         \
    GTEST_SKIP() << "SQLite only: " << (why); \
  }

class StoreSearchTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (OnPostgres()) {
#ifdef VESTA_STORE_POSTGRES
      Result<std::string> uri = FreshPostgresUri();
      if (uri.status().code() == StatusCode::kNotFound) {
        GTEST_SKIP() << uri.status().message();
      }
      ASSERT_TRUE(uri.ok()) << uri.status().ToString();
      uri_ = *uri;
#endif
    } else {
      ASSERT_FALSE(dir_.path().empty());
    }
    OpenStore();
    ASSERT_NE(store_, nullptr);
    int64_t t = 1700000000000000;
    for (const char* json : kResources) Put(json, t += 1000000);
  }
  void TearDown() override {
    if (store_ != nullptr) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }

  bool OnPostgres() const { return GetParam() == "postgres"; }

  void OpenStore() {
    Result<std::unique_ptr<Store>> opened = Status(StatusCode::kNotSupported, "no backend");
    if (OnPostgres()) {
#ifdef VESTA_STORE_POSTGRES
      PostgresStoreOptions options;
      options.uri = uri_;
      options.pool_size = 4;
      opened = OpenPostgresStore(options);
#endif
    } else {
      SqliteStoreOptions options;
      options.directory = dir_.path();
      options.durability = Durability::kNormal;
      opened = OpenSqliteStoreWithSearch(options);
    }
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
  }

  // `vesta reindex`: the store closed, its search index rebuilt from the stored resources, and
  // opened again. Returns how many resources were indexed.
  Result<int64_t> Reindex() {
    RETURN_IF_ERROR(store_->Close());
    store_.reset();
    Result<int64_t> n = Status(StatusCode::kNotSupported, "no backend");
#ifdef VESTA_STORE_POSTGRES
    if (OnPostgres()) n = ReindexPostgresStore(uri_);
#endif
    if (!OnPostgres()) n = ReindexSqliteStore(dir_.path());
    OpenStore();
    return n;
  }

  void Put(const std::string& json, int64_t last_updated) {
    std::string type = json.substr(json.find(':') + 2);
    type = type.substr(0, type.find('"'));
    size_t at = json.find("\"id\":\"") + 6;
    std::string id = json.substr(at, json.find('"', at) - at);
    WriteOp op;
    op.type = type;
    op.id = id;
    op.last_updated = last_updated;
    op.json = json;
    auto cur = store_->Read(type, id);
    if (cur.ok()) {
      op.kind = WriteKind::kUpdate;
      op.expected_version = cur->version;
    }
    auto written = store_->Write(std::span<const WriteOp>(&op, 1));
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }

  Result<SearchPage> Search(const std::string& type, const std::string& query,
                            const std::string& compartment = "") {
    SearchQuery q;
    if (!type.empty()) q.types.push_back(type);
    q.params = ParseQuery(query);
    q.compartment_patient = compartment;
    q.now = 1700000000000000;
    q.walk_above = walk_above_;
    return store_->Search(q);
  }

  // The ids of the matches (in order when `ordered`, else sorted), then "+id" for includes.
  std::vector<std::string> Ids(const std::string& type, const std::string& query,
                               bool ordered = false, const std::string& compartment = "") {
    auto page = Search(type, query, compartment);
    EXPECT_TRUE(page.ok()) << query << ": " << page.status().ToString();
    if (!page.ok()) return {"<error>"};
    std::vector<std::string> match, include;
    for (const SearchHit& h : page->entries) {
      (h.mode == SearchMode::kMatch ? match : include)
          .push_back((h.mode == SearchMode::kMatch ? "" : "+") + h.version.id);
    }
    if (!ordered) std::sort(match.begin(), match.end());
    std::sort(include.begin(), include.end());
    match.insert(match.end(), include.begin(), include.end());
    return match;
  }

  // Follows the next cursors from the first page on; returns the ids in order.
  std::vector<std::string> AllPages(const std::string& type, const std::string& query) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int i = 0; i < 20; ++i) {
      auto page = Search(type, query + (cursor.empty() ? "" : "&_cursor=" + cursor));
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (const auto& h : page->entries) ids.push_back(h.version.id);
      cursor = page->next_cursor;
      if (cursor.empty()) break;
    }
    return ids;
  }

  TempDir dir_;      // SQLite's directory
  std::string uri_;  // PostgreSQL's schema
  std::unique_ptr<Store> store_;
  int64_t walk_above_ = 2000;
};

using V = std::vector<std::string>;

struct Case {
  const char* type;
  const char* query;
  V expected;
};

std::vector<Case> ExpectedCases() {
  return {
      // token: https://hl7.org/fhir/R4/search.html#token
      {"Observation", "code=8867-4", {"o1", "o3"}},
      {"Observation", "code=http://loinc.org|8867-4", {"o1", "o3"}},
      {"Observation", "code=http://snomed.info/sct|", {"o4"}},
      {"Observation", "code=|8867-4", {}},
      {"Observation", "code:text=heart", {"o1", "o3"}},
      {"Observation", "code:text=blood pres", {"o4"}},
      {"Observation", "code:text=systolic", {"o2"}},
      {"Observation", "code:not=8867-4", {"o2", "o4"}},
      {"Observation", "code=8867-4,8480-6", {"o1", "o2", "o3"}},
      {"Observation", "status=final&code=8867-4", {"o1"}},
      {"Observation", "code:missing=true", {}},
      // combo-code reads the rows of code and component-code (it writes none of its own).
      {"Observation", "combo-code=8867-4", {"o1", "o3"}},
      {"Observation", "combo-code=http://loinc.org|8480-6", {"o2"}},
      {"Observation", "combo-code:text=heart", {"o1", "o3"}},
      {"Observation", "combo-code:not=8867-4", {"o2", "o4"}},
      {"Observation", "combo-code:missing=true", {}},
      {"Observation", "combo-value-quantity=gt75", {"o2", "o3"}},
      {"Observation", "combo-value-quantity:missing=true", {"o4"}},
      {"Patient", "identifier=MRN1", {"p1"}},
      {"Patient", "identifier=http://hosp|MRN1", {"p1"}},
      {"Patient",
       "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|MRN1",
       {"p1"}},
      {"Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|DL|MRN1", {}},
      {"Patient",
       "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|DL|D123",
       {"p3"}},
      {"Patient", "identifier:of-type=http://other|MR|MRN1", {}},
      {"Patient",
       "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|MRN1,"
       "http://terminology.hl7.org/CodeSystem/v2-0203|DL|D123",
       {"p1", "p3"}},
      {"Patient", "gender=female", {"p1", "p3"}},
      {"Patient", "active=true", {"p1"}},
      {"Patient", "active:missing=true", {"p2"}},
      // string: https://hl7.org/fhir/R4/search.html#string
      {"Patient", "name=mul", {"p1"}},
      {"Patient", "name=MÜL", {"p1"}},
      {"Patient", "name=mi", {"p2"}},
      {"Patient", "name:exact=Müller", {"p1"}},
      {"Patient", "name:exact=muller", {}},
      {"Patient", "name:contains=ill", {"p2"}},
      {"Patient", "family=smi", {"p3"}},
      {"Patient", "given=anna,bob", {"p1", "p2"}},
      {"Patient", "address-city=zurich", {"p1"}},
      // date: https://hl7.org/fhir/R4/search.html#date
      {"Observation", "date=2020", {"o1"}},
      {"Observation", "date=2020-03-01", {"o1"}},
      {"Observation", "date=ge2021", {"o2", "o4"}},
      {"Observation", "date=lt2020", {"o3"}},
      {"Observation", "date=gt2021-06-15", {"o4"}},
      {"Observation", "date=le2020-03-01", {"o1", "o3"}},
      {"Observation", "date=sa2021-12-31", {"o4"}},
      {"Observation", "date=eb2020", {"o3"}},
      {"Observation", "date=ne2020", {"o2", "o3", "o4"}},
      {"Observation", "date=ge2020&date=lt2022", {"o1", "o2"}},
      {"Patient", "birthdate=1980", {"p1"}},
      {"Patient", "birthdate=le1976", {"p2"}},
      // quantity: https://hl7.org/fhir/R4/search.html#quantity
      {"Observation", "value-quantity=72", {"o1"}},
      {"Observation", "value-quantity=gt75", {"o2", "o3"}},
      {"Observation", "value-quantity=le80", {"o1", "o3"}},
      {"Observation", "value-quantity=120|http://unitsofmeasure.org|mm[Hg]", {"o2"}},
      {"Observation", "value-quantity=120||/min", {}},
      {"Observation", "value-quantity=ap78", {"o1", "o3"}},
      {"Observation", "value-quantity:missing=true", {"o4"}},
      // reference: https://hl7.org/fhir/R4/search.html#reference
      {"Observation", "subject=Patient/p1", {"o1", "o2"}},
      {"Observation", "subject=p1", {"o1", "o2"}},
      {"Observation", "subject:Patient=p2", {"o3"}},
      {"Observation", "patient=p3", {"o4"}},
      {"Observation", "performer=Practitioner/dr1", {"o1"}},
      // chaining and _has: https://hl7.org/fhir/R4/search.html#chaining, #has
      {"Observation", "subject:Patient.name=müller", {"o1", "o2"}},
      {"Observation", "subject.name=smith", {"o4"}},
      {"Observation", "subject:Patient.gender=male", {"o3"}},
      {"Observation", "performer:Practitioner.name=house", {"o1"}},
      // a chain probed per row of a walked index, or of another condition's list
      {"Observation", "subject:Patient.name=müller&code=http://loinc.org|8867-4", {"o1"}},
      {"Observation", "code=http://loinc.org|8867-4&subject:Patient.gender=male", {"o3"}},
      {"Observation", "status=final&subject:Patient.name=müller", {"o1", "o2"}},
      {"Observation", "subject.name=smith,miller&code=http://snomed.info/sct|271649006", {"o4"}},
      {"Observation", "subject:Patient._has:Condition:subject:code=44054006", {"o3"}},
      {"Patient", "_has:Observation:subject:code=8480-6", {"p1"}},
      {"Patient", "_has:Observation:patient:code=8867-4", {"p1", "p2"}},
      {"Patient", "_has:Condition:subject:code=44054006", {"p2"}},
      // _id, _lastUpdated
      {"Observation", "_id=o1,o3", {"o1", "o3"}},
      {"Patient", "_id=p1&gender=male", {}},
      {"Patient", "_lastUpdated=gt2023-11-14T22:13:21Z", {"p2", "p3"}},
      // _include / _revinclude: https://hl7.org/fhir/R4/search.html#include
      {"Observation", "_id=o1&_include=Observation:subject", {"o1", "+p1"}},
      {"Observation", "_id=o1&_include=Observation:*", {"o1", "+dr1", "+p1"}},
      {"Observation", "_id=o1&_include=*", {"o1", "+dr1", "+p1"}},
      {"Patient", "_id=p1&_revinclude=Observation:subject", {"p1", "+o1", "+o2"}},
      {"Patient", "_id=p2&_revinclude=*", {"p2", "+c1", "+o3"}},
      {"Observation",
       "_id=o3&_include=Observation:subject&_revinclude:iterate=Condition:subject",
       {"o3", "+c1", "+p2"}},
      // system search
      {"", "_type=Patient,Practitioner&_id=p1,dr1", {"dr1", "p1"}},
      {"", "_id=c1", {"c1"}},
  };
}

TEST_P(StoreSearchTest, RequestsFindTheExpectedIds) {
  for (const Case& c : ExpectedCases()) {
    EXPECT_EQ(Ids(c.type, c.query), c.expected) << c.type << "?" << c.query;
  }
  EXPECT_EQ(Ids("Observation", "_id=o1,o2,o3&_sort=-combo-value-quantity", /*ordered=*/true),
            (V{"o2", "o3", "o1"}));
}

TEST_P(StoreSearchTest, CompartmentSearch) {
  EXPECT_EQ(Ids("Observation", "", false, "p1"), (V{"o1", "o2"}));
  EXPECT_EQ(Ids("Observation", "code=8867-4", false, "p1"), (V{"o1"}));
  EXPECT_EQ(Ids("Condition", "", false, "p2"), (V{"c1"}));
  EXPECT_EQ(Ids("Patient", "", false, "p2"), (V{"p2"}));
}

TEST_P(StoreSearchTest, SortsWithTiesBrokenByRow) {
  EXPECT_EQ(Ids("Observation", "_sort=date", true), (V{"o3", "o1", "o2", "o4"}));
  EXPECT_EQ(Ids("Observation", "_sort=-date", true), (V{"o4", "o2", "o1", "o3"}));
  // status ties (three finals) are broken by insertion order.
  EXPECT_EQ(Ids("Observation", "_sort=status,-date", true), (V{"o4", "o2", "o1", "o3"}));
  EXPECT_EQ(Ids("Observation", "_sort=-status,_id", true), (V{"o3", "o1", "o2", "o4"}));
  EXPECT_EQ(Ids("Patient", "_sort=family", true), (V{"p2", "p1", "p3"}));
  // Resources without a value sort last either way.
  EXPECT_EQ(Ids("Observation", "_sort=value-quantity", true), (V{"o1", "o3", "o2", "o4"}));
  EXPECT_EQ(Ids("Observation", "_sort=-value-quantity", true), (V{"o2", "o3", "o1", "o4"}));
}

class PagingTest : public StoreSearchTest {};

TEST_P(PagingTest, KeysetPagesVisitEveryMatchOnce) {
  EXPECT_EQ(AllPages("Observation", "_count=1"), (V{"o1", "o2", "o3", "o4"}));
  EXPECT_EQ(AllPages("Observation", "_count=1&_sort=-date"), (V{"o4", "o2", "o1", "o3"}));
  EXPECT_EQ(AllPages("Observation", "_count=3&_sort=status,-date"), (V{"o4", "o2", "o1", "o3"}));
  // Accurate totals on every page; _summary=count gives the total alone.
  auto page = Search("Observation", "_count=1&_total=accurate");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 4);
  auto count = Search("Observation", "code=8867-4&_summary=count");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->total, 2);
  EXPECT_TRUE(count->entries.empty());
}

// A chain that drives an unsorted page walks the references to its inner matches in (target
// id, seq) order (Plan::chain): pages visit every match once, in that order, while matches are
// written between pages; a resource referring to two inner matches comes once; the cursor of
// another search's form is refused; and the plan has no sort and reads no table in full.
TEST_P(PagingTest, ChainedPagesWalkTheReferencesInTargetOrder) {
  int64_t t = 1800000000000000;
  // Patients named Chainer, created out of id order, and one named otherwise.
  for (const char* id : {"cb", "ca", "cc"}) {
    Put(std::string(R"({"resourceType":"Patient","id":")") + id +
            R"(","name":[{"family":"Chainer"}]})",
        t += 1000);
  }
  Put(R"({"resourceType":"Patient","id":"cz","name":[{"family":"Other"}]})", t += 1000);
  auto obs = [&](const std::string& id, const std::string& subject, const std::string& code,
                 const std::string& performers) {
    Put(R"({"resourceType":"Observation","id":")" + id +
            R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")" + code +
            R"("}]},"subject":{"reference":"Patient/)" + subject + R"("}, "performer":[)" +
            performers + "]}",
        t += 1000);
  };
  obs("x1", "cc", "1-1", "");
  obs("x2", "ca", "1-1", "");
  obs("x3", "cb", "1-1", "");
  obs("x4", "ca", "2-2", "");  // another code
  obs("x5", "cz", "1-1", "");  // another name
  obs("x6", "ca", "1-1", "");
  obs("x7", "cb", "1-1",
      R"({"reference":"Patient/cc"},{"reference":"Patient/ca"},{"reference":"Patient/ca"})");
  const std::string q = "subject:Patient.family=chainer&code=http://loinc.org|1-1";
  const V in_order = {"x2", "x6", "x3", "x7", "x1"};  // ca's, cb's, cc's; each in seq order
  EXPECT_EQ(AllPages("Observation", q + "&_count=1"), in_order);
  EXPECT_EQ(AllPages("Observation", q + "&_count=2"), in_order);
  EXPECT_EQ(AllPages("Observation", q + "&_count=50"), in_order);
  auto count = Search("Observation", q + "&_summary=count");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->total, 5);
  // x7 refers to ca twice and to cc: once, under ca.
  EXPECT_EQ(AllPages("Observation", "performer:Patient.family=chainer&_count=1"), (V{"x7"}));

  // Between pages: a match for a target before the cursor's (not seen: it sorts before it),
  // one for the cursor's own target after it, one for a later target, and a match that stops
  // matching.
  auto first = Search("Observation", q + "&_count=3");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->entries.size(), 3u);  // x2, x6, x3: the cursor is at (cb, x3)
  obs("x8", "ca", "1-1", "");
  obs("x9", "cb", "1-1", "");
  obs("x10", "cc", "1-1", "");
  obs("x1", "cc", "2-2", "");
  auto second = Search("Observation", q + "&_count=10&_cursor=" + first->next_cursor);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  std::vector<std::string> ids;
  for (const auto& h : second->entries) ids.push_back(h.version.id);
  EXPECT_EQ(ids, (V{"x7", "x9", "x10"}));

  // A cursor of a seq-ordered page (no key) or a sorted one (an integer key) is not this one's.
  auto plain = Search("Observation", "code=http://loinc.org|1-1&_count=1");
  ASSERT_TRUE(plain.ok());
  ASSERT_FALSE(plain->next_cursor.empty());
  EXPECT_EQ(Search("Observation", q + "&_cursor=" + plain->next_cursor).status().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(Search("Observation", q + "&_cursor=i5~12").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(Search("Observation", "code=http://loinc.org|1-1&_cursor=" + first->next_cursor)
                .status()
                .code(),
            StatusCode::kInvalid);

  // A chain to several target types: `subject.name` reaches Patient and Location (the other
  // subject types have no `name`), walked in "Location/...", "Patient/..." order, across pages.
  Put(R"({"resourceType":"Location","id":"lb","name":"Chainer Ward"})", t += 1000);
  Put(R"({"resourceType":"Observation","id":"x11","status":"final","code":{"coding":[
          {"system":"http://loinc.org","code":"1-1"}]},"subject":{"reference":"Location/lb"}})",
      t += 1000);
  const std::string both = "subject.name=chainer&code=http://loinc.org|1-1";
  const V both_in_order = {"x11", "x2", "x6", "x8", "x3", "x7", "x9", "x10"};
  EXPECT_EQ(AllPages("Observation", both + "&_count=1"), both_in_order);
  EXPECT_EQ(AllPages("Observation", both + "&_count=3"), both_in_order);
  EXPECT_EQ(AllPages("Observation", both + "&_count=100"), both_in_order);

  if (OnPostgres()) return;  // below: SQLite's plan (PostgreSQL's: PostgresSearchesUseIndexes)
  for (bool with_cursor : {false, true}) {
    SearchQuery sq;
    sq.types = {"Observation"};
    sq.params = ParseQuery(q + (with_cursor ? "&_cursor=" + first->next_cursor : ""));
    auto plan = ExplainSqliteSearch(dir_.path(), sq);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    std::string all;
    for (const std::string& line : *plan) all += line + "\n";
    EXPECT_EQ(all.find("TEMP B-TREE"), std::string::npos) << all;
    EXPECT_EQ(all.find("SCAN search_"), std::string::npos) << all;
    EXPECT_NE(all.find("search_reference_target"), std::string::npos) << all;
  }
}

// With every driving list counted as long, unsorted searches whose conditions all have a probe
// form walk the type's rows instead (Plan::CountThenWalk): the same matches, pages and totals.
TEST_P(PagingTest, WalkingTheTypeFindsTheSameMatches) {
  walk_above_ = 1;
  for (const Case& c : ExpectedCases()) {
    EXPECT_EQ(Ids(c.type, c.query), c.expected) << c.type << "?" << c.query;
  }
  EXPECT_EQ(AllPages("Observation", "status=final&_count=1"), (V{"o1", "o2", "o4"}));
  EXPECT_EQ(AllPages("Patient", "gender=female&birthdate=ge1970&_count=1"), (V{"p1", "p3"}));
  auto page = Search("Observation", "status=final&_count=1&_total=accurate");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 3);
}

TEST_P(PagingTest, NextLinkStaysCorrectUnderConcurrentWrites) {
  auto first = Search("Observation", "_count=2&_sort=date");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->entries.size(), 2u);  // o3, o1
  // Between pages: a new match sorting before the cursor, one after, and an unrelated update.
  Put(R"({"resourceType":"Observation","id":"o5","status":"final","effectiveDateTime":"2000",
          "code":{"coding":[{"code":"x"}]}})",
      1800000000000000);
  Put(R"({"resourceType":"Observation","id":"o6","status":"final","effectiveDateTime":"2030",
          "code":{"coding":[{"code":"x"}]}})",
      1800000000000001);
  auto second = Search("Observation", "_count=10&_sort=date&_cursor=" + first->next_cursor);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  std::vector<std::string> ids;
  for (const auto& h : second->entries) ids.push_back(h.version.id);
  EXPECT_EQ(ids, (V{"o2", "o4", "o6"}));  // nothing repeated, nothing skipped
}

// One equality on a value index drives the page as a walk of that index in seq order (Plan::
// driver): pages visit every match once, in order, also when a resource has the same code twice
// and while matches are written between pages; and the plan has no list and no sort.
TEST_P(PagingTest, EqualityDrivenPagesWalkTheIndexInOrder) {
  int64_t t = 1800000000000000;
  for (const char* id : {"w1", "w2", "w3", "w4", "w5"}) {
    std::string dup = std::string(id) == "w2" || std::string(id) == "w4"
                          ? R"(,{"system":"http://loinc.org","code":"2339-0","display":"again"})"
                          : "";
    Put(std::string(R"({"resourceType":"Observation","id":")") + id +
            R"(","status":"final","subject":{"reference":"Patient/p3"},)"
            R"("code":{"coding":[{"system":"http://loinc.org","code":"2339-0"})" +
            dup + "]}}",
        t += 1000);
  }
  const std::string q = "code=http://loinc.org|2339-0";
  EXPECT_EQ(AllPages("Observation", q + "&_count=2"), (V{"w1", "w2", "w3", "w4", "w5"}));
  EXPECT_EQ(AllPages("Observation", q + "&status=final&_count=1"),
            (V{"w1", "w2", "w3", "w4", "w5"}));
  EXPECT_EQ(AllPages("Observation", "patient=Patient/p3&_count=2"),
            (V{"o4", "w1", "w2", "w3", "w4", "w5"}));
  auto count = Search("Observation", q + "&_summary=count");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->total, 5);

  // A write between pages: the updated w1 moves behind the cursor's end (a new row), w6 is new.
  auto first = Search("Observation", q + "&_count=2");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->entries.size(), 2u);
  Put(R"({"resourceType":"Observation","id":"w6","status":"final",
          "code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]}})",
      t += 1000);
  Put(R"({"resourceType":"Observation","id":"w3","status":"amended",
          "code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]}})",
      t += 1000);
  auto second = Search("Observation", q + "&_count=10&_cursor=" + first->next_cursor);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  std::vector<std::string> ids;
  for (const auto& h : second->entries) ids.push_back(h.version.id);
  EXPECT_EQ(ids, (V{"w4", "w5", "w6", "w3"}));

  if (OnPostgres()) return;  // below: SQLite's plan (PostgreSQL's: PostgresSearchesUseIndexes)
  for (const char* query :
       {"code=http://loinc.org|2339-0&status=final", "patient=Patient/p3&date=ge2020"}) {
    SearchQuery sq;
    sq.types = {"Observation"};
    sq.params = ParseQuery(query);
    auto plan = ExplainSqliteSearch(dir_.path(), sq);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    std::string all;
    for (const std::string& line : *plan) all += line + "\n";
    EXPECT_EQ(all.find("TEMP B-TREE"), std::string::npos) << query << "\n" << all;
    EXPECT_EQ(all.find("LIST SUBQUERY"), std::string::npos) << query << "\n" << all;
    EXPECT_EQ(all.find("MATERIALIZE"), std::string::npos) << query << "\n" << all;
    EXPECT_EQ(all.find("SCAN "), std::string::npos) << query << "\n" << all;
  }
}

TEST_P(StoreSearchTest, OnlyTheCurrentVersionIsIndexed) {
  Put(R"({"resourceType":"Observation","id":"o1","status":"amended",
          "code":{"coding":[{"system":"http://loinc.org","code":"9279-1"}]},
          "subject":{"reference":"Patient/p2"}})",
      1800000000000000);
  EXPECT_EQ(Ids("Observation", "code=8867-4"), (V{"o3"}));
  EXPECT_EQ(Ids("Observation", "code=9279-1"), (V{"o1"}));
  EXPECT_EQ(Ids("Observation", "status=final"), (V{"o2", "o4"}));
  EXPECT_EQ(Ids("Observation", "", false, "p1"), (V{"o2"}));
  WriteOp del;
  del.kind = WriteKind::kDelete;
  del.type = "Observation";
  del.id = "o3";
  del.expected_version = 1;
  del.last_updated = 1800000000000001;
  ASSERT_TRUE(store_->Write(std::span<const WriteOp>(&del, 1)).ok());
  EXPECT_EQ(Ids("Observation", "code=8867-4"), (V{}));
  EXPECT_EQ(Ids("Observation", ""), (V{"o1", "o2", "o4"}));
}

// A write that rolls back takes the parameter and system ids it added with it (on SQLite,
// schema/020_search_keys.sql): a later write of another type's parameter may be given the same
// id, and neither may then be filed under the other.
TEST_P(StoreSearchTest, ARolledBackWriteLeavesNoParameterBehind) {
  WriteOp ops[2];
  ops[0].kind = WriteKind::kCreate;
  ops[0].type = "Basic";
  ops[0].id = "b1";
  ops[0].last_updated = 1800000000000000;
  ops[0].json =
      R"({"resourceType":"Basic","id":"b1","code":{"coding":[{"system":"urn:x","code":"one"}]}})";
  ops[1].kind = WriteKind::kUpdate;  // of a resource that does not exist: the call fails
  ops[1].type = "Basic";
  ops[1].id = "missing";
  ops[1].expected_version = 3;
  ops[1].last_updated = 1800000000000000;
  ops[1].json = R"({"resourceType":"Basic","id":"missing","code":{"text":"x"}})";
  ASSERT_FALSE(store_->Write(ops).ok());
  EXPECT_EQ(Ids("Basic", ""), (V{}));
  Put(R"({"resourceType":"Device","id":"d1","type":{"coding":[{"system":"urn:y","code":"two"}]}})",
      1800000001000000);
  Put(R"({"resourceType":"Basic","id":"b2","code":{"coding":[{"system":"urn:x","code":"one"}]}})",
      1800000002000000);
  EXPECT_EQ(Ids("Basic", "code=urn:x|one"), (V{"b2"}));
  EXPECT_EQ(Ids("Device", "type=urn:y|two"), (V{"d1"}));
  EXPECT_EQ(Ids("Basic", "code=urn:y|two"), (V{}));
  EXPECT_EQ(Ids("Device", "type=urn:x|one"), (V{}));
  EXPECT_EQ(Ids("Device", "type=two"), (V{"d1"}));
}

TEST_P(StoreSearchTest, ErrorsNameTheParameter) {
  SearchQuery q;
  q.types = {"Observation"};
  q.params = {{"nonsense", "1"}};
  q.strict = true;
  auto strict = store_->Search(q);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().code(), StatusCode::kInvalid);
  q.strict = false;
  auto lenient = store_->Search(q);
  ASSERT_TRUE(lenient.ok());
  EXPECT_TRUE(lenient->used_params.empty());
  EXPECT_EQ(lenient->entries.size(), 4u);
}

// https://hl7.org/fhir/R4/search.html#list: the resources a List refers to in its entries, of the
// searched type, OR-ed over several lists, combined with other conditions, following the List's
// updates; functional lists and modifiers are refused naming the parameter.
TEST_P(StoreSearchTest, ListSelectsTheItemsOfTheList) {
  int64_t t = 1800000000000000;
  Put(R"({"resourceType":"List","id":"l1","status":"current","mode":"working","entry":[
          {"item":{"reference":"Patient/p1"}},{"item":{"reference":"Observation/o2"}},
          {"item":{"reference":"Observation/o4"}},{"item":{"reference":"Observation/gone"}}]})",
      t += 1000);
  Put(R"({"resourceType":"List","id":"l2","status":"current","mode":"working","entry":[
          {"item":{"reference":"Patient/p3"}}]})",
      t += 1000);
  EXPECT_EQ(Ids("Patient", "_list=l1"), (V{"p1"}));
  EXPECT_EQ(Ids("Observation", "_list=l1"), (V{"o2", "o4"}));
  EXPECT_EQ(Ids("Patient", "_list=l1,l2"), (V{"p1", "p3"}));
  EXPECT_EQ(Ids("Patient", "_list=l1,l2&gender=female"), (V{"p1", "p3"}));
  EXPECT_EQ(Ids("Patient", "gender=female&_list=l2"), (V{"p3"}));
  EXPECT_EQ(Ids("Observation", "_list=l1&code=8480-6"), (V{"o2"}));
  EXPECT_EQ(Ids("Observation", "_list=l2"), (V{}));
  EXPECT_EQ(Ids("Observation", "_list=nosuchlist"), (V{}));
  SearchQuery all;
  all.params = {{"_list", "l1"}};
  auto system = store_->Search(all);
  ASSERT_TRUE(system.ok()) << system.status().ToString();
  std::vector<std::string> found;
  for (const auto& h : system->entries) found.push_back(h.version.type + "/" + h.version.id);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, (V{"Observation/o2", "Observation/o4", "Patient/p1"}));

  Put(R"({"resourceType":"List","id":"l1","status":"current","mode":"working","entry":[
          {"item":{"reference":"Observation/o2"}}]})",
      t += 1000);
  EXPECT_EQ(Ids("Observation", "_list=l1"), (V{"o2"}));
  EXPECT_EQ(Ids("Patient", "_list=l1"), (V{}));

  for (const auto& [param, value] : std::vector<std::pair<std::string, std::string>>{
           {"_list", "$current-problems"}, {"_list:missing", "true"}, {"_list", ""}}) {
    SearchQuery q;
    q.types = {"Observation"};
    q.params = {{param, value}};
    auto result = store_->Search(q);
    ASSERT_FALSE(result.ok()) << param << "=" << value;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalid);
    EXPECT_NE(result.status().message().find("_list"), std::string::npos)
        << result.status().message();
  }

  if (OnPostgres()) return;  // below: SQLite's plan (PostgreSQL's: PostgresSearchesUseIndexes)
  SearchQuery explain;
  explain.types = {"Observation"};
  explain.params = ParseQuery("_list=l1&code=8480-6");
  auto plan = ExplainSqliteSearch(dir_.path(), explain);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  for (const std::string& line : *plan) EXPECT_EQ(line.find("SCAN "), std::string::npos) << line;
}

// Location `near` (http://hl7.org/fhir/SearchParameter/Location-near): great-circle distance
// from latitude|longitude, in the units given (km by default; 10 km without a distance), across
// the antimeridian, OR-ed over several points, :missing; malformed values are 400s naming it.
TEST_P(StoreSearchTest, NearFindsLocationsWithinTheDistance) {
  int64_t t = 1800000000000000;
  auto location = [&](const std::string& id, const std::string& position) {
    Put(R"({"resourceType":"Location","id":")" + id + R"(","name":")" + id + "\"" +
            (position.empty() ? "" : R"(,"position":)" + position) + "}",
        t += 1000);
  };
  location("annarbor", R"({"latitude":42.2808,"longitude":-83.7430})");
  location("ypsilanti", R"({"latitude":42.2411,"longitude":-83.6130})");  // 11.6 km
  location("detroit", R"({"latitude":42.3314,"longitude":-83.0458})");    // 57.7 km
  location("west", R"({"latitude":0,"longitude":179.95})");
  location("east", R"({"latitude":0,"longitude":-179.95})");  // 11.1 km from west
  location("nowhere", "");
  EXPECT_EQ(Ids("Location", "near=42.2808|-83.7430|15|km"), (V{"annarbor", "ypsilanti"}));
  EXPECT_EQ(Ids("Location", "near=42.2808|-83.7430|60|km"),
            (V{"annarbor", "detroit", "ypsilanti"}));
  EXPECT_EQ(Ids("Location", "near=42.2808|-83.7430|10|[mi_i]"), (V{"annarbor", "ypsilanti"}));
  EXPECT_EQ(Ids("Location", "near=42.2808|-83.7430|11000|m"), (V{"annarbor"}));
  EXPECT_EQ(Ids("Location", "near=42.2808|-83.7430|12"), (V{"annarbor", "ypsilanti"}));
  EXPECT_EQ(Ids("Location", "near=42.2808|-83.7430"), (V{"annarbor"}));  // 10 km
  // Without a distance the units are irrelevant: still 10 km (5 km north of Ann Arbor), not 10 m.
  EXPECT_EQ(Ids("Location", "near=42.3258|-83.7430||m"), (V{"annarbor"}));
  EXPECT_EQ(Ids("Location", "near=42.3258|-83.7430||[mi_i]"), (V{"annarbor"}));
  EXPECT_EQ(Ids("Location", "near=0|179.99|10|km"), (V{"east", "west"}));
  EXPECT_EQ(Ids("Location", "near=0|-179.99|5|km"), (V{"east"}));
  EXPECT_EQ(Ids("Location", "near=42.3314|-83.0458|1|km,0|179.95|1|km"), (V{"detroit", "west"}));
  EXPECT_EQ(Ids("Location", "near=42.3314|-83.0458|100|km&name=ypsi"), (V{"ypsilanti"}));
  EXPECT_EQ(Ids("Location", "near:missing=true"), (V{"nowhere"}));
  EXPECT_EQ(Ids("Location", "near:missing=false").size(), 5u);

  for (const char* value : {"91|0", "abc|0", "1|2|3|kg", "1", "1|2|-5|km", "1|2|3|km|x", "nan|0",
                            "0|nan", "0|0|nan|km", "0|0|inf|km"}) {
    SearchQuery q;
    q.types = {"Location"};
    q.params = {{"near", value}};
    auto result = store_->Search(q);
    ASSERT_FALSE(result.ok()) << value;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalid) << value;
    EXPECT_NE(result.status().message().find("near"), std::string::npos)
        << result.status().message();
  }
  if (OnPostgres()) return;  // below: SQLite's plan (PostgreSQL's: PostgresSearchesUseIndexes)
  SearchQuery explain;
  explain.types = {"Location"};
  explain.params = ParseQuery("near=42.2808|-83.7430|15|km");
  auto plan = ExplainSqliteSearch(dir_.path(), explain);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  for (const std::string& line : *plan) EXPECT_EQ(line.find("SCAN "), std::string::npos) << line;
}

TEST_P(StoreSearchTest, OfTypeNeedsAllThreeParts) {
  for (const char* value : {"MR|MRN1", "http://terminology.hl7.org/CodeSystem/v2-0203||MRN1",
                            "http://terminology.hl7.org/CodeSystem/v2-0203|MR|"}) {
    SearchQuery q;
    q.types = {"Patient"};
    q.params = {{"identifier:of-type", value}};
    auto result = store_->Search(q);
    ASSERT_FALSE(result.ok()) << value;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalid) << value;
    EXPECT_NE(result.status().message().find("identifier:of-type"), std::string::npos)
        << result.status().message();
  }
}

TEST_P(StoreSearchTest, ReindexRebuildsTheSameRows) {
  auto n = Reindex();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(*n, 9);
  EXPECT_EQ(Ids("Observation", "subject:Patient.name=müller"), (V{"o1", "o2"}));
  for (const Case& c : ExpectedCases()) {
    EXPECT_EQ(Ids(c.type, c.query), c.expected) << c.type << "?" << c.query;
  }
#ifdef VESTA_STORE_POSTGRES
  if (OnPostgres()) {
    // Every rebuilt row carries its resource's shard key (schema/003_shard_key.sql): no row of
    // any index table differs from resource_current's.
    auto db = postgres::Connection::Open(uri_, {});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    for (const char* table : {"search_resource", "search_token", "search_string", "search_date",
                              "search_reference", "search_compartment"}) {
      auto rows = (*db)->QueryUncached(
          std::string("SELECT count(*), count(*) FILTER (WHERE x.shard_key IS DISTINCT FROM"
                      " c.shard_key) FROM ") +
          table + " x JOIN resource_current c ON c.seq = x.seq");
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      EXPECT_GT(rows->Int(0, 0), 0) << table;
      EXPECT_EQ(rows->Int(0, 1), 0) << table;
    }
  }
#endif
}

// _text and _content (https://hl7.org/fhir/R4/search.html#text) over the full-text index.
class FullTextTest : public StoreSearchTest {
 protected:
  // A narrative div holding `xhtml`, as a JSON string's content.
  static std::string Div(const std::string& xhtml) {
    return R"(<div xmlns=\"http://www.w3.org/1999/xhtml\">)" + xhtml + "</div>";
  }

  void SetUp() override {
    StoreSearchTest::SetUp();
    int64_t t = 1750000000000000;
    Put(R"({"resourceType":"Condition","id":"t1","subject":{"reference":"Patient/p1"},
            "text":{"status":"generated","div":")" +
            Div("Chronic <b>heart</b> failure, NYHA class II") + R"("},
            "code":{"text":"Cardiac insufficiency"}})",
        t += 1000000);
    Put(R"({"resourceType":"Condition","id":"t2","subject":{"reference":"Patient/p2"},
            "text":{"status":"generated","div":")" +
            Div("<p>Acute asthma after exercise in the caf&eacute;</p>") + R"("},
            "code":{"text":"Asthma"},"note":[{"text":"failure of inhaler technique"}]})",
        t += 1000000);
    Put(R"({"resourceType":"Observation","id":"t3","status":"final",
            "subject":{"reference":"Patient/p1"},
            "text":{"status":"generated","div":")" +
            Div("Resting pulse") + R"("},
            "code":{"text":"Heart rate"}})",
        t += 1000000);
  }
};

TEST_P(FullTextTest, TextSearchesTheNarrativeAndContentEverything) {
  const Case cases[] = {
      {"Condition", "_text=heart", {"t1"}},
      {"Condition", "_text=HEART", {"t1"}},
      {"Condition", "_text=cardiac", {}},  // only in the data
      {"Condition", "_content=cardiac", {"t1"}},
      {"Condition", "_content=heart", {"t1"}},  // the narrative is content too
      {"Condition", "_text=cafe", {"t2"}},      // &eacute; decoded, accents folded
      {"Condition", "_text=CAFÉ", {"t2"}},
      {"Condition", "_text=\"heart failure\"", {"t1"}},
      {"Condition", "_text=\"failure heart\"", {}},
      {"Condition", "_text=failure", {"t1"}},
      {"Condition", "_content=failure", {"t1", "t2"}},
      {"Condition", "_text=chronic asthma", {}},  // every word must occur
      {"Condition", "_text=chronic OR asthma", {"t1", "t2"}},
      {"Condition", "_text=heart,asthma", {"t1", "t2"}},              // comma: OR
      {"Condition", "_text=\"failure, nyha\",asthma", {"t1", "t2"}},  // not inside quotes
      {"Condition", "_text=\"failure nyha\"", {"t1"}},
      {"Condition", "_content=insuff*", {"t1"}},
      {"Condition", "_content=insuff", {}},
      // No FTS5 syntax: punctuation separates the words of one term, read as a phrase.
      {"Condition", "_text=heart-failure", {"t1"}},
      {"Condition", "_text=(heart) failure:", {"t1"}},
      {"Condition", "_text=NEAR(heart failure)", {}},  // "near heart" is not in the text
      {"Condition", "_text=content:cardiac", {}},      // not a column filter escaping _text
      {"Condition", "_content=cardiac insufficiency*", {"t1"}},
      {"Condition", "_text=heart&subject=Patient/p1", {"t1"}},  // AND with other parameters
      {"Condition", "_text=heart&subject=Patient/p2", {}},
      {"Condition", "_content=failure&_text=asthma", {"t2"}},
      {"Observation", "_text=heart", {}},
      {"Observation", "_content=heart", {"o1", "o3", "t3"}},  // o1, o3: display "Heart rate"
      {"Observation", "_content=heart&code=8867-4", {"o1", "o3"}},
      {"Observation", "_content=heart&status=final&_sort=-date", {"o1", "t3"}},
      {"Patient", "_content=zurich", {"p1"}},
      // Chains and _has reach the full-text sets of other types.
      {"Observation", "subject:Patient._content=muller", {"o1", "o2", "t3"}},
      {"Patient", "_has:Condition:subject:_text=heart", {"p1"}},
      // System search, with and without _type.
      {"", "_content=heart", {"o1", "o3", "t1", "t3"}},
      {"", "_type=Condition,Observation&_text=heart OR pulse", {"t1", "t3"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Ids(c.type, c.query), c.expected) << c.type << "?" << c.query;
  }
  EXPECT_EQ(Ids("Condition", "_content=failure", false, "p1"), (V{"t1"}));
  EXPECT_EQ(Ids("Observation", "_text=pulse", false, "p2"), (V{}));
}

TEST_P(FullTextTest, OnlyTheCurrentVersionsTextIsFound) {
  Put(R"({"resourceType":"Condition","id":"t1","subject":{"reference":"Patient/p1"},
          "text":{"status":"generated","div":")" +
          Div("Resolved arrhythmia") + R"("}})",
      1800000000000000);
  EXPECT_EQ(Ids("Condition", "_text=heart"), (V{}));
  EXPECT_EQ(Ids("Condition", "_content=cardiac"), (V{}));
  EXPECT_EQ(Ids("Condition", "_text=arrhythmia"), (V{"t1"}));
  WriteOp del;
  del.kind = WriteKind::kDelete;
  del.type = "Condition";
  del.id = "t2";
  del.expected_version = 1;
  del.last_updated = 1800000000000001;
  ASSERT_TRUE(store_->Write(std::span<const WriteOp>(&del, 1)).ok());
  EXPECT_EQ(Ids("Condition", "_content=asthma"), (V{}));
  EXPECT_EQ(Ids("Condition", "_content=failure"), (V{}));
  // Reindexing rebuilds the same full-text rows.
  auto n = Reindex();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(Ids("Condition", "_text=arrhythmia"), (V{"t1"}));
  EXPECT_EQ(Ids("Condition", "_content=asthma"), (V{}));
  EXPECT_EQ(Ids("Observation", "_content=heart"), (V{"o1", "o3", "t3"}));
  EXPECT_EQ(Ids("Patient", "_content=zurich"), (V{"p1"}));
}

// The full-text table is contentless: a replaced version's words must be removed exactly (given
// the words it was inserted with), not merely hidden by the join with the current resources.
// PostgreSQL's search_text rows are deleted by seq like the other index tables': the same counts.
TEST_P(FullTextTest, ReplacedVersionsLeaveNoWordsBehind) {
  auto rows_with = [&](const std::string& word) -> int64_t {
#ifdef VESTA_STORE_POSTGRES
    if (OnPostgres()) {
      auto db = postgres::Connection::Open(uri_, {});
      EXPECT_TRUE(db.ok()) << db.status().ToString();
      if (!db.ok()) return -1;
      auto rows = (*db)->Query("SELECT count(*) FROM search_text WHERE everything @@ $1::tsquery",
                               {std::string_view("'" + word + "'")});
      EXPECT_TRUE(rows.ok()) << rows.status().ToString();
      return rows.ok() && rows->size() == 1 ? rows->Int(0, 0) : -1;
    }
#endif
    auto db =
        sqlite::Connection::Open(dir_.path() + "/vesta.db", sqlite::Connection::Mode::kReadOnly);
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return -1;
    auto stmt = (*db)->Prepare("SELECT count(*) FROM search_text WHERE search_text MATCH ?1");
    EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
    if (!stmt.ok()) return -1;
    stmt->Bind(1, "\"" + word + "\"");
    auto row = stmt->Step();
    return row.ok() && *row ? stmt->Int(0) : -1;
  };
  EXPECT_EQ(rows_with("cardiac"), 1);
  EXPECT_EQ(rows_with("asthma"), 1);
  EXPECT_EQ(rows_with("heart"), 4);  // t1, t3, o1, o3
  // An update prepared as usual, then two versions of t3 in one call: the second replaces a
  // version that did not exist when it was prepared (the writer reads it back).
  Put(R"({"resourceType":"Condition","id":"t1","text":{"status":"generated",
          "div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Resolved</div>"}})",
      1800000000000000);
  WriteOp twice[2];
  for (int i = 0; i < 2; ++i) {
    twice[i].kind = WriteKind::kUpdate;
    twice[i].type = "Observation";
    twice[i].id = "t3";
    twice[i].expected_version = 1 + i;
    twice[i].last_updated = 1800000000000001 + i;
    twice[i].json = std::string(R"({"resourceType":"Observation","id":"t3","status":"final",)") +
                    R"("code":{"text":")" + (i == 0 ? "Pulse oximetry" : "Respiratory rate") +
                    R"("}})";
  }
  ASSERT_TRUE(store_->Write(twice).ok());
  WriteOp del;
  del.kind = WriteKind::kDelete;
  del.type = "Condition";
  del.id = "t2";
  del.expected_version = 1;
  del.last_updated = 1800000000000010;
  ASSERT_TRUE(store_->Write(std::span<const WriteOp>(&del, 1)).ok());
  for (const char* gone : {"cardiac", "chronic", "asthma", "inhaler", "pulse", "oximetry"}) {
    EXPECT_EQ(rows_with(gone), 0) << gone;
  }
  EXPECT_EQ(rows_with("heart"), 2);  // o1, o3
  EXPECT_EQ(rows_with("respiratory"), 1);
  EXPECT_EQ(rows_with("resolved"), 1);
  EXPECT_EQ(Ids("Observation", "_content=respiratory"), (V{"t3"}));
}

// The index tables as a store before migration 020 kept them: the resource type and parameter
// name in every row, a token's or quantity's system as text (schema/020_search_keys.sql, run
// in reverse), with the indexes the migrations from 010 on drop. Tests of stores written by an
// older binary start from it; when they reopen the store, 020 converts the rows again.
std::string IndexTablesBefore020() {
  struct Table {
    const char* name;
    const char* columns;  // after seq, type, param
    const char* select;   // the same from the current table `t`
  };
  const Table tables[] = {
      {"search_token", "system TEXT NOT NULL, code TEXT NOT NULL, text TEXT NOT NULL",
       "(SELECT uri FROM search_system WHERE id = t.sys), t.code, t.text"},
      {"search_string", "norm TEXT NOT NULL, exact TEXT NOT NULL", "t.norm, t.exact"},
      {"search_date", "low INTEGER NOT NULL, high INTEGER NOT NULL", "t.low, t.high"},
      {"search_number", "value REAL NOT NULL", "t.value"},
      {"search_quantity",
       "value REAL NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL, canonical_code TEXT NOT "
       "NULL DEFAULT '', canonical_value REAL NOT NULL DEFAULT 0",
       "t.value, (SELECT uri FROM search_system WHERE id = t.sys), t.code, t.canonical_code, "
       "t.canonical_value"},
      {"search_reference", "target_type TEXT NOT NULL, target_id TEXT NOT NULL, url TEXT NOT NULL",
       "t.target_type, t.target_id, t.url"},
      {"search_uri", "uri TEXT NOT NULL", "t.uri"},
      {"search_composite",
       "code1 TEXT NOT NULL DEFAULT '', system1 TEXT NOT NULL DEFAULT '', low1 NUMERIC NOT NULL "
       "DEFAULT 0, high1 NUMERIC NOT NULL DEFAULT 0, canonical_code1 TEXT NOT NULL DEFAULT '', "
       "canonical_low1 REAL NOT NULL DEFAULT 0, canonical_high1 REAL NOT NULL DEFAULT 0, code2 "
       "TEXT NOT NULL DEFAULT '', system2 TEXT NOT NULL DEFAULT '', low2 NUMERIC NOT NULL DEFAULT "
       "0, high2 NUMERIC NOT NULL DEFAULT 0, canonical_code2 TEXT NOT NULL DEFAULT '', "
       "canonical_low2 REAL NOT NULL DEFAULT 0, canonical_high2 REAL NOT NULL DEFAULT 0, code3 "
       "TEXT NOT NULL DEFAULT '', system3 TEXT NOT NULL DEFAULT '', low3 NUMERIC NOT NULL DEFAULT "
       "0, high3 NUMERIC NOT NULL DEFAULT 0, canonical_code3 TEXT NOT NULL DEFAULT '', "
       "canonical_low3 REAL NOT NULL DEFAULT 0, canonical_high3 REAL NOT NULL DEFAULT 0",
       "t.code1, t.system1, t.low1, t.high1, t.canonical_code1, t.canonical_low1, "
       "t.canonical_high1, t.code2, t.system2, t.low2, t.high2, t.canonical_code2, "
       "t.canonical_low2, t.canonical_high2, t.code3, t.system3, t.low3, t.high3, "
       "t.canonical_code3, t.canonical_low3, t.canonical_high3"},
  };
  std::string sql;
  for (const Table& t : tables) {
    const std::string name = t.name;
    sql += "CREATE TABLE old_" + name +
           " (seq INTEGER NOT NULL, type TEXT NOT NULL, param TEXT NOT NULL, " + t.columns +
           "); INSERT INTO old_" + name + " SELECT t.seq, k.type, k.param, " + t.select + " FROM " +
           name + " t JOIN search_key k ON k.id = t.key ORDER BY t.rowid; DROP TABLE " + name +
           "; ALTER TABLE old_" + name + " RENAME TO " + name + "; CREATE INDEX " + name +
           "_seq ON " + name + " (seq, type, param); ";
  }
  return sql +
         "CREATE INDEX search_string_norm ON search_string (type, param, norm); "
         "DROP TABLE search_key; DROP TABLE search_system;";
}

// A store created before migration 009 gets an empty full-text table; `vesta reindex` fills it.
TEST_P(FullTextTest, UpgradedStoresAreFilledByReindex) {
  SQLITE_ONLY("an FTS5 table added by SQLite migration 009");
  Put(R"({"resourceType":"Observation","id":"u1","status":"final",
          "subject":{"reference":"Patient/p1"},
          "code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},
          "valueQuantity":{"value":72,"unit":"/min","system":"http://unitsofmeasure.org",
                           "code":"/min"}})",
      1760000000000000);
  const std::pair<const char*, const char*> coded[] = {
      {"Observation", "code=http://loinc.org|8867-4"},
      {"Observation", "code=http://snomed.info/sct|8867-4"},
      {"Observation", "value-quantity=72|http://unitsofmeasure.org|/min"},
      {"Observation", "subject=Patient/p1"},
      {"Condition", "subject=Patient/p2"}};
  std::vector<V> before;
  for (const auto& [type, query] : coded) before.push_back(Ids(type, query));
  EXPECT_NE(std::find(before[2].begin(), before[2].end(), "u1"), before[2].end());
  EXPECT_EQ(before[1], (V{}));
  ASSERT_TRUE(store_->Close().ok());
  {
    auto db =
        sqlite::Connection::Open(dir_.path() + "/vesta.db", sqlite::Connection::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    // Back to the schema before 009 (the rows stay; 010 and later run again: the audit
    // trail's tables of 011 and 019 go too, as a store of that age had none, and the index
    // tables take their form before 020).
    const Status reverted = (*db)->Exec(
        IndexTablesBefore020() +
        "DROP TABLE search_text; ALTER TABLE search_resource DROP COLUMN has_text; DROP TABLE IF "
        "EXISTS audit_log; DROP TABLE IF EXISTS audit_block; DELETE FROM schema_version WHERE "
        "version >= 9");
    ASSERT_TRUE(reverted.ok()) << reverted.ToString();
  }
  SqliteStoreOptions options;
  options.directory = dir_.path();
  auto reopened = OpenSqliteStoreWithSearch(options);  // applies 009 on, and warns
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(*reopened);
  EXPECT_EQ(Ids("Condition", "_text=heart"), (V{}));
  // Migration 020 kept every index row, with its parameter and system.
  for (size_t i = 0; i < std::size(coded); ++i) {
    EXPECT_EQ(Ids(coded[i].first, coded[i].second), before[i]) << coded[i].second;
  }
  // Before the reindex, an update removes words that were never inserted: FTS5 ignores that.
  Put(R"({"resourceType":"Condition","id":"t2","code":{"text":"Bronchospasm"}})", 1790000000000000);
  EXPECT_EQ(Ids("Condition", "_content=bronchospasm"), (V{"t2"}));
  ASSERT_TRUE(store_->Close().ok());
  auto n = ReindexSqliteStore(dir_.path());
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  reopened = OpenSqliteStoreWithSearch(options);
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(*reopened);
  EXPECT_EQ(Ids("Condition", "_text=heart"), (V{"t1"}));
  EXPECT_EQ(Ids("Condition", "_content=bronchospasm"), (V{"t2"}));
  // Updates after the reindex remove the words the reindex wrote.
  Put(R"({"resourceType":"Condition","id":"t1","code":{"text":"Resolved"}})", 1800000000000000);
  EXPECT_EQ(Ids("Condition", "_content=cardiac OR heart"), (V{}));
}

TEST_P(FullTextTest, MalformedValuesNameTheParameter) {
  for (const char* query : {"_text=", "_text=\"open", "_content=a OR", "_content=OR",
                            "_text:missing=true", "_content=x*", "_text=()"}) {
    auto page = Search("Condition", query);
    ASSERT_FALSE(page.ok()) << query;
    EXPECT_EQ(page.status().code(), StatusCode::kInvalid) << query;
    std::string name(query);
    name = name.substr(0, name.find_first_of(":="));
    EXPECT_NE(page.status().message().find(name), std::string::npos) << page.status().message();
  }
}

// A _text search is answered by the FTS5 index (MATCH, "INDEX 0:M" in the plan), never by a
// full scan of the full-text table or an index table.
TEST_P(FullTextTest, TextSearchesUseTheFullTextIndex) {
  SQLITE_ONLY("EXPLAIN QUERY PLAN (PostgreSQL's: PostgresSearchesUseIndexes)");
  const std::pair<const char*, const char*> searches[] = {
      {"Condition", "_text=heart"},
      {"Observation", "_content=heart&code=8867-4"},
      {"Observation", "code=8867-4&_content=heart&_sort=-date"},
      {"", "_content=heart"},
      {"", "_type=Condition,Observation&_text=heart"},
  };
  for (const auto& [type, query] : searches) {
    SearchQuery q;
    if (*type != '\0') q.types = {type};
    q.params = ParseQuery(query);
    auto plan = ExplainSqliteSearch(dir_.path(), q);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    std::string all;
    for (const std::string& line : *plan) all += line + "\n";
    bool fts = false;
    for (const std::string& line : *plan) {
      if (line.find("search_text VIRTUAL TABLE") != std::string::npos) {
        EXPECT_NE(line.find("INDEX 0:M"), std::string::npos) << query << "\n" << all;
        fts = true;
        continue;
      }
      EXPECT_EQ(line.find("SCAN search_"), std::string::npos) << query << "\n" << all;
      EXPECT_EQ(line.find("SCAN r"), std::string::npos) << query << "\n" << all;
    }
    EXPECT_TRUE(fts) << query << "\n" << all;
  }
}

// _total=estimate (https://hl7.org/fhir/R4/search.html#total): exact while the driving set fits
// the sample, an estimate from a sample above it, at a fraction of the work of counting.
TEST_P(StoreSearchTest, EstimatedTotals) {
  constexpr int kN = 12000;
  std::vector<WriteOp> ops;
  for (int i = 0; i < kN; ++i) {
    WriteOp op;
    op.type = "Observation";
    op.id = "e" + std::to_string(i);
    op.last_updated = 1750000000000000 + i;
    // Every one final; a quarter with code q (in a regular pattern); one in 40 with code r.
    std::string code = i % 40 == 0 ? "r" : i % 4 == 1 ? "q" : "c";
    op.json = R"({"resourceType":"Observation","id":")" + op.id +
              R"(","status":"final","code":{"coding":[{"system":"http://x","code":")" + code +
              R"("}]},"subject":{"reference":"Patient/p)" + std::to_string(i % 3 + 1) + R"("}})";
    ops.push_back(std::move(op));
  }
  ASSERT_TRUE(store_->Write(ops).ok());
  auto total = [&](const std::string& query) -> std::pair<int64_t, int64_t> {
    SearchQuery q;
    q.types = {"Observation"};
    q.params = ParseQuery(query);
    if (OnPostgres()) {  // the total alone: the work is measured in SQLite's VM steps
      q.params.emplace_back("_count", "1");
      auto page = store_->Search(q);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok() || !page->total) return {-1, 0};
      return {*page->total, 0};
    }
    auto cost = MeasureSqliteTotal(dir_.path(), q);
    EXPECT_TRUE(cost.ok()) << cost.status().ToString();
    if (!cost.ok() || !cost->total) return {-1, 0};
    return {*cost->total, cost->vm_steps};
  };
  const bool steps = !OnPostgres();
  // Small sets are counted exactly.
  EXPECT_EQ(total("code=r&_total=estimate").first, kN / 40);
  EXPECT_EQ(total("code=r&subject=Patient/p1&_total=estimate").first, 100);
  // The status set (12,004 rows: o1, o2, o4 and the 12,000) is counted from its index; the
  // sample says every row is a match.
  auto [accurate, accurate_steps] = total("status=final&_total=accurate");
  auto [estimate, estimate_steps] = total("status=final&_total=estimate");
  EXPECT_EQ(accurate, kN + 3);
  EXPECT_EQ(estimate, kN + 3);
  if (steps) {
    EXPECT_LT(estimate_steps * 3, accurate_steps) << estimate_steps << " vs " << accurate_steps;
  }
  // Two conditions: the status set drives (it comes first among equally ranked tokens); a
  // quarter of it also has code q, and the estimate extrapolates the sample's share.
  auto [q_accurate, q_accurate_steps] = total("status=final&code=q&_total=accurate");
  auto [q_estimate, q_estimate_steps] = total("status=final&code=q&_total=estimate");
  EXPECT_EQ(q_accurate, kN / 4);
  EXPECT_GE(q_estimate, kN / 4 * 8 / 10);
  EXPECT_LE(q_estimate, kN / 4 * 12 / 10);
  if (steps) {
    EXPECT_LT(q_estimate_steps * 3, q_accurate_steps)
        << q_estimate_steps << " vs " << q_accurate_steps;
  }
  if (std::getenv("VESTA_SHOW_PLANS") != nullptr) {
    std::cout << "status=final: accurate " << accurate << " in " << accurate_steps
              << " VM steps, estimate " << estimate << " in " << estimate_steps << "\n"
              << "status=final&code=q: accurate " << q_accurate << " in " << q_accurate_steps
              << " VM steps, estimate " << q_estimate << " in " << q_estimate_steps << "\n";
  }
  // The compartment's set holds every type: the sample's share of Observations scales it.
  auto compartment = Search("Observation", "_total=estimate&_count=1", "p2");
  ASSERT_TRUE(compartment.ok() && compartment->total) << compartment.status().ToString();
  EXPECT_GE(*compartment->total, 4000 * 9 / 10);  // o3 and a third of the 12,000
  EXPECT_LE(*compartment->total, 4001 * 11 / 10);
  // Through the search itself: _total=estimate gives Bundle.total, accurate the exact count.
  auto page = Search("Observation", "status=final&_count=5&_total=estimate");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, kN + 3);
  EXPECT_EQ(page->entries.size(), 5u);
  page = Search("Observation", "_summary=count&_total=estimate&code=r");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, kN / 40);
  EXPECT_TRUE(page->entries.empty());
  page = Search("Observation", "status=final&_count=5&_total=none");
  ASSERT_TRUE(page.ok());
  EXPECT_FALSE(page->total.has_value());
}

// Composite parameters (https://hl7.org/fhir/R4/search.html#composite) and UCUM canonical
// quantities (#quantity) over the store: bp3 has its diastolic above its systolic, so a search
// that paired one component's code with another's value would find it.
TEST_P(StoreSearchTest, CompositeAndCanonicalQuantities) {
  auto bp = [](const std::string& id, int systolic, int diastolic) {
    auto component = [](const char* code, int value) {
      return std::string(R"({"code":{"coding":[{"system":"http://loinc.org","code":")") + code +
             R"("}]},"valueQuantity":{"value":)" + std::to_string(value) +
             R"(,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}})";
    };
    return R"({"resourceType":"Observation","id":")" + id +
           R"(","status":"final","code":{"coding":[{"system":"http://loinc.org",)"
           R"("code":"85354-9"}]},"subject":{"reference":"Patient/p1"},"component":[)" +
           component("8480-6", systolic) + "," + component("8462-4", diastolic) + "]}";
  };
  auto glucose = [](const std::string& id, const std::string& quantity) {
    return R"({"resourceType":"Observation","id":")" + id +
           R"(","status":"final","code":{"coding":[{"system":"http://loinc.org",)"
           R"("code":"2339-0"}]},"valueQuantity":{)" +
           quantity + "}}";
  };
  int64_t t = 1800000000000000;
  Put(bp("bp1", 107, 60), t += 1000000);
  Put(bp("bp2", 150, 95), t += 1000000);
  Put(bp("bp3", 90, 110), t += 1000000);
  Put(glucose("g1", R"("value":5500,"system":"http://unitsofmeasure.org","code":"ug")"),
      t += 1000000);
  Put(glucose("g2", R"("value":0.0055,"system":"http://unitsofmeasure.org","code":"g")"),
      t += 1000000);
  Put(glucose("g3", R"("value":5.3,"system":"http://unitsofmeasure.org","code":"mg")"),
      t += 1000000);
  Put(glucose("g4", R"("value":6,"system":"http://example.org/units","code":"mg")"), t += 1000000);
  // The other component types: concept, date, string; reference; three parts (numbers).
  Put(R"({"resourceType":"Observation","id":"c1","status":"final",
          "code":{"coding":[{"system":"http://loinc.org","code":"883-9"}]},
          "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct",
                                             "code":"112144000"}]}})",
      t += 1000000);
  Put(R"({"resourceType":"Observation","id":"d1","status":"final",
          "code":{"coding":[{"system":"http://loinc.org","code":"21112-8"}]},
          "valueDateTime":"2020-03-04"})",
      t += 1000000);
  Put(R"({"resourceType":"Observation","id":"s1","status":"final",
          "code":{"coding":[{"system":"http://loinc.org","code":"5778-6"}]},
          "valueString":"Straw colored"})",
      t += 1000000);
  Put(R"({"resourceType":"DocumentReference","id":"doc2","status":"current",
          "content":[{"attachment":{"url":"http://example.org/2"}}],
          "relatesTo":[{"code":"replaces","target":{"reference":"DocumentReference/doc1"}}]})",
      t += 1000000);
  Put(R"({"resourceType":"MolecularSequence","id":"seq1","coordinateSystem":0,
          "referenceSeq":{"chromosome":{"coding":[{"code":"1"}]},"windowStart":100,
                          "windowEnd":200},
          "variant":[{"start":120,"end":121}]})",
      t += 1000000);
  Put(R"({"resourceType":"Group","id":"grp1","type":"person","actual":false,
          "characteristic":[
            {"code":{"coding":[{"system":"http://example.org","code":"gender"}]},
             "valueCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/administrative-gender",
                                                "code":"female"}]},"exclude":false},
            {"code":{"coding":[{"system":"http://example.org","code":"smoker"}]},
             "valueBoolean":true,"exclude":false}]})",
      t += 1000000);
  Put(R"({"resourceType":"ValueSet","id":"vs1","status":"active",
          "useContext":[{"code":{"system":"http://terminology.hl7.org/CodeSystem/usage-context-type",
                                 "code":"focus"},
                         "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct",
                                                            "code":"394577000"}]}},
                        {"code":{"system":"http://terminology.hl7.org/CodeSystem/usage-context-type",
                                 "code":"age"},
                         "valueRange":{"low":{"value":18,"system":"http://unitsofmeasure.org",
                                              "code":"a"},
                                       "high":{"value":65,"system":"http://unitsofmeasure.org",
                                               "code":"a"}}}]})",
      t += 1000000);
  const Case cases[] = {
      {"Group", "characteristic-value=gender$female", {"grp1"}},
      {"Group", "characteristic-value=smoker$true", {"grp1"}},
      {"Group", "characteristic-value=smoker$female", {}},
      {"ValueSet", "context-type-value=focus$http://snomed.info/sct|394577000", {"vs1"}},
      {"ValueSet", "context-type-value=age$394577000", {}},
      // A Range [18, 65] a: ge40 (its high is at least 40), lt20 (its low is below 20),
      // sa10 (it starts after 10), and in months through UCUM.
      {"ValueSet", "context-type-quantity=age$ge40", {"vs1"}},
      {"ValueSet", "context-type-quantity=age$lt20", {"vs1"}},
      {"ValueSet", "context-type-quantity=age$sa10", {"vs1"}},
      {"ValueSet", "context-type-quantity=age$sa20", {}},
      {"ValueSet", "context-type-quantity=age$gt700|http://unitsofmeasure.org|mo", {"vs1"}},
      {"ValueSet", "context-type-quantity=age$gt800|http://unitsofmeasure.org|mo", {}},
      {"Observation",
       "code-value-concept=http://loinc.org|883-9$http://snomed.info/sct|112144000",
       {"c1"}},
      {"Observation", "code-value-concept=883-9$112144001", {}},
      {"Observation", "combo-code-value-concept=883-9$112144000", {"c1"}},
      {"Observation", "code-value-date=21112-8$2020-03", {"d1"}},
      {"Observation", "code-value-date=21112-8$ge2020-03-05", {}},
      {"Observation", "code-value-date=21112-8$lt2021", {"d1"}},
      {"Observation", "code-value-string=5778-6$straw", {"s1"}},
      {"Observation", "code-value-string=5778-6$yellow", {}},
      {"DocumentReference", "relationship=DocumentReference/doc1$replaces", {"doc2"}},
      {"DocumentReference", "relationship=doc1$replaces", {"doc2"}},
      {"DocumentReference", "relationship=DocumentReference/doc1$appends", {}},
      {"MolecularSequence", "chromosome-window-coordinate=1$le100$ge200", {"seq1"}},
      {"MolecularSequence", "chromosome-window-coordinate=1$le100$gt200", {}},
      {"MolecularSequence", "chromosome-variant-coordinate=1$120$121", {"seq1"}},
      {"Observation",
       "component-code-value-quantity=http://loinc.org|8480-6$gt100",
       {"bp1", "bp2"}},
      {"Observation", "component-code-value-quantity=http://loinc.org|8462-4$gt100", {"bp3"}},
      {"Observation", "component-code-value-quantity=8480-6$lt100,8462-4$gt90", {"bp2", "bp3"}},
      {"Observation",
       "component-code-value-quantity=8480-6$gt100&component-code-value-quantity=8462-4$lt70",
       {"bp1"}},
      {"Observation", "component-code-value-quantity=|8480-6$gt100", {}},
      {"Observation", "component-code-value-quantity=http://loinc.org|$gt140", {"bp2"}},
      {"Observation",
       "component-code-value-quantity=8480-6$ge13|http://unitsofmeasure.org|kPa",
       {"bp1", "bp2"}},
      {"Observation", "component-code-value-quantity=8480-6$ap100", {"bp1", "bp3"}},
      {"Observation", "component-code-value-quantity=8480-6$ne107", {"bp2", "bp3"}},
      {"Observation", "code-value-quantity=http://loinc.org|8480-6$gt100", {"o2"}},
      {"Observation",
       "combo-code-value-quantity=http://loinc.org|8480-6$gt100",
       {"bp1", "bp2", "o2"}},
      {"Observation",
       "code-value-quantity=2339-0$gt5.4|http://unitsofmeasure.org|mg",
       {"g1", "g2"}},
      {"Observation",
       "code-value-quantity:missing=true",
       {"bp1", "bp2", "bp3", "c1", "d1", "o4", "s1"}},
      {"Observation", "combo-code-value-quantity:missing=true", {"c1", "d1", "o4", "s1"}},
      {"Observation", "component-code-value-quantity:missing=false", {"bp1", "bp2", "bp3"}},
      {"Patient", "_has:Observation:subject:component-code-value-quantity=8462-4$gt100", {"p1"}},
      // UCUM: one value in mg, g and ug; another system keeps its unit as written.
      {"Observation", "value-quantity=gt5.4|http://unitsofmeasure.org|mg", {"g1", "g2"}},
      {"Observation", "value-quantity=5.5|http://unitsofmeasure.org|mg", {"g1", "g2"}},
      {"Observation", "value-quantity=0.0055|http://unitsofmeasure.org|g", {"g1", "g2"}},
      {"Observation", "value-quantity=lt0.0054|http://unitsofmeasure.org|g", {"g3"}},
      {"Observation", "value-quantity=6|http://example.org/units|mg", {"g4"}},
      {"Observation", "value-quantity=gt5||mg", {"g3", "g4"}},
      {"Observation", "value-quantity=ge15|http://unitsofmeasure.org|kPa", {"o2"}},
      {"Observation", "value-quantity=1.2|http://unitsofmeasure.org|/s", {"o1"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Ids(c.type, c.query), c.expected) << c.type << "?" << c.query;
  }
  // Reindexing rebuilds the composite rows and canonical values.
  ASSERT_TRUE(Reindex().ok());
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(Ids("Observation", "component-code-value-quantity=8462-4$gt100"), (V{"bp3"}));
  EXPECT_EQ(Ids("Observation", "value-quantity=5.5|http://unitsofmeasure.org|mg"), (V{"g1", "g2"}));
}

// Representative searches are answered through indexes: no full SCAN of an index table
// (https://www.sqlite.org/eqp.html). The main table, search_resource, is read by type.
// Absolute and urn: references are matched by their text (https://hl7.org/fhir/R4/
// search.html#reference), through the partial url index that leaves relative references out.
TEST_P(StoreSearchTest, AbsoluteReferencesMatchByUrl) {
  Put(R"({"resourceType":"Observation","id":"o5","status":"final",
          "subject":{"reference":"http://other.example/fhir/Patient/x9"}})",
      1800000000000000);
  Put(R"({"resourceType":"Observation","id":"o6","status":"final",
          "subject":{"reference":"urn:uuid:6a1b2c3d-0000-4000-8000-000000000001"}})",
      1800000001000000);
  EXPECT_EQ(Ids("Observation", "subject=http://other.example/fhir/Patient/x9"), (V{"o5"}));
  EXPECT_EQ(Ids("Observation", "subject=urn:uuid:6a1b2c3d-0000-4000-8000-000000000001"), (V{"o6"}));
  EXPECT_EQ(Ids("Observation", "subject=http://other.example/fhir/Patient/x1"), (V{}));
  EXPECT_EQ(Ids("Observation", "status=final&subject=http://other.example/fhir/Patient/x9"),
            (V{"o5"}));
  // A relative reference is not found by a URL that merely ends the same way.
  EXPECT_EQ(Ids("Observation", "subject=http://other.example/fhir/Patient/p1"), (V{}));

  if (OnPostgres()) return;  // below: SQLite's plan (PostgreSQL's: PostgresSearchesUseIndexes)
  SearchQuery q;
  q.types = {"Observation"};
  q.params = ParseQuery("subject=http://other.example/fhir/Patient/x9");
  auto plan = ExplainSqliteSearch(dir_.path(), q);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  std::string all;
  for (const std::string& line : *plan) all += line + "\n";
  EXPECT_NE(all.find("search_reference_url"), std::string::npos) << all;
  EXPECT_EQ(all.find("SCAN search_"), std::string::npos) << all;
}

TEST_P(StoreSearchTest, RepresentativeSearchesUseIndexes) {
  SQLITE_ONLY("EXPLAIN QUERY PLAN (PostgreSQL's: PostgresSearchesUseIndexes)");
  const std::pair<const char*, const char*> searches[] = {
      {"Observation", "code=http://loinc.org|8867-4&date=ge2020"},
      {"Observation", "patient=p1&code=8867-4&_sort=-date"},
      {"Observation", "subject:Patient.name=muller"},
      {"Patient", "_has:Observation:subject:code=8480-6"},
      {"Patient", "name=mu&_sort=family"},
      {"Observation", "subject:Patient.name=muller&code=http://loinc.org|8867-4"},
      {"Observation", "component-code-value-quantity=http://loinc.org|8480-6$gt100"},
      {"Observation", "combo-code-value-quantity=8480-6$gt100&patient=p1"},
      {"Observation", "code=8480-6&code-value-quantity=8480-6$ge100|http://unitsofmeasure.org|kPa"},
      {"Observation", "value-quantity=gt5.4|http://unitsofmeasure.org|mg"},
      {"Observation", "combo-code=http://loinc.org|8867-4&date=ge2020"},
  };
  for (const auto& [type, query] : searches) {
    SearchQuery q;
    q.types = {type};
    q.params = ParseQuery(query);
    auto plan = ExplainSqliteSearch(dir_.path(), q);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    std::string all;
    for (const std::string& line : *plan) all += line + "\n";
    if (std::getenv("VESTA_SHOW_PLANS") != nullptr) std::cout << query << "\n" << all;
    for (const std::string& line : *plan) {
      EXPECT_EQ(line.find("SCAN search_"), std::string::npos) << query << "\n" << all;
      EXPECT_EQ(line.find("SCAN x"), std::string::npos) << query << "\n" << all;
    }
  }
}

// Where SQL dialects diverge (text collation, LIKE escapes, multibyte prefixes, array
// parameters, cursor keys of each type, full-text tokens): both stores must answer as the
// searches of docs/search.md say, which SQLite's answers were checked against.

// https://hl7.org/fhir/R4/search.html#string and #sort: strings match and sort by their
// normalised form (lower case, Latin accents removed), byte by byte (PostgreSQL's columns are
// COLLATE "C", whatever the database's locale), ties by row; ids sort by their bytes.
TEST_P(StoreSearchTest, StringsMatchAndSortByteWise) {
  int64_t t = 1800000000000000;
  for (const auto& [id, family] :
       std::vector<std::pair<std::string, std::string>>{{"s1", "Ärger"},
                                                        {"s2", "adams"},
                                                        {"s3", "Zucker"},
                                                        {"s4", "Émile"},
                                                        {"s5", "müller"},
                                                        {"s6", "MUELLER"},
                                                        {"s7", "Σωκράτης"},
                                                        {"s8", "Жуков"},
                                                        {"s9", "山田"}}) {
    Put(R"({"resourceType":"Patient","id":")" + id + R"(","name":[{"family":")" + family +
            R"("}]})",
        t += 1000);
  }
  const V ascending = {"s2", "s1", "s4", "p2", "s6", "p1", "s5", "p3", "s3", "s7", "s8", "s9"};
  const V descending = {"s9", "s8", "s7", "s3", "p3", "p1", "s5", "s6", "p2", "s4", "s1", "s2"};
  EXPECT_EQ(Ids("Patient", "_sort=family", true), ascending);
  EXPECT_EQ(Ids("Patient", "_sort=-family", true), descending);
  EXPECT_EQ(AllPages("Patient", "_sort=family&_count=1"), ascending);
  EXPECT_EQ(AllPages("Patient", "_sort=-family&_count=5"), descending);
  const Case cases[] = {
      {"Patient", "family=mü", {"p1", "s5", "s6"}},
      {"Patient", "family=MÜL", {"p1", "s5"}},
      {"Patient", "family=Zü", {"s3"}},
      {"Patient", "family=zuc", {"s3"}},
      {"Patient", "family=är", {"s1"}},
      {"Patient", "family=e", {"s4"}},
      {"Patient", "family=Σωκ", {"s7"}},
      {"Patient", "family=Жук", {"s8"}},
      {"Patient", "family=山", {"s9"}},
      {"Patient", "family=山田", {"s9"}},
      {"Patient", "family=山田x", {}},
      {"Patient", "family:exact=Ärger", {"s1"}},
      {"Patient", "family:exact=ärger", {}},
      {"Patient", "family:exact=山田", {"s9"}},
      {"Patient", "family:contains=ül", {"p1", "s5"}},
      {"Patient", "family:contains=ÜL", {"p1", "s5"}},
      {"Patient", "family:contains=ωκ", {"s7"}},
      {"Patient", "family:contains=田", {"s9"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Ids(c.type, c.query), c.expected) << c.type << "?" << c.query;
  }
  // Ids: "-" (0x2D) < "." < digits < upper case < lower case.
  for (const char* id : {"alpha", "Zeta", "a.b", "Alpha", "0-9", "a-b", "A"}) {
    Put(std::string(R"({"resourceType":"Organization","id":")") + id + R"(","name":"x"})",
        t += 1000);
  }
  const V ids = {"0-9", "A", "Alpha", "Zeta", "a-b", "a.b", "alpha"};
  EXPECT_EQ(Ids("Organization", "_sort=_id", true), ids);
  EXPECT_EQ(AllPages("Organization", "_sort=_id&_count=2"), ids);
  EXPECT_EQ(AllPages("Organization", "_sort=-_id&_count=3"),
            (V{"alpha", "a.b", "a-b", "Zeta", "Alpha", "A", "0-9"}));
}

// Values holding the characters that SQL string literals, LIKE patterns and array literals give
// a meaning to: matched as written (https://hl7.org/fhir/R4/search.html#escaping for `\,`, `\|`,
// `\$` and `\\` in search values).
TEST_P(StoreSearchTest, OddCharactersAreMatchedLiterally) {
  int64_t t = 1800000000000000;
  auto patient = [&](const std::string& id, const std::string& family,
                     const std::string& identifier) {
    Put(R"({"resourceType":"Patient","id":")" + id + R"(","name":[{"family":")" + family +
            R"("}],"identifier":[{"system":"http://odd","value":")" + identifier + R"("}]})",
        t += 1000);
  };
  patient("q1", "O'Brien", "a%b");
  patient("q2", R"(Back\\slash)", "a_b");
  patient("q3", "100% Pure", R"(a\\b)");
  patient("q4", "under_score", R"(a\"b)");
  patient("q5", "underXscore", "axb");
  patient("q6", R"(Quote\"d)", "a'b");
  patient("q7", "Curly {x,y}", "x,y|z$w");
  patient("q8", "NULL", "NULL");
  const Case cases[] = {
      {"Patient", "family:contains=_", {"q4"}},
      {"Patient", "family:contains=%", {"q3"}},
      {"Patient", R"(family:contains=\\)", {"q2"}},
      {"Patient", "family:contains='", {"q1"}},
      {"Patient", R"(family:contains=")", {"q6"}},
      {"Patient", "family:contains={x", {"q7"}},
      {"Patient", R"(family:contains=x\,y)", {"q7"}},
      {"Patient", "family=under_", {"q4"}},
      {"Patient", "family=under%", {}},
      {"Patient", "family=100%", {"q3"}},
      {"Patient", "family=o'b", {"q1"}},
      {"Patient", R"(family=back\\s)", {"q2"}},
      {"Patient", "family=null", {"q8"}},
      {"Patient", "family:exact=100% Pure", {"q3"}},
      {"Patient", R"(family:exact=Quote"d)", {"q6"}},
      {"Patient", "identifier=a%b", {"q1"}},
      {"Patient", "identifier=a_b", {"q2"}},
      {"Patient", R"(identifier=a\\b)", {"q3"}},
      {"Patient", R"(identifier=a"b)", {"q4"}},
      {"Patient", "identifier=a'b", {"q6"}},
      {"Patient", "identifier=axb", {"q5"}},
      {"Patient", R"(identifier=http://odd|x\,y\|z\$w)", {"q7"}},
      {"Patient", "identifier=NULL", {"q8"}},
      {"Patient", R"(identifier=a%b,a_b,a\\b,a"b,a'b,NULL)", {"q1", "q2", "q3", "q4", "q6", "q8"}},
      {"Patient", "identifier=a%25b", {}},
      {"Patient", "identifier:not=a_b&family=under", {"q4", "q5"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Ids(c.type, c.query), c.expected) << c.type << "?" << c.query;
  }
}

// A terminology modifier's code set (SearchQuery::code_sets; what the terminology gave for
// :in / :not-in) of thousands of codes, odd ones among them: one bound array on PostgreSQL.
TEST_P(StoreSearchTest, LargeCodeSetsSelectTheirCodes) {
  Put(R"({"resourceType":"Observation","id":"o7","status":"final",
          "code":{"coding":[{"system":"http://odd","code":"{a,\"b\\c}"}]}})",
      1800000000000000);
  Put(R"({"resourceType":"Observation","id":"o8","status":"final",
          "code":{"coding":[{"system":"http://odd","code":"NULL"}]}})",
      1800000001000000);
  search::CodeSet set;
  for (int i = 0; i < 5000; ++i) set.codes.emplace_back("http://loinc.org", std::to_string(i));
  set.codes.emplace_back("http://loinc.org", "8867-4");
  set.codes.emplace_back("http://snomed.info/sct", "271649006");
  set.codes.emplace_back("http://odd", R"({a,"b\c})");
  set.codes.emplace_back("http://odd", "NULL");
  set.codes.emplace_back("http://odd", R"(x"y)");
  set.codes.emplace_back("http://snomed.info/sct", "8480-6");  // the code, in another system
  auto ids = [&](const std::string& name, const std::string& extra) {
    SearchQuery q;
    q.types = {"Observation"};
    q.params = {{name, "http://example.org/vs"}};
    for (const auto& [n, v] : ParseQuery(extra)) q.params.emplace_back(n, v);
    q.code_sets[0] = set;
    q.now = 1700000000000000;
    auto page = store_->Search(q);
    EXPECT_TRUE(page.ok()) << name << ": " << page.status().ToString();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const SearchHit& h : page->entries) out.push_back(h.version.id);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(ids("code:in", ""), (V{"o1", "o3", "o4", "o7", "o8"}));
  EXPECT_EQ(ids("code:in", "status=final"), (V{"o1", "o4", "o7", "o8"}));
  EXPECT_EQ(ids("code:not-in", ""), (V{"o2"}));
  EXPECT_EQ(ids("code:in", "_sort=-date&_count=2"), (V{"o1", "o4"}));
}

// https://hl7.org/fhir/R4/search.html#sort: pages of one result sorted by a key of each type
// (string, token, date, number, quantity, reference, _id, _lastUpdated; ascending and
// descending, with values missing and tied) visit every match once, in the order of one page.
TEST_P(StoreSearchTest, CursorsCarrySortKeysOfEveryType) {
  int64_t t = 1800000000000000;
  for (const auto& [id, probability] : std::vector<std::pair<std::string, std::string>>{
           {"ra1", "0.25"}, {"ra2", "0.9"}, {"ra3", ""}, {"ra4", "0.5"}, {"ra5", "0.25"}}) {
    Put(R"({"resourceType":"RiskAssessment","id":")" + id +
            R"(","status":"final","subject":{"reference":"Patient/p1"})" +
            (probability.empty()
                 ? ""
                 : R"(,"prediction":[{"probabilityDecimal":)" + probability + "}]") +
            "}",
        t += 1000);
  }
  EXPECT_EQ(Ids("RiskAssessment", "_sort=probability", true),
            (V{"ra1", "ra5", "ra4", "ra2", "ra3"}));
  EXPECT_EQ(Ids("RiskAssessment", "_sort=-probability", true),
            (V{"ra2", "ra4", "ra1", "ra5", "ra3"}));
  EXPECT_EQ(Ids("RiskAssessment", "probability=gt0.3"), (V{"ra2", "ra4"}));
  EXPECT_EQ(Ids("RiskAssessment", "probability=0.25"), (V{"ra1", "ra5"}));
  for (const char* sort : {"probability", "-probability"}) {
    const std::string q = std::string("_sort=") + sort;
    const V one_page = Ids("RiskAssessment", q, true);
    EXPECT_EQ(AllPages("RiskAssessment", q + "&_count=1"), one_page) << q;
    EXPECT_EQ(AllPages("RiskAssessment", q + "&_count=2"), one_page) << q;
  }
  // Observations without a date, a value or a subject sort last whichever way.
  Put(R"({"resourceType":"Observation","id":"o9","status":"amended",
          "code":{"coding":[{"system":"http://loinc.org","code":"0000-0"}]}})",
      t += 1000);
  Put(R"({"resourceType":"Observation","id":"o10","status":"final","effectiveDateTime":"2020",
          "subject":{"reference":"Patient/p2"},
          "code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},
          "valueQuantity":{"value":72,"system":"http://unitsofmeasure.org","code":"/min"}})",
      t += 1000);
  for (const char* sort :
       {"date", "-date", "status", "-status", "value-quantity", "-value-quantity", "subject",
        "-subject", "code", "-code", "_id", "-_id", "_lastUpdated", "-_lastUpdated",
        "status,-value-quantity", "-subject,date", "combo-value-quantity"}) {
    const std::string q = std::string("_sort=") + sort;
    const V one_page = Ids("Observation", q, true);
    ASSERT_EQ(one_page.size(), 6u) << q;
    EXPECT_EQ(AllPages("Observation", q + "&_count=1"), one_page) << q;
    EXPECT_EQ(AllPages("Observation", q + "&_count=4"), one_page) << q;
  }
  EXPECT_EQ(Ids("Observation", "_sort=-date", true), (V{"o4", "o2", "o10", "o1", "o3", "o9"}));
  EXPECT_EQ(Ids("Observation", "_sort=value-quantity", true),
            (V{"o1", "o10", "o3", "o2", "o4", "o9"}));
  EXPECT_EQ(Ids("Observation", "_sort=subject", true), (V{"o1", "o2", "o3", "o10", "o4", "o9"}));
}

// https://hl7.org/fhir/R4/search.html#include: :iterate follows the included resources' own
// references; a plain _include only the matches'.
TEST_P(StoreSearchTest, IncludesIterate) {
  Put(R"({"resourceType":"Organization","id":"org1","name":"Hospital"})", 1800000000000000);
  Put(R"({"resourceType":"Patient","id":"p1","name":[{"family":"Müller"}],
          "generalPractitioner":[{"reference":"Practitioner/dr1"}],
          "managingOrganization":{"reference":"Organization/org1"}})",
      1800000001000000);
  const Case cases[] = {
      {"Observation",
       "_id=o1&_include=Observation:subject&_include:iterate=Patient:general-practitioner",
       {"o1", "+dr1", "+p1"}},
      {"Observation",
       "_id=o2&_include=Observation:subject&_include=Patient:general-practitioner",
       {"o2", "+p1"}},
      {"Observation",
       "_id=o2&_include=Observation:subject&_include:iterate=*",
       {"o2", "+dr1", "+org1", "+p1"}},
      {"Practitioner",
       "_id=dr1&_revinclude=Patient:general-practitioner&_revinclude:iterate=Observation:subject",
       {"dr1", "+o1", "+o2", "+p1"}},
      {"Organization",
       "_revinclude=Patient:organization&_include:iterate=Patient:general-practitioner",
       {"org1", "+dr1", "+p1"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Ids(c.type, c.query), c.expected) << c.type << "?" << c.query;
  }
}

#ifdef VESTA_STORE_POSTGRES
// PostgreSQL's plans (https://www.postgresql.org/docs/15/using-explain.html) of representative
// page queries, their values bound: each reads one of the indexes its condition can use (an
// Index, Index Only or Bitmap Index Scan on it) and no index table in full. The index tables get
// 20,000 filler rows per type of values no search here asks for, and statistics, so that the
// planner weighs them as in a real store; sequential scans are also turned off for the check, as
// on small tables the planner rightly prefers them: the question is whether an index can serve
// the query, and a scan it is forbidden still shows when none can.
class PostgresPlanTest : public StoreSearchTest {};

TEST_P(PostgresPlanTest, PostgresSearchesUseIndexes) {
  Put(R"({"resourceType":"Location","id":"loc1","position":{"latitude":42.28,"longitude":-83.74}})",
      1800000000000000);
  Put(R"({"resourceType":"List","id":"l1","status":"current","mode":"working","entry":[
          {"item":{"reference":"Observation/o2"}}]})",
      1800000001000000);
  auto db = postgres::Connection::Open(uri_, {});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  // Filler resources f<n> of each type (seqs from 10,000,000 on), with rows in every index table.
  const Status filled = (*db)->Exec(R"(
      CREATE TEMP TABLE f AS SELECT 10000000 + 100000 * k + g AS seq, t AS type, g
        FROM generate_series(1, 20000) g,
             unnest(ARRAY['Observation', 'Patient', 'Condition', 'Location']) WITH ORDINALITY
               AS u(t, k);
      INSERT INTO search_resource SELECT seq, type, 'f' || g, g FROM f;
      INSERT INTO search_token SELECT seq, type, p, 'http://filler', 'c' || g % 500, 'filler ' || g
        FROM f, unnest(ARRAY['code', 'status', 'combo-code']) p;
      INSERT INTO search_string SELECT seq, type, p, 'filler' || g, 'Filler' || g
        FROM f, unnest(ARRAY['name', 'family']) p;
      INSERT INTO search_date SELECT seq, type, 'date', 2524608000000000 + g, 2524608000000000 + g
        FROM f;
      INSERT INTO search_quantity SELECT seq, type, 'value-quantity', -1000 - g, 'http://filler',
        'u', 'u', -1000 - g FROM f;
      INSERT INTO search_number SELECT seq, type, p, -60 - g % 20 FROM f,
        unnest(ARRAY['near:latitude', 'near:longitude']) p;
      INSERT INTO search_reference SELECT seq, type, p, 'Patient', 'f' || g, 'Patient/f' || g
        FROM f, unnest(ARRAY['subject', 'patient', 'item']) p;
      INSERT INTO search_reference SELECT seq, type, 'subject', '', '', 'http://filler/' || g
        FROM f;
      INSERT INTO search_composite (seq, type, param, code1, system1, low2, high2)
        SELECT seq, type, p, 'c' || g % 500, 'http://filler', g, g FROM f,
        unnest(ARRAY['component-code-value-quantity', 'combo-code-value-quantity']) p;
      INSERT INTO search_compartment SELECT 'f' || g, seq FROM f;
      INSERT INTO search_text SELECT seq, 'filler:1', 'filler:1' FROM f;
      ANALYZE;)");
  ASSERT_TRUE(filled.ok()) << filled.ToString();
  ASSERT_TRUE((*db)->Exec("SET enable_seqscan = off").ok());
  struct Expected {
    const char* type;
    const char* query;
    std::vector<const char*> indexes;  // one of them must be used
  };
  const Expected searches[] = {
      {"Observation", "code=http://loinc.org|8867-4&date=ge2020", {"search_token_code"}},
      {"Observation", "patient=p1&code=8867-4&_sort=-date", {"search_reference_target"}},
      {"Observation", "subject:Patient.name=muller", {"search_string_norm"}},
      {"Patient", "_has:Observation:subject:code=8480-6", {"search_token_code"}},
      {"Patient", "name=mu&_sort=family", {"search_string_norm"}},
      {"Patient", "name=mü", {"search_string_norm"}},
      {"Observation", "code:text=heart", {"search_token_text"}},
      {"Observation", "code=http://snomed.info/sct|", {"search_token_system"}},
      {"Observation",
       "subject:Patient.name=muller&code=http://loinc.org|8867-4",
       {"search_string_norm", "search_token_code"}},
      {"Observation",
       "component-code-value-quantity=http://loinc.org|8480-6$gt100",
       {"search_composite_key"}},
      {"Observation",
       "value-quantity=gt5.4|http://unitsofmeasure.org|mg",
       {"search_quantity_canonical"}},
      {"Observation", "value-quantity=gt75", {"search_quantity_value"}},
      {"Observation", "subject=http://other.example/fhir/Patient/x9", {"search_reference_url"}},
      {"Observation", "date=lt2020", {"search_date_low", "search_date_high"}},
      {"Observation", "_content=heart", {"search_text_everything"}},
      {"Observation",
       "_content=heart&code=8867-4",
       {"search_text_everything", "search_token_code"}},
      {"Condition", "_text=heart", {"search_text_narrative"}},
      {"Location", "near=42.2808|-83.7430|15|km", {"search_number_value"}},
      {"Observation", "_list=l1&code=8480-6", {"search_reference_seq", "search_reference_target"}},
      {"Observation", "_id=o1,o3", {"search_resource_id"}},
      {"Observation", "_lastUpdated=gt2023-11-14T22:13:21Z", {"search_resource_updated"}},
  };
  for (const Expected& e : searches) {
    SearchQuery q;
    q.types = {e.type};
    q.params = ParseQuery(e.query);
    auto plan = ExplainPostgresSearch(**db, q);
    ASSERT_TRUE(plan.ok()) << e.query << ": " << plan.status().ToString();
    std::string all;
    for (const std::string& line : *plan) all += line + "\n";
    if (std::getenv("VESTA_SHOW_PLANS") != nullptr) std::cout << e.query << "\n" << all;
    bool used = false;
    for (const char* index : e.indexes)
      used |= all.find(std::string(" ") + index) != std::string::npos;
    EXPECT_TRUE(used) << e.query << ": none of its indexes\n" << all;
    EXPECT_EQ(all.find("Seq Scan on search_"), std::string::npos) << e.query << "\n" << all;
  }
}
#endif

std::vector<std::string> Backends() {
  std::vector<std::string> out = {"sqlite"};
#ifdef VESTA_STORE_POSTGRES
  out.push_back("postgres");
#endif
  return out;
}

auto BackendName = [](const auto& info) { return info.param; };
INSTANTIATE_TEST_SUITE_P(Backends, StoreSearchTest, ::testing::ValuesIn(Backends()), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, PagingTest, ::testing::ValuesIn(Backends()), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, FullTextTest, ::testing::ValuesIn(Backends()), BackendName);
#ifdef VESTA_STORE_POSTGRES
INSTANTIATE_TEST_SUITE_P(Backends, PostgresPlanTest, ::testing::Values("postgres"), BackendName);
#endif

}  // namespace
}  // namespace vesta::store
