#include "postgres/pool.h"

#include <algorithm>
#include <utility>

namespace vesta::postgres {

Pool::Pool(std::string uri, Options options) : uri_(std::move(uri)), options_(std::move(options)) {}

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
    if (status.ok()) return Lease(this, std::move(db));
    db.reset();
    lock.lock();
    --open_;
    cv_.notify_all();
    return status;
  }
  ++open_;
  lock.unlock();
  Result<std::unique_ptr<Connection>> db = Connection::Open(uri_, options_.connection);
  if (!db.ok()) {
    lock.lock();
    --open_;
    cv_.notify_all();
    return db.status();
  }
  return Lease(this, std::move(db).value());
}

void Pool::Release(std::unique_ptr<Connection> db) {
  // Left inside a transaction (a caller's error path): roll back, or give the connection up.
  if (db->InTransaction() && !db->Rollback().ok()) db.reset();
  if (db != nullptr && !db->LooksAlive()) db.reset();
  std::lock_guard lock(mu_);
  if (db != nullptr) {
    idle_.push_back(std::move(db));
  } else {
    --open_;
  }
  cv_.notify_all();
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
