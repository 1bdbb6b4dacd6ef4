// batch and transaction Bundles against the real server
// (https://hl7.org/fhir/R4/http.html#transaction).
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "integration/test_server.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::testing {
namespace {

json::Document Parse(const std::string& s) {
  auto doc = json::Parse(s);
  EXPECT_TRUE(doc.ok()) << s.substr(0, 300);
  return doc.ok() ? std::move(doc).value() : json::Document();
}

std::string Total(int port, const std::string& target) {
  json::Document d = Parse(HttpRequest(port, "GET", target).body);
  const json::Value* t = d.root().Find("total");
  return t ? std::string(t->number_text()) : "";
}

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path());
    ASSERT_TRUE(server_->ok());
  }
  void TearDown() override { EXPECT_EQ(server_->Stop(), 0); }
  HttpResult Post(const std::string& bundle) {
    return HttpRequest(server_->port(), "POST", "/", bundle);
  }
  int port() const { return server_->port(); }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(TransactionTest, ResolvesUrnUuidsAndAnswersPerEntry) {
  HttpResult r = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"request":{"method":"GET","url":"Patient/fixed"}},
    {"fullUrl":"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059","resource":{"resourceType":"Observation",
      "status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"},
      "valueQuantity":{"value":1.50}},"request":{"method":"POST","url":"Observation"}},
    {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient",
      "name":[{"family":"T"}]},"request":{"method":"POST","url":"Patient"}},
    {"fullUrl":"http://example.org/fhir/Patient/fixed","resource":{"resourceType":"Patient","id":"fixed","active":true},
      "request":{"method":"PUT","url":"Patient/fixed"}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  json::Document b = Parse(r.body);
  EXPECT_EQ(b.root().FindString("type"), "transaction-response");
  const json::Value& e = *b.root().Find("entry");
  ASSERT_EQ(e.size(), 4u);
  // The GET ran last and sees the PUT of the same transaction.
  EXPECT_EQ(e.items()[0].Find("response")->FindString("status"), "200 OK");
  EXPECT_EQ(e.items()[0].Find("resource")->FindString("id"), "fixed");
  EXPECT_EQ(e.items()[1].Find("response")->FindString("status"), "201 Created");
  EXPECT_EQ(e.items()[2].Find("response")->FindString("status"), "201 Created");
  EXPECT_EQ(e.items()[3].Find("response")->FindString("status"), "201 Created");
  std::string patient_loc(e.items()[2].Find("response")->FindString("location"));
  std::string patient_ref = patient_loc.substr(0, patient_loc.find("/_history"));
  std::string obs_loc(e.items()[1].Find("response")->FindString("location"));
  HttpResult obs = HttpRequest(port(), "GET", "/" + obs_loc.substr(0, obs_loc.find("/_history")));
  ASSERT_EQ(obs.status, 200);
  EXPECT_NE(obs.body.find("\"reference\":\"" + patient_ref + "\""), std::string::npos) << obs.body;
  EXPECT_NE(obs.body.find("1.50"), std::string::npos);
  EXPECT_EQ(HttpRequest(port(), "GET", "/" + patient_ref).status, 200);
}

