// The FHIR REST interactions against the real server (https://hl7.org/fhir/R4/http.html).
#include <gtest/gtest.h>
#include <zlib.h>

#include <memory>

#include "integration/test_server.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::testing {
namespace {

class RestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    server_ = new ServerProcess(dir_->path(), {"--max-body-mb", "1"});
    ASSERT_TRUE(server_->ok()) << "the server did not start";
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(), 0) << "the server did not shut down cleanly";
    delete server_;
    delete dir_;
  }

  HttpResult Do(const std::string& method, const std::string& target, const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return HttpRequest(server_->port(), method, target, body, headers);
  }

  // Creates a resource and returns its id.
  std::string Create(const std::string& type, const std::string& body) {
    HttpResult r = Do("POST", "/" + type, body);
    EXPECT_EQ(r.status, 201) << r.body;
    auto doc = json::Parse(r.body);
    return doc.ok() ? std::string(doc->root().FindString("id")) : "";
  }

  static json::Document Parse(const std::string& s) {
    auto doc = json::Parse(s);
    EXPECT_TRUE(doc.ok()) << s;
    return doc.ok() ? std::move(doc).value() : json::Document();
  }

  // The OperationOutcome's first issue code; "" if the body is not one.
  static std::string IssueCode(const std::string& body) {
    auto doc = json::Parse(body);
    if (!doc.ok() || doc->root().FindString("resourceType") != "OperationOutcome") return "";
    const json::Value* issues = doc->root().Find("issue");
    if (issues == nullptr || issues->size() == 0) return "";
    return std::string(issues->items()[0].FindString("code"));
  }

  static TempDir* dir_;
  static ServerProcess* server_;
};

TempDir* RestTest::dir_ = nullptr;
ServerProcess* RestTest::server_ = nullptr;

constexpr const char* kPatient =
    R"({"resourceType":"Patient","active":true,"name":[{"family":"Chalmers","given":["Peter"]}],
        "birthDate":"1974-12-25","extension":[{"url":"http://example.org/w","valueDecimal":1.50}]})";

TEST_F(RestTest, HealthAndCapabilities) {
  HttpResult h = Do("GET", "/healthz");
  EXPECT_EQ(h.status, 200);
  HttpResult r = Do("GET", "/metadata");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "application/fhir+json; charset=utf-8");
  json::Document doc = Parse(r.body);
  EXPECT_EQ(doc.root().FindString("resourceType"), "CapabilityStatement");
  EXPECT_EQ(doc.root().FindString("fhirVersion"), "4.0.1");
  const json::Value& rest = doc.root().Find("rest")->items()[0];
  EXPECT_EQ(rest.Find("resource")->size(), 146u);
  const json::Value& first = rest.Find("resource")->items()[0];
  std::string interactions = json::ToString(*first.Find("interaction"));
  for (const char* code :
       {"read", "vread", "update", "delete", "history-instance", "history-type", "create"}) {
    EXPECT_NE(interactions.find(std::string("\"") + code + "\""), std::string::npos) << code;
  }
}

TEST_F(RestTest, CreateThenReadIsExact) {
  HttpResult c = Do("POST", "/Patient", kPatient);
  ASSERT_EQ(c.status, 201) << c.body;
  json::Document created = Parse(c.body);
  std::string id(created.root().FindString("id"));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(c.Header("ETag"), "W/\"1\"");
  EXPECT_NE(c.Header("Last-Modified"), "");
  EXPECT_NE(c.Header("Location").find("/Patient/" + id + "/_history/1"), std::string::npos);
  HttpResult r = Do("GET", "/Patient/" + id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, c.body);
  EXPECT_NE(r.body.find("\"valueDecimal\":1.50"), std::string::npos) << "decimal not byte-exact";
  json::Document read = Parse(r.body);
  EXPECT_EQ(read.root().Find("meta")->FindString("versionId"), "1");
  EXPECT_EQ(r.Header("ETag"), "W/\"1\"");
}

TEST_F(RestTest, CreateIgnoresClientIdAndMetaVersion) {
  HttpResult c =
      Do("POST", "/Patient",
         R"({"resourceType":"Patient","id":"mine","meta":{"versionId":"9","tag":[{"code":"t"}]}})");
  ASSERT_EQ(c.status, 201);
  json::Document doc = Parse(c.body);
  EXPECT_NE(doc.root().FindString("id"), "mine");
  EXPECT_EQ(doc.root().Find("meta")->FindString("versionId"), "1");
  EXPECT_NE(doc.root().Find("meta")->Find("tag"), nullptr) << "client meta.tag must be kept";
}

