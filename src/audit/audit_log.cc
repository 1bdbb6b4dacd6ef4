#include "audit/audit_log.h"

#include <algorithm>
#include <iterator>

#include "base/log.h"

namespace vesta::audit {

namespace {

// Attempts of one append at close, before its records are given up as lost.
constexpr int kAttemptsAtClose = 3;
constexpr std::chrono::milliseconds kLongestRetryPause{5000};

}  // namespace

AuditLog::AuditLog(store::Store& store, Clock& clock, Source source, AuditLogOptions options)
    : store_(store), clock_(clock), source_(std::move(source)), options_(options) {
  writer_ = std::thread([this] { WriterLoop(); });
}

AuditLog::~AuditLog() { (void)Close(); }

void AuditLog::Add(const http::Request& request, int status,
                   const std::vector<std::pair<std::string, std::string>>& response_headers,
                   const auth::Caller* caller) {
  if (!IsAudited(request.path)) return;
  Add(Describe(request, status, response_headers, caller, clock_.Now()));
}

void AuditLog::Add(Record record) {
  {
    std::unique_lock lock(mu_);
    if (stopping_) {
      ++lost_;
      LogError("audit record of \"" + record.request + "\" after the audit log closed: not kept");
      return;
    }
    if (queue_.size() >= options_.capacity) {
      if (!full_logged_) {
        full_logged_ = true;
        LogWarning("the audit queue is full (" + std::to_string(options_.capacity) +
                   " records): requests wait for the audit writer");
      }
      space_cv_.wait(lock, [&] { return queue_.size() < options_.capacity; });
    }
    queue_.push_back(std::move(record));
    if (queue_.size() != 1 && queue_.size() != options_.batch) return;
  }
  work_cv_.notify_one();  // the first record starts the interval; a full batch ends it
}

void AuditLog::WriterLoop() {
  const size_t max_batch = std::max<size_t>(options_.batch, 1);
  for (;;) {
    std::vector<Record> batch;
    bool closing = false;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything appended
      if (!stopping_ && queue_.size() < max_batch) {
        work_cv_.wait_for(lock, options_.interval,
                          [&] { return stopping_ || queue_.size() >= max_batch; });
      }
      const size_t n = std::min(queue_.size(), max_batch);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      if (queue_.size() < options_.capacity / 2) full_logged_ = false;
      closing = stopping_;
    }
    space_cv_.notify_all();
    Status status = AppendWithRetry(batch, closing);
    std::lock_guard lock(mu_);
    if (status.ok()) {
      appended_ += static_cast<int64_t>(batch.size());
    } else {
      lost_ += static_cast<int64_t>(batch.size());
      close_status_ = status;
    }
  }
}

Status AuditLog::AppendWithRetry(const std::vector<Record>& batch, bool closing) {
  std::vector<store::AuditAppend> appends;
  appends.reserve(batch.size());
  for (const Record& r : batch) {
    store::AuditAppend a;
    a.recorded = r.recorded;
    a.record = EncodeStored(r, source_);
    a.patient = r.patient;
    a.agent = r.user;
    // The resource itself ("Type/id"), without a version's _history part.
    const size_t slash = r.what.find('/');
    const size_t second = slash == std::string::npos ? slash : r.what.find('/', slash + 1);
    a.entity = r.what.substr(0, second);
    a.outcome = Outcome(r.status);
    appends.push_back(std::move(a));
  }
  std::chrono::milliseconds pause = options_.retry_pause;
  for (int attempt = 1;; ++attempt) {
    Status status = store_.AppendAudit(appends);
    if (status.ok()) {
      if (attempt > 1)
        LogInfo("audit records appended again after " + std::to_string(attempt - 1) +
                " failed attempts");
      return status;
    }
    LogError("appending " + std::to_string(appends.size()) + " audit records failed (attempt " +
             std::to_string(attempt) +
             "; requests wait once the queue is full): " + status.message());
    {
      std::unique_lock lock(mu_);
      closing = closing || stopping_;
    }
    if (closing && attempt >= kAttemptsAtClose) return status;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, kLongestRetryPause);
  }
}

Status AuditLog::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return close_status_;
    closed_ = true;
    stopping_ = true;
  }
  work_cv_.notify_one();
  space_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  std::lock_guard lock(mu_);
  if (lost_ > 0) {
    close_status_ = Status(
        StatusCode::kUnavailable,
        std::to_string(lost_) + " audit records could not be appended: " + close_status_.message());
  }
  return close_status_;
}

int64_t AuditLog::appended() const {
  std::lock_guard lock(mu_);
  return appended_;
}

}  // namespace vesta::audit