// Identifier systems are URLs: a conditional update's request.url and a conditional reference
// whose query holds one (https://hl7.org/fhir/R4/http.html#trules) resolve like any other.
TEST_F(TransactionTest, ConditionalUrlsMayHoldUrlsInTheirQuery) {
  const std::string bundle = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","identifier":[{"system":"http://hospital.example.org/mrn",
      "value":"123"}],"name":[{"family":"Url"}]},
     "request":{"method":"PUT","url":"Patient?identifier=http://hospital.example.org/mrn|123"}},
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
      "subject":{"reference":"Patient?identifier=http://hospital.example.org/mrn|123"}},
     "request":{"method":"POST","url":"Observation"}}]})";
  HttpResult r = Post(bundle);
  ASSERT_EQ(r.status, 200) << r.body;
  json::Document b = Parse(r.body);
  const json::Value& e = *b.root().Find("entry");
  std::string patient_loc(e.items()[0].Find("response")->FindString("location"));
  std::string patient_ref = patient_loc.substr(0, patient_loc.find("/_history"));
  std::string obs_loc(e.items()[1].Find("response")->FindString("location"));
  HttpResult obs = HttpRequest(port(), "GET", "/" + obs_loc.substr(0, obs_loc.find("/_history")));
  ASSERT_EQ(obs.status, 200);
  EXPECT_NE(obs.body.find("\"reference\":\"" + patient_ref + "\""), std::string::npos) << obs.body;
  // Again: the conditional update finds the patient, so still one.
  ASSERT_EQ(Post(bundle).status, 200);
  EXPECT_EQ(Total(port(), "/Patient?identifier=http://hospital.example.org/mrn|123"), "1");
  // The same with a conditional create (ifNoneExist).
  HttpResult created = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","identifier":[{"system":"http://hospital.example.org/mrn",
      "value":"456"}]},
     "request":{"method":"POST","url":"Patient",
                "ifNoneExist":"identifier=http://hospital.example.org/mrn|456"}},
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"y"},
      "subject":{"reference":"Patient?identifier=http://hospital.example.org/mrn|456"}},
     "request":{"method":"POST","url":"Observation"}}]})");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(Total(port(), "/Observation?subject.identifier=http://hospital.example.org/mrn|456"),
            "1");
  // An absolute URL of another server is still refused.
  HttpResult other = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient"},"request":{"method":"PUT",
     "url":"http://elsewhere.example.org/fhir/Patient/1"}}]})");
  EXPECT_EQ(other.status, 400) << other.body;
}

