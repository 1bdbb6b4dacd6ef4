// The Store contract (store/store.h), one suite run on every backend built: SQLite, and
// PostgreSQL when its store is built and the server installed (store_backends.h). ctest runs it
// once per backend (store_contract_test.sqlite, store_contract_test.postgres). Backend-specific
// behaviour (SQLite's log syncs, read cache, checkpoints, write hooks) is tested in
// sqlite_store_test.cc and postgres_store_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/audit_chain.h"
#include "store/store.h"
#include "store/store_backends.h"

namespace vesta::store {
namespace {

constexpr Micros kT0 = 1795485179000000;  // 2026-11-24T01:52:59Z

WriteOp Create(std::string type, std::string id, Micros at, std::string json) {
  return WriteOp{WriteKind::kCreate, std::move(type), std::move(id), kExpectNone, at,
                 std::move(json)};
}
WriteOp Update(std::string type, std::string id, int64_t expected, Micros at, std::string json) {
  return WriteOp{WriteKind::kUpdate, std::move(type), std::move(id), expected, at, std::move(json)};
}
WriteOp Delete(std::string type, std::string id, int64_t expected, Micros at) {
  return WriteOp{WriteKind::kDelete, std::move(type), std::move(id), expected, at, ""};
}

class StoreContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      backend_ = std::make_unique<SqliteBackend>();
    } else {
#ifdef VESTA_STORE_POSTGRES
      Result<std::string> uri = FreshPostgresUri();
      if (uri.status().code() == StatusCode::kNotFound) GTEST_SKIP() << uri.status().message();
      ASSERT_TRUE(uri.ok()) << uri.status().ToString();
      backend_ = std::make_unique<PostgresBackend>(*uri);
#endif
    }
    ASSERT_NE(backend_, nullptr);
    Open();
  }
  void TearDown() override {
    if (store_ != nullptr) {
      EXPECT_TRUE(store_->Close().ok());
    }
  }

  void Open() {
    auto store = backend_->Open();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  // One op per call; returns the new version or the failure.
  Result<int64_t> WriteOne(const WriteOp& op) {
    auto written = store_->Write(std::span<const WriteOp>(&op, 1));
    if (!written.ok()) return written.status();
    return written->at(0).version;
  }

  // "Type/id/version" of each entry, newest first.
  static std::vector<std::string> Names(const HistoryPage& page) {
    std::vector<std::string> out;
    for (const HistoryEntry& e : page.entries) {
      out.push_back(e.version.type + "/" + e.version.id + "/" + std::to_string(e.version.version));
    }
    return out;
  }

  // Every entry of a history query, fetched page by page. The number of pages is bounded.
  std::vector<std::string> AllPages(HistoryQuery query, int64_t* total = nullptr) {
    std::vector<std::string> out;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = store_->History(query);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      if (total != nullptr) *total = page->total;
      for (const std::string& n : Names(*page)) out.push_back(n);
      if (!page->has_more) break;
      EXPECT_EQ(static_cast<int>(page->entries.size()), query.count);
      query.after = page->entries.back().cursor;
    }
    return out;
  }

  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContractTest, CreateReadUpdateDeleteAndVread) {
  ASSERT_EQ(*WriteOne(Create("Patient", "p1", kT0, R"({"resourceType":"Patient","n":1.50})")), 1);

  auto read = store_->Read("Patient", "p1");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->type, "Patient");
  EXPECT_EQ(read->id, "p1");
  EXPECT_EQ(read->version, 1);
  EXPECT_EQ(read->last_updated, kT0);
  EXPECT_FALSE(read->deleted);
  EXPECT_EQ(read->json, R"({"resourceType":"Patient","n":1.50})");  // bytes kept exactly

  ASSERT_EQ(*WriteOne(Update("Patient", "p1", 1, kT0 + 10, R"({"v":2})")), 2);
  ASSERT_EQ(*WriteOne(Delete("Patient", "p1", 2, kT0 + 20)), 3);

  read = store_->Read("Patient", "p1");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->version, 3);
  EXPECT_TRUE(read->deleted);
  EXPECT_EQ(read->json, "");
  EXPECT_EQ(read->last_updated, kT0 + 20);

  auto v1 = store_->ReadVersion("Patient", "p1", 1);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->json, R"({"resourceType":"Patient","n":1.50})");
  auto v2 = store_->ReadVersion("Patient", "p1", 2);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->json, R"({"v":2})");
  EXPECT_EQ(v2->last_updated, kT0 + 10);

  EXPECT_EQ(store_->ReadVersion("Patient", "p1", 4).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Read("Patient", "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Read("Observation", "p1").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, KeepsEveryByteOfTheJson) {
  // Bytes as sent, not re-encoded: escapes, non-ASCII, spacing, a trailing newline.
  const std::string json = "{\"a\" : \"\\u00e9\xc3\xa9\\\"\\\\\\t\",\n  \"n\":1.50e0}\n";
  ASSERT_EQ(*WriteOne(Create("Basic", "b", kT0, json)), 1);
  EXPECT_EQ(store_->Read("Basic", "b")->json, json);
  EXPECT_EQ(store_->ReadVersion("Basic", "b", 1)->json, json);
}

TEST_P(StoreContractTest, CompareAndSetConflictsNameTheResource) {
  ASSERT_TRUE(WriteOne(Create("Patient", "p1", kT0, "{}")).ok());

  auto again = WriteOne(Create("Patient", "p1", kT0, "{}"));
  EXPECT_EQ(again.status().code(), StatusCode::kConflict);
  EXPECT_NE(again.status().message().find("Patient/p1"), std::string::npos);

  auto stale = WriteOne(Update("Patient", "p1", 2, kT0, "{}"));
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_NE(stale.status().message().find("Patient/p1"), std::string::npos);

  auto missing = WriteOne(Update("Patient", "p2", 1, kT0, "{}"));
  EXPECT_EQ(missing.status().code(), StatusCode::kConflict);
  EXPECT_NE(missing.status().message().find("Patient/p2"), std::string::npos);

  // Update-as-create: an update expecting nothing makes version 1.
  EXPECT_EQ(*WriteOne(Update("Patient", "p3", kExpectNone, kT0, "{}")), 1);
  EXPECT_EQ(store_->Read("Patient", "p1")->version, 1);
}

TEST_P(StoreContractTest, UpdateAfterDeleteContinuesTheVersions) {
  ASSERT_TRUE(WriteOne(Create("Patient", "p1", kT0, "{}")).ok());
  ASSERT_EQ(*WriteOne(Delete("Patient", "p1", 1, kT0 + 1)), 2);
  // A deleted resource still exists for kExpectNone: it cannot be created afresh.
  EXPECT_EQ(WriteOne(Create("Patient", "p1", kT0 + 2, "{}")).status().code(),
            StatusCode::kConflict);
  ASSERT_EQ(*WriteOne(Update("Patient", "p1", 2, kT0 + 3, R"({"back":true})")), 3);
  auto read = store_->Read("Patient", "p1");
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read->deleted);
  EXPECT_EQ(read->version, 3);
  EXPECT_EQ(read->json, R"({"back":true})");
  EXPECT_TRUE(store_->ReadVersion("Patient", "p1", 2)->deleted);
}

