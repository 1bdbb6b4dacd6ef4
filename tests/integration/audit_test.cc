// The audit trail end to end (docs/security.md, "Audit trail"), on both stores: requests to the
// real server are recorded (a create, a read, a 404, a search, refused writes of AuditEvent; not
// the health checks), `vesta audit verify` passes while the server runs and after it stopped,
// `vesta audit export` holds the records; then the database is tampered with directly, each time
// on a fresh copy of the records (one record changed, one removed, two swapped), and
// `vesta audit verify` fails naming the record.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "integration/test_server.h"
#include "json/parse.h"
#include "sqlite/connection.h"
#ifdef VESTA_AUDIT_TEST_POSTGRES
#include "postgres/connection.h"
#endif

namespace vesta::testing {
namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// The PostgreSQL URI that StoreFlags(data_dir) names (" --data-dir 'DIR' --store 'URI'").
std::string PostgresUri(const std::string& data_dir) {
  std::string flags = StoreFlags(data_dir);
  const std::string head = " --store '";
  const size_t at = flags.find(head);
  if (at == std::string::npos || flags.back() != '\'') return "";
  return flags.substr(at + head.size(), flags.size() - at - head.size() - 1);
}

// The audit_log table of a test store, reached past the server with the project's adapters:
// what an attacker with access to the database can do.
class AuditTable {
 public:
  // A fresh copy of the store of `from` for `to`: the SQLite file copied; on PostgreSQL, the
  // schema of `to` made by opening its store, then the records copied into it.
  static std::unique_ptr<AuditTable> Copy(const std::string& from, const std::string& to) {
    auto table = std::unique_ptr<AuditTable>(new AuditTable);
    if (CurrentTestStore() == TestStore::kSqlite) {
      fs::create_directories(to);
      fs::copy_file(fs::path(from) / "vesta.db", fs::path(to) / "vesta.db");
      auto db = sqlite::Connection::Open((fs::path(to) / "vesta.db").string(),
                                         sqlite::OpenOptions::ReadWrite());
      EXPECT_TRUE(db.ok()) << db.status().ToString();
      if (!db.ok()) return nullptr;
      table->sqlite_ = std::move(db).value();
      // The triggers only stop accidents; someone who can write the file drops them.
      EXPECT_TRUE(table->Exec("DROP TRIGGER audit_log_no_update").ok());
      EXPECT_TRUE(table->Exec("DROP TRIGGER audit_log_no_delete").ok());
      return table;
    }
#ifdef VESTA_AUDIT_TEST_POSTGRES
    // The copy's schema gets its tables from the store's migrations.
    CommandResult opened = RunCommand(VestaBinary() + " audit verify" + StoreFlags(to));
    EXPECT_EQ(opened.exit_code, 0) << opened.out;
    auto source = postgres::Connection::Open(PostgresUri(from), {});
    auto db = postgres::Connection::Open(PostgresUri(to), {});
    EXPECT_TRUE(source.ok() && db.ok());
    if (!source.ok() || !db.ok()) return nullptr;
    auto rows = (*source)->Query(
        "SELECT seq, recorded, record, previous_hash, hash FROM audit_log ORDER BY seq");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok()) return nullptr;
    for (int i = 0; i < rows->size(); ++i) {
      std::string record = rows->Bytes(i, 2);
      Status s = (*db)
                     ->Query("INSERT INTO audit_log VALUES ($1, $2, $3, $4, $5)",
                             {rows->Int(i, 0), rows->Int(i, 1), postgres::Bytes{record},
                              rows->Text(i, 3), rows->Text(i, 4)})
                     .status();
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    table->postgres_ = std::move(db).value();
    EXPECT_TRUE(table->Exec("ALTER TABLE audit_log DISABLE TRIGGER USER").ok());
    return table;
#else
    ADD_FAILURE() << "built without the PostgreSQL store";
    return nullptr;
#endif
  }

  Status Exec(const std::string& sql) {
#ifdef VESTA_AUDIT_TEST_POSTGRES
    if (postgres_) return postgres_->Exec(sql);
#endif
    return sqlite_->Exec(sql);
  }