// Conditional creates and updates with the same criteria at the same time make one resource:
// the second waits for the first and finds it (rather than both creating, and the next 412).
TEST_F(TransactionTest, ConcurrentConditionalWritesWithTheSameCriteriaMakeOneResource) {
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 12; ++c) {
    clients.emplace_back([&, c] {
      const std::string mrn = "http://hospital.example.org/mrn|race";
      HttpResult r;
      if (c % 3 == 0) {  // a conditional update
        r = HttpRequest(port(), "PUT", "/Patient?identifier=" + mrn,
                        R"({"resourceType":"Patient","identifier":[{"system":)"
                        R"("http://hospital.example.org/mrn","value":"race"}]})",
                        {{"Content-Type", "application/fhir+json"}});
      } else if (c % 3 == 1) {  // a conditional create
        r = HttpRequest(
            port(), "POST", "/Patient",
            R"({"resourceType":"Patient","identifier":[{"system":)"
            R"("http://hospital.example.org/mrn","value":"race"}]})",
            {{"Content-Type", "application/fhir+json"}, {"If-None-Exist", "identifier=" + mrn}});
      } else {  // a transaction with a conditional update
        r = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)"
                 R"({"resourceType":"Patient","identifier":[{"system":)"
                 R"("http://hospital.example.org/mrn","value":"race"}]},"request":{"method":)"
                 R"("PUT","url":"Patient?identifier=http://hospital.example.org/mrn|race"}}]})");
      }
      if (r.status == 200 || r.status == 201) {
        ++ok;
      } else {
        ADD_FAILURE() << c << ": " << r.status << " " << r.body;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 12);
  EXPECT_EQ(Total(port(), "/Patient?identifier=http://hospital.example.org/mrn|race"), "1");
}

TEST_F(TransactionTest, AFailingEntryLeavesEverythingAsBefore) {
  ASSERT_EQ(
      HttpRequest(port(), "PUT", "/Patient/a", R"({"resourceType":"Patient","id":"a"})").status,
      201);
  ASSERT_EQ(
      HttpRequest(port(), "PUT", "/Patient/c", R"({"resourceType":"Patient","id":"c"})").status,
      201);
  std::string before_hist = Total(port(), "/_history");
  HttpResult r = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"a","active":true},"request":{"method":"PUT","url":"Patient/a"}},
    {"resource":{"resourceType":"Patient","birthDate":"not-a-date"},"request":{"method":"POST","url":"Patient"}},
    {"request":{"method":"DELETE","url":"Patient/c"}}]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("Bundle.entry[1].resource.birthDate"), std::string::npos) << r.body;
  EXPECT_EQ(Total(port(), "/_history"), before_hist);
  HttpResult a = HttpRequest(port(), "GET", "/Patient/a");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.Header("ETag"), "W/\"1\"");
  EXPECT_EQ(HttpRequest(port(), "GET", "/Patient/c").status, 200) << "the delete must not happen";
  // The same resource twice is refused.
  HttpResult dup = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"a"},"request":{"method":"PUT","url":"Patient/a"}},
    {"resource":{"resourceType":"Patient","id":"a"},"request":{"method":"PUT","url":"Patient/a"}}]})");
  EXPECT_EQ(dup.status, 400);
  // ifMatch on a stale version fails the whole transaction with 412.
  HttpResult stale = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"b"},"request":{"method":"PUT","url":"Patient/b"}},
    {"resource":{"resourceType":"Patient","id":"a"},"request":{"method":"PUT","url":"Patient/a","ifMatch":"W/\"9\""}}]})");
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(HttpRequest(port(), "GET", "/Patient/b").status, 404);
  // ifNoneMatch * on a PUT creates that id only: 412 (nothing written) when it exists, even
  // deleted; a create otherwise. On any other write, or with a value other than *, a 400.
  HttpResult taken = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"b"},"request":{"method":"PUT","url":"Patient/b"}},
    {"resource":{"resourceType":"Patient","id":"a"},"request":{"method":"PUT","url":"Patient/a","ifNoneMatch":"*"}}]})");
  EXPECT_EQ(taken.status, 412) << taken.body;
  EXPECT_EQ(HttpRequest(port(), "GET", "/Patient/b").status, 404);
  HttpResult fresh = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"n"},"request":{"method":"PUT","url":"Patient/n","ifNoneMatch":"*"}}]})");
  EXPECT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(HttpRequest(port(), "GET", "/Patient/n").status, 200);
  ASSERT_EQ(HttpRequest(port(), "DELETE", "/Patient/n").status, 200);
  EXPECT_EQ(Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"n"},"request":{"method":"PUT","url":"Patient/n","ifNoneMatch":"*"}}]})")
                .status,
            412);
  EXPECT_EQ(Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneMatch":"*"}}]})")
                .status,
            400);
  EXPECT_EQ(Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Patient","id":"m"},"request":{"method":"PUT","url":"Patient/m","ifNoneMatch":"W/\"1\""}}]})")
                .status,
            400);
  EXPECT_EQ(Post(R"({"resourceType":"Bundle","type":"collection"})").status, 400);
  EXPECT_EQ(Post(R"({"resourceType":"Patient"})").status, 400);
  EXPECT_EQ(
      Post(
          R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"FETCH","url":"Patient/a"}}]})")
          .status,
      400);
}

TEST_F(TransactionTest, PatchEntriesInATransaction) {
  ASSERT_EQ(HttpRequest(port(), "PUT", "/Patient/pp",
                        R"({"resourceType":"Patient","id":"pp","active":false,"gender":"male"})")
                .status,
            201);
  // JSON Patch in a Binary: [{"op":"replace","path":"/gender","value":"female"}]
  const std::string json_patch_b64 =
      "W3sib3AiOiJyZXBsYWNlIiwicGF0aCI6Ii9nZW5kZXIiLCJ2YWx1ZSI6ImZlbWFsZSJ9XQ==";
  HttpResult r = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Parameters","parameter":[{"name":"operation","part":[
      {"name":"type","valueCode":"replace"},{"name":"path","valueString":"Patient.active"},
      {"name":"value","valueBoolean":true}]}]},"request":{"method":"PATCH","url":"Patient/pp"}},
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
      "subject":{"reference":"Patient/pp"}},"request":{"method":"POST","url":"Observation"}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  HttpResult p = HttpRequest(port(), "GET", "/Patient/pp");
  EXPECT_EQ(p.Header("ETag"), "W/\"2\"");
  EXPECT_NE(p.body.find("\"active\":true"), std::string::npos) << p.body;
  HttpResult j = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":")" +
                      json_patch_b64 + R"("},"request":{"method":"PATCH","url":"Patient/pp"}}]})");
  ASSERT_EQ(j.status, 200) << j.body;
  EXPECT_NE(HttpRequest(port(), "GET", "/Patient/pp").body.find("\"gender\":\"female\""),
            std::string::npos);
  // A patch that breaks the resource fails the whole transaction.
  HttpResult bad = Post(R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"resource":{"resourceType":"Parameters","parameter":[{"name":"operation","part":[
      {"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},
      {"name":"name","valueString":"birthDate"},{"name":"value","valueDate":"1990-13-45"}]}]},
      "request":{"method":"PATCH","url":"Patient/pp"}},
    {"resource":{"resourceType":"Patient","id":"never"},"request":{"method":"PUT","url":"Patient/never"}}]})");
  EXPECT_GE(bad.status, 400) << bad.body;
  EXPECT_EQ(HttpRequest(port(), "GET", "/Patient/never").status, 404);
  EXPECT_EQ(HttpRequest(port(), "GET", "/Patient/pp").Header("ETag"), "W/\"3\"");
}

