// Materialized views against the real server on both stores (docs/analytics.md, "Materialized
// views"): stored ViewDefinitions, their tables in the analytics database following creates,
// updates, deletes and transactions, a kill -9 and restart in the middle of writes, a changed
// view rebuilding its table, and concurrent writers.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "analytics/analytics_db.h"
#include "integration/test_server.h"
#include "json/parse.h"

namespace vesta::testing {
namespace {

using Rows = std::vector<std::vector<std::string>>;

const std::vector<std::pair<std::string, std::string>> kJson = {
    {"Content-Type", "application/fhir+json"}};

std::unique_ptr<analytics::AnalyticsDb> OpenAnalytics(const std::string& dir) {
  Result<std::unique_ptr<analytics::AnalyticsDb>> db =
      CurrentTestStore() == TestStore::kPostgres
          ? analytics::OpenPostgresAnalytics(PostgresUriOf(dir))
          : analytics::OpenSqliteAnalytics(dir);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(db).value() : nullptr;
}

std::string PatientView(const std::string& id, const std::string& name, bool tagged,
                        bool with_birth_date = false) {
  std::string v = R"({"resourceType":"ViewDefinition","id":")" + id + R"(","name":")" + name +
                  R"(","resource":"Patient","status":"active",)";
  if (tagged) {
    v += R"("meta":{"tag":[{"system":"urn:vesta:analytics","code":"materialize"}]},)";
  }
  v += R"j("select":[{"column":[{"name":"id","path":"getResourceKey()"},)j"
       R"j({"name":"family","path":"name.family.first()","type":"string"},)j"
       R"j({"name":"active","path":"active","type":"boolean"},)j"
       R"j({"name":"births","path":"multipleBirth.ofType(integer)","type":"integer"})j";
  if (with_birth_date) v += R"j(,{"name":"birth_date","path":"birthDate","type":"date"})j";
  v += "]}]}";
  return v;
}

std::string Patient(const std::string& family, int births = 1) {
  return R"({"resourceType":"Patient","active":true,"multipleBirthInteger":)" +
         std::to_string(births) + R"(,"birthDate":"1980-02-03","name":[{"family":")" + family +
         "\"}]}";
}

std::string IdOf(const std::string& body) {
  auto doc = json::Parse(body);
  return doc.ok() ? std::string(doc->root().FindString("id")) : "";
}