TEST_F(RestTest, CreateRejectsBadInputWithLocations) {
  struct Case {
    std::string target, body;
    int status;
    std::string expression;
  } cases[] = {
      {"/Patient", R"({"resourceType":"Patient","birthDate":"1974-13-01"})", 400,
       "Patient.birthDate"},
      {"/Patient", R"({"resourceType":"Patient","nickname":"x"})", 400, "Patient.nickname"},
      {"/Patient", R"({"resourceType":"Observation","status":"final","code":{"text":"x"}})", 400,
       ""},
      {"/Patient", R"({"resourceType":"Patient",)", 400, ""},
      {"/Patient", "{\"resourceType\":\"Patient\",\"gender\":\"\xff\"}", 400, ""},
      {"/Patient", R"({"resourceType":"Patient","name":[]})", 400, "Patient.name"},
      {"/Patient", R"({"resourceType":"Patient","name":[{"given":[""]}]})", 400,
       "Patient.name[0].given[0]"},
      {"/Patient", R"({"resourceType":"Patient","active":"yes"})", 400, "Patient.active"},
      {"/Patient", R"([])", 400, ""},
      {"/Patient", "", 400, ""},
      {"/Nonsense", R"({"resourceType":"Nonsense"})", 404, ""},
  };
  for (const Case& c : cases) {
    HttpResult r = Do("POST", c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.body << "\n" << r.body;
    EXPECT_NE(IssueCode(r.body), "") << "no OperationOutcome for " << c.body;
    if (!c.expression.empty()) {
      EXPECT_NE(r.body.find("\"expression\":[\"" + c.expression + "\"]"), std::string::npos)
          << r.body;
    }
  }
  HttpResult xml = Do("POST", "/Patient", "<Patient/>", {{"Content-Type", "application/fhir+xml"}});
  EXPECT_EQ(xml.status, 415);
}

TEST_F(RestTest, UpdateVersionsAndUpdateAsCreate) {
  std::string body = R"({"resourceType":"Patient","id":"upd-1","active":true})";
  HttpResult c = Do("PUT", "/Patient/upd-1", body);
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(c.Header("ETag"), "W/\"1\"");
  HttpResult u =
      Do("PUT", "/Patient/upd-1", R"({"resourceType":"Patient","id":"upd-1","active":false})");
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(u.Header("ETag"), "W/\"2\"");
  EXPECT_EQ(Parse(u.body).root().Find("meta")->FindString("versionId"), "2");
  HttpResult v1 = Do("GET", "/Patient/upd-1/_history/1");
  ASSERT_EQ(v1.status, 200);
  EXPECT_TRUE(Parse(v1.body).root().Find("active")->bool_value());
  HttpResult v2 = Do("GET", "/Patient/upd-1/_history/2");
  EXPECT_FALSE(Parse(v2.body).root().Find("active")->bool_value());
  EXPECT_EQ(Do("GET", "/Patient/upd-1/_history/3").status, 404);
  EXPECT_EQ(Do("GET", "/Patient/upd-1/_history/x").status, 404);
}

TEST_F(RestTest, UpdateRequiresMatchingId) {
  HttpResult none = Do("PUT", "/Patient/upd-2", R"({"resourceType":"Patient"})");
  EXPECT_EQ(none.status, 400);
  HttpResult other = Do("PUT", "/Patient/upd-2", R"({"resourceType":"Patient","id":"zzz"})");
  EXPECT_EQ(other.status, 400);
  EXPECT_NE(other.body.find("Patient.id"), std::string::npos);
  EXPECT_EQ(Do("PUT", "/Patient/bad%20id", R"({"resourceType":"Patient","id":"bad id"})").status,
            400);
  EXPECT_EQ(Do("GET", "/Patient/upd-2").status, 404) << "a rejected update must store nothing";
}

TEST_F(RestTest, IfMatchGuardsUpdatesAndDeletes) {
  ASSERT_EQ(Do("PUT", "/Patient/im-1", R"({"resourceType":"Patient","id":"im-1"})").status, 201);
  HttpResult stale =
      Do("PUT", "/Patient/im-1", R"({"resourceType":"Patient","id":"im-1","active":true})",
         {{"If-Match", "W/\"7\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(IssueCode(stale.body), "conflict");
  HttpResult ok =
      Do("PUT", "/Patient/im-1", R"({"resourceType":"Patient","id":"im-1","active":true})",
         {{"If-Match", "W/\"1\""}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(Do("PUT", "/Patient/im-1", R"({"resourceType":"Patient","id":"im-1"})",
               {{"If-Match", "garbage"}})
                .status,
            400);
  EXPECT_EQ(Do("DELETE", "/Patient/im-1", "", {{"If-Match", "W/\"1\""}}).status, 412);
  EXPECT_EQ(Do("DELETE", "/Patient/im-1", "", {{"If-Match", "W/\"2\""}}).status, 200);
  EXPECT_EQ(Do("PUT", "/Patient/im-new", R"({"resourceType":"Patient","id":"im-new"})",
               {{"If-Match", "W/\"1\""}})
                .status,
            412)
      << "If-Match on a resource that does not exist";
}

TEST_F(RestTest, DeleteIsLogical) {
  std::string id = Create("Patient", kPatient);
  HttpResult d = Do("DELETE", "/Patient/" + id);
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.Header("ETag"), "W/\"2\"");
  HttpResult r = Do("GET", "/Patient/" + id);
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(IssueCode(r.body), "deleted");
  EXPECT_EQ(Do("GET", "/Patient/" + id + "/_history/1").status, 200);
  EXPECT_EQ(Do("GET", "/Patient/" + id + "/_history/2").status, 410);
  EXPECT_EQ(Do("DELETE", "/Patient/" + id).status, 200) << "deleting again is a no-op";
  EXPECT_EQ(Do("DELETE", "/Patient/never-was").status, 404);
  HttpResult h = Do("GET", "/Patient/" + id + "/_history");
  ASSERT_EQ(h.status, 200);
  json::Document bundle = Parse(h.body);
  EXPECT_EQ(bundle.root().Find("total")->number_text(), "2");
  const json::Value& newest = bundle.root().Find("entry")->items()[0];
  EXPECT_EQ(newest.Find("request")->FindString("method"), "DELETE");
  EXPECT_EQ(newest.Find("resource"), nullptr);
  // Update after delete revives the resource with the next version.
  HttpResult revive =
      Do("PUT", "/Patient/" + id, R"({"resourceType":"Patient","id":")" + id + "\"}");
  EXPECT_EQ(revive.status, 200) << revive.body;
  EXPECT_EQ(revive.Header("ETag"), "W/\"3\"");
}

TEST_F(RestTest, ConditionalRead) {
  std::string id = Create("Patient", kPatient);
  HttpResult r = Do("GET", "/Patient/" + id);
  EXPECT_EQ(Do("GET", "/Patient/" + id, "", {{"If-None-Match", "W/\"1\""}}).status, 304);
  EXPECT_EQ(Do("GET", "/Patient/" + id, "", {{"If-None-Match", "W/\"0\""}}).status, 200);
  EXPECT_EQ(
      Do("GET", "/Patient/" + id, "", {{"If-Modified-Since", r.Header("Last-Modified")}}).status,
      304);
  EXPECT_EQ(
      Do("GET", "/Patient/" + id, "", {{"If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"}})
          .status,
      200);
}

TEST_F(RestTest, HistoryLevelsAndPaging) {
  ASSERT_EQ(
      Do("PUT", "/Basic/hist-1", R"({"resourceType":"Basic","id":"hist-1","code":{"text":"0"}})")
          .status,
      201);
  for (int i = 1; i < 5; ++i) {
    ASSERT_EQ(
        Do("PUT", "/Basic/hist-1",
           R"({"resourceType":"Basic","id":"hist-1","code":{"text":")" + std::to_string(i) + "\"}}")
            .status,
        200);
  }
  HttpResult page1 = Do("GET", "/Basic/hist-1/_history?_count=2");
  ASSERT_EQ(page1.status, 200) << page1.body;
  json::Document b1 = Parse(page1.body);
  EXPECT_EQ(b1.root().FindString("type"), "history");
  EXPECT_EQ(b1.root().Find("total")->number_text(), "5");
  ASSERT_EQ(b1.root().Find("entry")->size(), 2u);
  EXPECT_EQ(
      b1.root().Find("entry")->items()[0].Find("resource")->Find("meta")->FindString("versionId"),
      "5");
  // Follow next links to the end: every version exactly once, newest first.
  std::vector<std::string> versions;
  std::string next;
  json::Document cur = std::move(b1);
  for (int pages = 0; pages < 10; ++pages) {
    for (const json::Value& e : cur.root().Find("entry")->items()) {
      versions.emplace_back(e.Find("resource")->Find("meta")->FindString("versionId"));
    }
    next.clear();
    for (const json::Value& l : cur.root().Find("link")->items()) {
      if (l.FindString("relation") == "next") next = std::string(l.FindString("url"));
    }
    if (next.empty()) break;
    std::string target = next.substr(next.find("/Basic"));
    HttpResult r = Do("GET", target);
    ASSERT_EQ(r.status, 200) << target;
    cur = Parse(r.body);
  }
  EXPECT_EQ(versions, (std::vector<std::string>{"5", "4", "3", "2", "1"}));
  // Type and system level include it.
  HttpResult type_level = Do("GET", "/Basic/_history");
  EXPECT_EQ(type_level.status, 200);
  EXPECT_NE(type_level.body.find("hist-1"), std::string::npos);
  HttpResult sys = Do("GET", "/_history?_count=1");
  EXPECT_EQ(sys.status, 200);
  EXPECT_EQ(Parse(sys.body).root().Find("entry")->size(), 1u);
  // _since in the future: nothing.
  HttpResult since = Do("GET", "/Basic/hist-1/_history?_since=2999-01-01T00:00:00Z");
  EXPECT_EQ(Parse(since.body).root().Find("total")->number_text(), "0");
  EXPECT_EQ(Do("GET", "/Basic/hist-1/_history?_since=yesterday").status, 400);
  EXPECT_EQ(Do("GET", "/Basic/hist-1/_history?_bogus=1").status, 400);
  EXPECT_EQ(Do("GET", "/Basic/nope/_history").status, 404);
  // _at: the version current at an instant between versions 2 and 3 is version 2.
  json::Document all = Parse(Do("GET", "/Basic/hist-1/_history").body);
  std::string v2_time(all.root()
                          .Find("entry")
                          ->items()[3]
                          .Find("resource")
                          ->Find("meta")
                          ->FindString("lastUpdated"));
  json::Document at = Parse(Do("GET", "/Basic/hist-1/_history?_at=" + v2_time).body);
  ASSERT_EQ(at.root().Find("total")->number_text(), "1") << json::ToString(at.root());
  EXPECT_EQ(
      at.root().Find("entry")->items()[0].Find("resource")->Find("meta")->FindString("versionId"),
      "2");
}

TEST_F(RestTest, FormatNegotiation) {
  std::string id = Create("Patient", kPatient);
  EXPECT_EQ(Do("GET", "/Patient/" + id, "", {{"Accept", "application/fhir+xml"}}).status, 406);
  EXPECT_EQ(Do("GET", "/Patient/" + id + "?_format=xml").status, 406);
  HttpResult json_accept = Do("GET", "/Patient/" + id, "", {{"Accept", "application/json"}});
  EXPECT_EQ(json_accept.status, 200);
  EXPECT_EQ(json_accept.Header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(Do("GET", "/Patient/" + id, "", {{"Accept", "text/html, */*;q=0.8"}}).status, 200);
  EXPECT_EQ(Do("GET", "/Patient/" + id + "?_format=json").status, 200);
  HttpResult pretty = Do("GET", "/Patient/" + id + "?_pretty=true");
  EXPECT_NE(pretty.body.find("\n  \"resourceType\": \"Patient\""), std::string::npos);
  EXPECT_NE(pretty.body.find("1.50"), std::string::npos);
  // Bodies of 1 KiB and more are compressed for clients that accept gzip.
  std::string big = Create("Patient", R"({"resourceType":"Patient","name":[{"family":")" +
                                          std::string(3000, 'x') + "\"}]}");
  pretty = Do("GET", "/Patient/" + big + "?_pretty=true");
  HttpResult gz = Do("GET", "/Patient/" + big + "?_pretty=true", "", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(gz.Header("Content-Encoding"), "gzip");
  // Inflate and compare.
  z_stream zs{};
  ASSERT_EQ(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
  std::string plain(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(gz.body.data());
  zs.avail_in = static_cast<uInt>(gz.body.size());
  zs.next_out = reinterpret_cast<Bytef*>(plain.data());
  zs.avail_out = static_cast<uInt>(plain.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  plain.resize(zs.total_out);
  inflateEnd(&zs);
  EXPECT_EQ(plain, pretty.body);
}

TEST_F(RestTest, SummaryAndElements) {
  std::string id = Create("Patient", R"({"resourceType":"Patient","active":true,
      "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">P</div>"},
      "name":[{"family":"X"}],"maritalStatus":{"text":"M"},"photo":[{"contentType":"image/png"}]})");
  json::Document s = Parse(Do("GET", "/Patient/" + id + "?_summary=true").body);
  EXPECT_NE(s.root().Find("name"), nullptr);
  EXPECT_EQ(s.root().Find("photo"), nullptr);
  EXPECT_EQ(s.root().Find("text"), nullptr);
  EXPECT_NE(json::ToString(*s.root().Find("meta")).find("SUBSETTED"), std::string::npos);
  json::Document e = Parse(Do("GET", "/Patient/" + id + "?_elements=active").body);
  EXPECT_NE(e.root().Find("active"), nullptr);
  EXPECT_EQ(e.root().Find("name"), nullptr);
  EXPECT_NE(e.root().Find("id"), nullptr);
  json::Document d = Parse(Do("GET", "/Patient/" + id + "?_summary=data").body);
  EXPECT_EQ(d.root().Find("text"), nullptr);
  EXPECT_NE(d.root().Find("photo"), nullptr);
  json::Document t = Parse(Do("GET", "/Patient/" + id + "?_summary=text").body);
  EXPECT_NE(t.root().Find("text"), nullptr);
  EXPECT_EQ(t.root().Find("name"), nullptr);
  EXPECT_EQ(Do("GET", "/Patient/" + id + "?_summary=bogus").status, 400);
}

TEST_F(RestTest, PreferReturn) {
  HttpResult minimal = Do("POST", "/Patient", kPatient, {{"Prefer", "return=minimal"}});
  EXPECT_EQ(minimal.status, 201);
  EXPECT_TRUE(minimal.body.empty());
  EXPECT_NE(minimal.Header("Location"), "");
  HttpResult oo = Do("POST", "/Patient", kPatient, {{"Prefer", "return=OperationOutcome"}});
  EXPECT_EQ(oo.status, 201);
  EXPECT_EQ(Parse(oo.body).root().FindString("resourceType"), "OperationOutcome");
  HttpResult rep = Do("POST", "/Patient", kPatient, {{"Prefer", "return=representation"}});
  EXPECT_EQ(Parse(rep.body).root().FindString("resourceType"), "Patient");
}

TEST_F(RestTest, RoutingErrors) {
  EXPECT_EQ(Do("GET", "/Nonsense/1").status, 404);
  EXPECT_EQ(Do("DELETE", "/metadata").status, 405);
  HttpResult post_instance = Do("POST", "/Patient/abc", kPatient);
  EXPECT_EQ(post_instance.status, 405);
  EXPECT_NE(post_instance.Header("Allow"), "");
  EXPECT_EQ(Do("GET", "/Patient/abc/_history/1/extra").status, 404);
  HttpResult bundle = Do("POST", "/", R"({"resourceType":"Patient"})");
  EXPECT_EQ(bundle.status, 400);
}

TEST_F(RestTest, ReferentialIntegrityOnWrite) {
  HttpResult dangling = Do("POST", "/Observation",
                           R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
                               "subject":{"reference":"Patient/ghost"}})");
  EXPECT_EQ(dangling.status, 400);
  EXPECT_NE(dangling.body.find("Observation.subject.reference"), std::string::npos)
      << dangling.body;
  std::string pid = Create("Patient", kPatient);
  EXPECT_EQ(Do("POST", "/Observation",
               R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
                    "subject":{"reference":"Patient/)" +
                   pid + R"("},"contained":[{"resourceType":"Patient","id":"p"}],
                    "performer":[{"reference":"#p"},{"reference":"http://elsewhere.example/fhir/Practitioner/1"}]})")
                .status,
            201);
  // Deleting a referenced resource is refused with 409 while the reference exists.
  HttpResult refused = Do("DELETE", "/Patient/" + pid);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("Observation/"), std::string::npos) << refused.body;
  json::Document obs = Parse(Do("GET", "/Observation?subject=Patient/" + pid).body);
  ASSERT_NE(obs.root().Find("entry"), nullptr);
  std::string oid(obs.root().Find("entry")->items()[0].Find("resource")->FindString("id"));
  ASSERT_EQ(Do("DELETE", "/Observation/" + oid).status, 200);
  ASSERT_EQ(Do("DELETE", "/Patient/" + pid).status, 200);
  EXPECT_EQ(Do("POST", "/Observation",
               R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
                    "subject":{"reference":"Patient/)" +
                   pid + R"("}})")
                .status,
            400)
      << "a deleted target does not count";
}

TEST_F(RestTest, OversizedBodyIs413AndServerStaysUp) {
  std::string huge =
      R"({"resourceType":"Basic","code":{"text":")" + std::string(2 << 20, 'a') + "\"}}";
  HttpResult r = Do("POST", "/Basic", huge);
  EXPECT_TRUE(r.status == 413 || r.status == 0) << r.status;  // the server may close early
  EXPECT_EQ(Do("GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace vesta::testing