TEST_F(TransactionTest, BatchEntriesSucceedOrFailAlone) {
  HttpResult r = Post(R"({"resourceType":"Bundle","type":"batch","entry":[
    {"resource":{"resourceType":"Patient","id":"b1"},"request":{"method":"PUT","url":"Patient/b1"}},
    {"resource":{"resourceType":"Patient","bogus":1},"request":{"method":"POST","url":"Patient"}},
    {"request":{"method":"GET","url":"Patient/nope"}},
    {"request":{"method":"DELETE","url":"Patient/b1"}}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  json::Document b = Parse(r.body);
  EXPECT_EQ(b.root().FindString("type"), "batch-response");
  const json::Value& e = *b.root().Find("entry");
  EXPECT_EQ(e.items()[0].Find("response")->FindString("status"), "201 Created");
  EXPECT_EQ(e.items()[1].Find("response")->FindString("status"), "400 Bad Request");
  EXPECT_NE(e.items()[1].Find("response")->Find("outcome"), nullptr);
  EXPECT_EQ(e.items()[2].Find("response")->FindString("status"), "404 Not Found");
  EXPECT_EQ(e.items()[3].Find("response")->FindString("status"), "200 OK");
  EXPECT_EQ(HttpRequest(port(), "GET", "/Patient/b1").status, 410);
}

// Concurrent transactions over the same two resources: each writes both atomically, so the
// versions of A and B pair up and each pair carries the same transaction's marker.
TEST_F(TransactionTest, ConcurrentTransactionsStayAtomic) {
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string m = "t" + std::to_string(t) + "-" + std::to_string(i);
        HttpResult r = HttpRequest(port(), "POST", "/",
                                   R"({"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Basic","id":"A","code":{"text":")" +
                                       m + R"("}},"request":{"method":"PUT","url":"Basic/A"}},
          {"resource":{"resourceType":"Basic","id":"B","code":{"text":")" +
                                       m + R"("}},"request":{"method":"PUT","url":"Basic/B"}}]})");
        (r.status == 200 ? ok : failed)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(ok.load(), 80);
  HttpResult a = HttpRequest(port(), "GET", "/Basic/A");
  HttpResult b = HttpRequest(port(), "GET", "/Basic/B");
  EXPECT_EQ(a.Header("ETag"), "W/\"80\"");
  EXPECT_EQ(b.Header("ETag"), "W/\"80\"");
  const int versions = ok.load();
  for (int v = 1; v <= versions; ++v) {
    HttpResult ra = HttpRequest(port(), "GET", "/Basic/A/_history/" + std::to_string(v));
    HttpResult rb = HttpRequest(port(), "GET", "/Basic/B/_history/" + std::to_string(v));
    ASSERT_EQ(ra.status, 200) << "version " << v;
    ASSERT_EQ(rb.status, 200) << "version " << v;
    json::Document va = Parse(ra.body);
    json::Document vb = Parse(rb.body);
    ASSERT_NE(va.root().Find("code"), nullptr);
    ASSERT_NE(vb.root().Find("code"), nullptr);
    ASSERT_EQ(va.root().Find("code")->FindString("text"),
              vb.root().Find("code")->FindString("text"))
        << "version " << v;
  }
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every reference string in `v` (Reference.reference).
void CollectReferences(const json::Value& v, std::vector<std::string>* out) {
  if (v.is_array()) {
    for (const json::Value& i : v.items()) CollectReferences(i, out);
  } else if (v.is_object()) {
    for (const json::Member& m : v.members()) {
      if (m.key == "reference" && m.value.is_string()) {
        out->emplace_back(m.value.string_value());
      } else {
        CollectReferences(m.value, out);
      }
    }
  }
}

