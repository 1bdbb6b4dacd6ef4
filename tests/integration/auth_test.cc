// SMART on FHIR authorization against the real server (`vesta serve --auth smart`) with a real
// client library: panva/jose from npm (smart_client.mjs) makes the clients' keys and their
// signed assertions (https://hl7.org/fhir/smart-app-launch/backend-services.html), and signs the
// test tokens of scopes the token endpoint does not grant yet (patient/ scopes) with the server's
// own key, read from its auth directory. Skips when node or node_modules/jose is absent.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

#include "integration/test_server.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::testing {
namespace {

namespace fs = std::filesystem;

// What `command` prints on stdout, without the final line end; "" when it fails.
std::string Capture(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (pclose(p) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::set<std::string> Ids(const std::string& bundle) {
  std::set<std::string> ids;
  Result<json::Document> doc = json::Parse(bundle);
  if (!doc.ok()) return ids;
  const json::Value* entries = doc->root().Find("entry");
  if (entries == nullptr) return ids;
  for (const json::Value& e : entries->items()) {
    if (const json::Value* r = e.Find("resource")) {
      ids.insert(std::string(r->FindString("resourceType")) + "/" +
                 std::string(r->FindString("id")));
    }
  }
  return ids;
}

std::string JsonField(const std::string& body, std::string_view name) {
  Result<json::Document> doc = json::Parse(body);
  return doc.ok() ? std::string(doc->root().FindString(name)) : "";
}

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::string(VESTA_NODE).empty() || access(VESTA_NODE, X_OK) != 0) {
      skip_ = "node is not installed";
      return;
    }
    if (!fs::exists(fs::path(VESTA_NODE_MODULES) / "jose" / "package.json")) {
      skip_ = "node_modules/jose is absent (run npm ci)";
      return;
    }
    dir_ = new TempDir();
    auth_dir_ = dir_->path() + "/auth";
    server_ =
        new ServerProcess(dir_->path() + "/data", {"--auth", "smart", "--auth-dir", auth_dir_});
    ASSERT_TRUE(server_->ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    for (const auto& e : fs::directory_iterator(auth_dir_ + "/keys")) server_key_ = e.path();
    ASSERT_FALSE(server_key_.empty()) << "the server made no signing key";
    // Data, written with a token of every permission.
    const std::string admin = Token("system/*.cruds", "");
    for (const std::string& body :
         {std::string(R"({"resourceType":"Patient","id":"p1","name":[{"family":"One"}]})"),
          std::string(R"({"resourceType":"Patient","id":"p2","name":[{"family":"Two"}]})"),
          std::string(
              R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"}})"),
          std::string(
              R"({"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p2"}})"),
          std::string(R"({"resourceType":"Observation","id":"o1","status":"final",)"
                      R"("code":{"text":"x"},"subject":{"reference":"Patient/p1"}})")}) {
      Result<json::Document> doc = json::Parse(body);
      ASSERT_TRUE(doc.ok());
      const std::string path = "/" + std::string(doc->root().FindString("resourceType")) + "/" +
                               std::string(doc->root().FindString("id"));
      HttpResult r = Call(admin, "PUT", path, body);
      ASSERT_EQ(r.status, 201) << path << ": " << r.body;
    }
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->Stop(), 0);
    }
    delete server_;
    server_ = nullptr;
    delete dir_;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }

  static std::string Node(const std::string& args) {
    return Capture("NODE_PATH=" + Quote(VESTA_NODE_MODULES) + " " + Quote(VESTA_NODE) + " " +
                   Quote(VESTA_SMART_CLIENT) + " " + args + " 2>/dev/null");
  }

  // A token signed with the server's key: `scope`, the launch patient, and claims as given.
  static std::string Token(const std::string& scope, const std::string& patient,
                           int64_t exp_in = 600, const std::string& aud = "",
                           const std::string& client = "test") {
    std::string claims = R"({"iss":")" + base_ + R"(","aud":")" + (aud.empty() ? base_ : aud) +
                         R"(","sub":"tester","client_id":")" + client + R"(","scope":")" + scope +
                         R"(","jti":"t)" + std::to_string(++tokens_) + R"(","iat":)" +
                         std::to_string(Now()) + R"(,"exp":)" + std::to_string(Now() + exp_in);
    if (!patient.empty()) claims += R"(,"patient":")" + patient + "\"";
    claims += "}";
    return Node("token " + Quote(server_key_.string()) + " " + Quote(claims));
  }

  static HttpResult Call(const std::string& token, const std::string& method,
                         const std::string& target, const std::string& body = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) headers.emplace_back("Content-Type", "application/fhir+json");
    return HttpRequest(server_->port(), method, target, body, headers);
  }

  // POST /auth/token for the backend services flow with `assertion`.
  static HttpResult TokenRequest(const std::string& assertion, const std::string& scope) {
    std::string form =
        "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3A"
        "oauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" +
        assertion;
    if (!scope.empty()) form += "&scope=" + scope;
    return HttpRequest(server_->port(), "POST", "/auth/token", form,
                       {{"Content-Type", "application/x-www-form-urlencoded"}});
  }

  // Registers a client with a new key pair of `alg` (via the CLI, the server running); returns
  // the folder of its keys.
  static std::string RegisterClient(const std::string& id, const std::string& alg,
                                    const std::string& scope) {
    const std::string keys = dir_->path() + "/" + id;
    fs::create_directories(keys);
    EXPECT_FALSE(Node("keygen " + alg + " " + Quote(keys)).empty());
    const std::string cmd = VestaBinary() + " auth client add --auth-dir " + Quote(auth_dir_) +
                            " --client-id " + id + " --scope " + Quote(scope) + " --jwks " +
                            Quote(keys + "/jwks.json") + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return keys;
  }

  static inline std::string skip_;
  static inline TempDir* dir_ = nullptr;
  static inline ServerProcess* server_ = nullptr;
  static inline std::string auth_dir_, base_;
  static inline fs::path server_key_;
  static inline int tokens_ = 0;
};

