#include "bulk/export_jobs.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/log.h"
#include "crypto/random.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::bulk {

struct ExportJobs::Job {
  std::string id;
  std::string dir;
  KickOff kickoff;
  Micros transaction_time = 0;
  std::atomic<bool> cancel{false};
  std::atomic<int64_t> exported{0};
  std::thread thread;
  // Guarded by ExportJobs::mu_:
  JobState state = JobState::kRunning;
  std::string manifest;
  std::vector<std::string> files;  // the names a client may download
  Micros expires = 0;
  Status error;
  bool finished = false;  // the thread has ended
};

namespace {

void RemoveTree(const std::string& dir) {
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::remove((dir + "/" + name).c_str());
    }
    closedir(d);
  }
  rmdir(dir.c_str());
}

Status MakeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) return Status::Ok();
  return Internal("cannot create the directory " + dir);
}

// Writes `text` to `path` through a temporary file and a rename, so a reader never sees half.
Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return Internal("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Internal("cannot rename " + tmp);
  return Status::Ok();
}

}  // namespace

ExportJobs::ExportJobs(ExportJobsOptions options, store::Store& store, Clock& clock)
    : options_(std::move(options)), store_(store), clock_(clock) {}

ExportJobs::~ExportJobs() {
  std::vector<std::shared_ptr<Job>> all;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, job] : jobs_) all.push_back(job);
    all.insert(all.end(), cancelled_.begin(), cancelled_.end());
  }
  stop_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
  for (auto& job : all) job->cancel = true;
  for (auto& job : all) {
    if (job->thread.joinable()) job->thread.join();
  }
}

Status ExportJobs::Open() {
  RETURN_IF_ERROR(MakeDir(options_.directory));
  std::lock_guard lock(mu_);
  DIR* d = opendir(options_.directory.c_str());
  if (d == nullptr) return Internal("cannot read the directory " + options_.directory);
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  for (const std::string& name : names) {
    const std::string dir = options_.directory + "/" + name;
    std::ifstream in(dir + "/job.json", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    Result<json::Document> doc = in ? json::Parse(text.str()) : Status(Internal("absent"));
    const json::Value* manifest = doc.ok() ? doc->root().Find("manifest") : nullptr;
    const json::Value* expires = doc.ok() ? doc->root().Find("expires") : nullptr;
    const json::Value* files = doc.ok() ? doc->root().Find("files") : nullptr;
    if (manifest == nullptr || expires == nullptr || !expires->is_number() || files == nullptr) {
      // Unfinished when the server stopped: nothing to serve.
      RemoveTree(dir);
      continue;
    }
    auto job = std::make_shared<Job>();
    job->id = name;
    job->dir = dir;
    job->kickoff.owner = std::string(doc->root().FindString("owner"));
    job->state = JobState::kDone;
    job->manifest = json::ToString(*manifest);
    std::from_chars(expires->number_text().data(),
                    expires->number_text().data() + expires->number_text().size(), job->expires);
    for (const json::Value& f : files->items()) job->files.emplace_back(f.string_value());
    job->finished = true;
    jobs_[name] = std::move(job);
  }
  Sweep();
  sweeper_ = std::thread([this] { SweepLoop(); });
  return Status::Ok();
}

Result<std::string> ExportJobs::Start(KickOff kickoff) {
  std::lock_guard lock(mu_);
  Sweep();
  int running = 0;
  for (const auto& [id, job] : jobs_) running += job->state == JobState::kRunning ? 1 : 0;
  for (const auto& job : cancelled_) running += job->finished ? 0 : 1;
  if (running >= options_.max_running) {
    return Status(StatusCode::kTooManyRequests,
                  std::to_string(running) +
                      " exports are running, the most this server runs at once; try again when "
                      "one has finished (or cancel one with DELETE on its status URL)");
  }
  ASSIGN_OR_RETURN(std::string id, crypto::RandomToken(18));
  auto job = std::make_shared<Job>();
  job->id = id;
  job->dir = options_.directory + "/" + id;
  job->kickoff = std::move(kickoff);
  job->transaction_time = clock_.Now();
  RETURN_IF_ERROR(MakeDir(job->dir));
  jobs_[id] = job;
  job->thread = std::thread([this, job] { Run(job); });
  return id;
}

void ExportJobs::Run(std::shared_ptr<Job> job) {
  // A lower priority than the threads that answer requests (on Linux, setpriority applies to the
  // calling thread), so that an export uses the cores the API leaves idle.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
  RunOptions run;
  run.out_dir = job->dir;
  run.transaction_time = job->transaction_time;
  run.page_size = options_.page_size;
  run.max_per_file = options_.max_per_file;
  run.cancel = &job->cancel;
  run.progress = &job->exported;
  run.reduce = job->kickoff.reduce;
  Result<ExportResult> result = RunExport(store_, job->kickoff.spec, run);
  std::string manifest;
  std::vector<std::string> files;
  Status written = Status::Ok();
  Micros expires =
      clock_.Now() +
      std::chrono::duration_cast<std::chrono::microseconds>(options_.expire_after).count();
  if (result.ok() && !job->cancel) {
    manifest = Manifest(*job, *result);
    for (const ExportFile& f : result->output) files.push_back(f.name);
    for (const ExportFile& f : result->errors) files.push_back(f.name);
    for (const ExportFile& f : result->deleted) files.push_back(f.name);
    std::string record = "{\"owner\":";
    json::WriteString(job->kickoff.owner, &record);
    record += ",\"expires\":" + std::to_string(expires) + ",\"files\":[";
    for (size_t i = 0; i < files.size(); ++i) {
      if (i > 0) record += ",";
      json::WriteString(files[i], &record);
    }
    record += "],\"manifest\":" + manifest + "}";
    written = WriteFileAtomically(job->dir + "/job.json", record);
  }
  std::lock_guard lock(mu_);
  job->finished = true;
  if (job->cancel) {
    RemoveTree(job->dir);
    return;
  }
  if (!result.ok() || !written.ok()) {
    job->state = JobState::kFailed;
    job->error = result.ok() ? written : result.status();
    job->expires = expires;
    LogWarning("export " + job->id + " failed: " + job->error.ToString());
    RemoveTree(job->dir);
    return;
  }
  job->state = JobState::kDone;
  job->manifest = std::move(manifest);
  job->files = std::move(files);
  job->expires = expires;
}

std::string ExportJobs::Manifest(const Job& job, const ExportResult& result) const {
  // export.html#response---complete-status: transactionTime, request, requiresAccessToken,
  // output (type, url, count), error (OperationOutcome files; an empty array when none).
  const std::string files_url = job.kickoff.base_url + "/bulk/files/" + job.id + "/";
  auto file_list = [&](const std::vector<ExportFile>& files) {
    std::string out = "[";
    for (size_t i = 0; i < files.size(); ++i) {
      if (i > 0) out += ",";
      out += "{\"type\":";
      json::WriteString(files[i].type, &out);
      out += ",\"url\":";
      json::WriteString(files_url + files[i].name, &out);
      out += ",\"count\":" + std::to_string(files[i].count) + "}";
    }
    return out + "]";
  };
  std::string m = "{\"transactionTime\":";
  json::WriteString(FormatInstant(job.transaction_time), &m);
  m += ",\"request\":";
  json::WriteString(job.kickoff.request_url, &m);
  m += ",\"requiresAccessToken\":";
  m += job.kickoff.requires_access_token ? "true" : "false";
  m += ",\"output\":" + file_list(result.output);
  if (!result.deleted.empty()) m += ",\"deleted\":" + file_list(result.deleted);
  m += ",\"error\":" + file_list(result.errors) + "}";
  return m;
}

Result<JobStatus> ExportJobs::Poll(const std::string& id, const std::string& owner) {
  std::lock_guard lock(mu_);
  Sweep();
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second->kickoff.owner != owner) {
    return NotFound("no export '" + id + "' (it may have expired or been cancelled)");
  }
  const Job& job = *it->second;
  JobStatus s;
  s.state = job.state;
  s.exported = job.exported.load();
  s.manifest = job.manifest;
  s.expires = job.expires;
  s.error = job.error;
  return s;
}