// The Synthea population: the shared hospital and practitioner bundles, then 20 patients, each a
// transaction with conditional references. Stored counts per type equal the bundles' entries,
// and every reference in every stored resource resolves.
TEST_F(TransactionTest, SyntheaPatientsLoadAndEveryReferenceResolves) {
  const char* env = std::getenv("VESTA_SHARED_DATA");
  std::string dir = std::string(env ? env : "../shared/data") + "/synthea";
  std::vector<std::string> files;
  for (const char* sub : {"/shared", "/patients"}) {
    DIR* d = opendir((dir + sub).c_str());
    if (d == nullptr) GTEST_SKIP() << "the Synthea bundles are not at " << dir;
    std::vector<std::string> found;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 5 && n.substr(n.size() - 5) == ".json") found.push_back(dir + sub + "/" + n);
    }
    closedir(d);
    std::sort(found.begin(), found.end());
    // hospitalInformation before practitionerInformation: practitioners reference hospitals.
    files.insert(files.end(), found.begin(), found.end());
  }
  std::map<std::string, int> expected;  // type -> entries that create a resource
  std::set<std::string> seen_conditional;
  for (const std::string& f : files) {
    std::string text = ReadFile(f);
    json::Document bundle = Parse(text);
    for (const json::Value& e : bundle.root().Find("entry")->items()) {
      std::string type(e.Find("resource")->FindString("resourceType"));
      std::string ine(e.Find("request")->FindString("ifNoneExist"));
      if (!ine.empty() && !seen_conditional.insert(type + "?" + ine).second) continue;
      expected[type]++;
    }
    HttpResult r = HttpRequest(port(), "POST", "/", text, {{"Prefer", "return=minimal"}}, 120000);
    ASSERT_EQ(r.status, 200) << f << "\n" << r.body.substr(0, 500);
  }
  for (const auto& [type, n] : expected) {
    EXPECT_EQ(Total(port(), "/" + type + "?_summary=count"), std::to_string(n)) << type;
  }
  // Every reference resolves: walk each type's resources page by page.
  int checked = 0, unresolved = 0;
  for (const auto& [type, n] : expected) {
    std::string next = "/" + type + "?_count=500";
    for (int pages = 0; pages < 100 && !next.empty(); ++pages) {
      json::Document page = Parse(HttpRequest(port(), "GET", next).body);
      next.clear();
      for (const json::Value& l : page.root().Find("link")->items()) {
        if (l.FindString("relation") == "next") {
          std::string url(l.FindString("url"));
          next = url.substr(url.find('/', url.find("://") + 3));
        }
      }
      const json::Value* entries = page.root().Find("entry");
      if (entries == nullptr) break;
      for (const json::Value& e : entries->items()) {
        std::vector<std::string> refs;
        CollectReferences(*e.Find("resource"), &refs);
        for (const std::string& ref : refs) {
          if (ref.rfind("#", 0) == 0) continue;  // contained
          ++checked;
          if (HttpRequest(port(), "GET", "/" + ref).status != 200) {
            if (++unresolved < 10) ADD_FAILURE() << type << " references " << ref;
          }
        }
      }
    }
  }
  std::cout << "Synthea: " << checked << " references checked, " << unresolved << " unresolved\n";
  EXPECT_GT(checked, 1000);
  EXPECT_EQ(unresolved, 0);
}

