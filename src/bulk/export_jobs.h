// The server's running and finished Bulk Data exports
// (https://hl7.org/fhir/uv/bulkdata/STU2/export.html): each runs on its own background thread at
// a lower CPU priority than the API's threads, writes its files into a directory of its own, and
// stays downloadable until it expires.
//
//   ExportJobs jobs(options, store, clock);   // finished exports of an earlier run are kept
//   Result<std::string> id = jobs.Start(std::move(kickoff));       // kTooManyRequests beyond
//   Result<JobStatus> s = jobs.Poll(*id, owner);                    // running, done or failed
//   Result<std::string> path = jobs.FilePath(*id, "Patient.ndjson", owner);
//   Status cancelled = jobs.Cancel(*id, owner);                     // and its files removed
//
// Layout: `directory/[id]/` holds the NDJSON files and, once the export is done, `job.json`
// (its owner, expiry and manifest). A directory without job.json is an export that a stopped
// server left unfinished; it is removed when the jobs are opened.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "bulk/export_runner.h"
#include "bulk/export_spec.h"
#include "store/store.h"

namespace vesta::bulk {

struct ExportJobsOptions {
  std::string directory;  // created when missing
  int max_running = 2;    // exports running at once; a kick-off beyond is refused (429)
  std::chrono::seconds expire_after = std::chrono::hours(1);  // after completion
  int page_size = 1000;
  int64_t max_per_file = 100000;
};

struct KickOff {
  ExportSpec spec;
  std::string request_url;  // the kick-off URL, for the manifest's `request`
  std::string base_url;     // the server's base URL, for the files' URLs
  std::string owner;        // who may poll and download ("" when authorization is off)
  bool requires_access_token = false;
  std::function<Result<std::string>(std::string_view stored)> reduce;  // _elements
};

enum class JobState { kRunning, kDone, kFailed };

struct JobStatus {
  JobState state = JobState::kRunning;
  int64_t exported = 0;  // resources written so far
  std::string manifest;  // kDone: the manifest JSON (export.html#response---complete-status)
  Micros expires = 0;    // kDone: when the files are removed
  Status error;          // kFailed: why
};

class ExportJobs {
 public:
  ExportJobs(ExportJobsOptions options, store::Store& store, Clock& clock);
  // Stops the running exports (their files are removed) and waits for their threads.
  ~ExportJobs();
  ExportJobs(const ExportJobs&) = delete;
  ExportJobs& operator=(const ExportJobs&) = delete;

  // Loads the finished exports an earlier run left, removes unfinished ones, and starts the
  // thread that removes expired exports. kInternal when the directory cannot be made.
  Status Open();

  // Starts an export; its id (URL-safe, unguessable). kTooManyRequests when max_running exports
  // are running.
  Result<std::string> Start(KickOff kickoff);
  // kNotFound for an unknown, expired or cancelled id, or one another owner started.
  Result<JobStatus> Poll(const std::string& id, const std::string& owner);
  // Cancels a running export, or deletes a finished one, with its files (export.html#delete-a-
  // bulk-data-request). kNotFound as Poll.
  Status Cancel(const std::string& id, const std::string& owner);
  // The path of one of a finished export's files. kNotFound as Poll, or for a name the export
  // did not write.
  Result<std::string> FilePath(const std::string& id, const std::string& name,
                               const std::string& owner);

 private:
  struct Job;
  void Run(std::shared_ptr<Job> job);
  void Sweep();  // removes expired exports; REQUIRES: mu_ held
  void SweepLoop();
  std::string Manifest(const Job& job, const ExportResult& result) const;

  ExportJobsOptions options_;
  store::Store& store_;
  Clock& clock_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::vector<std::shared_ptr<Job>> cancelled_;  // still running until they notice
  std::thread sweeper_;
};

}  // namespace vesta::bulk
