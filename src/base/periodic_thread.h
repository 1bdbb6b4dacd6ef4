// A background thread that runs a pass, waits, and runs it again, until it is stopped: what the
// server's periodic workers share (the materializer of analytics views, the HL7 v2 retention
// and the delivery of application ACKs).
//
//   PeriodicThread worker;
//   worker.Start([&] { DoOnePass(worker.stop_flag()); return std::chrono::seconds(1); });
//   ...
//   worker.Wake();  // the next pass now, not after the wait
//   worker.Stop();  // ends the wait at once, lets the pass under way finish, joins
//
// A pass returns how long to wait before the next one. Long passes should look at stop_flag()
// now and then, so that Stop() does not wait for them long.
//
// Thread-safety: Start and Stop from the owner's thread; Wake and stop_flag from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace vesta {

class PeriodicThread {
 public:
  // Runs on the thread; returns the wait before the next pass.
  using Pass = std::function<std::chrono::microseconds()>;

  PeriodicThread() = default;
  ~PeriodicThread() { Stop(); }
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Starts the thread (the first pass at once); nothing when it runs already. A stopped thread
  // may be started again.
  void Start(Pass pass);
  // Asks the thread to stop and joins it. Idempotent.
  void Stop();
  // Ends the current wait early (a pass under way is followed by the next at once).
  void Wake();

  // Set by Stop() (and before Start()); passes and what they call may watch it.
  const std::atomic<bool>& stop_flag() const { return stop_; }
  bool stopping() const { return stop_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace vesta