// Patient/[id]/$everything over a Synthea patient: every resource of the patient's bundle comes
// back exactly once across the pages; _type and _since filter.
TEST_F(TransactionTest, EverythingPagesThroughThePatientCompartment) {
  const char* env = std::getenv("VESTA_SHARED_DATA");
  std::string dir = std::string(env ? env : "../shared/data") + "/synthea";
  std::vector<std::string> shared;
  DIR* d = opendir((dir + "/shared").c_str());
  if (d == nullptr) GTEST_SKIP() << "the Synthea bundles are not at " << dir;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.substr(n.size() - 5) == ".json") shared.push_back(dir + "/shared/" + n);
  }
  closedir(d);
  std::sort(shared.begin(), shared.end());
  for (const std::string& f : shared) {
    ASSERT_EQ(HttpRequest(port(), "POST", "/", ReadFile(f), {{"Prefer", "return=minimal"}}, 120000)
                  .status,
              200);
  }
  std::string patient_file =
      dir + "/patients/Lawerence6_Baumbach677_ea8d2576-4a23-4906-c353-bfed5adb23bd.json";
  std::string text = ReadFile(patient_file);
  if (text.empty()) GTEST_SKIP() << "the Synthea patient is not at " << patient_file;
  std::map<std::string, int> expected;
  json::Document bundle = Parse(text);
  for (const json::Value& e : bundle.root().Find("entry")->items()) {
    std::string type(e.Find("resource")->FindString("resourceType"));
    if (type != "Provenance") expected[type]++;  // Provenance targets, not the patient
  }
  HttpResult loaded =
      HttpRequest(port(), "POST", "/", text, {{"Prefer", "return=minimal"}}, 120000);
  ASSERT_EQ(loaded.status, 200) << loaded.body.substr(0, 300);
  json::Document patients = Parse(HttpRequest(port(), "GET", "/Patient?_count=1").body);
  std::string id(patients.root().Find("entry")->items()[0].Find("resource")->FindString("id"));
  std::map<std::string, int> got;
  std::set<std::string> seen;
  std::string next = "/Patient/" + id + "/$everything?_count=97";
  int pages = 0;
  for (; pages < 100 && !next.empty(); ++pages) {
    HttpResult r = HttpRequest(port(), "GET", next);
    ASSERT_EQ(r.status, 200) << next << "\n" << r.body.substr(0, 300);
    json::Document page = Parse(r.body);
    next.clear();
    for (const json::Value& l : page.root().Find("link")->items()) {
      if (l.FindString("relation") == "next") {
        std::string url(l.FindString("url"));
        next = url.substr(url.find('/', url.find("://") + 3));
      }
    }
    for (const json::Value& e : page.root().Find("entry")->items()) {
      const json::Value& res = *e.Find("resource");
      std::string key =
          std::string(res.FindString("resourceType")) + "/" + std::string(res.FindString("id"));
      EXPECT_TRUE(seen.insert(key).second) << key << " twice";
      got[std::string(res.FindString("resourceType"))]++;
    }
  }
  EXPECT_GT(pages, 10);
  for (const auto& [type, n] : expected) EXPECT_EQ(got[type], n) << type;
  json::Document only =
      Parse(HttpRequest(port(), "GET",
                        "/Patient/" + id + "/$everything?_type=Condition,Patient&_count=1000")
                .body);
  EXPECT_EQ(only.root().Find("entry")->size(), static_cast<size_t>(expected["Condition"] + 1));
  json::Document future = Parse(
      HttpRequest(port(), "GET", "/Patient/" + id + "/$everything?_since=2999-01-01T00:00:00Z")
          .body);
  EXPECT_EQ(future.root().Find("entry")->size(), 0u);
  EXPECT_EQ(HttpRequest(port(), "GET", "/Patient/nobody/$everything").status, 404);
  EXPECT_EQ(HttpRequest(port(), "GET", "/Patient/" + id + "/$everything?bogus=1").status, 400);
}

}  // namespace
}  // namespace vesta::testing
