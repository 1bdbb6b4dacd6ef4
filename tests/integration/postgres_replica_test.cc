// `vesta serve --store PRIMARY --read-store REPLICA` on a real streaming replica
// (TestCluster::StartReplicaOf: pg_basebackup -R, a hot standby on its own socket; the test skips
// when PostgreSQL is not installed). The writer reads its own writes at once (read, search,
// history); reads are served by the replica (shown by a read that can only come from it: the
// replica's replay paused, another node's newer write on the primary is not seen) until this node
// writes something the replica has not replayed, and then by the primary after the bounded wait;
// a replica that stops leaves reads to the primary rather than failing them.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/test_server.h"
#include "postgres/connection.h"
#include "postgres/test_cluster.h"

namespace vesta::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string IdOf(const std::string& body) {
  const std::string key = "\"id\":\"";
  size_t at = body.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return body.substr(at, body.find('"', at) - at);
}

int64_t VersionOf(const HttpResult& r) {
  std::string etag = r.Header("ETag");  // W/"N"
  return etag.size() > 3 ? std::atoll(etag.c_str() + 3) : 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The number written just before `label` in `text` ("... 12 served by the read replica"), or -1.
int64_t NumberBefore(const std::string& text, const std::string& label) {
  size_t at = text.rfind(label);
  if (at == std::string::npos || at < 2) return -1;
  size_t start = text.rfind(' ', at - 2);
  start = start == std::string::npos ? 0 : start + 1;
  if (text[start] == '(') ++start;
  return std::atoll(text.c_str() + start);
}

class PostgresReplicaTest : public postgres::PostgresTest {
 protected:
  void SetUp() override {
    PostgresTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto replica = postgres::TestCluster::StartReplicaOf(cluster());
    ASSERT_TRUE(replica.ok()) << replica.status().ToString();
    replica_ = std::move(replica).value();
  }

  std::string replica_uri() const { return replica_->Uri("postgres", schema()); }

  std::unique_ptr<postgres::Connection> Connect(const std::string& uri) {
    auto db = postgres::Connection::Open(uri, postgres::Options());
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  // Runs `sql` (one row, one column) and returns the value as text.
  static std::string Value(postgres::Connection& db, const std::string& sql) {
    auto rows = db.QueryUncached(sql);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() && rows->size() == 1 ? std::string(rows->Text(0, 0)) : std::string();
  }

  // Waits (bounded, 10 s) until the replica has replayed all the primary has written.
  void WaitForReplay(postgres::Connection& primary, postgres::Connection& replica) {
    const std::string target = Value(primary, "SELECT pg_current_wal_lsn()::text");
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Value(replica, "SELECT pg_last_wal_replay_lsn() >= '" + target + "'::pg_lsn") != "t") {
      ASSERT_LT(Clock::now(), deadline) << "the replica did not replay " << target;
      std::this_thread::sleep_for(milliseconds(10));
    }
  }

  std::unique_ptr<postgres::TestCluster> replica_;
  TempDir data_;
};

TEST_F(PostgresReplicaTest, ReadsGoToTheReplicaAndTheWriterReadsItsOwnWrites) {
  const std::string log_path = data_.path() + "/reader.log";
  auto reader = std::make_unique<ServerProcess>(
      data_.path(),
      std::vector<std::string>{"--store", uri(), "--read-store", replica_uri(), "--threads", "4",
                               "--read-store-wait-ms", "200"},
      log_path);
  ASSERT_TRUE(reader->ok()) << ReadFile(log_path);
  // A node without the replica: its writes are "another client's" for the reader.
  auto other = std::make_unique<ServerProcess>(
      data_.path(), std::vector<std::string>{"--store", uri(), "--threads", "2"});
  ASSERT_TRUE(other->ok());
  const int port = reader->port();

  // 1. The writer reads its own writes at once: read, update, read, search, history.
  for (int i = 0; i < 25; ++i) {
    const std::string family = "Ownwrite" + std::to_string(i);
    HttpResult created =
        HttpRequest(port, "POST", "/Patient",
                    R"({"resourceType":"Patient","name":[{"family":")" + family + R"("}]})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id = IdOf(created.body);
    HttpResult read = HttpRequest(port, "GET", "/Patient/" + id);
    ASSERT_EQ(read.status, 200) << "write " << i << ": " << read.body;
    HttpResult updated =
        HttpRequest(port, "PUT", "/Patient/" + id,
                    R"({"resourceType":"Patient","id":")" + id + R"(","name":[{"family":")" +
                        family + R"("}],"active":true})",
                    {{"If-Match", read.Header("ETag")}});
    ASSERT_EQ(updated.status, 200) << updated.body;
    EXPECT_EQ(VersionOf(HttpRequest(port, "GET", "/Patient/" + id)), 2) << "write " << i;
    HttpResult found = HttpRequest(port, "GET", "/Patient?family=" + family);
    EXPECT_NE(found.body.find("\"total\":1"), std::string::npos) << found.body;
    EXPECT_NE(found.body.find("\"active\":true"), std::string::npos) << found.body;
    HttpResult history = HttpRequest(port, "GET", "/Patient/" + id + "/_history");
    EXPECT_NE(history.body.find("\"total\":2"), std::string::npos) << history.body;
  }

  // 2. Reads are served by the replica. With its replay paused, another node updates a resource
  // on the primary: this node, which has written nothing the replica lacks, still reads the old
  // version, which only the replica has.
  std::unique_ptr<postgres::Connection> primary_db = Connect(uri());
  std::unique_ptr<postgres::Connection> replica_db = Connect(replica_uri());
  ASSERT_NE(primary_db, nullptr);
  ASSERT_NE(replica_db, nullptr);
  ASSERT_EQ(HttpRequest(other->port(), "PUT", "/Basic/shared",
                        R"({"resourceType":"Basic","id":"shared","code":{"text":"one"}})")
                .status,
            201);
  WaitForReplay(*primary_db, *replica_db);
  ASSERT_TRUE(replica_db->Exec("SELECT pg_wal_replay_pause()").ok());
  for (int i = 0;
       i < 200 && Value(*replica_db, "SELECT pg_get_wal_replay_pause_state()") != "paused"; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(Value(*replica_db, "SELECT pg_get_wal_replay_pause_state()"), "paused");
  ASSERT_EQ(HttpRequest(other->port(), "PUT", "/Basic/shared",
                        R"({"resourceType":"Basic","id":"shared","code":{"text":"two"}})")
                .status,
            200);
  EXPECT_EQ(VersionOf(HttpRequest(other->port(), "GET", "/Basic/shared")), 2);
  HttpResult stale = HttpRequest(port, "GET", "/Basic/shared");
  EXPECT_EQ(VersionOf(stale), 1) << "served by the replica, which has not replayed version 2";
  EXPECT_NE(stale.body.find("\"one\""), std::string::npos) << stale.body;
  HttpResult stale_search = HttpRequest(port, "GET", "/Basic?_id=shared");
  EXPECT_NE(stale_search.body.find("\"one\""), std::string::npos) << stale_search.body;
  HttpResult stale_history = HttpRequest(port, "GET", "/Basic/shared/_history");
  EXPECT_NE(stale_history.body.find("\"total\":1"), std::string::npos) << stale_history.body;

  // 3. This node writes; the replica cannot replay it: the read of its own write waits the bound
  // (200 ms) and is served by the primary, which also has the other node's version 2.
  HttpResult mine =
      HttpRequest(port, "POST", "/Basic", R"({"resourceType":"Basic","code":{"text":"mine"}})");
  ASSERT_EQ(mine.status, 201) << mine.body;
  const Clock::time_point asked = Clock::now();
  HttpResult own = HttpRequest(port, "GET", "/Basic/" + IdOf(mine.body));
  const auto waited = std::chrono::duration_cast<milliseconds>(Clock::now() - asked);
  EXPECT_EQ(own.status, 200) << own.body;
  EXPECT_GE(waited.count(), 190) << "the read should have waited for the replica first";
  EXPECT_LT(waited.count(), 5000);
  EXPECT_EQ(VersionOf(HttpRequest(port, "GET", "/Basic/shared")), 2);

  // 4. Replay resumed: the replica catches up and serves again, with everything.
  ASSERT_TRUE(replica_db->Exec("SELECT pg_wal_replay_resume()").ok());
  WaitForReplay(*primary_db, *replica_db);
  EXPECT_EQ(VersionOf(HttpRequest(port, "GET", "/Basic/shared")), 2);
  EXPECT_EQ(HttpRequest(port, "GET", "/Basic/" + IdOf(mine.body)).status, 200);

  // 5. The replica stops: reads go to the primary (not a 503), writes go on.
  replica_db.reset();
  ASSERT_TRUE(replica_->Stop().ok());
  EXPECT_EQ(VersionOf(HttpRequest(port, "GET", "/Basic/shared")), 2);
  HttpResult after =
      HttpRequest(port, "POST", "/Basic", R"({"resourceType":"Basic","code":{"text":"after"}})");
  EXPECT_EQ(after.status, 201) << after.body;
  EXPECT_EQ(HttpRequest(port, "GET", "/Basic/" + IdOf(after.body)).status, 200);
  HttpResult search = HttpRequest(port, "GET", "/Basic?_id=shared");
  EXPECT_EQ(search.status, 200) << search.body;

  EXPECT_EQ(reader->Stop(), 0);
  EXPECT_EQ(other->Stop(), 0);
  // At shutdown the node says where its reads went.
  const std::string log = ReadFile(log_path);
  const int64_t on_replica = NumberBefore(log, "served by the read replica");
  const int64_t waited_out = NumberBefore(log, "after waiting");
  EXPECT_GT(on_replica, 100) << log;
  EXPECT_GE(waited_out, 1) << log;
  EXPECT_NE(log.find("the PostgreSQL read replica unreachable"), std::string::npos) << log;
  std::cout << "reader node: " << on_replica << " reads served by the replica, " << waited_out
            << " by the primary after the wait; own write read back after " << waited.count()
            << " ms with replay paused\n";
}

}  // namespace
}  // namespace vesta::testing
