// What a request's audit record says, and its AuditEvent JSON (audit/record.h).
#include "audit/record.h"

#include <gtest/gtest.h>

#include <string>

#include "base/strings.h"
#include "crypto/base64url.h"
#include "fhir/model/model.h"
#include "fhir/resource/resource_json.h"
#include "json/parse.h"

namespace vesta::audit {
namespace {

constexpr Micros kT0 = 1795485179000000;  // 2026-11-24T01:52:59Z

http::Request Req(std::string method, std::string target, std::string body = "") {
  http::Request r;
  r.method = std::move(method);
  r.target = target;
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    for (std::string_view pair : Split(std::string_view(target).substr(q + 1), '&')) {
      size_t eq = pair.find('=');
      r.query.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
    }
  }
  r.body = std::move(body);
  r.remote_address = "127.0.0.1";
  r.remote_port = 40000;
  return r;
}

struct Case {
  std::string method;
  std::string target;
  std::string interaction;
  Action action;
  std::string what;
  std::string patient;
};

// https://hl7.org/fhir/R4/http.html: each interaction's URL and method.
TEST(AuditRecordTest, NamesTheInteraction) {
  const Case cases[] = {
      {"GET", "/Patient/1", "read", Action::kRead, "Patient/1", "1"},
      {"GET", "/Observation/o1/_history/2", "vread", Action::kRead, "Observation/o1/_history/2",
       ""},
      {"GET", "/Observation?code=1234-5&patient=Patient/9", "search-type", Action::kExecute, "",
       "9"},
      {"POST", "/Observation/_search", "search-type", Action::kExecute, "", ""},
      {"GET", "/Patient/p1/Observation", "search-type", Action::kExecute, "", "p1"},
      {"GET", "/?_type=Patient", "search-system", Action::kExecute, "", ""},
      {"PUT", "/Patient/1", "update", Action::kUpdate, "Patient/1", "1"},
      {"PUT", "/Observation?identifier=x", "update", Action::kUpdate, "", ""},
      {"PATCH", "/Observation/o1", "patch", Action::kUpdate, "Observation/o1", ""},
      {"DELETE", "/Observation/o1", "delete", Action::kDelete, "Observation/o1", ""},
      {"GET", "/Observation/o1/_history", "history-instance", Action::kRead, "Observation/o1", ""},
      {"GET", "/Observation/_history", "history-type", Action::kRead, "", ""},
      {"GET", "/_history", "history-system", Action::kRead, "", ""},
      {"GET", "/metadata", "capabilities", Action::kRead, "", ""},
      {"GET", "/Patient/p1/$everything", "operation", Action::kExecute, "Patient/p1", "p1"},
      {"GET", "/ValueSet/$expand?url=x", "operation", Action::kExecute, "", ""},
      {"POST", "/auth/token", "", Action::kExecute, "", ""},
      {"GET", "/.well-known/smart-configuration", "", Action::kRead, "", ""},
  };
  for (const Case& c : cases) {
    Record r = Describe(Req(c.method, c.target), 200, {}, nullptr, kT0);
    EXPECT_EQ(r.interaction, c.interaction) << c.method << " " << c.target;
    EXPECT_EQ(static_cast<char>(r.action), static_cast<char>(c.action)) << c.target;
    EXPECT_EQ(r.what, c.what) << c.target;
    EXPECT_EQ(r.patient, c.patient) << c.target;
  }
}

TEST(AuditRecordTest, TransactionOrBatchFromTheBundle) {
  EXPECT_EQ(Describe(Req("POST", "/", R"({"resourceType":"Bundle","type":"batch"})"), 200, {},
                     nullptr, kT0)
                .interaction,
            "batch");
  EXPECT_EQ(Describe(Req("POST", "/", R"({"resourceType":"Bundle","type":"transaction"})"), 200, {},
                     nullptr, kT0)
                .interaction,
            "transaction");
}

TEST(AuditRecordTest, CreateNamesTheNewResourceFromItsLocation) {
  Record r = Describe(Req("POST", "/Observation"), 201,
                      {{"Location", "http://h:1/fhir/Observation/abc/_history/1"}}, nullptr, kT0);
  EXPECT_EQ(r.interaction, "create");
  EXPECT_EQ(r.action, Action::kCreate);
  EXPECT_EQ(r.what, "Observation/abc");
  EXPECT_EQ(Describe(Req("POST", "/Observation"), 400, {}, nullptr, kT0).what, "");
}

TEST(AuditRecordTest, TheCallerAndTheTokenEndpointsClient) {
  auth::Caller caller;
  caller.client_id = "app";
  caller.subject = "u1";
  caller.fhir_user = "Practitioner/7";
  caller.patient = "p42";
  caller.token_id = "jti-1";
  Record r = Describe(Req("GET", "/Observation/o1"), 403, {}, &caller, kT0);
  EXPECT_EQ(r.user, "Practitioner/7");
  EXPECT_EQ(r.client_id, "app");
  EXPECT_EQ(r.token_id, "jti-1");
  EXPECT_EQ(r.patient, "p42");  // the token's patient first
  EXPECT_EQ(r.remote_address, "127.0.0.1");

  caller.fhir_user.clear();
  EXPECT_EQ(Describe(Req("GET", "/Observation/o1"), 200, {}, &caller, kT0).user, "u1");

  EXPECT_EQ(
      Describe(Req("POST", "/auth/token", "grant_type=x&client_id=my%20app"), 400, {}, nullptr, kT0)
          .client_id,
      "my app");
  const std::string assertion =
      "eyJhbGciOiJFUzM4NCJ9." +
      crypto::Base64UrlEncode(R"({"iss":"reporting","sub":"reporting"})") + ".c2ln";
  EXPECT_EQ(Describe(Req("POST", "/auth/token",
                         "grant_type=client_credentials&client_assertion=" + assertion),
                     401, {}, nullptr, kT0)
                .client_id,
            "reporting");
}

TEST(AuditRecordTest, HealthChecksAreNotAudited) {
  EXPECT_FALSE(IsAudited("/healthz"));
  EXPECT_FALSE(IsAudited("/readyz"));
  EXPECT_TRUE(IsAudited("/metadata"));
  EXPECT_TRUE(IsAudited("/auth/token"));
}

TEST(AuditRecordTest, OutcomeFollowsTheStatus) {
  EXPECT_EQ(Outcome(200), 0);
  EXPECT_EQ(Outcome(304), 0);
  EXPECT_EQ(Outcome(404), 4);
  EXPECT_EQ(Outcome(403), 4);
  EXPECT_EQ(Outcome(500), 8);
  EXPECT_EQ(Outcome(503), 8);
}

// The rendering is a valid R4 AuditEvent (checked by the server's own validator) with the BALP
// elements in place.
TEST(AuditRecordTest, RendersAValidAuditEvent) {
  auth::Caller caller;
  caller.client_id = "app";
  caller.fhir_user = "Practitioner/7";
  caller.patient = "p42";
  caller.token_id = "jti-1";
  Record r = Describe(Req("GET", "/Observation?code=1234-5"), 200, {}, &caller, kT0);
  const std::string json = RenderAuditEvent(r, Source{"node-1", "https://fhir.example.org"});
  Result<json::Document> checked = fhir::ParseResourceBody(json, "AuditEvent", fhir::Model::R4());
  ASSERT_TRUE(checked.ok()) << checked.status().ToString() << "\n" << json;

  EXPECT_TRUE(json.starts_with(
      R"({"resourceType":"AuditEvent","type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest")"))
      << json;
  EXPECT_NE(
      json.find(
          R"("subtype":[{"system":"http://hl7.org/fhir/restful-interaction","code":"search-type"}])"),
      std::string::npos);
  EXPECT_NE(json.find(R"("action":"E","recorded":"2026-11-24T01:52:59)"), std::string::npos);
  EXPECT_NE(json.find(R"("outcome":"0","outcomeDesc":"HTTP 200")"), std::string::npos);
  EXPECT_NE(
      json.find(
          R"("who":{"reference":"Practitioner/7"},"requestor":true,"policy":["urn:ietf:params:oauth:jti:jti-1"])"),
      std::string::npos)
      << json;
  EXPECT_NE(
      json.find(
          R"("who":{"identifier":{"value":"app"}},"requestor":false,"network":{"address":"127.0.0.1","type":"2"})"),
      std::string::npos)
      << json;
  EXPECT_NE(
      json.find(R"("source":{"site":"https://fhir.example.org","observer":{"display":"node-1"})"),
      std::string::npos);
  EXPECT_NE(json.find(R"("query":")" + Base64Encode("code=1234-5") + "\""), std::string::npos);
  EXPECT_NE(json.find(R"({"what":{"reference":"Patient/p42"})"), std::string::npos);

  // An anonymous, refused read: no user agent, the client unidentified, a minor failure.
  Record refused = Describe(Req("GET", "/Patient/1"), 401, {}, nullptr, kT0);
  const std::string anonymous = RenderAuditEvent(refused, Source{"node-1", ""});
  ASSERT_TRUE(fhir::ParseResourceBody(anonymous, "AuditEvent", fhir::Model::R4()).ok())
      << anonymous;
  EXPECT_EQ(anonymous.find("UserOauthAgent"), std::string::npos);
  EXPECT_NE(anonymous.find(R"("who":{"display":"unidentified client"},"requestor":true)"),
            std::string::npos);
  EXPECT_NE(anonymous.find(R"("outcome":"4","outcomeDesc":"HTTP 401")"), std::string::npos);
  EXPECT_NE(anonymous.find(R"("what":{"reference":"Patient/1"})"), std::string::npos);

  const std::string with_id = WithId(anonymous, "17");
  EXPECT_TRUE(with_id.starts_with(R"({"resourceType":"AuditEvent","id":"17","type":)"));
  EXPECT_TRUE(fhir::ParseResourceBody(with_id, "AuditEvent", fhir::Model::R4()).ok());
}

// What the trail stores is the record's facts; the AuditEvent read back is the one rendered from
// the record itself. Records stored as AuditEvent JSON (before the compact form) read as they are.
TEST(AuditRecordTest, StoredFormReadsBackAsTheSameAuditEvent) {
  auth::Caller caller;
  caller.client_id = "app";
  caller.fhir_user = "Practitioner/7";
  caller.patient = "p42";
  caller.token_id = "jti-1";
  Record r =
      Describe(Req("GET", "/Observation?code=1234-5&note=\"a\\b\"\t"), 200, {}, &caller, kT0);
  r.remote_port = 50123;
  const Source source{"node-1", "https://fhir.example.org"};
  const std::string stored = EncodeStored(r, source);
  EXPECT_TRUE(stored.starts_with(R"(["vesta-audit/1",)")) << stored;
  EXPECT_LT(stored.size() * 3, RenderAuditEvent(r, source).size()) << stored;

  Result<std::pair<Record, Source>> decoded = DecodeStored(stored);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(RenderAuditEvent(decoded->first, decoded->second), RenderAuditEvent(r, source));
  EXPECT_EQ(decoded->first.remote_port, 50123);
  EXPECT_EQ(decoded->first.query, r.query);
  EXPECT_EQ(StoredAuditEvent(stored, "9"), WithId(RenderAuditEvent(r, source), "9"));

  const std::string legacy = RenderAuditEvent(r, source);
  EXPECT_EQ(StoredAuditEvent(legacy, "9"), WithId(legacy, "9"));

  EXPECT_FALSE(DecodeStored("[]").ok());
  EXPECT_FALSE(
      DecodeStored(R"(["vesta-audit/2",1,"read","R",200,"","","","","","","","",0,"",""])").ok());
  EXPECT_FALSE(
      DecodeStored(R"(["vesta-audit/1",1,"read","X",200,"","","","","","","","",0,"",""])").ok());
  EXPECT_FALSE(
      DecodeStored(R"(["vesta-audit/1",1,"read","R",200,"","","","","","","","",70000,"",""])")
          .ok());
}

}  // namespace
}  // namespace vesta::audit
