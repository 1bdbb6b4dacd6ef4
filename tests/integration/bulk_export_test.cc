// FHIR Bulk Data export (https://hl7.org/fhir/uv/bulkdata/STU2/export.html) against the real
// server, with a client that follows the specification: kick-off with Prefer: respond-async,
// polling the Content-Location while it answers 202 (waiting as Retry-After says), the manifest,
// the NDJSON downloads; DELETE to cancel; and the kick-offs the server must refuse. Then `vesta
// export` and the round trip through `vesta import`.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "integration/test_server.h"
#include "json/parse.h"

namespace vesta::testing {
namespace {

namespace fs = std::filesystem;

using Headers = std::vector<std::pair<std::string, std::string>>;

// The path and query of an absolute URL this server made ("http://127.0.0.1:N/bulk/...").
std::string PathOf(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

struct ManifestFile {
  std::string type, url;
  int64_t count = 0;
};

struct Manifest {
  std::string transaction_time, request;
  bool requires_access_token = true;
  std::vector<ManifestFile> output, error, deleted;
};

Manifest ParseManifest(const std::string& body) {
  Manifest m;
  Result<json::Document> doc = json::Parse(body);
  EXPECT_TRUE(doc.ok()) << body;
  if (!doc.ok()) return m;
  const json::Value& root = doc->root();
  m.transaction_time = std::string(root.FindString("transactionTime"));
  m.request = std::string(root.FindString("request"));
  if (const json::Value* r = root.Find("requiresAccessToken"); r != nullptr && r->is_bool()) {
    m.requires_access_token = r->bool_value();
  }
  if (const json::Value* deleted = root.Find("deleted")) {
    for (const json::Value& f : deleted->items()) {
      ManifestFile mf;
      mf.type = std::string(f.FindString("type"));
      mf.url = std::string(f.FindString("url"));
      m.deleted.push_back(mf);
    }
  }
  for (auto [name, list] : {std::pair{"output", &m.output}, std::pair{"error", &m.error}}) {
    const json::Value* files = root.Find(name);
    EXPECT_NE(files, nullptr) << name << " is required (an empty array when none): " << body;
    if (files == nullptr) continue;
    for (const json::Value& f : files->items()) {
      ManifestFile mf;
      mf.type = std::string(f.FindString("type"));
      mf.url = std::string(f.FindString("url"));
      if (const json::Value* c = f.Find("count"))
        mf.count = std::stoll(std::string(c->number_text()));
      list->push_back(mf);
    }
  }
  return m;
}

// A Bulk Data client: what the specification asks of one.
class BulkClient {
 public:
  explicit BulkClient(int port, std::string token = "") : port_(port), token_(std::move(token)) {}

  Headers Auth(Headers h = {}) const {
    if (!token_.empty()) h.emplace_back("Authorization", "Bearer " + token_);
    return h;
  }

  // export.html#bulk-data-kick-off-request: Accept and Prefer headers.
  HttpResult KickOff(const std::string& target, const std::string& method = "GET",
                     const std::string& body = "", Headers extra = {}) const {
    Headers h = Auth({{"Accept", "application/fhir+json"}, {"Prefer", "respond-async"}});
    if (!body.empty()) h.emplace_back("Content-Type", "application/fhir+json");
    h.insert(h.end(), extra.begin(), extra.end());
    return HttpRequest(port_, method, target, body, h);
  }

  // Polls the status URL until it is no longer 202, waiting Retry-After seconds between polls
  // (export.html#bulk-data-status-request: "clients SHOULD follow an exponential backoff approach
  // ... Retry-After"); each 202 must carry Retry-After. At most 60 polls.
  HttpResult Wait(const std::string& status_url, int* polls_in_progress = nullptr) const {
    HttpResult r;
    for (int i = 0; i < 60; ++i) {
      r = HttpRequest(port_, "GET", PathOf(status_url), "", Auth());
      if (r.status != 202) return r;
      if (polls_in_progress != nullptr) ++*polls_in_progress;
      EXPECT_FALSE(r.Header("X-Progress").empty());
      const std::string retry = r.Header("Retry-After");
      EXPECT_FALSE(retry.empty()) << "a 202 status answer says when to poll again";
      const int seconds = retry.empty() ? 1 : std::max(1, std::stoi(retry));
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * seconds));
    }
    ADD_FAILURE() << "the export did not finish in 60 polls";
    return r;
  }

