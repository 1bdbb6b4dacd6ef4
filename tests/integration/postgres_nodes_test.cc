// Two `vesta serve` nodes on one PostgreSQL database (a throw-away cluster, test_cluster.h; the
// test skips when PostgreSQL is not installed): sixteen clients of If-Match updates through both
// lose none; a write on one node is read and found by a search at once on the other; a
// transaction posted to one node is seen whole or not at all on the other; and creates
// acknowledged by a node killed with SIGKILL are all there on the other.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "integration/test_server.h"
#include "postgres/test_cluster.h"

namespace vesta::testing {
namespace {

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

class PostgresNodesTest : public postgres::PostgresTest {
 protected:
  // A node on this test's schema; its --data-dir holds nothing but an empty terminology folder.
  std::unique_ptr<ServerProcess> Node() {
    return std::make_unique<ServerProcess>(
        data_.path(), std::vector<std::string>{"--store", uri(), "--threads", "4"});
  }
  TempDir data_;
};

TEST_F(PostgresNodesTest, IfMatchUpdatesThroughTwoNodesLoseNone) {
  std::unique_ptr<ServerProcess> nodes[2] = {Node(), Node()};
  ASSERT_TRUE(nodes[0]->ok());
  ASSERT_TRUE(nodes[1]->ok());
  ASSERT_EQ(HttpRequest(nodes[0]->port(), "PUT", "/Basic/contended",
                        R"({"resourceType":"Basic","id":"contended","code":{"text":"start"}})")
                .status,
            201);
  // Read at once on the other node.
  HttpResult other = HttpRequest(nodes[1]->port(), "GET", "/Basic/contended");
  ASSERT_EQ(other.status, 200);
  EXPECT_EQ(VersionOf(other), 1);

  constexpr int kClients = 16;
  constexpr int kAttempts = 25;  // per client, successful or not
  std::mutex mu;
  std::map<int64_t, std::string> winners;  // version -> marker
  std::atomic<int> refused{0}, other_errors{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kAttempts && std::chrono::steady_clock::now() < deadline; ++i) {
        // Read on one node, write on the other half of the time.
        int port_read = nodes[(c + i) % 2]->port();
        int port_write = nodes[(c + i / 2) % 2]->port();
        HttpResult cur = HttpRequest(port_read, "GET", "/Basic/contended");
        int64_t version = VersionOf(cur);
        std::string marker = "c" + std::to_string(c) + "-" + std::to_string(i);
        HttpResult r = HttpRequest(
            port_write, "PUT", "/Basic/contended",
            R"({"resourceType":"Basic","id":"contended","code":{"text":")" + marker + "\"}}",
            {{"If-Match", cur.Header("ETag")}});
        if (r.status == 200) {
          std::lock_guard lock(mu);
          EXPECT_EQ(VersionOf(r), version + 1);
          EXPECT_TRUE(winners.emplace(VersionOf(r), marker).second) << VersionOf(r);
        } else if (r.status == 412 || r.status == 409) {
          ++refused;
        } else {
          ++other_errors;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(other_errors.load(), 0);
  ASSERT_FALSE(winners.empty());
  // Versions 2..N each won once; both nodes serve N, and history holds every winner.
  const int64_t last = winners.rbegin()->first;
  EXPECT_EQ(static_cast<int64_t>(winners.size()), last - 1);
  for (auto& node : nodes)
    EXPECT_EQ(VersionOf(HttpRequest(node->port(), "GET", "/Basic/contended")), last);
  for (const auto& [version, marker] : winners) {
    HttpResult v = HttpRequest(nodes[version % 2]->port(), "GET",
                               "/Basic/contended/_history/" + std::to_string(version));
    ASSERT_EQ(v.status, 200);
    EXPECT_NE(v.body.find("\"" + marker + "\""), std::string::npos) << "version " << version;
  }
  std::cout << winners.size() << " updates won through two nodes, " << refused.load()
            << " refused\n";
  EXPECT_EQ(nodes[0]->Stop(), 0);
  EXPECT_EQ(nodes[1]->Stop(), 0);
}

// A write on node A is found at once by a search on node B (the search index is written in the
// write's own transaction), and so is its change and its delete.
TEST_F(PostgresNodesTest, AWriteOnOneNodeIsSearchableAtOnceOnTheOther) {
  std::unique_ptr<ServerProcess> a = Node();
  std::unique_ptr<ServerProcess> b = Node();
  ASSERT_TRUE(a->ok());
  ASSERT_TRUE(b->ok());
  for (int i = 0; i < 20; ++i) {
    const std::string family = "Nodesearch" + std::to_string(i);
    HttpResult created = HttpRequest(a->port(), "POST", "/Patient",
                                     R"({"resourceType":"Patient","name":[{"family":")" + family +
                                         R"("}],"identifier":[{"system":"urn:test","value":"n)" +
                                         std::to_string(i) + R"("}]})");
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id = IdOf(created.body);
    HttpResult found = HttpRequest(b->port(), "GET", "/Patient?family=" + family);
    ASSERT_EQ(found.status, 200) << found.body;
    EXPECT_NE(found.body.find("\"total\":1"), std::string::npos) << found.body;
    EXPECT_NE(found.body.find("\"id\":\"" + id + "\""), std::string::npos) << found.body;
    HttpResult by_token =
        HttpRequest(b->port(), "GET", "/Patient?identifier=urn:test%7Cn" + std::to_string(i));
    ASSERT_EQ(by_token.status, 200) << by_token.body;
    EXPECT_NE(by_token.body.find("\"id\":\"" + id + "\""), std::string::npos) << by_token.body;
  }
  // Changed on A: B finds the new name and no longer the old one.
  HttpResult renamed =
      HttpRequest(a->port(), "PUT", "/Patient/moving",
                  R"({"resourceType":"Patient","id":"moving","name":[{"family":"Before"}]})");
  ASSERT_EQ(renamed.status, 201) << renamed.body;
  ASSERT_EQ(HttpRequest(a->port(), "PUT", "/Patient/moving",
                        R"({"resourceType":"Patient","id":"moving","name":[{"family":"After"}]})")
                .status,
            200);
  HttpResult after = HttpRequest(b->port(), "GET", "/Patient?family=After&_id=moving");
  EXPECT_NE(after.body.find("\"total\":1"), std::string::npos) << after.body;
  HttpResult before = HttpRequest(b->port(), "GET", "/Patient?family=Before&_id=moving");
  EXPECT_NE(before.body.find("\"total\":0"), std::string::npos) << before.body;
  // Deleted on B: A no longer finds it.
  ASSERT_EQ(HttpRequest(b->port(), "DELETE", "/Patient/moving").status / 100, 2);
  HttpResult gone = HttpRequest(a->port(), "GET", "/Patient?_id=moving");
  EXPECT_NE(gone.body.find("\"total\":0"), std::string::npos) << gone.body;
  EXPECT_EQ(a->Stop(), 0);
  EXPECT_EQ(b->Stop(), 0);
}