// The rows of `sql` once they equal `want`, or the last rows seen after 20 s.
Rows WaitFor(analytics::AnalyticsDb& db, const std::string& sql, const Rows& want) {
  Rows last;
  for (int i = 0; i < 400; ++i) {
    Result<Rows> rows = db.Query(sql);
    if (rows.ok()) {
      last = *rows;
      if (last == want) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return last;
}

// The view's rows (resource key, family) as $viewdefinition-run gives them over the store.
Rows RunRows(int port, const std::string& view_id) {
  HttpResult r =
      HttpRequest(port, "GET", "/ViewDefinition/" + view_id + "/$viewdefinition-run?_format=csv");
  EXPECT_EQ(r.status, 200) << r.body;
  Rows rows;
  size_t start = r.body.find("\r\n");  // after the header
  while (start != std::string::npos && start + 2 < r.body.size()) {
    const size_t end = r.body.find("\r\n", start + 2);
    const std::string line = r.body.substr(start + 2, end - start - 2);
    const size_t c1 = line.find(',');
    const size_t c2 = line.find(',', c1 + 1);
    rows.push_back({line.substr(0, c1), line.substr(c1 + 1, c2 - c1 - 1)});
    start = end;
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

class MaterializeTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::vector<std::string> flags_ = {"--analytics-interval-ms", "50"};
};

TEST_F(MaterializeTest, WritesShowUpInTheTable) {
  ServerProcess server(dir_.path(), flags_);
  ASSERT_TRUE(server.ok());
  HttpResult put = HttpRequest(server.port(), "PUT", "/ViewDefinition/patients",
                               PatientView("patients", "patients", true), kJson);
  ASSERT_EQ(put.status, 201) << put.body;
  auto db = OpenAnalytics(dir_.path());
  ASSERT_NE(db, nullptr);
  const std::string t = db->QualifiedTable("patients");

  // Creates, an update, a delete.
  std::vector<std::string> ids;
  for (const char* family : {"Ames", "Baker", "Cole", "Dunn"}) {
    HttpResult r = HttpRequest(server.port(), "POST", "/Patient", Patient(family), kJson);
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(IdOf(r.body));
  }
  std::string updated = Patient("Bakerson", 2);
  updated.insert(1, "\"id\":\"" + ids[1] + "\",");
  ASSERT_EQ(HttpRequest(server.port(), "PUT", "/Patient/" + ids[1], updated, kJson).status, 200);
  ASSERT_EQ(HttpRequest(server.port(), "DELETE", "/Patient/" + ids[2]).status / 100, 2);

  // A transaction: two creates, an update of the first patient, a delete of the fourth.
  std::string first = Patient("Amesbury", 3);
  first.insert(1, "\"id\":\"" + ids[0] + "\",");
  const std::string bundle =
      R"({"resourceType":"Bundle","type":"transaction","entry":[)"
      R"({"resource":)" +
      Patient("Evans") + R"(,"request":{"method":"POST","url":"Patient"}},)" + R"({"resource":)" +
      Patient("Ford") + R"(,"request":{"method":"POST","url":"Patient"}},)" + R"({"resource":)" +
      first + R"(,"request":{"method":"PUT","url":"Patient/)" + ids[0] + R"("}},)" +
      R"({"request":{"method":"DELETE","url":"Patient/)" + ids[3] + R"("}}]})";
  HttpResult tx = HttpRequest(server.port(), "POST", "/", bundle, kJson);
  ASSERT_EQ(tx.status, 200) << tx.body;

  const Rows want = {
      {"Amesbury", "1", "3"}, {"Bakerson", "1", "2"}, {"Evans", "1", "1"}, {"Ford", "1", "1"}};
  // Booleans read back as 1 in SQLite and t in PostgreSQL: compared as integers.
  const std::string sql = "SELECT family, CASE WHEN active THEN '1' ELSE '0' END, births FROM " +
                          t + " ORDER BY family";
  EXPECT_EQ(WaitFor(*db, sql, want), want);
  // The resource key column matches the view's own getResourceKey() column.
  Result<Rows> keys = db->Query("SELECT count(*) FROM " + t + " WHERE _resource = id");
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  EXPECT_EQ((*keys)[0][0], "4");
  Result<Rows> sum = db->Query("SELECT sum(births) FROM " + t);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ((*sum)[0][0], "7");  // an integer column: summed as numbers
}

TEST_F(MaterializeTest, KillAndRestartLoseNothingAndDuplicateNothing) {
  std::atomic<int> created{0};
  {
    ServerProcess server(dir_.path(), flags_);
    ASSERT_TRUE(server.ok());
    ASSERT_EQ(HttpRequest(server.port(), "PUT", "/ViewDefinition/people",
                          PatientView("people", "people", true), kJson)
                  .status,
              201);
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        // Bounded: at most 400 writes each; the kill below ends them sooner.
        std::string mine;
        for (int i = 0; i < 400 && !stop.load(); ++i) {
          const std::string family = "W" + std::to_string(w) + "n" + std::to_string(i);
          if (i % 3 == 2 && !mine.empty()) {
            std::string p = Patient(family);
            p.insert(1, "\"id\":\"" + mine + "\",");
            (void)HttpRequest(server.port(), "PUT", "/Patient/" + mine, p, kJson, 5000);
          } else {
            HttpResult r =
                HttpRequest(server.port(), "POST", "/Patient", Patient(family), kJson, 5000);
            if (r.status == 201) {
              mine = IdOf(r.body);
              ++created;
            }
          }
        }
      });
    }
    while (created.load() < 150) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    server.Kill();
    stop = true;
    for (auto& t : writers) t.join();
  }
  ServerProcess server(dir_.path(), flags_);
  ASSERT_TRUE(server.ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(
        HttpRequest(server.port(), "POST", "/Patient", Patient("After" + std::to_string(i)), kJson)
            .status,
        201);
  }
  const Rows want = RunRows(server.port(), "people");
  ASSERT_GE(want.size(), 170u);
  auto db = OpenAnalytics(dir_.path());
  ASSERT_NE(db, nullptr);
  const Rows got = WaitFor(
      *db, "SELECT _resource, family FROM " + db->QualifiedTable("people") + " ORDER BY 1, 2",
      want);
  EXPECT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
}

TEST_F(MaterializeTest, ConcurrentWritersAreAllSeen) {
  ServerProcess server(dir_.path(), flags_);
  ASSERT_TRUE(server.ok());
  ASSERT_EQ(HttpRequest(server.port(), "PUT", "/ViewDefinition/crowd",
                        PatientView("crowd", "crowd", true), kJson)
                .status,
            201);
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 60; ++i) {  // bounded: 480 creates in all
        (void)HttpRequest(server.port(), "POST", "/Patient",
                          Patient("C" + std::to_string(w) + "x" + std::to_string(i)), kJson);
      }
    });
  }
  for (auto& t : writers) t.join();
  const Rows want = RunRows(server.port(), "crowd");
  ASSERT_EQ(want.size(), 480u);
  auto db = OpenAnalytics(dir_.path());
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(
      WaitFor(*db,
              "SELECT _resource, family FROM " + db->QualifiedTable("crowd") + " ORDER BY 1, 2",
              want),
      want);
}