TEST_P(StoreContractTest, RejectsMalformedOpsWithoutWriting) {
  EXPECT_EQ(WriteOne(Create("", "p1", kT0, "{}")).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(WriteOne(Create("Patient", "p1", kT0, "")).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(WriteOne(Update("Patient", "p1", 1, kT0, "")).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(WriteOne(Delete("Patient", "p1", kExpectNone, kT0)).status().code(),
            StatusCode::kInvalid);
  WriteOp create_expecting = Create("Patient", "p1", kT0, "{}");
  create_expecting.expected_version = 3;
  EXPECT_EQ(WriteOne(create_expecting).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(store_->Read("Patient", "p1").status().code(), StatusCode::kNotFound);
  auto empty = store_->Write({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_P(StoreContractTest, AllOpsOfOneCallAreAtomic) {
  ASSERT_TRUE(WriteOne(Create("Patient", "exists", kT0, "{}")).ok());
  std::vector<WriteOp> ops = {
      Create("Patient", "a", kT0 + 1, "{}"),
      Update("Patient", "exists", 1, kT0 + 1, R"({"changed":true})"),
      Create("Patient", "exists", kT0 + 1, "{}"),  // fails: already there
  };
  auto written = store_->Write(ops);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.status().code(), StatusCode::kConflict);
  EXPECT_EQ(store_->Read("Patient", "a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Read("Patient", "exists")->version, 1);
  EXPECT_EQ(store_->Read("Patient", "exists")->json, "{}");

  // Ops see the earlier ops of the same call.
  ops = {Create("Patient", "b", kT0 + 2, "{}"), Update("Patient", "b", 1, kT0 + 2, "{}"),
         Delete("Patient", "b", 2, kT0 + 2)};
  written = store_->Write(ops);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->size(), 3u);
  EXPECT_EQ((*written)[0].version, 1);
  EXPECT_EQ((*written)[1].version, 2);
  EXPECT_EQ((*written)[2].version, 3);
}

// Six versions, two of them at each of three instants:
//   Patient/a/1 @100   Patient/b/1 @100
//   Patient/a/2 @200   Observation/o/1 @200
//   Patient/b/2 @300 (deleted)   Patient/a/3 @300
class HistoryContractTest : public StoreContractTest {
 protected:
  void SetUp() override {
    StoreContractTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::vector<std::vector<WriteOp>> calls = {
        {Create("Patient", "a", 100, "{}")},
        {Create("Patient", "b", 100, "{}")},
        {Update("Patient", "a", 1, 200, "{}"), Create("Observation", "o", 200, "{}")},
        {Delete("Patient", "b", 1, 300)},
        {Update("Patient", "a", 2, 300, "{}")},
    };
    for (const auto& ops : calls) ASSERT_TRUE(store_->Write(ops).ok());
  }

  static HistoryQuery Query(std::string type = "", std::string id = "", int count = 50) {
    HistoryQuery q;
    q.type = std::move(type);
    q.id = std::move(id);
    q.count = count;
    return q;
  }
};

TEST_P(HistoryContractTest, ThreeLevelsNewestFirst) {
  auto system = store_->History(Query());
  ASSERT_TRUE(system.ok()) << system.status().ToString();
  EXPECT_EQ(Names(*system),
            (std::vector<std::string>{"Patient/a/3", "Patient/b/2", "Observation/o/1",
                                      "Patient/a/2", "Patient/b/1", "Patient/a/1"}));
  EXPECT_EQ(system->total, 6);
  EXPECT_FALSE(system->has_more);
  EXPECT_TRUE(system->entries[1].version.deleted);

  auto type = store_->History(Query("Patient"));
  ASSERT_TRUE(type.ok());
  EXPECT_EQ(Names(*type), (std::vector<std::string>{"Patient/a/3", "Patient/b/2", "Patient/a/2",
                                                    "Patient/b/1", "Patient/a/1"}));
  EXPECT_EQ(type->total, 5);

  auto instance = store_->History(Query("Patient", "a"));
  ASSERT_TRUE(instance.ok());
  EXPECT_EQ(Names(*instance),
            (std::vector<std::string>{"Patient/a/3", "Patient/a/2", "Patient/a/1"}));
  EXPECT_EQ(instance->total, 3);

  EXPECT_EQ(store_->History(Query("Patient", "zzz"))->total, 0);
  EXPECT_EQ(store_->History(Query("", "a")).status().code(), StatusCode::kInvalid);
  EXPECT_EQ(store_->History(Query("", "", 0)).status().code(), StatusCode::kInvalid);
}

TEST_P(HistoryContractTest, PagesAcrossEqualTimestamps) {
  int64_t total = 0;
  EXPECT_EQ(AllPages(Query("", "", 1), &total),
            (std::vector<std::string>{"Patient/a/3", "Patient/b/2", "Observation/o/1",
                                      "Patient/a/2", "Patient/b/1", "Patient/a/1"}));
  EXPECT_EQ(total, 6);
  EXPECT_EQ(AllPages(Query("", "", 4)).size(), 6u);
  EXPECT_EQ(AllPages(Query("Patient", "", 2), &total),
            (std::vector<std::string>{"Patient/a/3", "Patient/b/2", "Patient/a/2", "Patient/b/1",
                                      "Patient/a/1"}));
  EXPECT_EQ(total, 5);
  EXPECT_EQ(AllPages(Query("Patient", "a", 2)),
            (std::vector<std::string>{"Patient/a/3", "Patient/a/2", "Patient/a/1"}));

  auto first = store_->History(Query("", "", 2));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->has_more);
  EXPECT_EQ(first->total, 6);  // the total counts every page
  // The cursor's sequence is what orders equal timestamps: newer rows have larger sequences.
  EXPECT_EQ(first->entries[0].cursor.last_updated, 300);
  EXPECT_GT(first->entries[0].cursor.seq, first->entries[1].cursor.seq);
}

TEST_P(HistoryContractTest, Since) {
  HistoryQuery q = Query();
  q.since = 200;
  auto page = store_->History(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Names(*page), (std::vector<std::string>{"Patient/a/3", "Patient/b/2", "Observation/o/1",
                                                    "Patient/a/2"}));
  EXPECT_EQ(page->total, 4);
  q.since = 301;
  EXPECT_EQ(store_->History(q)->total, 0);
  q = Query("Patient", "b");
  q.since = 101;
  EXPECT_EQ(Names(*store_->History(q)), std::vector<std::string>{"Patient/b/2"});
}

TEST_P(HistoryContractTest, AtSelectsTheVersionsCurrentInTheRange) {
  auto at = [&](Micros low, Micros high, std::string type = "") {
    HistoryQuery q = Query(std::move(type));
    q.at = std::make_pair(low, high);
    auto page = store_->History(q);
    EXPECT_TRUE(page.ok());
    EXPECT_EQ(page->total, static_cast<int64_t>(page->entries.size()));
    return Names(*page);
  };
  EXPECT_EQ(at(0, 99), std::vector<std::string>{});
  EXPECT_EQ(at(150, 150), (std::vector<std::string>{"Patient/b/1", "Patient/a/1"}));
  // A version is current from its lastUpdated up to (not including) the next version's.
  EXPECT_EQ(at(200, 200),
            (std::vector<std::string>{"Observation/o/1", "Patient/a/2", "Patient/b/1"}));
  EXPECT_EQ(at(300, 1000),
            (std::vector<std::string>{"Patient/a/3", "Patient/b/2", "Observation/o/1"}));
  // A range overlapping several versions returns each of them.
  EXPECT_EQ(at(150, 250, "Patient"),
            (std::vector<std::string>{"Patient/a/2", "Patient/b/1", "Patient/a/1"}));
  // _at and _since together, and a cursor with both.
  HistoryQuery q = Query("Patient", "", 1);
  q.at = std::make_pair(150, 250);
  q.since = 150;
  EXPECT_EQ(AllPages(q), std::vector<std::string>{"Patient/a/2"});
}

// The change feed (Store::Changes): current versions in commit order, deletes included, a
// superseded version left out, a type filter, pages, and a position that carries on where a page
// ended (re-reading from an old position lists the versions again).
TEST_P(StoreContractTest, ChangeFeedListsCurrentVersionsInCommitOrder) {
  auto names = [](const ChangePage& page) {
    std::vector<std::string> out;
    for (const StoredVersion& v : page.versions) {
      out.push_back(v.type + "/" + v.id + "/" + std::to_string(v.version) +
                    (v.deleted ? " deleted" : ""));
    }
    return out;
  };
  ASSERT_TRUE(WriteOne(Create("Patient", "a", kT0, R"({"n":1})")).ok());
  ASSERT_TRUE(WriteOne(Create("Patient", "b", kT0 + 1, R"({"n":2})")).ok());
  ASSERT_TRUE(WriteOne(Create("Basic", "c", kT0 + 2, R"({"n":3})")).ok());
  ASSERT_TRUE(WriteOne(Update("Patient", "a", 1, kT0 + 3, R"({"n":4})")).ok());
  ASSERT_TRUE(WriteOne(Delete("Patient", "b", 1, kT0 + 4)).ok());

  auto all = store_->Changes(ChangeQuery{});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(names(*all),
            (std::vector<std::string>{"Basic/c/1", "Patient/a/2", "Patient/b/2 deleted"}));
  EXPECT_FALSE(all->has_more);
  EXPECT_EQ(all->versions[1].json, R"({"n":4})");

  auto patients = store_->Changes(ChangeQuery{"", {"Patient"}, 1});
  ASSERT_TRUE(patients.ok());
  EXPECT_EQ(names(*patients), (std::vector<std::string>{"Patient/a/2"}));
  EXPECT_TRUE(patients->has_more);
  auto rest = store_->Changes(ChangeQuery{patients->next, {"Patient"}, 10});
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(names(*rest), (std::vector<std::string>{"Patient/b/2 deleted"}));
  EXPECT_FALSE(rest->has_more);

  // Nothing new: an empty page; then a new write and only it.
  auto none = store_->Changes(ChangeQuery{all->next, {}, 10});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->versions.empty());
  ASSERT_TRUE(WriteOne(Create("Patient", "d", kT0 + 5, R"({"n":5})")).ok());
  auto next = store_->Changes(ChangeQuery{none->next, {}, 10});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(names(*next), (std::vector<std::string>{"Patient/d/1"}));
  // A position read again lists its versions again.
  auto again = store_->Changes(ChangeQuery{none->next, {}, 10});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(names(*again), names(*next));
  // Positions survive a reopen.
  ASSERT_TRUE(store_->Close().ok());
  Open();
  auto reopened = store_->Changes(ChangeQuery{next->next, {}, 10});
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE(reopened->versions.empty());

  EXPECT_EQ(store_->Changes(ChangeQuery{"not a position", {}, 10}).status().code(),
            StatusCode::kInvalid);
}

TEST_P(StoreContractTest, PagesThroughManyEqualTimestamps) {
  std::vector<WriteOp> ops;
  for (int i = 0; i < 25; ++i) ops.push_back(Create("Patient", "p" + std::to_string(i), kT0, "{}"));
  ASSERT_TRUE(store_->Write(ops).ok());
  HistoryQuery q;
  q.type = "Patient";
  q.count = 4;
  int64_t total = 0;
  std::vector<std::string> all = AllPages(q, &total);
  EXPECT_EQ(total, 25);
  ASSERT_EQ(all.size(), 25u);
  // Newest first means the reverse of the write order, since all share one instant.
  for (int i = 0; i < 25; ++i) EXPECT_EQ(all[i], "Patient/p" + std::to_string(24 - i) + "/1");
}

TEST_P(StoreContractTest, ReopenFindsEverything) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(WriteOne(Create("Patient", "p" + std::to_string(i), kT0 + i, "{}")).ok());
  }
  ASSERT_TRUE(WriteOne(Update("Patient", "p3", 1, kT0 + 20, R"({"v":2})")).ok());
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  Open();  // the schema is there: no migration runs again
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(store_->Read("Patient", "p" + std::to_string(i)).ok()) << i;
  }
  EXPECT_EQ(store_->Read("Patient", "p3")->json, R"({"v":2})");
  EXPECT_EQ(store_->History(HistoryQuery{})->total, 11);
}

TEST_P(StoreContractTest, CallsAfterCloseAreUnavailable) {
  ASSERT_TRUE(WriteOne(Create("Patient", "p1", kT0, "{}")).ok());
  ASSERT_TRUE(store_->Close().ok());
  EXPECT_TRUE(store_->Close().ok());  // idempotent
  EXPECT_EQ(store_->Read("Patient", "p1").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_->ReadVersion("Patient", "p1", 1).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(WriteOne(Create("Patient", "p2", kT0, "{}")).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_->History(HistoryQuery{}).status().code(), StatusCode::kUnavailable);
}

// Many threads updating one resource, each reading the current version and writing the next:
// every version is taken exactly once and no update is lost.
TEST_P(StoreContractTest, ConcurrentCompareAndSetTakesEachVersionOnce) {
  ASSERT_TRUE(WriteOne(Create("Patient", "hot", kT0, "0")).ok());
  constexpr int kThreads = 8;
  constexpr int kUpdatesPerThread = 40;
  // Bounds, not expectations: a thread that runs out of attempts or time fails the count below.
  constexpr int kMaxAttemptsPerThread = kUpdatesPerThread * 100;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::mutex mu;
  std::vector<int64_t> versions;
  std::atomic<int> unexpected_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      int done = 0;
      for (int attempt = 0; attempt < kMaxAttemptsPerThread && done < kUpdatesPerThread &&
                            std::chrono::steady_clock::now() < deadline;
           ++attempt) {
        auto current = store_->Read("Patient", "hot");
        if (!current.ok()) {
          ++unexpected_errors;
          return;
        }
        std::string next = std::to_string(std::stoll(current->json) + 1);
        auto written = WriteOne(Update("Patient", "hot", current->version, kT0 + 1, next));
        if (written.ok()) {
          ++done;
          std::lock_guard lock(mu);
          versions.push_back(*written);
        } else if (written.status().code() != StatusCode::kConflict) {
          ++unexpected_errors;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected_errors.load(), 0);
  constexpr int kTotal = kThreads * kUpdatesPerThread;
  ASSERT_EQ(static_cast<int>(versions.size()), kTotal);
  std::sort(versions.begin(), versions.end());
  for (int i = 0; i < kTotal; ++i) ASSERT_EQ(versions[i], i + 2);  // version 1 was the create
  auto final_version = store_->Read("Patient", "hot");
  ASSERT_TRUE(final_version.ok());
  EXPECT_EQ(final_version->version, kTotal + 1);
  EXPECT_EQ(final_version->json, std::to_string(kTotal));
}

// Concurrent creates: distinct ids all land; a contested id is created exactly once.
TEST_P(StoreContractTest, ConcurrentCreates) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20;
  std::atomic<int> contested_wins{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!WriteOne(Create("Patient", id, kT0 + i, "{}")).ok()) ++failures;
        auto contested =
            WriteOne(Create("Patient", "shared" + std::to_string(i), kT0 + i, std::to_string(t)));
        if (contested.ok()) {
          ++contested_wins;
        } else if (contested.status().code() != StatusCode::kConflict) {
          ++failures;
        } else if (contested.status().message().find("Patient/shared") == std::string::npos) {
          ++failures;  // a conflict names the resource
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(contested_wins.load(), kPerThread);
  HistoryQuery q;
  q.type = "Patient";
  q.count = 1;
  EXPECT_EQ(store_->History(q)->total, kThreads * kPerThread + kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      EXPECT_TRUE(store_->Read("Patient", "t" + std::to_string(t) + "-" + std::to_string(i)).ok());
    }
  }
}

// ---- The audit trail (store.h, AppendAudit and ReadAudit) ------------------------------------

std::vector<AuditAppend> AuditRecords(const std::string& prefix, int n, Micros at) {
  std::vector<AuditAppend> out;
  for (int i = 0; i < n; ++i) {
    AuditAppend a;
    a.recorded = at + i;
    a.record = R"({"resourceType":"AuditEvent","n":")" + prefix + std::to_string(i) + "\"}";
    out.push_back(std::move(a));
  }
  return out;
}

// Every record of the chain, read in pages of `page`.
std::vector<AuditEntry> ReadWholeChain(Store& store, int page = 7) {
  std::vector<AuditEntry> out;
  for (int pages = 0; pages < 10000; ++pages) {
    auto entries = store.ReadAudit(out.empty() ? 0 : out.back().seq, page);
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    if (!entries.ok() || entries->empty()) break;
    EXPECT_LE(static_cast<int>(entries->size()), page);
    for (AuditEntry& e : *entries) out.push_back(std::move(e));
  }
  return out;
}

// Sequence numbers 1, 2, 3... and every hash chained to the one before.
void ExpectOneChain(const std::vector<AuditEntry>& chain) {
  std::string previous(kAuditGenesisHash);
  for (size_t i = 0; i < chain.size(); ++i) {
    ASSERT_EQ(chain[i].seq, static_cast<int64_t>(i + 1));
    ASSERT_EQ(chain[i].previous_hash, previous) << "seq " << chain[i].seq;
    ASSERT_EQ(chain[i].hash, AuditChainHash(previous, chain[i].record)) << "seq " << chain[i].seq;
    previous = chain[i].hash;
  }
}

TEST_P(StoreContractTest, AuditRecordsAreChainedInOrder) {
  EXPECT_TRUE(store_->ReadAudit(0, 10)->empty());
  std::vector<AuditAppend> first = AuditRecords("a", 3, kT0);
  ASSERT_TRUE(store_->AppendAudit(first).ok());
  ASSERT_TRUE(store_->AppendAudit(AuditRecords("b", 2, kT0 + 100)).ok());
  ASSERT_TRUE(store_->AppendAudit({}).ok());  // nothing to append

  std::vector<AuditEntry> chain = ReadWholeChain(*store_, 2);
  ASSERT_EQ(chain.size(), 5u);
  ExpectOneChain(chain);
  EXPECT_EQ(chain[0].record, first[0].record);  // bytes kept exactly
  EXPECT_EQ(chain[0].recorded, kT0);
  EXPECT_EQ(chain[0].previous_hash, kAuditGenesisHash);
  EXPECT_EQ(chain[4].recorded, kT0 + 101);
  EXPECT_EQ(chain[4].record, R"({"resourceType":"AuditEvent","n":"b1"})");

  auto middle = store_->ReadAudit(2, 2);
  ASSERT_TRUE(middle.ok());
  ASSERT_EQ(middle->size(), 2u);
  EXPECT_EQ((*middle)[0].seq, 3);
  EXPECT_EQ((*middle)[1].seq, 4);
  EXPECT_TRUE(store_->ReadAudit(5, 10)->empty());
  EXPECT_EQ(store_->ReadAudit(0, 0).status().code(), StatusCode::kInvalid);
}

// SearchAudit: by date range, patient, user, resource and outcome, newest first, in pages.
TEST_P(StoreContractTest, AuditRecordsAreSearchedByTheirFields) {
  std::vector<AuditAppend> records = AuditRecords("s", 6, kT0);
  const char* patients[] = {"p1", "p2", "p1", "", "p1", "p2"};
  const char* agents[] = {"Practitioner/7", "Practitioner/7", "Patient/p1", "",
                          "Practitioner/8", "Practitioner/7"};
  const char* entities[] = {"Condition/c1",   "Patient/p2", "Condition/c1", "",
                            "Observation/o1", "Patient/p2"};
  const int outcomes[] = {0, 0, 4, 0, 0, 8};
  for (size_t i = 0; i < records.size(); ++i) {
    records[i].patient = patients[i];
    records[i].agent = agents[i];
    records[i].entity = entities[i];
    records[i].outcome = outcomes[i];
  }
  ASSERT_TRUE(store_->AppendAudit(records).ok());
  auto seqs = [&](const AuditSearch& q) {
    std::vector<int64_t> out;
    auto found = store_->SearchAudit(q);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    if (found.ok()) {
      for (const AuditEntry& e : *found) out.push_back(e.seq);
    }
    return out;
  };
  using S = std::vector<int64_t>;
  AuditSearch all;
  EXPECT_EQ(seqs(all), (S{6, 5, 4, 3, 2, 1}));
  AuditSearch q;
  q.patient = "p1";
  EXPECT_EQ(seqs(q), (S{5, 3, 1}));
  q.agent = "Practitioner/7";
  EXPECT_EQ(seqs(q), (S{1}));
  AuditSearch entity;
  entity.entity = "Patient/p2";
  EXPECT_EQ(seqs(entity), (S{6, 2}));
  entity.outcome = 8;
  EXPECT_EQ(seqs(entity), (S{6}));
  AuditSearch range;
  range.from = kT0 + 1;
  range.until = kT0 + 4;
  EXPECT_EQ(seqs(range), (S{4, 3, 2}));
  AuditSearch page;
  page.limit = 2;
  EXPECT_EQ(seqs(page), (S{6, 5}));
  page.before_seq = 5;
  EXPECT_EQ(seqs(page), (S{4, 3}));
  auto found = store_->SearchAudit(q);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)[0].record, records[0].record);
  AuditSearch bad;
  bad.limit = 0;
  EXPECT_EQ(store_->SearchAudit(bad).status().code(), StatusCode::kInvalid);
}