  // Kick-off, wait, and the manifest (the test fails on anything else).
  Manifest Export(const std::string& target, const std::string& method = "GET",
                  const std::string& body = "") const {
    HttpResult k = KickOff(target, method, body);
    EXPECT_EQ(k.status, 202) << target << ": " << k.body;
    const std::string location = k.Header("Content-Location");
    EXPECT_TRUE(location.starts_with("http://")) << "Content-Location is absolute: " << location;
    HttpResult done = Wait(location);
    EXPECT_EQ(done.status, 200) << done.body;
    EXPECT_EQ(done.Header("Content-Type"), "application/json");
    EXPECT_FALSE(done.Header("Expires").empty());
    return ParseManifest(done.body);
  }

  // Every line of every output file of a type, by "Type/id" (the files' Content-Type checked).
  std::map<std::string, std::string> Download(const Manifest& m) const {
    std::map<std::string, std::string> out;
    for (const ManifestFile& f : m.output) {
      HttpResult r = HttpRequest(port_, "GET", PathOf(f.url), "",
                                 Auth({{"Accept", "application/fhir+ndjson"}}));
      EXPECT_EQ(r.status, 200) << f.url;
      EXPECT_EQ(r.Header("Content-Type"), "application/fhir+ndjson");
      std::istringstream lines(r.body);
      std::string line;
      int64_t n = 0;
      while (std::getline(lines, line)) {
        Result<json::Document> doc = json::Parse(line);
        EXPECT_TRUE(doc.ok()) << line;
        if (!doc.ok()) continue;
        EXPECT_EQ(doc->root().FindString("resourceType"), f.type);
        out[std::string(doc->root().FindString("resourceType")) + "/" +
            std::string(doc->root().FindString("id"))] = line;
        ++n;
      }
      EXPECT_EQ(n, f.count) << f.url << ": the manifest's count";
    }
    return out;
  }

  std::string ErrorText(const Manifest& m) const {
    std::string out;
    for (const ManifestFile& f : m.error) {
      EXPECT_EQ(f.type, "OperationOutcome");
      out += HttpRequest(port_, "GET", PathOf(f.url), "", Auth()).body;
    }
    return out;
  }