TEST_F(MaterializeTest, AChangedViewRebuildsItsTableAndAnUntaggedOneDropsIt) {
  ServerProcess server(dir_.path(), flags_);
  ASSERT_TRUE(server.ok());
  for (const char* family : {"Gray", "Hale"}) {
    ASSERT_EQ(HttpRequest(server.port(), "POST", "/Patient", Patient(family), kJson).status, 201);
  }
  ASSERT_EQ(
      HttpRequest(server.port(), "PUT", "/ViewDefinition/v", PatientView("v", "pv", true), kJson)
          .status,
      201);
  auto db = OpenAnalytics(dir_.path());
  ASSERT_NE(db, nullptr);
  const std::string t = db->QualifiedTable("pv");
  EXPECT_EQ(WaitFor(*db, "SELECT family FROM " + t + " ORDER BY 1", {{"Gray"}, {"Hale"}}),
            (Rows{{"Gray"}, {"Hale"}}));

  // A new column: the table is made again, with it, and filled.
  ASSERT_EQ(HttpRequest(server.port(), "PUT", "/ViewDefinition/v",
                        PatientView("v", "pv", true, /*with_birth_date=*/true), kJson)
                .status,
            200);
  const Rows want = {{"Gray", "1980-02-03"}, {"Hale", "1980-02-03"}};
  EXPECT_EQ(WaitFor(*db, "SELECT family, birth_date FROM " + t + " ORDER BY 1", want), want);

  // Untagged: the table goes; the view stays readable.
  ASSERT_EQ(
      HttpRequest(server.port(), "PUT", "/ViewDefinition/v", PatientView("v", "pv", false), kJson)
          .status,
      200);
  Rows catalog;
  for (int i = 0; i < 400; ++i) {
    Result<std::vector<analytics::ViewEntry>> entries = db->Catalog();
    ASSERT_TRUE(entries.ok());
    if (entries->empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Result<std::vector<analytics::ViewEntry>> entries = db->Catalog();
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
  EXPECT_FALSE(db->Query("SELECT count(*) FROM " + t).ok());
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/ViewDefinition/v").status, 200);
}

TEST_F(MaterializeTest, StoredViewsAreValidatedAndServed) {
  ServerProcess server(dir_.path(), flags_);
  ASSERT_TRUE(server.ok());
  // A column name the spec does not allow: 400, saying where.
  HttpResult bad = HttpRequest(
      server.port(), "PUT", "/ViewDefinition/bad",
      R"({"resourceType":"ViewDefinition","id":"bad","resource":"Patient","select":[{"column":[{"name":"1st","path":"id"}]}]})",
      kJson);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("select[0].column[0]"), std::string::npos) << bad.body;
  // Tagged for materialization without a name: 400 naming the name.
  HttpResult unnamed = HttpRequest(
      server.port(), "POST", "/ViewDefinition",
      R"({"resourceType":"ViewDefinition","resource":"Patient","meta":{"tag":[{"system":"urn:vesta:analytics","code":"materialize"}]},"select":[{"column":[{"name":"id","path":"id"}]}]})",
      kJson);
  EXPECT_EQ(unnamed.status, 400);
  EXPECT_NE(unnamed.body.find("ViewDefinition.name"), std::string::npos) << unnamed.body;
  // Not a view at all.
  EXPECT_EQ(HttpRequest(server.port(), "POST", "/ViewDefinition", Patient("X"), kJson).status, 400);
  // The id must match the URL.
  EXPECT_EQ(HttpRequest(server.port(), "PUT", "/ViewDefinition/other",
                        PatientView("one", "one", false), kJson)
                .status,
            400);

  HttpResult created = HttpRequest(server.port(), "POST", "/ViewDefinition",
                                   PatientView("x", "named", false), kJson);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = IdOf(created.body);
  EXPECT_NE(created.Header("Location").find("/ViewDefinition/" + id), std::string::npos);
  HttpResult read = HttpRequest(server.port(), "GET", "/ViewDefinition/" + id);
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.Header("ETag"), "W/\"1\"");
  HttpResult list = HttpRequest(server.port(), "GET", "/ViewDefinition?name=named");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"total\":1"), std::string::npos) << list.body;

  ASSERT_EQ(HttpRequest(server.port(), "POST", "/Patient", Patient("Iver"), kJson).status, 201);
  HttpResult run = HttpRequest(server.port(), "GET",
                               "/ViewDefinition/" + id + "/$viewdefinition-run?_format=ndjson");
  EXPECT_EQ(run.status, 200);
  EXPECT_NE(run.body.find("\"family\":\"Iver\""), std::string::npos) << run.body;
  HttpResult by_reference = HttpRequest(
      server.port(), "POST",
      "/ViewDefinition/$viewdefinition-run?_format=csv&viewReference=ViewDefinition/" + id,
      R"({"resourceType":"Parameters"})", kJson);
  EXPECT_EQ(by_reference.status, 200) << by_reference.body;
  EXPECT_NE(by_reference.body.find("Iver"), std::string::npos);

  EXPECT_EQ(HttpRequest(server.port(), "DELETE", "/ViewDefinition/" + id).status, 204);
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/ViewDefinition/" + id).status, 410);
  EXPECT_EQ(
      HttpRequest(server.port(), "GET", "/ViewDefinition/" + id + "/$viewdefinition-run").status,
      410);
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/ViewDefinition/missing").status, 404);

  // Two materialized views cannot share a table: 409 naming the view that has it.
  ASSERT_EQ(HttpRequest(server.port(), "PUT", "/ViewDefinition/first",
                        PatientView("first", "shared", true), kJson)
                .status,
            201);
  HttpResult taken = HttpRequest(server.port(), "PUT", "/ViewDefinition/second",
                                 PatientView("second", "shared", true), kJson);
  EXPECT_EQ(taken.status, 409);
  EXPECT_NE(taken.body.find("ViewDefinition/first"), std::string::npos) << taken.body;
  // Not materialized, the same name is fine; the view itself may be stored again.
  EXPECT_EQ(HttpRequest(server.port(), "PUT", "/ViewDefinition/second",
                        PatientView("second", "shared", false), kJson)
                .status,
            201);
  EXPECT_EQ(HttpRequest(server.port(), "PUT", "/ViewDefinition/first",
                        PatientView("first", "shared", true), kJson)
                .status,
            200);
}