TEST_F(AuthTest, WithoutATokenOnlyThePublicPathsAnswer) {
  HttpResult r = Call("", "GET", "/Patient");
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(r.Header("WWW-Authenticate").starts_with("Bearer")) << r.Header("WWW-Authenticate");
  EXPECT_NE(r.body.find("OperationOutcome"), std::string::npos);
  EXPECT_EQ(Call("", "GET", "/Patient/p1").status, 401);
  EXPECT_EQ(Call("", "POST", "/", R"({"resourceType":"Bundle","type":"batch"})").status, 401);
  HttpResult metadata = Call("", "GET", "/metadata");
  ASSERT_EQ(metadata.status, 200);
  EXPECT_NE(metadata.body.find("SMART-on-FHIR"), std::string::npos);
  EXPECT_NE(metadata.body.find("\"valueUri\":\"" + base_ + "/auth/token\""), std::string::npos)
      << "the oauth-uris extension names the token endpoint";
  EXPECT_EQ(Call("", "GET", "/healthz").status, 200);
  HttpResult config = Call("", "GET", "/.well-known/smart-configuration");
  ASSERT_EQ(config.status, 200);
  EXPECT_EQ(JsonField(config.body, "token_endpoint"), base_ + "/auth/token");
  EXPECT_NE(config.body.find("client-confidential-asymmetric"), std::string::npos);
  HttpResult jwks = Call("", "GET", "/auth/jwks");
  ASSERT_EQ(jwks.status, 200);
  EXPECT_NE(jwks.body.find("\"P-384\""), std::string::npos);
  EXPECT_EQ(jwks.body.find("\"d\""), std::string::npos) << "no private member is published";
}

TEST_F(AuthTest, BadTokensAreRefusedWithInvalidToken) {
  const std::string good = Token("system/*.rs", "");
  ASSERT_EQ(Call(good, "GET", "/Patient/p1").status, 200);
  // One character of the payload changed: the signature no longer holds.
  std::string tampered = good;
  tampered[tampered.find('.') + 5] = tampered[tampered.find('.') + 5] == 'A' ? 'B' : 'A';
  HttpResult r = Call(tampered, "GET", "/Patient/p1");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.Header("WWW-Authenticate").find("invalid_token"), std::string::npos);
  r = Call(Token("system/*.rs", "", -10), "GET", "/Patient/p1");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("expired"), std::string::npos) << r.body;
  r = Call(Token("system/*.rs", "", 600, "https://elsewhere.example"), "GET", "/Patient/p1");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("aud"), std::string::npos) << r.body;
  EXPECT_EQ(Call("not-a-jwt", "GET", "/Patient/p1").status, 401);
}

