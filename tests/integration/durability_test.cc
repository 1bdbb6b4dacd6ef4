// Durability and concurrency against the real server:
// - kill -9 during a stream of creates, restart, and every acknowledged write is there;
// - many clients update one resource with If-Match: exactly one wins each version, none is lost.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "integration/test_server.h"
#include "json/parse.h"

namespace vesta::testing {
namespace {

std::string IdOf(const std::string& body) {
  auto doc = json::Parse(body);
  return doc.ok() ? std::string(doc->root().FindString("id")) : "";
}

TEST(DurabilityTest, AcknowledgedCreatesSurviveKill9) {
  TempDir data;
  std::map<std::string, std::string> acked;  // id -> the marker it was created with
  std::mutex mu;
  {
    ServerProcess server(data.path());
    ASSERT_TRUE(server.ok());
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
      clients.emplace_back([&, c] {
        // Bounded: at most 2,000 creates per client, and the kill below ends it sooner.
        for (int i = 0; i < 2000 && !stop.load(); ++i) {
          std::string marker = std::to_string(c) + "-" + std::to_string(i);
          HttpResult r = HttpRequest(
              server.port(), "POST", "/Basic",
              R"({"resourceType":"Basic","code":{"text":")" + marker + "\"}}", {}, 5000);
          if (r.status == 201) {
            std::lock_guard lock(mu);
            acked[IdOf(r.body)] = marker;
          }
        }
      });
    }
    // Let writes flow, then kill the server without warning while clients are mid-request.
    for (int i = 0; i < 100; ++i) {
      {
        std::lock_guard lock(mu);
        if (acked.size() >= 300) break;
      }
      usleep(20 * 1000);
    }
    server.Kill();
    stop = true;
    for (std::thread& t : clients) t.join();
  }
  ASSERT_GT(acked.size(), 50u) << "too few writes before the kill to mean anything";
  ServerProcess restarted(data.path());
  ASSERT_TRUE(restarted.ok()) << "the server did not restart on the crashed store";
  int missing = 0;
  for (const auto& [id, marker] : acked) {
    HttpResult r = HttpRequest(restarted.port(), "GET", "/Basic/" + id);
    if (r.status != 200 || r.body.find("\"" + marker + "\"") == std::string::npos) ++missing;
  }
  std::cout << acked.size() << " acknowledged creates before kill -9; " << missing
            << " missing after restart\n";
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(restarted.Stop(), 0);
}

TEST(ConcurrencyTest, IfMatchUpdatesNeverLoseOne) {
  TempDir data;
  ServerProcess server(data.path());
  ASSERT_TRUE(server.ok());
  ASSERT_EQ(HttpRequest(server.port(), "PUT", "/Basic/contended",
                        R"({"resourceType":"Basic","id":"contended","code":{"text":"start"}})")
                .status,
            201);
  constexpr int kClients = 16;
  constexpr int kTargetVersion = 200;
  std::mutex mu;
  std::map<int64_t, std::string> winners;  // version -> marker of the client that made it
  std::atomic<int> preconditions_failed{0}, other_errors{0};
  std::vector<std::thread> clients;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 1000 && std::chrono::steady_clock::now() < deadline; ++i) {
        HttpResult cur = HttpRequest(server.port(), "GET", "/Basic/contended");
        std::string etag = cur.Header("ETag");  // W/"N"
        int64_t version = std::atoll(etag.c_str() + 3);
        if (version >= kTargetVersion) return;
        std::string marker = "c" + std::to_string(c) + "-" + std::to_string(i);
        HttpResult r = HttpRequest(
            server.port(), "PUT", "/Basic/contended",
            R"({"resourceType":"Basic","id":"contended","code":{"text":")" + marker + "\"}}",
            {{"If-Match", etag}});
        if (r.status == 200) {
          int64_t made = std::atoll(r.Header("ETag").c_str() + 3);
          std::lock_guard lock(mu);
          EXPECT_EQ(made, version + 1);
          EXPECT_TRUE(winners.emplace(made, marker).second) << "two winners for version " << made;
        } else if (r.status == 412) {
          ++preconditions_failed;
        } else {
          ++other_errors;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_GT(preconditions_failed.load(), 0) << "no contention happened";
  // Every version 2..N was won exactly once, and history holds each winner's content.
  ASSERT_FALSE(winners.empty());
  int64_t last = winners.rbegin()->first;
  EXPECT_EQ(static_cast<int64_t>(winners.size()), last - 1);
  for (const auto& [version, marker] : winners) {
    HttpResult v =
        HttpRequest(server.port(), "GET", "/Basic/contended/_history/" + std::to_string(version));
    ASSERT_EQ(v.status, 200);
    EXPECT_NE(v.body.find("\"" + marker + "\""), std::string::npos) << "version " << version;
  }
  std::cout << winners.size() << " updates won, " << preconditions_failed.load()
            << " refused with 412\n";
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace vesta::testing