TEST_F(MaterializeTest, TheCommandLineMaterializesAndListsTables) {
  {
    ServerProcess server(dir_.path(), {"--analytics", "off"});
    ASSERT_TRUE(server.ok());
    for (const char* family : {"Jones", "King"}) {
      ASSERT_EQ(HttpRequest(server.port(), "POST", "/Patient", Patient(family), kJson).status, 201);
    }
  }
  const std::string file = dir_.path() + "/view.json";
  {
    FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    const std::string v = PatientView("ignored", "cli_patients", false);
    std::fwrite(v.data(), 1, v.size(), f);
    std::fclose(f);
  }
  const std::string flags = StoreFlags(dir_.path());
  auto run = [](const std::string& cmd) {
    std::string out;
    FILE* p = popen((cmd + " 2>/dev/null").c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int rc = pclose(p);
    return std::make_pair(rc, out);
  };
  auto [rc, out] = run(VestaBinary() + " view materialize '" + file + "' --id cli-view" + flags);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("cli_patients"), std::string::npos) << out;
  EXPECT_NE(out.find("2 rows"), std::string::npos) << out;
  auto [rc2, tables] = run(VestaBinary() + " view tables" + flags);
  EXPECT_EQ(rc2, 0);
  EXPECT_NE(tables.find("cli_patients  ViewDefinition/cli-view  2 rows"), std::string::npos)
      << tables;
  // The stored view carries the tag, so a server keeps the table up to date from here.
  ServerProcess server(dir_.path(), flags_);
  ASSERT_TRUE(server.ok());
  HttpResult stored = HttpRequest(server.port(), "GET", "/ViewDefinition/cli-view");
  EXPECT_NE(stored.body.find("urn:vesta:analytics"), std::string::npos) << stored.body;
  ASSERT_EQ(HttpRequest(server.port(), "POST", "/Patient", Patient("Lowe"), kJson).status, 201);
  auto db = OpenAnalytics(dir_.path());
  ASSERT_NE(db, nullptr);
  const Rows want = {{"Jones"}, {"King"}, {"Lowe"}};
  EXPECT_EQ(WaitFor(*db, "SELECT family FROM " + db->QualifiedTable("cli_patients") + " ORDER BY 1",
                    want),
            want);
}

}  // namespace
}  // namespace vesta::testing