// A patient's records are found through blocks of 2^kAuditBlockBits records (store/audit_chain.h):
// a search and its pages cross blocks, newest first, and skip the blocks without the patient.
TEST_P(StoreContractTest, PatientAuditSearchCrossesBlocks) {
  constexpr int kRecords = 3 * (1 << kAuditBlockBits) + 700;
  std::vector<AuditAppend> records = AuditRecords("b", kRecords, kT0);
  std::vector<int64_t> p1;  // the seqs of p1's records, newest first
  for (int i = 0; i < kRecords; ++i) {
    // p1 in the first and the last two blocks, none in the second.
    const bool mine = i % 997 == 0 && (i < (1 << kAuditBlockBits) || i >= 2 << kAuditBlockBits);
    records[static_cast<size_t>(i)].patient = mine ? "p1" : "p2";
    if (mine) p1.insert(p1.begin(), i + 1);
  }
  ASSERT_TRUE(store_->AppendAudit(records).ok());
  ASSERT_GE(p1.size(), 8u);
  auto seqs = [&](const AuditSearch& q) {
    std::vector<int64_t> out;
    auto found = store_->SearchAudit(q);
    EXPECT_TRUE(found.ok()) << found.status().ToString();
    if (found.ok()) {
      for (const AuditEntry& e : *found) out.push_back(e.seq);
    }
    return out;
  };
  AuditSearch q;
  q.patient = "p1";
  q.limit = 1000;
  EXPECT_EQ(seqs(q), p1);
  // In pages of 3, each continuing before the last seq of the one before.
  std::vector<int64_t> paged;
  q.limit = 3;
  for (int pages = 0; pages < 10; ++pages) {
    std::vector<int64_t> page = seqs(q);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 3u);
    paged.insert(paged.end(), page.begin(), page.end());
    q.before_seq = page.back();
  }
  EXPECT_EQ(paged, p1);
  // With a date range: only the records recorded in it.
  AuditSearch range;
  range.patient = "p1";
  range.from = kT0 + p1[p1.size() - 2] - 1;  // from the second oldest
  range.until = kT0 + p1[1] - 1;             // until before the second newest
  std::vector<int64_t> expected(p1.begin() + 2, p1.end() - 1);
  EXPECT_EQ(seqs(range), expected);
  AuditSearch nobody;
  nobody.patient = "p3";
  EXPECT_TRUE(seqs(nobody).empty());
}