// https://hl7.org/fhir/smart-app-launch/backend-services.html: a registered client's signed
// assertion gets a token of the system/ scopes asked for within its registration; the token
// reads everything and writes nothing.
TEST_F(AuthTest, BackendServicesClientsGetTokensForTheirScopes) {
  for (const std::string alg : {"ES384", "RS384"}) {
    SCOPED_TRACE(alg);
    const std::string id = "reporting-" + alg;
    const std::string keys = RegisterClient(id, alg, "system/*.rs");
    const std::string aud = base_ + "/auth/token";
    HttpResult t = TokenRequest(Node("assertion " + Quote(keys) + " " + id + " " + Quote(aud)),
                                "system%2F*.cruds");
    ASSERT_EQ(t.status, 200) << t.body;
    EXPECT_EQ(t.Header("Cache-Control"), "no-store");
    EXPECT_EQ(JsonField(t.body, "token_type"), "bearer");
    EXPECT_EQ(JsonField(t.body, "scope"), "system/*.rs") << "narrowed to the registration";
    const std::string token = JsonField(t.body, "access_token");

    HttpResult search = Call(token, "GET", "/Condition");
    ASSERT_EQ(search.status, 200);
    EXPECT_EQ(Ids(search.body), (std::set<std::string>{"Condition/c1", "Condition/c2"}));
    HttpResult write = Call(token, "POST", "/Patient", R"({"resourceType":"Patient"})");
    EXPECT_EQ(write.status, 403);
    EXPECT_NE(write.body.find("system/Patient.c"), std::string::npos) << write.body;
    EXPECT_EQ(Call(token, "DELETE", "/Patient/p2").status, 403);

    // Introspection (RFC 7662) and revocation (RFC 7009), the client authenticated by a new
    // assertion each time.
    auto client_form = [&](const std::string& more) {
      return "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-"
             "bearer&client_assertion=" +
             Node("assertion " + Quote(keys) + " " + id + " " + Quote(aud)) + "&" + more;
    };
    auto post_form = [&](const std::string& path, const std::string& form) {
      return HttpRequest(server_->port(), "POST", path, form,
                         {{"Content-Type", "application/x-www-form-urlencoded"}});
    };
    HttpResult active = post_form("/auth/introspect", client_form("token=" + token));
    ASSERT_EQ(active.status, 200) << active.body;
    EXPECT_NE(active.body.find("\"active\":true"), std::string::npos) << active.body;
    EXPECT_EQ(JsonField(active.body, "client_id"), id);
    EXPECT_EQ(post_form("/auth/introspect", "token=" + token).status, 401)
        << "introspection needs a client";
    EXPECT_EQ(post_form("/auth/revoke", client_form("token=" + token)).status, 200);
    HttpResult revoked = Call(token, "GET", "/Condition");
    EXPECT_EQ(revoked.status, 401);
    EXPECT_NE(revoked.body.find("revoked"), std::string::npos) << revoked.body;
    EXPECT_NE(
        post_form("/auth/introspect", client_form("token=" + token)).body.find("\"active\":false"),
        std::string::npos);

    // The same assertion again (its jti), a wrong audience, an exp too far ahead, another
    // key than the registered one, an unknown client: invalid_client.
    const std::string jti = "once-" + alg;
    ASSERT_EQ(
        TokenRequest(Node("assertion " + Quote(keys) + " " + id + " " + Quote(aud) + " 240 " + jti),
                     "")
            .status,
        200);
    HttpResult again = TokenRequest(
        Node("assertion " + Quote(keys) + " " + id + " " + Quote(aud) + " 240 " + jti), "");
    EXPECT_EQ(again.status, 401);
    EXPECT_EQ(JsonField(again.body, "error"), "invalid_client");
    EXPECT_NE(again.body.find("jti"), std::string::npos) << again.body;
    HttpResult wrong_aud =
        TokenRequest(Node("assertion " + Quote(keys) + " " + id + " " + Quote(base_)), "");
    EXPECT_EQ(wrong_aud.status, 401);
    EXPECT_NE(wrong_aud.body.find("aud"), std::string::npos) << wrong_aud.body;
    HttpResult far =
        TokenRequest(Node("assertion " + Quote(keys) + " " + id + " " + Quote(aud) + " 900"), "");
    EXPECT_EQ(far.status, 401);
    EXPECT_NE(far.body.find("five minutes"), std::string::npos) << far.body;
    const std::string other = dir_->path() + "/other-" + alg;
    fs::create_directories(other);
    ASSERT_FALSE(Node("keygen " + alg + " " + Quote(other)).empty());
    EXPECT_EQ(
        TokenRequest(Node("assertion " + Quote(other) + " " + id + " " + Quote(aud)), "").status,
        401);
    EXPECT_EQ(TokenRequest(Node("assertion " + Quote(keys) + " nobody " + Quote(aud)), "").status,
              401);
  }
  HttpResult bad = HttpRequest(server_->port(), "POST", "/auth/token", "grant_type=password",
                               {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(JsonField(bad.body, "error"), "unsupported_grant_type");
}

// patient/Condition.rs for p1: that patient's Conditions, in search, read, _include, history
// and the entries of a batch; nothing of other types or other patients.
TEST_F(AuthTest, PatientScopesSeeOnlyTheirPatientsCompartment) {
  const std::string token = Token("launch/patient patient/Condition.rs", "p1");
  HttpResult search = Call(token, "GET", "/Condition");
  ASSERT_EQ(search.status, 200) << search.body;
  EXPECT_EQ(Ids(search.body), std::set<std::string>{"Condition/c1"});
  EXPECT_EQ(Call(token, "GET", "/Condition/c1").status, 200);
  HttpResult other = Call(token, "GET", "/Condition/c2");
  EXPECT_EQ(other.status, 403);
  EXPECT_NE(other.body.find("Patient/p1"), std::string::npos) << other.body;
  EXPECT_EQ(Call(token, "GET", "/Condition/unknown").status, 403) << "no hint of existence";
  HttpResult obs = Call(token, "GET", "/Observation");
  EXPECT_EQ(obs.status, 403);
  EXPECT_NE(obs.body.find("patient/Observation.s"), std::string::npos) << obs.body;
  EXPECT_NE(obs.Header("WWW-Authenticate").find("insufficient_scope"), std::string::npos);
  EXPECT_EQ(Call(token, "GET", "/Observation/o1").status, 403);
  EXPECT_EQ(Call(token, "GET", "/Patient/p2/Condition").status, 403);
  EXPECT_EQ(Ids(Call(token, "GET", "/Patient/p1/Condition").body),
            std::set<std::string>{"Condition/c1"});
  // _include of the subject: the token does not read Patients, so none is included.
  HttpResult include = Call(token, "GET", "/Condition?_include=Condition:subject");
  ASSERT_EQ(include.status, 200);
  EXPECT_EQ(Ids(include.body), std::set<std::string>{"Condition/c1"});
  // With Patient read too, its own patient is included and no other.
  const std::string wider = Token("patient/Condition.rs patient/Patient.rs", "p1");
  EXPECT_EQ(Ids(Call(wider, "GET", "/Condition?_include=Condition:subject").body),
            (std::set<std::string>{"Condition/c1", "Patient/p1"}));
  EXPECT_EQ(Ids(Call(wider, "GET", "/Patient").body), std::set<std::string>{"Patient/p1"});
  EXPECT_EQ(Ids(Call(wider, "GET", "/Condition?_revinclude=Condition:subject&_id=c1").body).size(),
            1u);
  EXPECT_EQ(Call(wider, "GET", "/Patient?_has:Observation:subject:status=final").status, 403);
  // History: of its resource, yes; of the type or the server, no.
  EXPECT_EQ(Call(token, "GET", "/Condition/c1/_history").status, 200);
  EXPECT_EQ(Call(token, "GET", "/Condition/c1/_history/1").status, 200);
  EXPECT_EQ(Call(token, "GET", "/Condition/c2/_history").status, 403);
  EXPECT_EQ(Call(token, "GET", "/Condition/_history").status, 403);
  EXPECT_EQ(Call(token, "GET", "/_history").status, 403);
  // A batch: each entry is held to the token.
  HttpResult batch = Call(token, "POST", "/",
                          R"({"resourceType":"Bundle","type":"batch","entry":[)"
                          R"({"request":{"method":"GET","url":"Condition/c1"}},)"
                          R"({"request":{"method":"GET","url":"Condition/c2"}},)"
                          R"({"request":{"method":"GET","url":"Observation/o1"}}]})");
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_NE(batch.body.find("\"status\":\"200"), std::string::npos) << batch.body;
  EXPECT_EQ(batch.body.find("\"status\":\"200", batch.body.find("\"status\":\"200") + 1),
            std::string::npos)
      << "only the first entry is allowed: " << batch.body;
  EXPECT_NE(batch.body.find("\"status\":\"403"), std::string::npos) << batch.body;
  // Writes are not among its scopes.
  EXPECT_EQ(Call(token, "PUT", "/Condition/c1",
                 R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"}})")
                .status,
            403);
}

// A transaction is all or nothing, and each of its writes must be allowed: patient/Condition.cru
// for p1 may write p1's Conditions, not p2's.
TEST_F(AuthTest, TransactionsWriteOnlyInTheCompartment) {
  const std::string token = Token("patient/Condition.cru", "p1");
  auto transaction = [&](const std::string& subject) {
    return Call(token, "POST", "/",
                R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":)"
                R"({"resourceType":"Condition","subject":{"reference":"Patient/)" +
                    subject + R"("}},"request":{"method":"POST","url":"Condition"}}]})");
  };
  HttpResult refused = transaction("p2");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("Patient/p1"), std::string::npos) << refused.body;
  HttpResult ok = transaction("p1");
  EXPECT_EQ(ok.status, 200) << ok.body;
  // The same rule outside a transaction.
  EXPECT_EQ(Call(token, "POST", "/Condition",
                 R"({"resourceType":"Condition","subject":{"reference":"Patient/p2"}})")
                .status,
            403);
  EXPECT_EQ(Call(token, "POST", "/Condition",
                 R"({"resourceType":"Condition","subject":{"reference":"Patient/p1"}})")
                .status,
            201);
  // Moving p1's Condition to p2 by an update is refused.
  EXPECT_EQ(Call(token, "PUT", "/Condition/c1",
                 R"({"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p2"}})")
                .status,
            403);
}