// A transaction posted to node A, as node B sees it: one with a failing entry leaves nothing of
// its other entries; a successful one is there whole, references resolved; and while clients
// post transactions that set two resources to the same marker through A, searches on B (each one
// snapshot) never see the two differ.
TEST_F(PostgresNodesTest, ATransactionIsAtomicAsSeenFromTheOtherNode) {
  std::unique_ptr<ServerProcess> a = Node();
  std::unique_ptr<ServerProcess> b = Node();
  ASSERT_TRUE(a->ok());
  ASSERT_TRUE(b->ok());
  ASSERT_EQ(HttpRequest(a->port(), "PUT", "/Basic/kept",
                        R"({"resourceType":"Basic","id":"kept","code":{"text":"v1"}})")
                .status,
            201);

  // A stale ifMatch fails the whole transaction: the PUT and the POST before it are not on B.
  HttpResult failed = HttpRequest(a->port(), "POST", "/", R"({"resourceType":"Bundle",
    "type":"transaction","entry":[
    {"resource":{"resourceType":"Basic","id":"tx-new","code":{"text":"never"}},
     "request":{"method":"PUT","url":"Basic/tx-new"}},
    {"resource":{"resourceType":"Patient","name":[{"family":"Txnever"}]},
     "request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Basic","id":"kept","code":{"text":"v2"}},
     "request":{"method":"PUT","url":"Basic/kept","ifMatch":"W/\"7\""}}]})");
  EXPECT_EQ(failed.status, 412) << failed.body;
  EXPECT_EQ(HttpRequest(b->port(), "GET", "/Basic/tx-new").status, 404);
  HttpResult kept = HttpRequest(b->port(), "GET", "/Basic/kept");
  EXPECT_EQ(VersionOf(kept), 1);
  EXPECT_NE(kept.body.find("\"v1\""), std::string::npos) << kept.body;
  EXPECT_EQ(HttpRequest(b->port(), "GET", "/Basic/kept/_history").body.find("\"v2\""),
            std::string::npos);

  // A successful one: every entry at once on B, the urn:uuid reference resolved.
  HttpResult ok = HttpRequest(a->port(), "POST", "/", R"({"resourceType":"Bundle",
    "type":"transaction","entry":[
    {"fullUrl":"urn:uuid:0b6bc9a4-5c1f-4a84-9c63-1f3a2f3bd001",
     "resource":{"resourceType":"Patient","name":[{"family":"Txwhole"}]},
     "request":{"method":"POST","url":"Patient"}},
    {"resource":{"resourceType":"Observation","status":"final","code":{"text":"tx"},
       "subject":{"reference":"urn:uuid:0b6bc9a4-5c1f-4a84-9c63-1f3a2f3bd001"}},
     "request":{"method":"POST","url":"Observation"}},
    {"resource":{"resourceType":"Basic","id":"kept","code":{"text":"v2"}},
     "request":{"method":"PUT","url":"Basic/kept","ifMatch":"W/\"1\""}}]})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  HttpResult patient = HttpRequest(b->port(), "GET", "/Patient?family=Txwhole");
  EXPECT_NE(patient.body.find("\"total\":1"), std::string::npos) << patient.body;
  const std::string patient_id = IdOf(patient.body.substr(patient.body.find("\"resource\"")));
  ASSERT_FALSE(patient_id.empty()) << patient.body;
  HttpResult observation =
      HttpRequest(b->port(), "GET", "/Observation?subject=Patient/" + patient_id);
  EXPECT_NE(observation.body.find("\"total\":1"), std::string::npos) << observation.body;
  kept = HttpRequest(b->port(), "GET", "/Basic/kept");
  EXPECT_EQ(VersionOf(kept), 2);
  EXPECT_NE(kept.body.find("\"v2\""), std::string::npos) << kept.body;

  // Concurrent transactions through A, each setting Basic/pair-1 and pair-2 to one marker, while
  // a reader on B searches for both (one snapshot per search): the two markers always agree.
  std::atomic<bool> writing{true};
  std::atomic<int> committed{0}, write_errors{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 40; ++i) {
        const std::string m = "w" + std::to_string(w) + "-" + std::to_string(i);
        HttpResult r =
            HttpRequest(a->port(), "POST", "/",
                        R"({"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Basic","id":"pair-1","code":{"text":")" +
                            m + R"("}},"request":{"method":"PUT","url":"Basic/pair-1"}},
          {"resource":{"resourceType":"Basic","id":"pair-2","code":{"text":")" +
                            m + R"("}},"request":{"method":"PUT","url":"Basic/pair-2"}}]})");
        (r.status == 200 ? committed : write_errors)++;
      }
    });
  }
  int snapshots = 0, torn = 0, read_errors = 0;
  auto marker_of = [](const std::string& body, size_t from) {
    const std::string key = "\"text\":\"";
    size_t at = body.find(key, from);
    if (at == std::string::npos) return std::string();
    at += key.size();
    return body.substr(at, body.find('"', at) - at);
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::thread stopper([&] {
    for (std::thread& t : writers) t.join();
    writing = false;
  });
  for (int i = 0; i < 5000 && writing.load() && std::chrono::steady_clock::now() < deadline; ++i) {
    HttpResult r = HttpRequest(b->port(), "GET", "/Basic?_id=pair-1,pair-2");
    if (r.status != 200) {
      ++read_errors;
      continue;
    }
    size_t first = r.body.find("\"id\":\"pair-");
    size_t second = first == std::string::npos ? first : r.body.find("\"id\":\"pair-", first + 1);
    if (second == std::string::npos) continue;  // before the first transaction
    ++snapshots;
    // Each entry's code.text follows its id in the compact stored JSON.
    if (marker_of(r.body, first) != marker_of(r.body, second)) ++torn;
  }
  stopper.join();
  EXPECT_EQ(write_errors.load(), 0);
  EXPECT_EQ(committed.load(), 160);
  EXPECT_EQ(read_errors, 0);
  EXPECT_EQ(torn, 0) << "a search on B saw half of a transaction posted to A";
  EXPECT_GT(snapshots, 10);
  std::cout << snapshots << " searches on B during " << committed.load() << " transactions on A, "
            << torn << " torn\n";
  EXPECT_EQ(VersionOf(HttpRequest(b->port(), "GET", "/Basic/pair-1")), 160);
  EXPECT_EQ(VersionOf(HttpRequest(b->port(), "GET", "/Basic/pair-2")), 160);
  EXPECT_EQ(a->Stop(), 0);
  EXPECT_EQ(b->Stop(), 0);
}