 private:
  int port_;
  std::string token_;
};

std::set<std::string> Keys(const std::map<std::string, std::string>& m) {
  std::set<std::string> out;
  for (const auto& [k, v] : m) out.insert(k);
  return out;
}

class BulkExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path() + "/data");
    ASSERT_TRUE(server_->ok());
    for (const std::string& body :
         {std::string(R"({"resourceType":"Patient","id":"p1","name":[{"family":"One"}]})"),
          std::string(R"({"resourceType":"Patient","id":"p2","name":[{"family":"Two"}]})"),
          std::string(R"({"resourceType":"Patient","id":"p3","name":[{"family":"Three"}]})"),
          std::string(R"({"resourceType":"Practitioner","id":"dr1"})"), Obs("o1", "p1", "8867-4"),
          Obs("o2", "p1", "29463-7"), Obs("o3", "p2", "8867-4"),
          // In two compartments: p3's (subject) and p1's (performer).
          std::string(R"({"resourceType":"Observation","id":"o4","status":"final",)"
                      R"("code":{"text":"shared"},"subject":{"reference":"Patient/p3"},)"
                      R"("performer":[{"reference":"Patient/p1"}]})"),
          std::string(
              R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"}})"),
          std::string(R"({"resourceType":"Group","id":"g1","type":"person","actual":true,)"
                      R"("member":[{"entity":{"reference":"Patient/p1"}},)"
                      R"({"entity":{"reference":"Patient/p2"},"inactive":true},)"
                      R"({"entity":{"reference":"Practitioner/dr1"}}]})"),
          std::string(R"({"resourceType":"Group","id":"described","type":"person",)"
                      R"("actual":false})")}) {
      Put(body);
    }
  }

  static std::string Obs(const std::string& id, const std::string& patient,
                         const std::string& loinc) {
    return R"({"resourceType":"Observation","id":")" + id +
           R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")" + loinc +
           R"("}]},"subject":{"reference":"Patient/)" + patient + R"("}})";
  }

  void Put(const std::string& body) {
    Result<json::Document> doc = json::Parse(body);
    ASSERT_TRUE(doc.ok());
    const std::string path = "/" + std::string(doc->root().FindString("resourceType")) + "/" +
                             std::string(doc->root().FindString("id"));
    HttpResult r = HttpRequest(server_->port(), "PUT", path, body,
                               {{"Content-Type", "application/fhir+json"}});
    ASSERT_TRUE(r.status == 200 || r.status == 201) << path << ": " << r.body;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(BulkExportTest, SystemExportFollowsTheAsyncPattern) {
  BulkClient client(server_->port());
  HttpResult k = client.KickOff("/$export");
  ASSERT_EQ(k.status, 202) << k.body;
  const std::string location = k.Header("Content-Location");
  ASSERT_NE(location.find("/bulk/status/"), std::string::npos) << location;
  HttpResult done = client.Wait(location);
  ASSERT_EQ(done.status, 200) << done.body;
  Manifest m = ParseManifest(done.body);
  EXPECT_FALSE(m.requires_access_token) << "authorization is off";
  EXPECT_EQ(PathOf(m.request), "/$export");
  EXPECT_EQ(m.transaction_time.size(), 27u) << m.transaction_time;
  EXPECT_TRUE(m.error.empty()) << client.ErrorText(m);
  std::map<std::string, std::string> got = client.Download(m);
  EXPECT_EQ(Keys(got), (std::set<std::string>{"Patient/p1", "Patient/p2", "Patient/p3",
                                              "Practitioner/dr1", "Observation/o1",
                                              "Observation/o2", "Observation/o3", "Observation/o4",
                                              "Condition/c1", "Group/g1", "Group/described"}));
  // Each line is the resource as stored: the same bytes a read returns.
  HttpResult read = HttpRequest(server_->port(), "GET", "/Observation/o1");
  EXPECT_EQ(got["Observation/o1"], read.body);
  // One file per type.
  std::set<std::string> types;
  for (const ManifestFile& f : m.output) EXPECT_TRUE(types.insert(f.type).second) << f.type;
  // The files stay until DELETE; then the status and the files are gone.
  HttpResult del = HttpRequest(server_->port(), "DELETE", PathOf(location));
  EXPECT_EQ(del.status, 202) << del.body;
  EXPECT_EQ(HttpRequest(server_->port(), "GET", PathOf(location)).status, 404);
  EXPECT_EQ(HttpRequest(server_->port(), "GET", PathOf(m.output[0].url)).status, 404);
  EXPECT_EQ(HttpRequest(server_->port(), "DELETE", PathOf(location)).status, 404);
}

TEST_F(BulkExportTest, TypeSinceAndTypeFilterNarrowTheExport) {
  BulkClient client(server_->port());
  Manifest only = client.Export("/$export?_type=Patient,Condition");
  EXPECT_EQ(Keys(client.Download(only)),
            (std::set<std::string>{"Patient/p1", "Patient/p2", "Patient/p3", "Condition/c1"}));
  // _since: what changed after the first export's transactionTime (the next export's usual
  // starting point).
  Put(R"({"resourceType":"Patient","id":"p2","name":[{"family":"Two-changed"}]})");
  Put(Obs("o5", "p3", "8867-4"));
  ASSERT_EQ(HttpRequest(server_->port(), "DELETE", "/Observation/o3").status, 200);
  Manifest since = client.Export("/$export?_since=" + only.transaction_time);
  EXPECT_EQ(Keys(client.Download(since)), (std::set<std::string>{"Patient/p2", "Observation/o5"}));
  // What was deleted since: a transaction Bundle with a DELETE entry each
  // (export.html#response---complete-status, "deleted").
  ASSERT_EQ(since.deleted.size(), 1u);
  EXPECT_EQ(since.deleted[0].type, "Bundle");
  HttpResult deleted = HttpRequest(server_->port(), "GET", PathOf(since.deleted[0].url));
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.body, R"({"resourceType":"Bundle","type":"transaction","entry":[{"request":)"
                          R"({"method":"DELETE","url":"Observation/o3"}}]})"
                          "\n");
  // _typeFilter: the union of its searches for that type; other types whole (o3 is deleted).
  Manifest filtered = client.Export(
      "/$export?_type=Observation,Condition&_typeFilter=Observation%3Fcode%3D8867-4"
      "%2CObservation%3Fsubject%3DPatient%2Fp1");
  EXPECT_EQ(Keys(client.Download(filtered)),
            (std::set<std::string>{"Observation/o1", "Observation/o2", "Observation/o5",
                                   "Condition/c1"}));
  // _elements: the listed elements (and the id, meta with SUBSETTED).
  Manifest elements = client.Export("/$export?_type=Patient&_elements=name");
  std::map<std::string, std::string> lines = client.Download(elements);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines["Patient/p1"].find("SUBSETTED"), std::string::npos) << lines["Patient/p1"];
  // The POST form with a Parameters resource.
  Manifest posted = client.Export(
      "/$export", "POST",
      R"({"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Practitioner"}]})");
  EXPECT_EQ(Keys(client.Download(posted)), std::set<std::string>{"Practitioner/dr1"});
}