// A free TCP port on 127.0.0.1 (bound, read, released).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(a.sin_port);
}

// https://hl7.org/fhir/smart-app-launch/app-launch.html: a standalone launch of an app built on
// fhirclient (smart_app_launch.mjs plays the app and the user's browser): sign-in, consent with
// the patient chosen, the code exchanged with PKCE, the app's reads held to the patient, an
// id_token with fhirUser, a refresh; the code used again refused and its token revoked; a wrong
// PKCE verifier refused.
TEST_F(AuthTest, AppLaunchWithFhirclient) {
  if (!fs::exists(fs::path(VESTA_NODE_MODULES) / "fhirclient" / "package.json")) {
    GTEST_SKIP() << "node_modules/fhirclient is absent (run npm ci)";
  }
  const int app_port = FreePort();
  ASSERT_GT(app_port, 0);
  const std::string dir = " --auth-dir " + Quote(auth_dir_);
  auto run = [](const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); };
  ASSERT_EQ(run("printf %s 'correct horse battery' | " + VestaBinary() + " auth user add" + dir +
                " --username drsmith --fhir-user Practitioner/pr1"),
            0);
  ASSERT_EQ(run("printf %s 'another fine password' | " + VestaBinary() + " auth user add" + dir +
                " --username p1 --fhir-user Patient/p1"),
            0);
  EXPECT_NE(run("printf %s short | " + VestaBinary() + " auth user add" + dir +
                " --username weak --fhir-user Patient/p2"),
            0)
      << "a password of under 8 characters is refused";
  const std::string scope = "openid fhirUser launch/patient patient/Condition.rs offline_access";
  const std::string registered = "launch " + scope;
  ASSERT_EQ(run(VestaBinary() + " auth client add" + dir + " --client-id chart --public " +
                "--redirect-uri http://127.0.0.1:" + std::to_string(app_port) + "/app --scope " +
                Quote(registered)),
            0);
  auto launch = [&](const std::string& user, const std::string& password,
                    const std::string& patient, const std::string& mode,
                    const std::string& asked = "") {
    const std::string out =
        Capture("NODE_PATH=" + Quote(VESTA_NODE_MODULES) + " " + Quote(VESTA_NODE) + " " +
                Quote(VESTA_APP_LAUNCH) + " " + Quote(base_) + " " + std::to_string(app_port) +
                " chart " + user + " " + Quote(password) + " " +
                Quote(asked.empty() ? scope : asked) + " " + patient + " " + mode + " 2>&1");
    Result<json::Document> doc = json::Parse(out);
    EXPECT_TRUE(doc.ok()) << out;
    EXPECT_EQ(doc.ok() ? doc->root().Find("error") : nullptr, nullptr) << out;
    return out;
  };
  auto field = [](const std::string& out, const std::string& name) {
    Result<json::Document> doc = json::Parse(out);
    const json::Value* v = doc.ok() ? doc->root().Find(name) : nullptr;
    if (v == nullptr) return std::string("(absent)");
    return v->is_string() ? std::string(v->string_value()) : json::ToString(*v);
  };

  // A practitioner signs in and picks the patient.
  const std::string doctor = launch("drsmith", "correct horse battery", "p1", "launch");
  EXPECT_EQ(field(doctor, "askedForPatient"), "true");
  EXPECT_EQ(field(doctor, "patient"), "p1");
  EXPECT_NE(field(doctor, "fhirUser").find("Practitioner/pr1"), std::string::npos) << doctor;
  EXPECT_EQ(field(doctor, "idToken"), "true");
  EXPECT_EQ(field(doctor, "refreshToken"), "true");
  EXPECT_NE(field(doctor, "conditions").find("\"c1\""), std::string::npos) << doctor;
  EXPECT_EQ(field(doctor, "conditions").find("\"c2\""), std::string::npos) << doctor;
  EXPECT_EQ(field(doctor, "observation"), "403") << "patient/Condition.rs only";
  EXPECT_EQ(field(doctor, "refreshedToken"), "true");
  EXPECT_NE(field(doctor, "afterRefresh").find("\"c1\""), std::string::npos) << doctor;
  EXPECT_EQ(field(doctor, "reuseStatus"), "400");
  EXPECT_EQ(field(doctor, "reuseError"), "invalid_grant");
  EXPECT_EQ(field(doctor, "revokedStatus"), "401") << "a code used twice revokes its token";
  EXPECT_EQ(field(doctor, "loginWithoutCookie"), "403") << "CSRF: the form needs the cookie";
  EXPECT_EQ(field(doctor, "wrongPassword"), "401");
  EXPECT_NE(field(doctor, "cookieFlags").find("HttpOnly"), std::string::npos);
  EXPECT_NE(field(doctor, "cookieFlags").find("SameSite=Lax"), std::string::npos);

  // A patient signs in: their own record is the context, nothing to choose.
  const std::string patient = launch("p1", "another fine password", "-", "launch");
  EXPECT_EQ(field(patient, "askedForPatient"), "false");
  EXPECT_EQ(field(patient, "patient"), "p1");
  EXPECT_EQ(field(patient, "conditions").find("\"c2\""), std::string::npos) << patient;

  // The code with another verifier than the app's challenge: invalid_grant.
  const std::string wrong = launch("p1", "another fine password", "-", "wrong-verifier");
  EXPECT_EQ(field(wrong, "tokenStatus"), "400");
  EXPECT_EQ(field(wrong, "tokenError"), "invalid_grant");

  // An EHR launch: the EHR (a token of user/ or system/ scopes) makes the context for p2, the
  // app is opened with it, and the token is p2's without the user choosing.
  const std::string ehr_token = Token("user/*.rs", "");
  EXPECT_EQ(HttpRequest(server_->port(), "POST", "/auth/launch", "patient=p2",
                        {{"Content-Type", "application/x-www-form-urlencoded"},
                         {"Authorization", "Bearer " + Token("patient/*.rs", "p1")}})
                .status,
            403)
      << "a patient-scoped token cannot make launches";
  HttpResult made = HttpRequest(server_->port(), "POST", "/auth/launch", "patient=p2",
                                {{"Content-Type", "application/x-www-form-urlencoded"},
                                 {"Authorization", "Bearer " + ehr_token}});
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string launch_id = JsonField(made.body, "launch");
  const std::string ehr = launch("drsmith", "correct horse battery", launch_id, "ehr",
                                 "launch openid fhirUser patient/Condition.rs");
  EXPECT_EQ(field(ehr, "askedForPatient"), "false");
  EXPECT_EQ(field(ehr, "patient"), "p2");
  EXPECT_NE(field(ehr, "conditions").find("\"c2\""), std::string::npos) << ehr;
  EXPECT_EQ(field(ehr, "conditions").find("\"c1\""), std::string::npos) << ehr;

  // Five wrong passwords lock the account: the right one is then refused too.
  ASSERT_EQ(run("printf %s 'yet another password' | " + VestaBinary() + " auth user add" + dir +
                " --username tries --fhir-user Practitioner/pr2"),
            0);
  const std::string locked = launch("tries", "yet another password", "-", "lockout");
  EXPECT_EQ(field(locked, "wrongStatuses"), "[401,401,401,401,401]");
  EXPECT_EQ(field(locked, "afterLockout"), "403");
  EXPECT_EQ(field(locked, "lockedMessage"), "true");
}

