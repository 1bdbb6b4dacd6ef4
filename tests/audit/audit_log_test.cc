// The audit log's queue and writer (audit/audit_log.h) on the SQLite store: records are appended
// in order and in batches, a full queue holds up Add() without dropping, Close() flushes, and a
// failing store is retried.
#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/chain.h"
#include "store/sqlite/sqlite_store.h"

namespace vesta::audit {
namespace {

constexpr Micros kT0 = 1795485179000000;

Record Read(int i) {
  Record r;
  r.recorded = kT0 + i;
  r.interaction = "read";
  r.action = Action::kRead;
  r.status = 200;
  r.request = "GET /Patient/" + std::to_string(i);
  r.what = "Patient/" + std::to_string(i);
  return r;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vesta-audit-log-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store::SqliteStoreOptions options;
    options.directory = dir_.string();
    auto opened = store::OpenSqliteStore(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  void TearDown() override {
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  FakeClock clock_{kT0};
};

TEST_F(AuditLogTest, CloseAppendsEverythingInOrder) {
  AuditLogOptions options;
  options.interval = std::chrono::milliseconds(20);
  options.batch = 7;
  AuditLog log(*store_, clock_, Source{"node", ""}, options);
  for (int i = 1; i <= 50; ++i) log.Add(Read(i));
  ASSERT_TRUE(log.Close().ok());
  EXPECT_EQ(log.appended(), 50);
  Result<ChainSummary> summary = VerifyChain(*store_);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->records, 50);
  EXPECT_EQ(summary->first_recorded, kT0 + 1);
  EXPECT_EQ(summary->last_recorded, kT0 + 50);
  auto entries = store_->ReadAudit(0, 100);
  ASSERT_TRUE(entries.ok());
  const std::string event = StoredAuditEvent((*entries)[9].record, "10");
  EXPECT_NE(event.find(R"("reference":"Patient/10")"), std::string::npos) << event;
}

TEST_F(AuditLogTest, RecordsAreAppendedWithinTheIntervalWithoutClose) {
  AuditLogOptions options;
  options.interval = std::chrono::milliseconds(20);
  AuditLog log(*store_, clock_, Source{"node", ""}, options);
  log.Add(Read(1));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (log.appended() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(log.appended(), 1);
  EXPECT_EQ(store_->ReadAudit(0, 10)->size(), 1u);
}

// A store that fails its first appends, slowly: the queue fills, Add() waits, nothing is lost.
class FlakyStore : public store::Store {
 public:
  explicit FlakyStore(store::Store& inner) : inner_(inner) {}
  Result<store::StoredVersion> Read(const std::string& t, const std::string& i) override {
    return inner_.Read(t, i);
  }
  Result<store::StoredVersion> ReadVersion(const std::string& t, const std::string& i,
                                           int64_t v) override {
    return inner_.ReadVersion(t, i, v);
  }
  Result<std::vector<store::WriteResult>> Write(std::span<const store::WriteOp> ops) override {
    return inner_.Write(ops);
  }
  Result<store::HistoryPage> History(const store::HistoryQuery& q) override {
    return inner_.History(q);
  }
  Status AppendAudit(std::span<const store::AuditAppend> records) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (failures_left_-- > 0) return Status(StatusCode::kUnavailable, "the database is away");
    return inner_.AppendAudit(records);
  }
  Status Close() override { return Status::Ok(); }
  std::atomic<int> failures_left_{3};

 private:
  store::Store& inner_;
};

TEST_F(AuditLogTest, AFullQueueWaitsAndAFailingStoreIsRetried) {
  FlakyStore flaky(*store_);
  AuditLogOptions options;
  options.capacity = 4;
  options.batch = 2;
  options.interval = std::chrono::milliseconds(1);
  options.retry_pause = std::chrono::milliseconds(5);
  AuditLog log(flaky, clock_, Source{"node", ""}, options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) log.Add(Read(t * 100 + i));
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(log.Close().ok());
  EXPECT_EQ(log.appended(), 40);
  Result<ChainSummary> summary = VerifyChain(*store_);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->records, 40);
}

TEST_F(AuditLogTest, CloseReportsWhatCouldNotBeAppended) {
  FlakyStore flaky(*store_);
  flaky.failures_left_ = 1000;
  AuditLogOptions options;
  options.interval = std::chrono::hours(1);  // nothing is written before Close()
  options.retry_pause = std::chrono::milliseconds(1);
  AuditLog log(flaky, clock_, Source{"node", ""}, options);
  log.Add(Read(1));
  log.Add(Read(2));
  Status closed = log.Close();
  EXPECT_EQ(closed.code(), StatusCode::kUnavailable);
  EXPECT_NE(closed.message().find("2 audit records could not be appended"), std::string::npos)
      << closed.message();
  EXPECT_EQ(log.Close().code(), StatusCode::kUnavailable);  // idempotent
}

}  // namespace
}  // namespace vesta::audit
