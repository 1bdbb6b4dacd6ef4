// The server's audit log: records queued by the request path and appended to the store's hash
// chain by one background thread, in batches (docs/security.md, "Audit trail").
//
//   audit::AuditLog log(store, clock, source, {});
//   ... in the HTTP handler, after the answer is built:
//   log.Add(request, response.status, response.headers, response.caller.get());
//   ... at shutdown, after the last request and before the store closes:
//   log.Close();
//
// A request describes and encodes its record on its own thread (audit/record.h, EncodeStored: a
// few string copies, about a microsecond), and the writer appends the records, every `interval` or
// as soon as `batch` records wait. The writer takes the whole queue at once and appends it in one
// AppendAudit call (one transaction, one log sync), so a request never waits for it to move
// records, and records that arrive while an append waits for the disk share the next one. The
// queue is bounded: when it is full, Add() waits for the writer (an audit record is never
// dropped), and the wait is logged. A failing append is logged and tried again, the records kept,
// so a store that stays down fills the queue and then holds up requests. What a crash loses: the
// records not yet appended, at most the queue plus the records taken from it (as many again;
// docs/security.md).
//
// Thread-safety: Add() may be called from any number of threads; Close() from one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "audit/record.h"
#include "base/clock.h"
#include "base/status.h"
#include "store/store.h"

namespace vesta::audit {

struct AuditLogOptions {
  size_t capacity = 65536;                  // records waiting at most; Add() waits beyond
  size_t batch = 4096;                      // this many records waiting wake the writer at once
  std::chrono::milliseconds interval{100};  // the longest a record waits to be appended
  // The pause before an append that failed is tried again (doubling up to 5 s).
  std::chrono::milliseconds retry_pause{100};
};

class AuditLog {
 public:
  // `store` and `clock` are borrowed and must outlive the log (or its Close()).
  AuditLog(store::Store& store, Clock& clock, Source source, AuditLogOptions options);
  // Closes (appends what is queued) if Close() was not called.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Records one answered request, unless its path is not audited (IsAudited).
  void Add(const http::Request& request, int status,
           const std::vector<std::pair<std::string, std::string>>& response_headers,
           const auth::Caller* caller);
  // Queues `record`; waits while the queue is full.
  void Add(Record record);

  // Appends every queued record and stops the writer. Records added afterwards are not kept
  // (logged). An append still failing after a few attempts at close is returned, with the number
  // of records lost. Idempotent.
  Status Close();

  // Records appended so far (for tests and the log at close).
  int64_t appended() const;

 private:
  void WriterLoop();
  // Appends `batch`, trying again while it fails (until `give_up` at close).
  Status AppendWithRetry(const std::vector<store::AuditAppend>& appends, bool closing);
  // What the store appends of `record` (encoded; its strings moved out).
  store::AuditAppend ToAppend(Record& record) const;

  store::Store& store_;
  Clock& clock_;
  const Source source_;
  const AuditLogOptions options_;

  mutable std::mutex mu_;             // guards everything below
  std::condition_variable work_cv_;   // the writer waits for records or a close
  std::condition_variable space_cv_;  // Add() waits for room
  std::vector<store::AuditAppend> queue_;
  bool stopping_ = false;
  bool closed_ = false;
  bool full_logged_ = false;  // a full queue is logged once until it drains
  int64_t appended_ = 0;
  int64_t lost_ = 0;
  Status close_status_;
  std::thread writer_;
};

}  // namespace vesta::audit
