// PostgreSQL-only behaviour of the PostgreSQL store: several stores ("nodes") on one database,
// the schema migrations and their refusal of a newer schema, and a server that goes away. The
// Store contract itself runs on both backends in store_contract_test.cc.
#include "store/postgres/postgres_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "postgres/connection.h"
#include "store/store_backends.h"

namespace vesta::store {
namespace {

constexpr Micros kT0 = 1795485179000000;  // 2026-11-24T01:52:59Z

WriteOp Update(std::string type, std::string id, int64_t expected, Micros at, std::string json) {
  WriteKind kind = expected == kExpectNone ? WriteKind::kCreate : WriteKind::kUpdate;
  return WriteOp{kind, std::move(type), std::move(id), expected, at, std::move(json)};
}

Result<int64_t> WriteOne(Store& store, const WriteOp& op) {
  auto written = store.Write(std::span<const WriteOp>(&op, 1));
  if (!written.ok()) return written.status();
  return written->at(0).version;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::string> uri = FreshPostgresUri();
    if (uri.status().code() == StatusCode::kNotFound) GTEST_SKIP() << uri.status().message();
    ASSERT_TRUE(uri.ok()) << uri.status().ToString();
    uri_ = *uri;
  }

  std::unique_ptr<Store> OpenStore(int pool_size = 4) {
    PostgresStoreOptions options;
    options.uri = uri_;
    options.pool_size = pool_size;
    auto store = OpenPostgresStore(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::string uri_;
};

// Two nodes on one database, eight threads doing compare-and-set updates of one resource, each
// thread through both nodes in turn: no update is lost, whichever node it went through.
TEST_F(PostgresStoreTest, TwoNodesLoseNoCompareAndSetUpdate) {
  // Both open at once: the migrations run under the advisory lock, once.
  std::unique_ptr<Store> nodes[2];
  {
    std::thread other([&] { nodes[1] = OpenStore(); });
    nodes[0] = OpenStore();
    other.join();
  }
  ASSERT_NE(nodes[0], nullptr);
  ASSERT_NE(nodes[1], nullptr);
  ASSERT_TRUE(WriteOne(*nodes[0], Update("Patient", "hot", kExpectNone, kT0, "0")).ok());

  constexpr int kThreads = 8;
  constexpr int kAttemptsPerThread = 60;  // a bound, successful or not
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::atomic<int> successes{0};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAttemptsPerThread && std::chrono::steady_clock::now() < deadline; ++i) {
        Store& node = *nodes[(t + i) % 2];
        auto current = node.Read("Patient", "hot");
        if (!current.ok()) {
          ++unexpected;
          return;
        }
        std::string next = std::to_string(std::stoll(current->json) + 1);
        auto written = WriteOne(node, Update("Patient", "hot", current->version, kT0 + 1, next));
        if (written.ok()) {
          ++successes;
        } else if (written.status().code() != StatusCode::kConflict ||
                   written.status().message().find("Patient/hot") == std::string::npos) {
          ++unexpected;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GT(successes.load(), 0);
  for (auto& node : nodes) {
    auto final_version = node->Read("Patient", "hot");
    ASSERT_TRUE(final_version.ok());
    EXPECT_EQ(final_version->version, successes.load() + 1);
    EXPECT_EQ(final_version->json, std::to_string(successes.load()));
  }
  HistoryQuery q;
  q.type = "Patient";
  q.id = "hot";
  q.count = 1;
  EXPECT_EQ(nodes[1]->History(q)->total, successes.load() + 1);
}

// Seqs are taken at insert, not at commit: a transaction holding seq N can commit after seq
// N + 1 was read. The change feed lists it on a later page all the same, and exactly once.
TEST_F(PostgresStoreTest, ChangeFeedListsARowThatCommitsAfterALargerSeq) {
  std::unique_ptr<Store> store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto raw = postgres::Connection::Open(uri_, {});
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  postgres::Connection& late = **raw;
  // The write a slow node would make: a transaction id, then a seq; not committed yet.
  ASSERT_TRUE(late.Begin(postgres::Isolation::kReadCommitted).ok());
  ASSERT_TRUE(late.Query("SELECT pg_current_xact_id()", {}).ok());
  ASSERT_TRUE(late.Query("INSERT INTO resource (type, id, version, last_updated, deleted, json)"
                         " VALUES ('Basic', 'late', 1, $1::int8, 0, '\\x7b7d'::bytea)",
                         {kT0})
                  .ok());
  ASSERT_TRUE(WriteOne(*store, Update("Basic", "early", kExpectNone, kT0, "{}")).ok());

  auto first = store->Changes(ChangeQuery{});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->versions.size(), 1u);
  EXPECT_EQ(first->versions[0].id, "early");

  ASSERT_TRUE(late.Commit().ok());
  auto second = store->Changes(ChangeQuery{first->next, {}, 10});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_EQ(second->versions.size(), 1u);
  EXPECT_EQ(second->versions[0].id, "late");
  auto third = store->Changes(ChangeQuery{second->next, {}, 10});
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->versions.empty());
  EXPECT_TRUE(store->Close().ok());
}

TEST_F(PostgresStoreTest, RecordsTheMigrationsAndRefusesANewerSchema) {
  ASSERT_NE(OpenStore(), nullptr);
  auto db = postgres::Connection::Open(uri_, {});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto rows = (*db)->Query("SELECT version, name FROM schema_version ORDER BY version");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_GE(rows->size(), 1);
  EXPECT_EQ(rows->Int(0, 0), 1);
  EXPECT_EQ(rows->Text(0, 1), "001_initial");

  ASSERT_TRUE((*db)->Exec("INSERT INTO schema_version VALUES (999, '999_future', 0)").ok());
  PostgresStoreOptions options;
  options.uri = uri_;
  auto refused = OpenPostgresStore(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("schema version 999"), std::string::npos)
      << refused.status().message();
  // The advisory lock was given back: the next open does not wait for it.
  ASSERT_TRUE((*db)->Exec("DELETE FROM schema_version WHERE version = 999").ok());
  EXPECT_NE(OpenStore(), nullptr);
}

TEST_F(PostgresStoreTest, RefusesSynchronousCommitOff) {
  PostgresStoreOptions options;
  options.uri = uri_ + "%20-csynchronous_commit%3Doff";  // appended to the URI's options
  auto refused = OpenPostgresStore(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalid);
  EXPECT_NE(refused.status().message().find("synchronous_commit"), std::string::npos);
}

TEST_F(PostgresStoreTest, EmptyUriIsInvalid) {
  EXPECT_EQ(OpenPostgresStore(PostgresStoreOptions{}).status().code(), StatusCode::kInvalid);
}

// The server stops: calls fail with kUnavailable (the REST layer's 503), none hangs; once it is
// back, the same store serves again without being reopened.
TEST_F(PostgresStoreTest, AServerThatGoesAwayIsUnavailableThenServesAgain) {
  std::unique_ptr<Store> store = OpenStore(2);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(WriteOne(*store, Update("Patient", "p", kExpectNone, kT0, "{}")).ok());
  auto cluster = SharedTestCluster();
  ASSERT_TRUE(cluster.ok());
  ASSERT_TRUE((*cluster)->Stop().ok());
  EXPECT_EQ(store->Read("Patient", "p").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(WriteOne(*store, Update("Patient", "p", 1, kT0 + 1, "{}")).status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(store->History(HistoryQuery{}).status().code(), StatusCode::kUnavailable);
  Status restarted = (*cluster)->Restart();
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  // The first call on a connection the restart closed may still fail; a bounded few retries.
  Result<int64_t> written = Status(StatusCode::kUnavailable, "not tried");
  for (int i = 0; i < 5 && !written.ok(); ++i) {
    written = WriteOne(*store, Update("Patient", "p", 1, kT0 + 1, R"({"v":2})"));
  }
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, 2);
  EXPECT_EQ(store->Read("Patient", "p")->json, R"({"v":2})");
}

}  // namespace
}  // namespace vesta::store
