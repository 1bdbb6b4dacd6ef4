// PeriodicThread (base/periodic_thread.h): passes repeat after their wait, Wake() cuts a wait
// short, Stop() ends a long wait at once and joins, and a stopped thread starts again.
#include "base/periodic_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace vesta {
namespace {

using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

// Waits (bounded) until `passes` reaches `n`.
bool WaitForPasses(const std::atomic<int>& passes, int n) {
  for (const auto until = Steady::now() + std::chrono::seconds(10); Steady::now() < until;) {
    if (passes.load() >= n) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return passes.load() >= n;
}

TEST(PeriodicThreadTest, PassesRepeatAfterTheirWait) {
  std::atomic<int> passes = 0;
  PeriodicThread worker;
  worker.Start([&] {
    ++passes;
    return std::chrono::microseconds(milliseconds(1));
  });
  EXPECT_TRUE(WaitForPasses(passes, 5));
  worker.Stop();
  const int after_stop = passes.load();
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(passes.load(), after_stop) << "no pass after Stop()";
  EXPECT_TRUE(worker.stopping());
}

TEST(PeriodicThreadTest, WakeAndStopEndALongWait) {
  std::atomic<int> passes = 0;
  PeriodicThread worker;
  worker.Start([&] {
    ++passes;
    return std::chrono::microseconds(std::chrono::hours(1));
  });
  ASSERT_TRUE(WaitForPasses(passes, 1));
  EXPECT_FALSE(worker.stopping());
  worker.Wake();
  EXPECT_TRUE(WaitForPasses(passes, 2)) << "Wake() did not start the next pass";
  const auto before = Steady::now();
  worker.Stop();
  EXPECT_LT(Steady::now() - before, std::chrono::seconds(5)) << "Stop() waited out the hour";
  worker.Stop();  // idempotent

  // Started again after a stop.
  worker.Start([&] {
    ++passes;
    return std::chrono::microseconds(std::chrono::hours(1));
  });
  EXPECT_TRUE(WaitForPasses(passes, 3));
  EXPECT_FALSE(worker.stopping());
}

}  // namespace
}  // namespace vesta
