#include "sqlite/reader_pool.h"

#include <algorithm>
#include <utility>

namespace vesta::sqlite {

ReaderPool::ReaderPool(std::string path, Options options)
    : path_(std::move(path)), options_(std::move(options)) {}

ReaderPool::~ReaderPool() { Close(); }

ReaderPool::Lease::~Lease() {
  if (db_ != nullptr) pool_->Release(std::move(db_));
}

Result<ReaderPool::Lease> ReaderPool::Acquire() {
  const int limit = std::max(options_.max_open, 1);
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return closed_ || !idle_.empty() || open_ < limit; });
  if (closed_) return Status(StatusCode::kUnavailable, "the database is closed: " + path_);
  if (!idle_.empty()) {
    std::unique_ptr<Connection> db = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(db));
  }
  ++open_;
  lock.unlock();
  Result<std::unique_ptr<Connection>> db = Connection::Open(path_, options_.connection);
  if (!db.ok()) {
    lock.lock();
    --open_;
    cv_.notify_all();
    return db.status();
  }
  return Lease(this, std::move(db).value());
}

void ReaderPool::Release(std::unique_ptr<Connection> db) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(db));
  cv_.notify_all();
}

void ReaderPool::Close() {
  std::unique_lock lock(mu_);
  closed_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return static_cast<int>(idle_.size()) == open_; });
  idle_.clear();
  open_ = 0;
}

}  // namespace vesta::sqlite
