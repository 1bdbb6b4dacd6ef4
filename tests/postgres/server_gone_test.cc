// The server going away and coming back: calls fail with kUnavailable in bounded time (never a
// hang), and connections and the pool recover once it is back. Its own test suite, so that it
// stops a cluster no other test uses.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "postgres/connection.h"
#include "postgres/pool.h"
#include "postgres/test_cluster.h"

namespace vesta::postgres {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class ServerGoneTest : public PostgresTest {};

TEST_F(ServerGoneTest, CallsFailFastWhileItIsDownAndRecoverWhenItIsBack) {
  auto opened = Connection::Open(uri(), Options());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Connection> db = std::move(opened).value();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (k int)").ok());
  ASSERT_TRUE(db->Query("INSERT INTO t VALUES ($1)", {int64_t{1}}).ok());

  Pool::Options options;
  options.size = 2;
  options.acquire_timeout = milliseconds(500);
  Pool pool(uri(), options);
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    ASSERT_TRUE((*lease)->Query("SELECT count(*) FROM t").ok());
  }  // idle in the pool while the server goes away

  // A statement in flight when the server stops is ended, not left waiting.
  auto in_flight = std::async(std::launch::async, [&]() -> Status {
    auto other = Connection::Open(uri(), Options());
    if (!other.ok()) return other.status();
    return (*other)->Query("SELECT pg_sleep(60)").status();
  });
  std::this_thread::sleep_for(milliseconds(300));

  Clock::time_point stop = Clock::now();
  ASSERT_TRUE(cluster().Stop().ok());
  ASSERT_EQ(in_flight.wait_for(seconds(10)), std::future_status::ready);
  Status interrupted = in_flight.get();
  EXPECT_EQ(interrupted.code(), StatusCode::kUnavailable) << interrupted.ToString();
  EXPECT_FALSE(SqlState(interrupted).empty()) << interrupted.message();

  // The next call on an open connection: kUnavailable at once.
  Clock::time_point start = Clock::now();
  EXPECT_FALSE(db->LooksAlive());
  Status next = db->Query("SELECT count(*) FROM t").status();
  EXPECT_EQ(next.code(), StatusCode::kUnavailable) << next.ToString();
  EXPECT_EQ(db->Reconnect().code(), StatusCode::kUnavailable);
  EXPECT_EQ(pool.Acquire().status().code(), StatusCode::kUnavailable);
  EXPECT_LT(Clock::now() - start, seconds(5));
  EXPECT_LT(Clock::now() - stop, seconds(15));

  // Back again: the same connection reconnects, and the pool replaces what it lost.
  Status restarted = cluster().Restart();
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  Status reconnected = db->Reconnect();
  ASSERT_TRUE(reconnected.ok()) << reconnected.ToString();
  auto rows = db->Query("SELECT count(*) FROM t");  // prepared again after the reconnect
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->Int(0, 0), 1);
  for (int i = 0; i < 3; ++i) {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    auto count = (*lease)->Query("SELECT count(*) FROM t");
    ASSERT_TRUE(count.ok()) << count.status().ToString();
    EXPECT_EQ(count->Int(0, 0), 1);
  }
}

}  // namespace
}  // namespace vesta::postgres