TEST_F(BulkExportTest, PatientAndGroupExportsCoverCompartments) {
  BulkClient client(server_->port());
  Manifest all = client.Export("/Patient/$export");
  std::map<std::string, std::string> got = client.Download(all);
  // Every patient's compartment; o4 (in p1's and p3's) once; no Practitioner (not in the
  // compartment).
  EXPECT_EQ(Keys(got), (std::set<std::string>{"Patient/p1", "Patient/p2", "Patient/p3",
                                              "Observation/o1", "Observation/o2", "Observation/o3",
                                              "Observation/o4", "Condition/c1", "Group/g1"}));
  int64_t total = 0;
  for (const ManifestFile& f : all.output) total += f.count;
  EXPECT_EQ(total, static_cast<int64_t>(got.size())) << "no resource twice";
  // The group: its active Patient members only (p2 is inactive; the Practitioner has no
  // compartment, which the error file says).
  Manifest group = client.Export("/Group/g1/$export?_type=Patient,Observation");
  EXPECT_EQ(
      Keys(client.Download(group)),
      (std::set<std::string>{"Patient/p1", "Observation/o1", "Observation/o2", "Observation/o4"}));
  EXPECT_NE(client.ErrorText(group).find("Practitioner/dr1"), std::string::npos);
  // The patient parameter (POST) narrows a patient-level export.
  Manifest one = client.Export(
      "/Patient/$export", "POST",
      R"({"resourceType":"Parameters","parameter":[{"name":"patient","valueReference":)"
      R"({"reference":"Patient/p2"}},{"name":"_type","valueString":"Patient,Observation"}]})");
  EXPECT_EQ(Keys(client.Download(one)), (std::set<std::string>{"Patient/p2", "Observation/o3"}));
}