// The audit trail through the API is held to the scopes too: AuditEvent.s to search it, and a
// patient/ token sees the records about its patient only.
TEST_F(AuthTest, AuditEventsAreHeldToTheScopes) {
  ASSERT_EQ(Call(Token("patient/Condition.rs", "p1"), "GET", "/Condition/c1").status, 200);
  ASSERT_EQ(Call(Token("patient/Condition.rs", "p2"), "GET", "/Condition/c2").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // appended every 100 ms
  HttpResult refused = Call(Token("patient/Condition.rs", "p1"), "GET", "/AuditEvent");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("patient/AuditEvent.s"), std::string::npos) << refused.body;
  auto patients_seen = [](const std::string& bundle) {
    std::set<std::string> seen;
    Result<json::Document> doc = json::Parse(bundle);
    const json::Value* entries = doc.ok() ? doc->root().Find("entry") : nullptr;
    for (size_t i = 0; entries != nullptr && i < entries->items().size(); ++i) {
      const std::string text = json::ToString(entries->items()[i]);
      for (std::string p : {"Patient/p1", "Patient/p2"}) {
        if (text.find("\"" + p + "\"") != std::string::npos) seen.insert(p);
      }
    }
    return seen;
  };
  HttpResult mine = Call(Token("patient/AuditEvent.rs", "p1"), "GET", "/AuditEvent?_count=200");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(patients_seen(mine.body), std::set<std::string>{"Patient/p1"});
  EXPECT_EQ(Call(Token("patient/AuditEvent.rs", "p1"), "GET", "/AuditEvent?patient=p2").status,
            403);
  HttpResult all = Call(Token("system/*.rs", ""), "GET", "/AuditEvent?_count=1000");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(patients_seen(all.body), (std::set<std::string>{"Patient/p1", "Patient/p2"}));
}

