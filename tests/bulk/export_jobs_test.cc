// The server's exports over an in-memory store: what runs, what is refused beyond the limit,
// cancelling, expiry, and what a restart keeps.
#include "bulk/export_jobs.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace vesta::bulk {
namespace {

namespace fs = std::filesystem;

// A store of `n` Patients whose searches can be held at a gate (to keep an export running).
class GatedStore : public store::Store {
 public:
  explicit GatedStore(int n) {
    for (int i = 0; i < n; ++i) {
      store::StoredVersion v;
      v.type = "Patient";
      v.id = "p" + std::to_string(i);
      v.version = 1;
      v.json = R"({"resourceType":"Patient","id":")" + v.id + R"("})";
      patients_.push_back(v);
    }
  }
  void Close_gate() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Open_gate() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  // Waits until a search is waiting at the closed gate.
  void WaitForWaiter() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return waiting_ > 0; });
  }

  Result<store::StoredVersion> Read(const std::string&, const std::string&) override {
    return NotFound("none");
  }
  Result<store::StoredVersion> ReadVersion(const std::string&, const std::string&,
                                           int64_t) override {
    return NotFound("none");
  }
  Result<std::vector<store::WriteResult>> Write(std::span<const store::WriteOp>) override {
    return Internal("read-only");
  }
  Result<store::HistoryPage> History(const store::HistoryQuery&) override {
    return Internal("none");
  }
  // Pages of 2 through the Patients; other types have none.
  Result<store::SearchPage> Search(const store::SearchQuery& q) override {
    {
      std::unique_lock lock(mu_);
      ++waiting_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
      --waiting_;
    }
    store::SearchPage page;
    if (q.types.front() != "Patient") return page;
    size_t start = 0;
    for (const auto& [k, v] : q.params) {
      if (k == "_cursor") start = std::stoul(v);
    }
    for (size_t i = start; i < std::min(start + 2, patients_.size()); ++i) {
      page.entries.push_back({patients_[i], store::SearchMode::kMatch});
    }
    if (start + 2 < patients_.size()) page.next_cursor = std::to_string(start + 2);
    return page;
  }
  Status Close() override { return Status::Ok(); }

 private:
  std::vector<store::StoredVersion> patients_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int waiting_ = 0;
};

KickOff PatientsKickOff() {
  KickOff k;
  k.spec.types = {"Patient", "Observation"};
  k.request_url = "http://h/$export";
  k.base_url = "http://h";
  k.owner = "client-a user";
  return k;
}