TEST_F(BulkExportTest, BadKickOffsAreRefusedWithAnOutcome) {
  BulkClient client(server_->port());
  struct Case {
    std::string target;
    int status;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"/$export?_type=Nonsense", 400, "Nonsense"},
           {"/$export?_outputFormat=text/csv", 400, "_outputFormat"},
           {"/$export?_since=yesterday", 400, "_since"},
           {"/$export?_since=2024-01-01", 400, "instant"},
           {"/$export?includeAssociatedData=LatestProvenanceResources", 400,
            "includeAssociatedData"},
           {"/$export?_typeFilter=Observation%3Fnot-a-param%3D1", 400, "not-a-param"},
           {"/$export?_typeFilter=Observation", 400, "_typeFilter"},
           {"/$export?_type=Patient&_typeFilter=Observation%3Fcode%3Dx", 400, "Observation"},
           {"/$export?unknownThing=1", 400, "unknownThing"},
           {"/Patient/$export?_type=Practitioner", 400, "compartment"},
           {"/Group/nope/$export", 404, "Group/nope"},
           {"/Group/described/$export", 400, "actual"},
       }) {
    HttpResult r = client.KickOff(c.target);
    EXPECT_EQ(r.status, c.status) << c.target << ": " << r.body;
    EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos) << c.target;
    EXPECT_NE(r.body.find(c.says), std::string::npos) << c.target << ": " << r.body;
    EXPECT_TRUE(r.Header("Content-Location").empty()) << c.target;
  }
  // Without Prefer: respond-async.
  HttpResult sync =
      HttpRequest(server_->port(), "GET", "/$export", "", {{"Accept", "application/fhir+json"}});
  EXPECT_EQ(sync.status, 400);
  EXPECT_NE(sync.body.find("respond-async"), std::string::npos) << sync.body;
  // With Prefer: handling=lenient an unsupported parameter is ignored, and the error file says
  // so.
  HttpResult lenient = client.KickOff("/$export?_type=Practitioner&unknownThing=1", "GET", "",
                                      {{"Prefer", "handling=lenient"}});
  ASSERT_EQ(lenient.status, 202) << lenient.body;
  HttpResult done = client.Wait(lenient.Header("Content-Location"));
  ASSERT_EQ(done.status, 200);
  Manifest m = ParseManifest(done.body);
  EXPECT_EQ(Keys(client.Download(m)), std::set<std::string>{"Practitioner/dr1"});
  EXPECT_NE(client.ErrorText(m).find("unknownThing"), std::string::npos);
  // Unknown status and file URLs.
  EXPECT_EQ(HttpRequest(server_->port(), "GET", "/bulk/status/unknown").status, 404);
  EXPECT_EQ(HttpRequest(server_->port(), "GET", "/bulk/files/unknown/Patient.ndjson").status, 404);
  // The finished export's files are only those of its manifest.
  const std::string status_path = PathOf(lenient.Header("Content-Location"));
  const std::string id = status_path.substr(status_path.rfind('/') + 1);
  EXPECT_EQ(HttpRequest(server_->port(), "GET", "/bulk/files/" + id + "/job.json").status, 404);
  EXPECT_EQ(HttpRequest(server_->port(), "GET", "/bulk/files/" + id + "/..%2Fjob.json").status,
            404);
}

TEST_F(BulkExportTest, FinishedExportsOutliveARestart) {
  BulkClient client(server_->port());
  HttpResult k = client.KickOff("/$export?_type=Patient");
  ASSERT_EQ(k.status, 202);
  ASSERT_EQ(client.Wait(k.Header("Content-Location")).status, 200);
  ASSERT_EQ(server_->Stop(), 0);
  server_ = std::make_unique<ServerProcess>(dir_.path() + "/data");
  ASSERT_TRUE(server_->ok());
  // The status URL names the old port; its path is what the new server knows.
  BulkClient again(server_->port());
  HttpResult done = HttpRequest(server_->port(), "GET", PathOf(k.Header("Content-Location")));
  ASSERT_EQ(done.status, 200) << done.body;
  Manifest m = ParseManifest(done.body);
  ASSERT_EQ(m.output.size(), 1u);
  EXPECT_EQ(HttpRequest(server_->port(), "GET", PathOf(m.output[0].url)).status, 200);
}