  // Replaces `from` with `to` in the bytes of record `seq`.
  Status ChangeRecord(int seq, const std::string& from, const std::string& to) {
    const std::string where = " WHERE seq = " + std::to_string(seq);
    if (sqlite_) {
      return Exec("UPDATE audit_log SET record = CAST(replace(CAST(record AS TEXT), '" + from +
                  "', '" + to + "') AS BLOB)" + where);
    }
    return Exec("UPDATE audit_log SET record = convert_to(replace(convert_from(record, 'UTF8'), '" +
                from + "', '" + to + "'), 'UTF8')" + where);
  }

 private:
  AuditTable() = default;
  std::unique_ptr<sqlite::Connection> sqlite_;
#ifdef VESTA_AUDIT_TEST_POSTGRES
  std::unique_ptr<postgres::Connection> postgres_;
#endif
};

TEST(AuditTrailTest, EveryRequestIsRecordedAndTamperingIsFound) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  std::vector<std::string> expected;  // the subtype and outcome of each record, in order
  {
    ServerProcess server(data);
    ASSERT_TRUE(server.ok());
    const std::vector<std::pair<std::string, std::string>> json = {
        {"Content-Type", "application/fhir+json"}};
    HttpResult created =
        HttpRequest(server.port(), "POST", "/Patient",
                    R"({"resourceType":"Patient","name":[{"family":"Audit"}]})", json);
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string location = created.Header("Location");
    const std::string id =
        location.substr(location.find("/Patient/") + 9,
                        location.find("/_history") - location.find("/Patient/") - 9);
    expected.push_back("create 0 Patient/" + id);
    ASSERT_EQ(HttpRequest(server.port(), "GET", "/Patient/" + id).status, 200);
    expected.push_back("read 0 Patient/" + id);
    ASSERT_EQ(HttpRequest(server.port(), "GET", "/Patient/no-such-one").status, 404);
    expected.push_back("read 4 Patient/no-such-one");
    ASSERT_EQ(HttpRequest(server.port(), "GET", "/Observation?subject=Patient/" + id).status, 200);
    expected.push_back("search-type 0 ");
    ASSERT_EQ(HttpRequest(server.port(), "GET", "/healthz").status, 200);  // not recorded

    // The audit trail is written by the server only.
    HttpResult refused =
        HttpRequest(server.port(), "POST", "/AuditEvent", R"({"resourceType":"AuditEvent"})", json);
    EXPECT_EQ(refused.status, 403);
    EXPECT_NE(refused.body.find("append-only"), std::string::npos) << refused.body;
    EXPECT_NE(refused.body.find("OperationOutcome"), std::string::npos);
    expected.push_back("create 4 ");
    EXPECT_EQ(HttpRequest(server.port(), "DELETE", "/AuditEvent/1").status, 403);
    expected.push_back("delete 4 AuditEvent/1");
    HttpResult in_transaction = HttpRequest(
        server.port(), "POST", "/",
        R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"AuditEvent"},"request":{"method":"POST","url":"AuditEvent"}}]})",
        json);
    EXPECT_EQ(in_transaction.status, 403) << in_transaction.body;
    expected.push_back("transaction 4 ");

    // While the server runs: what it appended so far (within 100 ms) verifies.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CommandResult running = RunCommand(VestaBinary() + " audit verify" + StoreFlags(data));
    EXPECT_EQ(running.exit_code, 0) << running.out;
    EXPECT_NE(running.out.find("audit trail intact: 7 records"), std::string::npos) << running.out;
    ASSERT_EQ(server.Stop(), 0);
  }

  CommandResult verified = RunCommand(VestaBinary() + " audit verify" + StoreFlags(data));
  ASSERT_EQ(verified.exit_code, 0) << verified.out;
  EXPECT_NE(verified.out.find("audit trail intact: 7 records, from "), std::string::npos)
      << verified.out;

  CommandResult exported = RunCommand(VestaBinary() + " audit export" + StoreFlags(data));
  ASSERT_EQ(exported.exit_code, 0) << exported.out;
  std::vector<std::string_view> lines = Split(TrimRight(exported.out, "\n"), '\n');
  ASSERT_EQ(lines.size(), expected.size()) << exported.out;
  for (size_t i = 0; i < lines.size(); ++i) {
    Result<json::Document> doc = json::Parse(lines[i]);
    ASSERT_TRUE(doc.ok()) << lines[i];
    const json::Value& root = doc->root();
    EXPECT_EQ(root.FindString("resourceType"), "AuditEvent");
    EXPECT_EQ(root.FindString("id"), std::to_string(i + 1));
    std::string subtype;
    if (const json::Value* s = root.Find("subtype"); s != nullptr && s->size() == 1) {
      subtype = std::string(s->items()[0].FindString("code"));
    }
    std::string what;
    const json::Value* entity = root.Find("entity");
    ASSERT_NE(entity, nullptr);
    if (const json::Value* w = entity->items()[0].Find("what")) {
      what = std::string(w->FindString("reference"));
    }
    EXPECT_EQ(subtype + " " + std::string(root.FindString("outcome")) + " " + what, expected[i])
        << lines[i];
    EXPECT_NE(lines[i].find(R"("network":{"address":"127.0.0.1","type":"2"})"), std::string::npos);
  }
  // The search names its query, and the patient it is about.
  EXPECT_NE(lines[3].find(R"("query":")"), std::string::npos);
  EXPECT_NE(
      lines[3].find(
          R"("role":{"system":"http://terminology.hl7.org/CodeSystem/object-role","code":"1")"),
      std::string::npos)
      << lines[3];
  CommandResult none =
      RunCommand(VestaBinary() + " audit export --since 2999-01-01T00:00:00Z" + StoreFlags(data));
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "");

  struct Tampering {
    std::string name;
    std::function<Status(AuditTable&)> tamper;
    std::string failure;  // what `vesta audit verify` says
  };
  const Tampering cases[] = {
      {"changed", [](AuditTable& t) { return t.ChangeRecord(3, ",404,", ",200,"); },
       "audit record 3: its hash does not match its bytes"},
      {"deleted", [](AuditTable& t) { return t.Exec("DELETE FROM audit_log WHERE seq = 2"); },
       "audit record 3: sequence number 2 is missing before it"},
      {"swapped",
       [](AuditTable& t) -> Status {
         RETURN_IF_ERROR(t.Exec("UPDATE audit_log SET seq = -1 WHERE seq = 2"));
         RETURN_IF_ERROR(t.Exec("UPDATE audit_log SET seq = 2 WHERE seq = 3"));
         return t.Exec("UPDATE audit_log SET seq = 3 WHERE seq = -1");
       },
       // On PostgreSQL the row keeps its previous hash, which no longer matches record 1's; the
       // SQLite store keeps none (the row before's hash is taken), and the hash fails instead.
       CurrentTestStore() == TestStore::kSqlite
           ? "audit record 2: its hash does not match its bytes"
           : "audit record 2: its previous hash does not match the hash of record 1"},
  };
  for (const Tampering& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string copy = dir.path() + "/" + c.name;
    std::unique_ptr<AuditTable> table = AuditTable::Copy(data, copy);
    ASSERT_NE(table, nullptr);
    CommandResult before = RunCommand(VestaBinary() + " audit verify" + StoreFlags(copy));
    ASSERT_EQ(before.exit_code, 0) << before.out;  // the copy is sound
    Status tampered = c.tamper(*table);
    ASSERT_TRUE(tampered.ok()) << tampered.ToString();
    table.reset();
    CommandResult after = RunCommand(VestaBinary() + " audit verify" + StoreFlags(copy));
    EXPECT_EQ(after.exit_code, 1) << after.out;
    EXPECT_NE(after.out.find("FAILED: " + c.failure), std::string::npos) << after.out;
  }
}

