// The SQLite store's own behaviour: log syncs, the group commit, the read cache, checkpoints,
// write hooks. The Store contract (reads, compare-and-set, deletes, history) runs on both
// backends in store_contract_test.cc.
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "json/parse.h"
#include "sqlite/connection.h"
#include "store/temp_dir.h"

namespace vesta::store {
namespace {

using sqlite::Connection;

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

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Open();
  }

  void Open(Durability durability = Durability::kFull, std::function<int(int)> log_sync = nullptr) {
    SqliteStoreOptions options;
    options.directory = dir_.path() + "/data";  // not there yet: the store creates it
    options.durability = durability;
    options.log_sync = std::move(log_sync);
    auto store = OpenSqliteStore(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  // One op per call; returns the new version or the failure.
  Result<int64_t> WriteOne(const WriteOp& op) {
    auto written = store_->Write(std::span<const WriteOp>(&op, 1));
    if (!written.ok()) return written.status();
    return written->at(0).version;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

// Durability::kFull: a write is acknowledged only once the log sync that follows its commit has
// returned. Here the sync is held until the test lets it go.
TEST_F(SqliteStoreTest, AcknowledgesAWriteOnlyAfterTheLogIsSynced) {
  store_.reset();
  std::atomic<int> syncs{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Open(Durability::kFull, [&](int fd) {
    ++syncs;
    if (released.wait_for(std::chrono::seconds(20)) != std::future_status::ready) return -1;
    return ::fdatasync(fd);
  });
  std::atomic<bool> answered{false};
  Result<int64_t> result = Status(StatusCode::kInternal, "not answered");
  std::thread writer([&] {
    result = WriteOne(Create("Patient", "p1", kT0, R"({"resourceType":"Patient"})"));
    answered = true;
  });
  // The write commits and its sync starts; the caller must still be waiting.
  for (int i = 0; i < 200 && syncs.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(syncs.load(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(answered.load());
  release.set_value();
  writer.join();
  EXPECT_TRUE(answered.load());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(*result, 1);
  EXPECT_TRUE(store_->Read("Patient", "p1").ok());
}

// A failed sync may have lost the commit's pages: the call fails, and so does every later write,
// while reads go on.
TEST_F(SqliteStoreTest, AFailedLogSyncFailsTheWriteAndStopsWrites) {
  store_.reset();
  std::atomic<bool> fail{false};
  Open(Durability::kFull, [&](int fd) {
    if (fail.load()) {
      errno = EIO;
      return -1;
    }
    return ::fdatasync(fd);
  });
  ASSERT_TRUE(WriteOne(Create("Patient", "before", kT0, R"({"resourceType":"Patient"})")).ok());
  fail = true;
  Result<int64_t> failed =
      WriteOne(Create("Patient", "p1", kT0 + 1, R"({"resourceType":"Patient"})"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("syncing the write-ahead log failed"), std::string::npos)
      << failed.status().message();
  fail = false;  // even a healthy disk now: the store stays stopped until reopened
  Result<int64_t> later =
      WriteOne(Create("Patient", "p2", kT0 + 2, R"({"resourceType":"Patient"})"));
  ASSERT_FALSE(later.ok());
  EXPECT_NE(later.status().message().find("stopped taking writes"), std::string::npos)
      << later.status().message();
  EXPECT_TRUE(store_->Read("Patient", "before").ok());
  // Reopened, the store takes writes again.
  store_.reset();
  Open();
  EXPECT_TRUE(WriteOne(Create("Patient", "p3", kT0 + 3, R"({"resourceType":"Patient"})")).ok());
}

TEST_F(SqliteStoreTest, ReopenAfterCloseFindsEverything) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(WriteOne(Create("Patient", "p" + std::to_string(i), kT0 + i,
                                "{\"i\":" + std::to_string(i) + "}"))
                    .ok());
  }
  ASSERT_TRUE(WriteOne(Delete("Patient", "p3", 1, kT0 + 100)).ok());
  ASSERT_TRUE(store_->Close().ok());
  EXPECT_TRUE(store_->Close().ok());  // idempotent

  EXPECT_EQ(store_->Read("Patient", "p1").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_->ReadVersion("Patient", "p1", 1).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(WriteOne(Create("Patient", "late", kT0, "{}")).status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(store_->History(HistoryQuery{}).status().code(), StatusCode::kUnavailable);

  store_.reset();
  Open();
  for (int i = 0; i < 10; ++i) {
    auto read = store_->Read("Patient", "p" + std::to_string(i));
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    if (i == 3) {
      EXPECT_TRUE(read->deleted);
    } else {
      EXPECT_EQ(read->json, "{\"i\":" + std::to_string(i) + "}");
    }
  }
  EXPECT_EQ(store_->History(HistoryQuery{})->total, 11);
  // Sequences continue after a reopen: the new row is newest even at an equal timestamp.
  ASSERT_TRUE(WriteOne(Create("Patient", "after", kT0 + 100, "{}")).ok());
  EXPECT_EQ(store_->History(HistoryQuery{})->entries[0].version.id, "after");
}

TEST_F(SqliteStoreTest, DestructorDrainsAndCloses) {
  ASSERT_TRUE(WriteOne(Create("Patient", "p", kT0, "{}")).ok());
  store_.reset();  // no Close()
  Open();
  EXPECT_TRUE(store_->Read("Patient", "p").ok());
}

// Close() while writers are busy: every call either committed (and is there after a reopen) or
// was refused with kUnavailable; none is lost in between.
TEST_F(SqliteStoreTest, CloseDrainsPendingWrites) {
  constexpr int kThreads = 8;
  constexpr int kMaxPerThread = 500;
  std::vector<std::vector<std::string>> acknowledged(kThreads);
  std::atomic<int> unexpected{0};
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kMaxPerThread; ++i) {
        std::string id = "c" + std::to_string(t) + "-" + std::to_string(i);
        auto written = WriteOne(Create("Patient", id, kT0, "{}"));
        ++started;
        if (written.ok()) {
          acknowledged[t].push_back(id);
        } else if (written.status().code() == StatusCode::kUnavailable) {
          return;
        } else {
          ++unexpected;
        }
      }
    });
  }
  // Close once some writes went through (bounded wait; closing early is fine too).
  for (int i = 0; i < 2000 && started.load() < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(store_->Close().ok());
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  store_.reset();
  Open();
  for (int t = 0; t < kThreads; ++t) {
    for (const std::string& id : acknowledged[t]) {
      EXPECT_TRUE(store_->Read("Patient", id).ok()) << id;
    }
  }
}

// Many threads race compare-and-set updates of one resource. Each success must take a distinct
// version, and a counter carried in the JSON must count every success: no update is lost.
TEST_F(SqliteStoreTest, ConcurrentCompareAndSetTakesEachVersionOnce) {
  store_.reset();
  Open(Durability::kNormal);  // what is tested is the CAS, not fsync; keeps the test short
  ASSERT_TRUE(WriteOne(Create("Patient", "hot", kT0, "0")).ok());
  constexpr int kThreads = 16;
  constexpr int kUpdatesPerThread = 200;
  // Bounds, not expectations: a thread that runs out of attempts or time fails the count below.
  constexpr int kMaxAttemptsPerThread = kUpdatesPerThread * 100;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
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

// Concurrent durable creates: distinct ids all land; a contested id is created exactly once.
TEST_F(SqliteStoreTest, ConcurrentCreates) {
  constexpr int kThreads = 16;
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

// Calls that share a group commit fail alone: a conflicting call rolls back only its savepoint.
TEST_F(SqliteStoreTest, AFailingCallInAGroupLeavesTheOthers) {
  store_.reset();
  SqliteStoreOptions options;
  options.directory = dir_.path() + "/grouped";
  options.group_commit_window = std::chrono::milliseconds(20);  // invite grouping
  auto opened = OpenSqliteStore(options);
  ASSERT_TRUE(opened.ok());
  store_ = std::move(opened).value();
  ASSERT_TRUE(WriteOne(Create("Patient", "taken", kT0, "{}")).ok());

  constexpr int kThreads = 8;
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Odd threads write a fresh resource and then collide on "taken".
      std::vector<WriteOp> ops = {Create("Patient", "new" + std::to_string(t), kT0, "{}")};
      if (t % 2 == 1) ops.push_back(Create("Patient", "taken", kT0, "{}"));
      auto written = store_->Write(ops);
      results[t] = written.ok() ? Status::Ok() : written.status();
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) {
    bool fresh_exists = store_->Read("Patient", "new" + std::to_string(t)).ok();
    if (t % 2 == 1) {
      EXPECT_EQ(results[t].code(), StatusCode::kConflict) << t;
      EXPECT_FALSE(fresh_exists) << t;
    } else {
      EXPECT_TRUE(results[t].ok()) << t << results[t].ToString();
      EXPECT_TRUE(fresh_exists) << t;
    }
  }
}

// Reads run while writes are in flight and always see whole versions.
TEST_F(SqliteStoreTest, ReadsRunAlongsideWrites) {
  ASSERT_TRUE(WriteOne(Create("Patient", "p", kT0, "v1")).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad_reads{0};
  std::thread reader([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (int i = 0; i < 100000 && !stop.load() && std::chrono::steady_clock::now() < deadline;
         ++i) {
      auto read = store_->Read("Patient", "p");
      if (!read.ok() || read->json != "v" + std::to_string(read->version)) ++bad_reads;
    }
  });
  for (int v = 1; v < 30; ++v) {
    ASSERT_TRUE(WriteOne(Update("Patient", "p", v, kT0 + v, "v" + std::to_string(v + 1))).ok());
  }
  stop = true;
  reader.join();
  EXPECT_EQ(bad_reads.load(), 0);
}

// Reads are served from the version cache once a resource was read; every write must show in
// the next read, and no read may return a version older than one acknowledged before it began.
TEST_F(SqliteStoreTest, CachedReadsNeverGoBehindAcknowledgedWrites) {
  ASSERT_TRUE(WriteOne(Create("Patient", "p", kT0, "v1")).ok());
  ASSERT_EQ(store_->Read("Patient", "p")->version, 1);
  ASSERT_EQ(store_->Read("Patient", "p")->version, 1);  // now cached
  ASSERT_TRUE(WriteOne(Update("Patient", "p", 1, kT0 + 1, "v2")).ok());
  EXPECT_EQ(store_->Read("Patient", "p")->json, "v2");
  ASSERT_TRUE(WriteOne(Delete("Patient", "p", 2, kT0 + 2)).ok());
  EXPECT_TRUE(store_->Read("Patient", "p")->deleted);

  ASSERT_TRUE(WriteOne(Create("Patient", "q", kT0, "v1")).ok());
  std::atomic<int64_t> acknowledged{1};
  std::atomic<bool> stop{false};
  std::atomic<int> behind{0}, torn{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      for (int i = 0; i < 200000 && !stop.load() && std::chrono::steady_clock::now() < deadline;
           ++i) {
        int64_t floor = acknowledged.load();
        auto read = store_->Read("Patient", "q");
        ++reads;
        if (!read.ok() || read->json != "v" + std::to_string(read->version)) {
          ++torn;
        } else if (read->version < floor) {
          ++behind;
        }
      }
    });
  }
  for (int v = 1; v < 200; ++v) {
    ASSERT_TRUE(WriteOne(Update("Patient", "q", v, kT0 + v, "v" + std::to_string(v + 1))).ok());
    acknowledged = v + 1;
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(behind.load(), 0);
}

// Another process writing the same database bypasses this store's writer: its writes reach
// cached reads through PRAGMA data_version, which the writer looks at every 100 ms when idle.
TEST_F(SqliteStoreTest, AnotherWritersCommitsReachCachedReads) {
  ASSERT_TRUE(WriteOne(Create("Patient", "p", kT0, "v1")).ok());
  ASSERT_EQ(store_->Read("Patient", "p")->version, 1);
  ASSERT_EQ(store_->Read("Patient", "p")->version, 1);  // cached
  {
    SqliteStoreOptions options;
    options.directory = dir_.path() + "/data";
    auto other = OpenSqliteStore(options);
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    WriteOp op = Update("Patient", "p", 1, kT0 + 1, "v2");
    auto written = (*other)->Write(std::span<const WriteOp>(&op, 1));
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }
  int64_t seen = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    seen = store_->Read("Patient", "p")->version;
    if (seen == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(seen, 2);
}

// The extension point: hook rows commit with the version and roll back with a failed call.
class IndexingHook : public WriteHook {
 public:
  Status OnWrite(const WrittenVersion& written, SqlExecutor& sql) override {
    if (written.op.id == "refused") return Status(StatusCode::kUnprocessable, "refused by hook");
    const SqlValue drop[] = {written.previous_seq};
    RETURN_IF_ERROR(sql.Execute("DELETE FROM test_index WHERE seq = ?1", drop));
    if (written.op.kind == WriteKind::kDelete) return Status::Ok();
    const SqlValue row[] = {written.seq, std::string_view(written.op.id), written.version};
    return sql.Execute("INSERT INTO test_index (seq, id, version) VALUES (?1, ?2, ?3)", row);
  }
};

// Opens a store in `directory` with IndexingHook installed; returns the database path. The
// hook's table would come from a schema migration; the test makes it by hand.
std::string OpenWithIndexingHook(SqliteStoreOptions options, const std::string& directory,
                                 std::unique_ptr<Store>* store) {
  options.directory = directory;
  std::string path = directory + "/vesta.db";
  std::filesystem::create_directories(directory);
  {
    auto db = Connection::Open(path, Connection::Mode::kReadWrite);
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return path;
    EXPECT_TRUE(
        (*db)->Exec("CREATE TABLE test_index (seq INTEGER, id TEXT, version INTEGER)").ok());
  }
  options.write_hooks = {std::make_shared<IndexingHook>()};
  auto opened = OpenSqliteStore(options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  if (opened.ok()) *store = std::move(opened).value();
  return path;
}

TEST_F(SqliteStoreTest, WriteHooksRunInTheWriteTransaction) {
  store_.reset();
  std::string path = OpenWithIndexingHook({}, dir_.path() + "/hooked", &store_);
  ASSERT_NE(store_, nullptr);

  ASSERT_TRUE(WriteOne(Create("Patient", "p", kT0, "{}")).ok());
  ASSERT_TRUE(WriteOne(Update("Patient", "p", 1, kT0 + 1, "{}")).ok());
  ASSERT_TRUE(WriteOne(Create("Patient", "gone", kT0, "{}")).ok());
  ASSERT_TRUE(WriteOne(Delete("Patient", "gone", 1, kT0 + 1)).ok());
  std::vector<WriteOp> ops = {Create("Patient", "q", kT0, "{}"),
                              Create("Patient", "refused", kT0, "{}")};
  auto refused = store_->Write(ops);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnprocessable);
  EXPECT_NE(refused.status().message().find("Patient/refused"), std::string::npos);
  EXPECT_EQ(store_->Read("Patient", "q").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Close().ok());

  // Only the current version of p is indexed: version 1's row went when version 2 came, the
  // deleted resource has none, and the refused call left none.
  auto db = Connection::Open(path, Connection::Mode::kReadOnly);
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->Prepare("SELECT id, version FROM test_index ORDER BY seq");
  ASSERT_TRUE(rows.ok());
  std::vector<std::string> found;
  for (int i = 0; i < 100; ++i) {
    auto row = rows->Step();
    ASSERT_TRUE(row.ok());
    if (!*row) break;
    found.push_back(rows->Text(0) + "/" + std::to_string(rows->Int(1)));
  }
  EXPECT_EQ(found, std::vector<std::string>{"p/2"});
}

// Single-op calls run without a savepoint; one that fails after it wrote (here the hook refuses
// it) makes the writer roll the batch back and run it again with every call isolated: the
// failing call leaves nothing, the others of its batch commit.
TEST_F(SqliteStoreTest, ASingleOpCallFailingAfterItWroteLeavesTheOthersOfItsBatch) {
  store_.reset();
  SqliteStoreOptions options;
  options.group_commit_window = std::chrono::milliseconds(50);  // one batch for all threads
  std::string path = OpenWithIndexingHook(options, dir_.path() + "/redo", &store_);
  ASSERT_NE(store_, nullptr);

  constexpr int kThreads = 6;
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string id = t == 3 ? "refused" : "ok" + std::to_string(t);
      results[t] = WriteOne(Create("Patient", id, kT0 + t, "{}")).status();
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) {
    if (t == 3) {
      EXPECT_EQ(results[t].code(), StatusCode::kUnprocessable) << results[t].ToString();
      EXPECT_EQ(store_->Read("Patient", "refused").status().code(), StatusCode::kNotFound);
    } else {
      EXPECT_TRUE(results[t].ok()) << t << " " << results[t].ToString();
      EXPECT_TRUE(store_->Read("Patient", "ok" + std::to_string(t)).ok()) << t;
    }
  }
  ASSERT_TRUE(store_->Close().ok());
  auto db = Connection::Open(path, Connection::Mode::kReadOnly);
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->Prepare("SELECT count(*) FROM test_index");
  ASSERT_TRUE(rows.ok());
  ASSERT_TRUE(*rows->Step());
  EXPECT_EQ(rows->Int(0), kThreads - 1);
}

// One parse per write: the index hook takes its rows from WriteOp::document when the caller
// passes the tree it parsed, and parses the bytes only when it does not.
TEST_F(SqliteStoreTest, TheIndexHookUsesTheCallersDocument) {
  auto found = [&](const std::string& family, const std::string& param = "family") {
    SearchQuery query;
    query.types = {"Patient"};
    query.params = {{param, family}};
    Result<SearchPage> page = store_->Search(query);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const SearchHit& hit : page->entries) ids.push_back(hit.version.id);
    }
    return ids;
  };
  // With a document: its values are indexed, not the bytes' (the document is trusted, so a tree
  // that differs from the bytes shows which one the hook read).
  Result<json::Document> doc =
      json::Parse(R"({"resourceType":"Patient","id":"p1","name":[{"family":"FromTree"}]})");
  ASSERT_TRUE(doc.ok());
  WriteOp with = Create("Patient", "p1", kT0,
                        R"({"resourceType":"Patient","id":"p1","name":[{"family":"FromBytes"}]})");
  with.document = &*doc;
  ASSERT_TRUE(WriteOne(with).ok());
  EXPECT_EQ(found("FromTree"), std::vector<std::string>{"p1"});
  EXPECT_TRUE(found("FromBytes").empty());
  // Without one: the bytes are parsed, as before.
  ASSERT_TRUE(WriteOne(Create("Patient", "p2", kT0,
                              R"({"resourceType":"Patient","id":"p2","name":[{"family":"Raw"}]})"))
                  .ok());
  EXPECT_EQ(found("Raw"), std::vector<std::string>{"p2"});
  // An update with a document replaces the rows (and the words) of the version before.
  Result<json::Document> next =
      json::Parse(R"({"resourceType":"Patient","id":"p2","name":[{"family":"Renamed"}]})");
  ASSERT_TRUE(next.ok());
  WriteOp update = Update("Patient", "p2", 1, kT0 + 1,
                          R"({"resourceType":"Patient","id":"p2","name":[{"family":"Renamed"}]})");
  update.document = &*next;
  ASSERT_TRUE(WriteOne(update).ok());
  EXPECT_TRUE(found("Raw").empty());
  EXPECT_EQ(found("Renamed"), std::vector<std::string>{"p2"});
  // The full-text words follow the current version through updates and a delete: the words of
  // a replaced version are removed with the text kept from its own write (or read back).
  EXPECT_TRUE(found("raw", "_content").empty());
  EXPECT_EQ(found("renamed", "_content"), std::vector<std::string>{"p2"});
  ASSERT_TRUE(
      WriteOne(Update("Patient", "p2", 2, kT0 + 2,
                      R"({"resourceType":"Patient","id":"p2","name":[{"family":"Third"}]})"))
          .ok());
  EXPECT_TRUE(found("renamed", "_content").empty());
  EXPECT_EQ(found("third", "_content"), std::vector<std::string>{"p2"});
  ASSERT_TRUE(WriteOne(Delete("Patient", "p2", 3, kT0 + 3)).ok());
  EXPECT_TRUE(found("third", "_content").empty());
  ASSERT_TRUE(WriteOne(Update("Patient", "p2", 4, kT0 + 4,
                              R"({"resourceType":"Patient","id":"p2","name":[{"family":"Back"}]})"))
                  .ok());
  EXPECT_EQ(found("back", "_content"), std::vector<std::string>{"p2"});
  EXPECT_EQ(found("fromtree", "_content"), std::vector<std::string>{"p1"});
  // The full-text table is contentless: the replaced versions' words must be gone from it, not
  // merely hidden by the join with the current resources (a wrong text would leave them).
  auto db = Connection::Open(dir_.path() + "/data/vesta.db", Connection::Mode::kReadOnly);
  ASSERT_TRUE(db.ok());
  for (const char* word : {"raw", "renamed", "third", "back", "fromtree"}) {
    auto rows = (*db)->Prepare("SELECT count(*) FROM search_text WHERE search_text MATCH ?1");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    rows->Bind(1, std::string("\"") + word + "\"");
    ASSERT_TRUE(*rows->Step());
    const std::string w = word;
    EXPECT_EQ(rows->Int(0), w == "back" || w == "fromtree" ? 1 : 0) << word;
  }
}

// The store's Close() covers searches too: one reader pool for reads and searches.
TEST_F(SqliteStoreTest, SearchesAfterCloseAreRefused) {
  ASSERT_TRUE(WriteOne(Create("Patient", "p1", kT0, R"({"resourceType":"Patient"})")).ok());
  SearchQuery query;
  query.types = {"Patient"};
  ASSERT_TRUE(store_->Search(query).ok());
  ASSERT_TRUE(store_->Close().ok());
  EXPECT_EQ(store_->Search(query).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace vesta::store