Status ExportJobs::Cancel(const std::string& id, const std::string& owner) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second->kickoff.owner != owner) {
    return NotFound("no export '" + id + "' (it may have expired or been cancelled)");
  }
  std::shared_ptr<Job> job = it->second;
  jobs_.erase(it);
  job->cancel = true;
  if (job->finished) {
    if (job->thread.joinable()) job->thread.join();
    RemoveTree(job->dir);
  } else {
    cancelled_.push_back(job);  // its thread removes the files when it notices
  }
  return Status::Ok();
}

Result<std::string> ExportJobs::FilePath(const std::string& id, const std::string& name,
                                         const std::string& owner) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second->kickoff.owner != owner) {
    return NotFound("no export '" + id + "' (it may have expired or been cancelled)");
  }
  const Job& job = *it->second;
  for (const std::string& f : job.files) {
    if (f == name) return job.dir + "/" + name;
  }
  return NotFound("export '" + id + "' has no file '" + name + "'");
}

void ExportJobs::Sweep() {
  const Micros now = clock_.Now();
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    Job& job = *it->second;
    if (job.finished && job.expires != 0 && job.expires <= now) {
      if (job.thread.joinable()) job.thread.join();
      RemoveTree(job.dir);
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
  std::erase_if(cancelled_, [](const std::shared_ptr<Job>& job) {
    if (!job->finished) return false;
    if (job->thread.joinable()) job->thread.join();
    return true;
  });
}

void ExportJobs::SweepLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    stop_cv_.wait_for(lock, std::chrono::seconds(30));
    if (!stopping_) Sweep();
  }
}

}  // namespace vesta::bulk