TEST_P(StoreContractTest, AuditChainContinuesAfterReopen) {
  ASSERT_TRUE(store_->AppendAudit(AuditRecords("a", 4, kT0)).ok());
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  Open();
  ASSERT_TRUE(store_->AppendAudit(AuditRecords("b", 4, kT0 + 10)).ok());
  std::vector<AuditEntry> chain = ReadWholeChain(*store_);
  ASSERT_EQ(chain.size(), 8u);
  ExpectOneChain(chain);
  ASSERT_TRUE(store_->Close().ok());
  EXPECT_EQ(store_->AppendAudit(AuditRecords("c", 1, kT0)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_->ReadAudit(0, 10).status().code(), StatusCode::kUnavailable);
}

// Appends from many threads and from a second store on the same database (another process, or
// another node of a PostgreSQL deployment) make one chain, each call's records together.
TEST_P(StoreContractTest, ConcurrentAuditAppendsMakeOneChain) {
  auto second = backend_->Open();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  constexpr int kThreads = 8;
  constexpr int kCalls = 15;
  constexpr int kPerCall = 4;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store& store = t % 2 == 0 ? *store_ : **second;
      for (int c = 0; c < kCalls; ++c) {
        std::string prefix = std::to_string(t) + "-" + std::to_string(c) + "-";
        if (!store.AppendAudit(AuditRecords(prefix, kPerCall, kT0 + c)).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE((*second)->Close().ok());
  std::vector<AuditEntry> chain = ReadWholeChain(*store_, 50);
  ASSERT_EQ(chain.size(), static_cast<size_t>(kThreads * kCalls * kPerCall));
  ExpectOneChain(chain);
  for (size_t i = 0; i < chain.size(); i += kPerCall) {
    // A call's records are consecutive: "t-c-0", "t-c-1"... with the same prefix.
    std::string first = chain[i].record;
    std::string prefix = first.substr(0, first.rfind('-'));
    for (int k = 1; k < kPerCall; ++k) {
      EXPECT_EQ(chain[i + k].record, prefix + "-" + std::to_string(k) + "\"}");
    }
  }
}

// ExpungeHistory (store.h): the current version stays, every other goes, for good.
TEST_P(StoreContractTest, ExpungeHistoryKeepsTheCurrentVersionOnly) {
  ASSERT_EQ(*WriteOne(Create("Basic", "m", kT0, R"({"raw":"PID|1"})")), 1);
  ASSERT_EQ(*WriteOne(Update("Basic", "m", 1, kT0 + 10, R"({"raw":"PID|2"})")), 2);
  ASSERT_EQ(*WriteOne(Update("Basic", "m", 2, kT0 + 20, R"({"purged":true})")), 3);
  ASSERT_TRUE(WriteOne(Create("Basic", "other", kT0 + 5, "{}")).ok());
  ASSERT_TRUE(WriteOne(Update("Basic", "other", 1, kT0 + 15, "{}")).ok());
  auto before = store_->Changes(ChangeQuery{});
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  Result<int64_t> removed = store_->ExpungeHistory("Basic", "m");
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 2);

  // History and vread agree: one version, and the others are gone.
  HistoryQuery q;
  q.type = "Basic";
  q.id = "m";
  int64_t total = 0;
  EXPECT_EQ(AllPages(q, &total), std::vector<std::string>{"Basic/m/3"});
  EXPECT_EQ(total, 1);
  EXPECT_EQ(store_->ReadVersion("Basic", "m", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ReadVersion("Basic", "m", 2).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->ReadVersion("Basic", "m", 3).ok());
  EXPECT_EQ(store_->ReadVersion("Basic", "m", 3)->json, R"({"purged":true})");
  auto current = store_->Read("Basic", "m");
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->version, 3);
  EXPECT_EQ(current->json, R"({"purged":true})");
  // The type's and the system's history lose the removed versions too; the other resource
  // keeps its own.
  q.id = "";
  EXPECT_EQ(AllPages(q), (std::vector<std::string>{"Basic/m/3", "Basic/other/2", "Basic/other/1"}));
  // Nothing in the change feed moved: the same current versions, and a position read before
  // the expunge has nothing new after it.
  auto after = store_->Changes(ChangeQuery{});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->versions.size(), before->versions.size());
  for (size_t i = 0; i < after->versions.size(); ++i) {
    EXPECT_EQ(after->versions[i].id, before->versions[i].id);
    EXPECT_EQ(after->versions[i].version, before->versions[i].version);
  }
  ChangeQuery from_before;
  from_before.after = before->next;
  auto nothing_new = store_->Changes(from_before);
  ASSERT_TRUE(nothing_new.ok()) << nothing_new.status().ToString();
  EXPECT_TRUE(nothing_new->versions.empty());

  // Writes go on from the current version; the next expunge removes what came since.
  ASSERT_EQ(*WriteOne(Update("Basic", "m", 3, kT0 + 30, "{}")), 4);
  EXPECT_EQ(*store_->ExpungeHistory("Basic", "m"), 1);
  EXPECT_EQ(store_->ReadVersion("Basic", "m", 4)->version, 4);
  // Durable: a reopened store has the same.
  ASSERT_TRUE(store_->Close().ok());
  store_.reset();
  Open();
  q.id = "m";
  EXPECT_EQ(AllPages(q), std::vector<std::string>{"Basic/m/4"});
  EXPECT_EQ(store_->ReadVersion("Basic", "m", 3).status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, ExpungeHistoryOfOneVersionOrOfNothing) {
  ASSERT_TRUE(WriteOne(Create("Basic", "one", kT0, "{}")).ok());
  Result<int64_t> removed = store_->ExpungeHistory("Basic", "one");
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 0);
  EXPECT_TRUE(store_->ReadVersion("Basic", "one", 1).ok());
  EXPECT_EQ(store_->ExpungeHistory("Basic", "nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ExpungeHistory("Patient", "one").status().code(), StatusCode::kNotFound);
  // A deleted resource keeps its deletion, its current version.
  ASSERT_TRUE(WriteOne(Update("Basic", "one", 1, kT0 + 1, "{}")).ok());
  ASSERT_TRUE(WriteOne(Delete("Basic", "one", 2, kT0 + 2)).ok());
  EXPECT_EQ(*store_->ExpungeHistory("Basic", "one"), 2);
  auto read = store_->Read("Basic", "one");
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->deleted);
  EXPECT_EQ(read->version, 3);
}

// Writers updating one resource while another thread expunges its history again and again: no
// write is lost (each version is taken once, the last one is current), and once the writers
// are done one more expunge leaves the current version alone.
TEST_P(StoreContractTest, ExpungeHistoryLosesNoConcurrentWrite) {
  ASSERT_TRUE(WriteOne(Create("Basic", "hot", kT0, "0")).ok());
  constexpr int kThreads = 4;
  constexpr int kUpdatesPerThread = 25;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::atomic<int> unexpected_errors{0};
  std::atomic<int> writers_done{0};
  std::atomic<int> written{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      int done = 0;
      while (done < kUpdatesPerThread && std::chrono::steady_clock::now() < deadline) {
        auto current = store_->Read("Basic", "hot");
        if (!current.ok()) {
          ++unexpected_errors;
          break;
        }
        std::string next = std::to_string(std::stoll(current->json) + 1);
        auto w = WriteOne(Update("Basic", "hot", current->version, kT0 + 1, next));
        if (w.ok()) {
          ++done;
          ++written;
        } else if (w.status().code() != StatusCode::kConflict) {
          ++unexpected_errors;
          break;
        }
      }
      ++writers_done;
    });
  }
  int64_t removed_total = 0;
  int expunges = 0;
  while (writers_done.load() < kThreads) {
    Result<int64_t> removed = store_->ExpungeHistory("Basic", "hot");
    if (!removed.ok()) {
      ++unexpected_errors;
      break;
    }
    removed_total += *removed;
    ++expunges;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected_errors.load(), 0);
  constexpr int kTotal = kThreads * kUpdatesPerThread;
  ASSERT_EQ(written.load(), kTotal);
  auto current = store_->Read("Basic", "hot");
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->version, kTotal + 1);
  EXPECT_EQ(current->json, std::to_string(kTotal)) << "every update saw the one before it";
  Result<int64_t> last = store_->ExpungeHistory("Basic", "hot");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(removed_total + *last, kTotal) << "every replaced version removed once";
  HistoryQuery q;
  q.type = "Basic";
  q.id = "hot";
  EXPECT_EQ(AllPages(q), std::vector<std::string>{"Basic/hot/" + std::to_string(kTotal + 1)});
  std::cout << "[ " << expunges << " expunges ran during " << kTotal << " updates ]\n";
}

std::vector<std::string> Backends() {
  std::vector<std::string> out = {"sqlite"};
#ifdef VESTA_STORE_POSTGRES
  out.push_back("postgres");
#endif
  return out;
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Backends, HistoryContractTest, ::testing::ValuesIn(Backends()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vesta::store
