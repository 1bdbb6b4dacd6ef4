// The PostgreSQL connection pool (src/postgres/pool.h) on a real throw-away cluster.
#include "postgres/pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "postgres/test_cluster.h"

namespace vesta::postgres {
namespace {

using std::chrono::milliseconds;

class PoolTest : public PostgresTest {
 protected:
  Pool::Options Limit(int size, milliseconds wait = milliseconds(5000)) {
    Pool::Options options;
    options.size = size;
    options.acquire_timeout = wait;
    return options;
  }

  // Takes a lease and keeps it in `held`.
  void Hold(Pool& pool, std::optional<Pool::Lease>& held) {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    held.emplace(std::move(lease).value());
  }
};

TEST_F(PoolTest, ReusesConnectionsWithTheirStatements) {
  Pool pool(uri(), Limit(2));
  for (int i = 0; i < 3; ++i) {
    auto db = pool.Acquire();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto rows = (*db)->Query("SELECT $1::int + 1", {int64_t{41}});
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(rows->Int(0, 0), 42);
    auto prepared = (*db)->QueryUncached("SELECT count(*) FROM pg_prepared_statements");
    ASSERT_TRUE(prepared.ok());
    EXPECT_EQ(prepared->Int(0, 0), 1);  // prepared by the first loan, reused by the others
  }
  EXPECT_EQ(pool.open(), 1);
}

TEST_F(PoolTest, ABoundedWaitIsRefusedWhenAllAreLent) {
  Pool pool(uri(), Limit(1, milliseconds(200)));
  std::optional<Pool::Lease> held;
  Hold(pool, held);
  auto start = std::chrono::steady_clock::now();
  auto refused = pool.Acquire();
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_GE(waited, milliseconds(150));
  EXPECT_LT(waited, milliseconds(3000));

  // Within the wait, a connection that comes back is handed on.
  std::atomic<bool> got = false;
  std::thread waiter([&] {
    auto second = pool.Acquire();
    got = second.ok();
  });
  std::this_thread::sleep_for(milliseconds(50));
  held.reset();
  waiter.join();
  EXPECT_TRUE(got);
}

TEST_F(PoolTest, CloseWaitsForEveryLeaseAndRefusesNewOnes) {
  Pool pool(uri(), Limit(4));
  std::optional<Pool::Lease> held;
  Hold(pool, held);
  std::atomic<bool> closed = false;
  std::thread closer([&] {
    pool.Close();
    closed = true;
  });
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_FALSE(closed);  // a lease is still out
  EXPECT_EQ(pool.Acquire().status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE((*held)->Ping().ok());  // the lent connection still works
  held.reset();
  closer.join();
  EXPECT_TRUE(closed);
  EXPECT_EQ(pool.open(), 0);
  EXPECT_EQ(pool.Acquire().status().code(), StatusCode::kUnavailable);
  pool.Close();  // idempotent
}

TEST_F(PoolTest, AConnectionReturnedInATransactionIsRolledBack) {
  Pool pool(uri(), Limit(1));
  {
    auto db = pool.Acquire();
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t (k int)").ok());
    ASSERT_TRUE((*db)->Begin().ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (1)").ok());
  }  // returned mid-transaction
  auto db = pool.Acquire();
  ASSERT_TRUE(db.ok());
  EXPECT_FALSE((*db)->InTransaction());
  auto rows = (*db)->Query("SELECT count(*) FROM t");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), 0);
}

TEST_F(PoolTest, AnOpenFailureDoesNotUseUpTheLimit) {
  Pool pool("postgresql://vesta@/postgres?host=" + cluster().directory() + "/nowhere",
            Limit(1, milliseconds(100)));
  EXPECT_EQ(pool.Acquire().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(pool.Acquire().status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(pool.open(), 0);
}

}  // namespace
}  // namespace vesta::postgres
