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
  // Encoded on the calling thread: the one writer only appends (requests run on many threads).
  store::AuditAppend append = ToAppend(record);
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
    queue_.push_back(std::move(append));
    if (queue_.size() != 1 && queue_.size() != options_.batch) return;
  }
  work_cv_.notify_one();  // the first record starts the interval; a full batch ends it
}

store::AuditAppend AuditLog::ToAppend(Record& r) const {
  store::AuditAppend a;
  a.recorded = r.recorded;
  a.record = EncodeStored(r, source_);
  // The record is encoded: what the search columns take from it is moved, not copied.
  a.patient = std::move(r.patient);
  a.agent = std::move(r.user);
  // The resource itself ("Type/id"), without a version's _history part.
  const size_t slash = r.what.find('/');
  const size_t second = slash == std::string::npos ? slash : r.what.find('/', slash + 1);
  r.what.resize(std::min(second, r.what.size()));
  a.entity = std::move(r.what);
  a.outcome = Outcome(r.status);
  return a;
}

void AuditLog::WriterLoop() {
  const size_t batch = std::max<size_t>(options_.batch, 1);
  for (;;) {
    // Everything queued is taken at once (the queue swapped for an empty one) and appended in one
    // call: requests adding records wait for the lock only as long as a swap takes, and one
    // commit (one log sync) serves however many records came in while the last one was written.
    std::vector<store::AuditAppend> taken;
    bool closing = false;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything appended
      if (!stopping_ && queue_.size() < batch) {
        work_cv_.wait_for(lock, options_.interval,
                          [&] { return stopping_ || queue_.size() >= batch; });
      }
      taken.swap(queue_);
      // Room for as many again, so that requests do not regrow the queue (moving every record
      // it holds, under the lock) a dozen times a cycle.
      queue_.reserve(std::min(std::max(taken.size(), batch), options_.capacity));
      full_logged_ = false;
      closing = stopping_;
    }
    space_cv_.notify_all();
    Status status = AppendWithRetry(taken, closing);
    std::lock_guard lock(mu_);
    if (status.ok()) {
      appended_ += static_cast<int64_t>(taken.size());
    } else {
      lost_ += static_cast<int64_t>(taken.size());
      close_status_ = status;
    }
  }
}

Status AuditLog::AppendWithRetry(const std::vector<store::AuditAppend>& appends, bool closing) {
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
