// Two `vesta serve` nodes on one PostgreSQL database (a throw-away cluster, test_cluster.h; the
// test skips when PostgreSQL is not installed): If-Match updates through both lose none, a write
// on one node is read at once on the other, and creates acknowledged by a node killed with
// SIGKILL are all there on the other.
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
        data_.path(), std::vector<std::string>{"--store", uri(), "--threads", "4",
                                               "--referential-integrity", "off"});
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
