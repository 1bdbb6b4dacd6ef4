#include "base/periodic_thread.h"

#include <utility>

namespace vesta {

void PeriodicThread::Start(Pass pass) {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this, pass = std::move(pass)] {
    while (!stop_.load()) {
      {
        std::lock_guard lock(mu_);
        woken_ = false;
      }
      const std::chrono::microseconds wait = pass();
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, wait, [&] { return stop_.load() || woken_; });
    }
  });
}

void PeriodicThread::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicThread::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

}  // namespace vesta