// The token endpoint takes at most --auth-rate-limit requests a second from one address (50,
// after a burst of 200): beyond, 429 with Retry-After. (Last: it spends the test's allowance.)
// Bulk Data export (docs/bulk-data.md, "Authorization"): every request of the flow needs a token,
// the status and files answer only the client that started the export, and the export is held to
// the token's scopes.
// Stored ViewDefinitions are server-wide: a patient scope reaches none of them; the permission on
// ViewDefinition is needed to write. $evaluate-measure with a patient token: that patient only.
TEST_F(AuthTest, ViewDefinitionsAndMeasuresAreHeldToTheToken) {
  const std::string view =
      R"({"resourceType":"ViewDefinition","id":"v1","name":"v1","resource":"Patient",)"
      R"("select":[{"column":[{"name":"id","path":"id"}]}]})";
  EXPECT_EQ(Call("", "GET", "/ViewDefinition").status, 401);
  EXPECT_EQ(Call(Token("system/*.rs", ""), "PUT", "/ViewDefinition/v1", view).status, 403);
  ASSERT_EQ(
      Call(Token("system/ViewDefinition.cruds", ""), "PUT", "/ViewDefinition/v1", view).status,
      201);
  EXPECT_EQ(Call(Token("system/*.rs", ""), "GET", "/ViewDefinition/v1").status, 200);
  EXPECT_EQ(Call(Token("patient/*.rs", "p1"), "GET", "/ViewDefinition/v1").status, 403);
  EXPECT_EQ(Call(Token("patient/*.rs", "p1"), "GET", "/ViewDefinition").status, 403);
  // No such Measure here; what matters is who may ask.
  const std::string evaluate =
      "/Measure/m1/$evaluate-measure?periodStart=2019-01-01&periodEnd=2019-12-31";
  EXPECT_EQ(Call(Token("patient/*.rs", "p1"), "GET", evaluate).status, 403);
  EXPECT_EQ(Call(Token("patient/*.rs", "p1"), "GET", evaluate + "&subject=Patient/p2").status, 403);
  EXPECT_EQ(Call(Token("patient/*.rs", "p1"), "GET", evaluate + "&subject=Patient/p1").status, 404);
  EXPECT_EQ(Call(Token("system/*.rs", ""), "GET", evaluate).status, 404);
}