JobStatus WaitDone(ExportJobs& jobs, const std::string& id, const std::string& owner) {
  for (int i = 0; i < 500; ++i) {
    Result<JobStatus> s = jobs.Poll(id, owner);
    if (!s.ok() || s->state != JobState::kRunning) return s.ok() ? *s : JobStatus{};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "the export did not finish";
  return {};
}

class ExportJobsTest : public ::testing::Test {
 protected:
  std::string Dir() {
    std::string pattern = (fs::temp_directory_path() / "vesta-export-XXXXXX").string();
    EXPECT_NE(mkdtemp(pattern.data()), nullptr);
    made_.push_back(pattern);
    return pattern + "/exports";
  }
  ~ExportJobsTest() override {
    for (const std::string& d : made_) fs::remove_all(d);
  }
  std::vector<std::string> made_;
};

TEST_F(ExportJobsTest, RunsWritesTheManifestAndServesOnlyItsFilesToItsOwner) {
  GatedStore store(5);
  FakeClock clock(1'700'000'000'000'000);
  ExportJobsOptions o;
  o.directory = Dir();
  o.max_per_file = 3;
  ExportJobs jobs(o, store, clock);
  ASSERT_TRUE(jobs.Open().ok());
  Result<std::string> id = jobs.Start(PatientsKickOff());
  ASSERT_TRUE(id.ok());
  JobStatus s = WaitDone(jobs, *id, "client-a user");
  ASSERT_EQ(s.state, JobState::kDone);
  EXPECT_EQ(s.exported, 5);
  EXPECT_NE(
      s.manifest.find(R"("url":"http://h/bulk/files/)" + *id + R"(/Patient.ndjson","count":3)"),
      std::string::npos)
      << s.manifest;
  EXPECT_NE(s.manifest.find(R"(/Patient.2.ndjson","count":2)"), std::string::npos) << s.manifest;
  EXPECT_NE(s.manifest.find(R"("error":[])"), std::string::npos);
  EXPECT_NE(s.manifest.find(R"("transactionTime":"2023-11-14T22:13:20.000000Z")"),
            std::string::npos)
      << s.manifest;
  EXPECT_EQ(s.expires, clock.Now() + 3600LL * 1'000'000);
  Result<std::string> path = jobs.FilePath(*id, "Patient.ndjson", "client-a user");
  ASSERT_TRUE(path.ok());
  std::ifstream in(*path);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, R"({"resourceType":"Patient","id":"p0"})");
  EXPECT_EQ(jobs.FilePath(*id, "job.json", "client-a user").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs.FilePath(*id, "../job.json", "client-a user").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(jobs.Poll(*id, "client-b user").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs.FilePath(*id, "Patient.ndjson", "client-b user").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(jobs.Cancel(*id, "client-b user").code(), StatusCode::kNotFound);
}

TEST_F(ExportJobsTest, LimitsRunningExportsAndCancelsThem) {
  GatedStore store(5);
  FakeClock clock(1'700'000'000'000'000);
  ExportJobsOptions o;
  o.directory = Dir();
  o.max_running = 1;
  ExportJobs jobs(o, store, clock);
  ASSERT_TRUE(jobs.Open().ok());
  store.Close_gate();
  Result<std::string> first = jobs.Start(PatientsKickOff());
  ASSERT_TRUE(first.ok());
  store.WaitForWaiter();
  Result<std::string> second = jobs.Start(PatientsKickOff());
  EXPECT_EQ(second.status().code(), StatusCode::kTooManyRequests);
  Result<JobStatus> running = jobs.Poll(*first, "client-a user");
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->state, JobState::kRunning);
  // Cancelled: gone at once for clients; its thread stops at the next page and removes the
  // files; then the limit frees up.
  ASSERT_TRUE(jobs.Cancel(*first, "client-a user").ok());
  EXPECT_EQ(jobs.Poll(*first, "client-a user").status().code(), StatusCode::kNotFound);
  store.Open_gate();
  for (int i = 0; i < 500 && fs::exists(o.directory + "/" + *first); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(fs::exists(o.directory + "/" + *first));
  Result<std::string> third = jobs.Start(PatientsKickOff());
  ASSERT_TRUE(third.ok()) << third.status().message();
  EXPECT_EQ(WaitDone(jobs, *third, "client-a user").state, JobState::kDone);
}

TEST_F(ExportJobsTest, FinishedExportsExpireAndSurviveARestart) {
  GatedStore store(3);
  FakeClock clock(1'700'000'000'000'000);
  ExportJobsOptions o;
  o.directory = Dir();
  o.expire_after = std::chrono::minutes(10);
  std::string kept, expired;
  {
    ExportJobs jobs(o, store, clock);
    ASSERT_TRUE(jobs.Open().ok());
    Result<std::string> a = jobs.Start(PatientsKickOff());
    ASSERT_TRUE(a.ok());
    ASSERT_EQ(WaitDone(jobs, *a, "client-a user").state, JobState::kDone);
    expired = *a;
    clock.Advance(5LL * 60 * 1'000'000);
    Result<std::string> b = jobs.Start(PatientsKickOff());
    ASSERT_TRUE(b.ok());
    ASSERT_EQ(WaitDone(jobs, *b, "client-a user").state, JobState::kDone);
    kept = *b;
  }
  // An export a stopped server left unfinished: a directory without job.json.
  fs::create_directories(o.directory + "/unfinished");
  std::ofstream(o.directory + "/unfinished/Patient.ndjson") << "{}\n";
  clock.Advance(6LL * 60 * 1'000'000);  // the first is 11 minutes old, the second 6
  ExportJobs reopened(o, store, clock);
  ASSERT_TRUE(reopened.Open().ok());
  EXPECT_FALSE(fs::exists(o.directory + "/unfinished"));
  EXPECT_EQ(reopened.Poll(expired, "client-a user").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(o.directory + "/" + expired));
  Result<JobStatus> s = reopened.Poll(kept, "client-a user");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, JobState::kDone);
  EXPECT_NE(s->manifest.find("Patient.ndjson"), std::string::npos);
  EXPECT_TRUE(reopened.FilePath(kept, "Patient.ndjson", "client-a user").ok());
  EXPECT_EQ(reopened.Poll(kept, "client-b user").status().code(), StatusCode::kNotFound);
  clock.Advance(5LL * 60 * 1'000'000);
  EXPECT_EQ(reopened.Poll(kept, "client-a user").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(o.directory + "/" + kept));
}

}  // namespace
}  // namespace vesta::bulk
