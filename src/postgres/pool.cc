#include "postgres/pool.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/log.h"

namespace vesta::postgres {

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kLogInterval = std::chrono::seconds(10);

std::string Seconds(SteadyClock::duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

}  // namespace

// One connection (or one slot to open one) became free: one waiter can use it, so one is woken
// (waking them all costs every waiter a futile wake-up per release when there are more callers
// than connections); once Close() has begun, everyone is, Close() included.
void Pool::NotifyFreed() {
  if (closed_) {
    cv_.notify_all();
  } else {
    cv_.notify_one();
  }
}

Pool::Pool(std::string uri, Options options, std::string name)
    : uri_(std::move(uri)), options_(std::move(options)), name_(std::move(name)) {}

Pool::~Pool() { Close(); }

Pool::Lease::~Lease() {
  if (db_ != nullptr) pool_->Release(std::move(db_));
}

Result<Pool::Lease> Pool::Acquire() {
  const int limit = std::max(options_.size, 1);
  std::unique_lock lock(mu_);
  bool ready = cv_.wait_for(lock, options_.acquire_timeout,
                            [&] { return closed_ || !idle_.empty() || open_ < limit; });
  if (closed_) return Status(StatusCode::kUnavailable, "the PostgreSQL pool is closed");
  if (!ready) {
    lock.unlock();
    NoteExhausted();
    return Status(StatusCode::kUnavailable,
                  "all " + std::to_string(limit) + " PostgreSQL connections are in use (waited " +
                      std::to_string(options_.acquire_timeout.count()) + " ms)");
  }
  if (!idle_.empty()) {
    std::unique_ptr<Connection> db = std::move(idle_.back());
    idle_.pop_back();
    lock.unlock();
    if (db->LooksAlive()) return Lease(this, std::move(db));
    // Lost while idle (the server restarted): reconnect it on the caller's time.
    Status status = db->Reconnect();
    if (status.ok()) {
      NoteReachable();
      return Lease(this, std::move(db));
    }
    NoteUnreachable(status);
    db.reset();
    lock.lock();
    --open_;
    NotifyFreed();
    return status;
  }
  ++open_;
  lock.unlock();
  Result<std::unique_ptr<Connection>> db = Connection::Open(uri_, options_.connection);
  if (!db.ok()) {
    NoteUnreachable(db.status());
    lock.lock();
    --open_;
    NotifyFreed();
    return db.status();
  }
  NoteReachable();
  return Lease(this, std::move(db).value());
}

void Pool::Release(std::unique_ptr<Connection> db) {
  // Left inside a transaction (a caller's error path): roll back, or give the connection up.
  if (db->InTransaction() && !db->Rollback().ok()) db.reset();
  if (db != nullptr && !db->LooksAlive()) db.reset();
  if (db == nullptr) {
    NoteUnreachable(Status(StatusCode::kUnavailable, "a connection was lost"));
  }
  std::lock_guard lock(mu_);
  if (db != nullptr) {
    idle_.push_back(std::move(db));
  } else {
    --open_;
  }
  NotifyFreed();
}

void Pool::NoteUnreachable(const Status& why) {
  const SteadyClock::time_point now = SteadyClock::now();
  std::string line;
  {
    std::lock_guard lock(health_mu_);
    ++failures_;
    if (!unreachable_) {
      unreachable_ = true;
      down_since_ = down_logged_ = now;
      failures_ = 1;
      line = name_ + " unreachable: " + why.message() +
             "; calls fail as unavailable until a connection opens again";
    } else if (now - down_logged_ >= kLogInterval) {
      down_logged_ = now;
      line = name_ + " still unreachable after " + Seconds(now - down_since_) + " (" +
             std::to_string(failures_) + " connection failures): " + why.message();
    }
  }
  if (!line.empty()) LogWarning(line);
}

void Pool::NoteReachable() {
  const SteadyClock::time_point now = SteadyClock::now();
  std::string line;
  {
    std::lock_guard lock(health_mu_);
    if (!unreachable_) return;
    unreachable_ = false;
    line = name_ + " reachable again after " + Seconds(now - down_since_) + " (" +
           std::to_string(failures_) + " connection failures meanwhile)";
  }
  LogInfo(line);
}

void Pool::NoteExhausted() {
  const SteadyClock::time_point now = SteadyClock::now();
  std::string line;
  {
    std::lock_guard lock(health_mu_);
    ++exhausted_;
    if (exhausted_logged_ != SteadyClock::time_point{} && now - exhausted_logged_ < kLogInterval) {
      return;
    }
    line = "all " + std::to_string(std::max(options_.size, 1)) + " " + name_ +
           " connections are in use: " + std::to_string(exhausted_) +
           " call(s) gave up after waiting " + std::to_string(options_.acquire_timeout.count()) +
           " ms for one (statements slow or waiting on locks, or too few connections)";
    exhausted_logged_ = now;
    exhausted_ = 0;
  }
  LogWarning(line);
}

void Pool::Close() {
  std::unique_lock lock(mu_);
  closed_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return static_cast<int>(idle_.size()) == open_; });
  idle_.clear();
  open_ = 0;
}

int Pool::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace vesta::postgres