// With --audit off nothing is recorded.
// The ids of a searchset Bundle's AuditEvents, in order, and its next link ("" for none).
std::pair<std::vector<std::string>, std::string> AuditIds(const std::string& body) {
  std::pair<std::vector<std::string>, std::string> out;
  Result<json::Document> doc = json::Parse(body);
  if (!doc.ok()) return out;
  if (const json::Value* entries = doc->root().Find("entry")) {
    for (const json::Value& e : entries->items()) {
      if (const json::Value* r = e.Find("resource")) out.first.emplace_back(r->FindString("id"));
    }
  }
  if (const json::Value* links = doc->root().Find("link")) {
    for (const json::Value& l : links->items()) {
      if (l.FindString("relation") == "next") out.second = std::string(l.FindString("url"));
    }
  }
  return out;
}

// https://hl7.org/fhir/R4/auditevent.html#search: the audit trail read and searched through the
// API by date, patient, agent, entity and outcome, newest first, in pages; other parameters are
// refused rather than ignored.
TEST(AuditTrailTest, AuditEventsAreSearchedThroughTheApi) {
  TempDir dir;
  ServerProcess server(dir.path() + "/data");
  ASSERT_TRUE(server.ok());
  const std::vector<std::pair<std::string, std::string>> json = {
      {"Content-Type", "application/fhir+json"}};
  ASSERT_EQ(HttpRequest(server.port(), "PUT", "/Patient/ap1",
                        R"({"resourceType":"Patient","id":"ap1"})", json)
                .status,
            201);
  ASSERT_EQ(HttpRequest(server.port(), "GET", "/Patient/ap1").status, 200);
  ASSERT_EQ(HttpRequest(server.port(), "GET", "/Patient/ap1/Condition").status, 200);
  ASSERT_EQ(HttpRequest(server.port(), "GET", "/Patient/none").status, 404);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // appended every 100 ms

  auto search = [&](const std::string& query) {
    HttpResult r = HttpRequest(server.port(), "GET", "/AuditEvent" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    return AuditIds(r.body);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(search("").first, (V{"4", "3", "2", "1"}));
  EXPECT_EQ(search("?entity=Patient/ap1").first, (V{"2", "1"}));
  EXPECT_EQ(search("?patient=Patient/ap1").first, (V{"3", "2", "1"}));
  EXPECT_EQ(search("?outcome=4").first, (V{"4"}));
  EXPECT_EQ(search("?outcome=0&entity=Patient/ap1").first, (V{"2", "1"}));
  EXPECT_EQ(search("?date=ge2020-01-01&date=lt2999").first.size(), 4u);
  EXPECT_TRUE(search("?date=lt2020").first.empty());
  // Pages of one, by the next links (of a patient's records: the searches themselves are
  // recorded too, within 100 ms, and have no patient).
  auto page = search("?patient=ap1&_count=1");
  V all = page.first;
  for (int i = 0; i < 10 && !page.second.empty(); ++i) {
    const std::string next = page.second.substr(page.second.find("/AuditEvent") + 11);
    page = search(next);
    all.insert(all.end(), page.first.begin(), page.first.end());
  }
  EXPECT_EQ(all, (V{"3", "2", "1"}));
  HttpResult one = HttpRequest(server.port(), "GET", "/AuditEvent/2");
  ASSERT_EQ(one.status, 200) << one.body;
  Result<json::Document> doc = json::Parse(one.body);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->root().FindString("resourceType"), "AuditEvent");
  EXPECT_EQ(doc->root().FindString("id"), "2");
  EXPECT_EQ(HttpRequest(server.port(), "GET", "/AuditEvent/999999").status, 404);
  HttpResult unknown = HttpRequest(server.port(), "GET", "/AuditEvent?type=rest");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("'type'"), std::string::npos) << unknown.body;
  ASSERT_EQ(server.Stop(), 0);
}

TEST(AuditTrailTest, OffRecordsNothing) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  {
    ServerProcess server(data, {"--audit", "off"});
    ASSERT_TRUE(server.ok());
    EXPECT_EQ(HttpRequest(server.port(), "GET", "/Patient/x").status, 404);
    ASSERT_EQ(server.Stop(), 0);
  }
  CommandResult verified = RunCommand(VestaBinary() + " audit verify" + StoreFlags(data));
  EXPECT_EQ(verified.exit_code, 0) << verified.out;
  EXPECT_NE(verified.out.find("audit trail intact: 0 records"), std::string::npos) << verified.out;
}

}  // namespace
}  // namespace vesta::testing