TEST_F(PostgresNodesTest, CreatesAcknowledgedByAKilledNodeAreOnTheOther) {
  std::unique_ptr<ServerProcess> doomed = Node();
  std::unique_ptr<ServerProcess> survivor = Node();
  ASSERT_TRUE(doomed->ok());
  ASSERT_TRUE(survivor->ok());
  std::map<std::string, std::string> acked;  // id -> marker
  std::mutex mu;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 500 && !stop.load(); ++i) {  // bounded; the kill ends it sooner
        std::string marker = std::to_string(c) + "-" + std::to_string(i);
        HttpResult r =
            HttpRequest(doomed->port(), "POST", "/Basic",
                        R"({"resourceType":"Basic","code":{"text":")" + marker + "\"}}", {}, 5000);
        if (r.status == 201) {
          std::lock_guard lock(mu);
          acked[IdOf(r.body)] = marker;
        }
      }
    });
  }
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(mu);
      if (acked.size() >= 200) break;
    }
    usleep(20 * 1000);
  }
  doomed->Kill();
  stop = true;
  for (std::thread& t : clients) t.join();
  ASSERT_GT(acked.size(), 20u) << "too few writes before the kill to mean anything";
  int missing = 0;
  for (const auto& [id, marker] : acked) {
    HttpResult r = HttpRequest(survivor->port(), "GET", "/Basic/" + id);
    if (r.status != 200 || r.body.find("\"" + marker + "\"") == std::string::npos) ++missing;
  }
  std::cout << acked.size() << " creates acknowledged before kill -9; " << missing
            << " missing on the other node\n";
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(survivor->Stop(), 0);
}

}  // namespace
}  // namespace vesta::testing