int RunShell(const std::string& command) { return WEXITSTATUS(std::system(command.c_str())); }

std::map<std::string, std::string> ReadNdjsonDir(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".ndjson" || e.path().filename() == "OperationOutcome.ndjson") {
      continue;
    }
    std::ifstream in(e.path());
    std::string line;
    while (std::getline(in, line)) {
      Result<json::Document> doc = json::Parse(line);
      EXPECT_TRUE(doc.ok()) << line;
      if (!doc.ok()) continue;
      out[std::string(doc->root().FindString("resourceType")) + "/" +
          std::string(doc->root().FindString("id"))] = line;
    }
  }
  return out;
}

TEST_F(BulkExportTest, CommandLineExportWritesWhatTheServerExports) {
  BulkClient client(server_->port());
  std::map<std::string, std::string> served = client.Download(client.Export("/$export"));
  ASSERT_EQ(server_->Stop(), 0);
  const std::string data = dir_.path() + "/data";
  const std::string out = dir_.path() + "/out";
  ASSERT_EQ(
      RunShell(VestaBinary() + " export" + StoreFlags(data) + " --out " + out + " >/dev/null"), 0);
  EXPECT_EQ(ReadNdjsonDir(out), served);
  ASSERT_TRUE(fs::exists(out + "/manifest.json"));
  // Files are never replaced: a second export into the same directory fails.
  EXPECT_NE(
      RunShell(VestaBinary() + " export" + StoreFlags(data) + " --out " + out + " >/dev/null 2>&1"),
      0);
  server_ = std::make_unique<ServerProcess>(data);  // TearDown stops it
}

TEST_F(BulkExportTest, ExportImportExportGivesTheSameBytes) {
  // Export everything, load it into a fresh store (the export folder as it is: its manifest and
  // error file are not loaded), export again: the same resources, byte for byte.
  BulkClient client(server_->port());
  ASSERT_EQ(server_->Stop(), 0);
  const std::string data = dir_.path() + "/data";
  const std::string first = dir_.path() + "/first";
  ASSERT_EQ(
      RunShell(VestaBinary() + " export" + StoreFlags(data) + " --out " + first + " >/dev/null"),
      0);
  std::map<std::string, std::string> exported = ReadNdjsonDir(first);
  ASSERT_GT(exported.size(), 5u);
  const std::string copy = dir_.path() + "/copy";
  ASSERT_EQ(RunShell(VestaBinary() + " import --keep-last-updated --quiet" + StoreFlags(copy) +
                     " " + first + " >/dev/null 2>&1"),
            0);
  const std::string second = dir_.path() + "/second";
  ASSERT_EQ(
      RunShell(VestaBinary() + " export" + StoreFlags(copy) + " --out " + second + " >/dev/null"),
      0);
  std::map<std::string, std::string> again = ReadNdjsonDir(second);
  ASSERT_EQ(Keys(again), Keys(exported));
  for (const auto& [key, line] : exported) EXPECT_EQ(again[key], line) << key;
  // Loading the same folder again changes nothing.
  ASSERT_EQ(RunShell(VestaBinary() + " import --keep-last-updated --quiet" + StoreFlags(copy) +
                     " " + first + " >/dev/null 2>&1"),
            0);
  const std::string third = dir_.path() + "/third";
  ASSERT_EQ(
      RunShell(VestaBinary() + " export" + StoreFlags(copy) + " --out " + third + " >/dev/null"),
      0);
  EXPECT_EQ(ReadNdjsonDir(third), exported);
  server_ = std::make_unique<ServerProcess>(data);  // TearDown stops it
}

}  // namespace
}  // namespace vesta::testing