TEST_F(AuthTest, BulkExportIsHeldToTheToken) {
  const std::vector<std::pair<std::string, std::string>> async = {
      {"Accept", "application/fhir+json"}, {"Prefer", "respond-async"}};
  auto kick_off = [&](const std::string& token, const std::string& target) {
    auto headers = async;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return HttpRequest(server_->port(), "GET", target, "", headers);
  };
  auto path_of = [](const std::string& url) { return url.substr(url.find('/', 8)); };
  // Waits for the manifest; the ids of every exported resource.
  auto export_ids = [&](const std::string& token, const std::string& target) {
    HttpResult k = kick_off(token, target);
    EXPECT_EQ(k.status, 202) << target << ": " << k.body;
    const std::string status = path_of(k.Header("Content-Location"));
    HttpResult done;
    for (int i = 0; i < 100; ++i) {
      done = Call(token, "GET", status);
      if (done.status != 202) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(done.status, 200) << done.body;
    EXPECT_NE(done.body.find("\"requiresAccessToken\":true"), std::string::npos) << done.body;
    std::set<std::string> ids;
    Result<json::Document> m = json::Parse(done.body);
    if (!m.ok()) return std::make_pair(ids, status);
    for (const json::Value& f : m->root().Find("output")->items()) {
      const std::string file = path_of(std::string(f.FindString("url")));
      EXPECT_EQ(Call("", "GET", file).status, 401) << "a file needs a token";
      HttpResult r = Call(token, "GET", file);
      EXPECT_EQ(r.status, 200);
      size_t start = 0;
      while (start < r.body.size()) {
        size_t end = r.body.find('\n', start);
        if (end == std::string::npos) end = r.body.size();
        Result<json::Document> d = json::Parse(r.body.substr(start, end - start));
        if (d.ok()) {
          ids.insert(std::string(d->root().FindString("resourceType")) + "/" +
                     std::string(d->root().FindString("id")));
        }
        start = end + 1;
      }
    }
    return std::make_pair(ids, status);
  };
  EXPECT_EQ(kick_off("", "/$export").status, 401);
  const std::string system = Token("system/*.rs", "");
  // (Other tests of the suite write more resources; these are the suite's own.)
  auto contains = [](const std::set<std::string>& got, const std::set<std::string>& want) {
    for (const std::string& w : want) {
      if (!got.count(w)) return false;
    }
    return true;
  };
  auto [all, status] = export_ids(system, "/$export?_type=Patient,Condition,Observation");
  EXPECT_TRUE(contains(
      all, {"Patient/p1", "Patient/p2", "Condition/c1", "Condition/c2", "Observation/o1"}));
  EXPECT_EQ(Call("", "GET", status).status, 401) << "the status URL needs a token";
  const std::string other_client = Token("system/*.rs", "", 600, "", "another-client");
  EXPECT_EQ(Call(other_client, "GET", status).status, 404) << "another client's export";
  EXPECT_EQ(Call(other_client, "DELETE", status).status, 404);
  EXPECT_EQ(Call(system, "DELETE", status).status, 202);
  // Types the token may not read are left out, or refused when named.
  const std::string conditions = Token("system/Condition.rs", "");
  std::set<std::string> only_conditions = export_ids(conditions, "/$export").first;
  EXPECT_TRUE(contains(only_conditions, {"Condition/c1", "Condition/c2"}));
  for (const std::string& id : only_conditions) EXPECT_TRUE(id.starts_with("Condition/")) << id;
  HttpResult named = kick_off(conditions, "/$export?_type=Condition,Observation");
  EXPECT_EQ(named.status, 403) << named.body;
  EXPECT_NE(named.body.find("Observation"), std::string::npos) << named.body;
  // A patient/ token exports its own patient's compartment only.
  const std::string patient = Token("launch/patient patient/*.rs", "p1");
  for (const std::string& target : {std::string("/Patient/$export?_type=Patient,Condition"),
                                    std::string("/$export?_type=Patient,Condition")}) {
    std::set<std::string> mine = export_ids(patient, target).first;
    EXPECT_TRUE(contains(mine, {"Patient/p1", "Condition/c1"})) << target;
    EXPECT_FALSE(mine.count("Patient/p2") || mine.count("Condition/c2")) << target;
    // Each of its Conditions is p1's.
    for (const std::string& id : mine) {
      if (!id.starts_with("Condition/")) continue;
      HttpResult c = Call(system, "GET", "/" + id);
      EXPECT_NE(c.body.find("Patient/p1"), std::string::npos) << id << ": " << c.body;
    }
  }
}

TEST_F(AuthTest, TokenEndpointIsRateLimited) {
  int limited = 0, sent = 0;
  std::string retry;
  for (; sent < 600 && limited == 0; ++sent) {
    HttpResult r = HttpRequest(server_->port(), "POST", "/auth/token", "grant_type=password",
                               {{"Content-Type", "application/x-www-form-urlencoded"}});
    if (r.status == 429) {
      ++limited;
      retry = r.Header("Retry-After");
    }
  }
  EXPECT_EQ(limited, 1);
  EXPECT_GE(sent, 150) << "the burst is allowed";
  EXPECT_EQ(retry, "1");
}

}  // namespace
}  // namespace vesta::testing
