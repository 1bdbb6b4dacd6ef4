#include "sqlite/reader_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "store/temp_dir.h"

namespace vesta::sqlite {
namespace {

ReaderPool::Options Limit(int max_open) {
  ReaderPool::Options options;
  options.max_open = max_open;
  return options;
}

class ReaderPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    path_ = dir_.path() + "/test.db";
    auto db = Connection::Open(path_, OpenOptions::ReadWrite({"journal_mode = WAL"}));
    ASSERT_TRUE(db.ok());
    writer_ = std::move(db).value();
    ASSERT_TRUE(writer_->Exec("CREATE TABLE t (x); INSERT INTO t VALUES (42)").ok());
  }

  store::TempDir dir_;
  std::string path_;
  std::unique_ptr<Connection> writer_;
};

TEST_F(ReaderPoolTest, ReusesConnectionsWithTheirStatements) {
  ReaderPool pool(path_, Limit(2));
  for (int i = 0; i < 3; ++i) {
    auto db = pool.Acquire();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto stmt = (*db)->Prepare("SELECT x FROM t");
    ASSERT_TRUE(stmt.ok() && *stmt->Step());
    EXPECT_EQ(stmt->Int(0), 42);
  }
  // Read-only: writes fail.
  auto db = pool.Acquire();
  ASSERT_TRUE(db.ok());
  EXPECT_FALSE((*db)->Exec("INSERT INTO t VALUES (1)").ok());
}

TEST_F(ReaderPoolTest, WaitsBeyondItsLimit) {
  ReaderPool pool(path_, Limit(1));
  std::optional<ReaderPool::Lease> held;
  {
    auto first = pool.Acquire();
    ASSERT_TRUE(first.ok());
    held.emplace(std::move(first).value());
  }
  std::atomic<bool> got = false;
  std::thread waiter([&] {
    auto second = pool.Acquire();
    got = second.ok();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(got);
  held.reset();  // back to the pool: the waiter takes it
  waiter.join();
  EXPECT_TRUE(got);
}

TEST_F(ReaderPoolTest, CloseWaitsForEveryLeaseAndRefusesNewOnes) {
  ReaderPool pool(path_, Limit(4));
  std::optional<ReaderPool::Lease> held;
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    held.emplace(std::move(lease).value());
  }
  std::atomic<bool> closed = false;
  std::thread closer([&] {
    pool.Close();
    closed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(closed);  // a read is still running
  // New readers are refused while Close() waits.
  EXPECT_EQ(pool.Acquire().status().code(), StatusCode::kUnavailable);
  held.reset();
  closer.join();
  EXPECT_TRUE(closed);
  EXPECT_EQ(pool.Acquire().status().code(), StatusCode::kUnavailable);
  pool.Close();  // idempotent
}

TEST_F(ReaderPoolTest, AFailedOpenDoesNotUseUpTheLimit) {
  ReaderPool pool(dir_.path() + "/missing.db", Limit(1));
  EXPECT_FALSE(pool.Acquire().ok());
  EXPECT_FALSE(pool.Acquire().ok());  // does not wait for a connection that never opened
}

}  // namespace
}  // namespace vesta::sqlite
