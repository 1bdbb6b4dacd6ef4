#include "postgres/test_cluster.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "postgres/connection.h"

namespace vesta::postgres {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kSuperuser[] = "vesta";

// The account that runs initdb and postgres: none (the caller) unless the caller is root.
struct Account {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<Account> ServerAccount() {
  Account account;
  if (geteuid() != 0) return account;
  struct passwd* pw = getpwnam("postgres");
  if (pw == nullptr) {
    return Status(StatusCode::kNotFound,
                  "running as root, and there is no `postgres` account to run the PostgreSQL "
                  "server as (Debian's postgresql package creates it)");
  }
  account.switch_user = true;
  account.uid = pw->pw_uid;
  account.gid = pw->pw_gid;
  return account;
}

bool Executable(const fs::path& path) { return access(path.c_str(), X_OK) == 0; }

bool HasServer(const fs::path& dir) {
  return Executable(dir / "initdb") && Executable(dir / "postgres");
}

// The first line `command` prints, or empty.
std::string FirstLineOf(const char* command) {
  FILE* pipe = popen(command, "r");
  if (pipe == nullptr) return std::string();
  char line[4096] = {};
  std::string out;
  if (fgets(line, sizeof(line), pipe) != nullptr) out = line;
  pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// Starts `argv` with stdout and stderr appended to `log`, in `dir`, as `account`. The child
// gets SIGQUIT if this thread dies first, and a small fixed environment (no PG* variable of
// ours leaks into the server).
Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& dir,
                    const std::string& log, const Account& account) {
  // Everything the child needs is made before fork(): after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  static const char* const kEnv[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC", nullptr};
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("opening " + log);
  if (account.switch_user && fchown(fd, account.uid, account.gid) != 0) {
    close(fd);
    return Internal("handing " + log + " to the postgres account");
  }
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(fd);
    return Internal("fork failed");
  }
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(126);
    close_range(3, ~0U, 0);  // no descriptor of the test process (client sockets) leaks
    if (account.switch_user) {
      if (setgroups(0, nullptr) != 0 || setgid(account.gid) != 0 || setuid(account.uid) != 0) {
        _exit(126);
      }
    }
    // After the user switch, which clears it; then make sure the parent did not die meanwhile.
    prctl(PR_SET_PDEATHSIG, SIGQUIT);
    if (getppid() != parent) _exit(126);
    if (chdir(dir.c_str()) != 0) _exit(126);
    execve(args[0], args.data(), const_cast<char* const*>(kEnv));
    _exit(127);
  }
  close(fd);
  return pid;
}

// Waits until `pid` exits, at most `timeout`: its exit status, or nullopt when still running.
std::optional<int> WaitFor(pid_t pid, milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid || done < 0) return done < 0 ? -1 : status;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

// Ends `pid` (our child): `signal`, then harder ones, each wait bounded. True once reaped.
bool EndChild(pid_t pid, int signal, milliseconds patience) {
  struct Step {
    int signal;
    milliseconds wait;
  };
  const Step steps[] = {
      {signal, patience}, {SIGQUIT, milliseconds(5000)}, {SIGKILL, milliseconds(5000)}};
  for (const Step& step : steps) {
    if (kill(pid, step.signal) != 0) {
      (void)WaitFor(pid, milliseconds(100));
      return true;  // already gone (and now reaped)
    }
    if (WaitFor(pid, step.wait)) return true;
  }
  return false;
}

bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string TailOf(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    out += all[i];
    out += '\n';
  }
  return out;
}

}  // namespace

Result<std::string> TestCluster::FindServer() {
  std::vector<fs::path> candidates;
  if (const char* given = getenv("VESTA_PG_BINDIR"); given != nullptr && *given != '\0') {
    candidates.emplace_back(given);
  } else {
    std::string bindir = FirstLineOf("pg_config --bindir 2>/dev/null");
    if (!bindir.empty()) candidates.emplace_back(bindir);
    // Debian keeps the server programs out of the PATH, one directory per major version.
    std::vector<std::pair<int, fs::path>> debian;
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
      int major = std::atoi(entry.path().filename().c_str());
      if (major > 0) debian.emplace_back(major, entry.path() / "bin");
    }
    std::sort(debian.rbegin(), debian.rend());
    for (auto& [major, dir] : debian) candidates.push_back(dir);
    if (const char* path = getenv("PATH")) {
      std::stringstream dirs(path);
      for (std::string dir; std::getline(dirs, dir, ':');) {
        if (!dir.empty()) candidates.emplace_back(dir);
      }
    }
  }
  for (const fs::path& dir : candidates) {
    if (HasServer(dir)) {
      ASSIGN_OR_RETURN(Account account, ServerAccount());
      (void)account;
      return dir.string();
    }
  }
  return Status(StatusCode::kNotFound,
                "PostgreSQL server programs (initdb, postgres) not found ($VESTA_PG_BINDIR, "
                "pg_config --bindir, /usr/lib/postgresql/*/bin, PATH); install Debian's "
                "`postgresql` (scripts/install-deps.sh)");
}

namespace {

// Removes the folders of clusters whose test process was killed (a timeout sends SIGKILL, and
// ~TestCluster never runs): `vesta-pg-*` under `base` untouched for kStaleAfter, and with no
// live server (postmaster.pid's first line is its process id). Age keeps clusters that other
// test processes are still setting up out of reach.
void RemoveStaleDirectories(const std::string& base) {
  constexpr auto kStaleAfter = std::chrono::hours(6);
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (const fs::directory_entry& entry : fs::directory_iterator(base, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("vesta-pg-", 0) != 0 || !entry.is_directory(ec)) continue;
    const auto modified = fs::last_write_time(entry.path(), ec);
    if (ec || now - modified < kStaleAfter) continue;
    std::ifstream pid_file(entry.path() / "data" / "postmaster.pid");
    long pid = 0;
    if (pid_file >> pid && pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) {
      continue;  // its server still runs
    }
    fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

Result<std::unique_ptr<TestCluster>> TestCluster::MakeDirectory(const std::string& bindir) {
  ASSIGN_OR_RETURN(Account account, ServerAccount());
  // As root, under /tmp, which every account can traverse; the socket path must also stay
  // within the 107 bytes a unix socket address holds.
  std::error_code ec;
  std::string base = fs::temp_directory_path(ec).string();
  if (ec || account.switch_user || base.size() > 60) base = "/tmp";
  RemoveStaleDirectories(base);
  std::string pattern = base + "/vesta-pg-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return Internal("mkdtemp " + pattern + " failed");
  static std::atomic<int> started{0};
  const int port = 20000 + static_cast<int>((getpid() * 16 + started++) % 40000);
  std::unique_ptr<TestCluster> cluster(new TestCluster(bindir, pattern, port));
  if (account.switch_user && chown(pattern.c_str(), account.uid, account.gid) != 0) {
    return Internal("handing " + pattern + " to the postgres account failed");
  }
  return cluster;
}

Result<std::unique_ptr<TestCluster>> TestCluster::Start() {
  ASSIGN_OR_RETURN(std::string bindir, FindServer());
  ASSIGN_OR_RETURN(Account account, ServerAccount());
  ASSIGN_OR_RETURN(std::unique_ptr<TestCluster> cluster, MakeDirectory(bindir));
  const std::string& pattern = cluster->dir_;

  const std::string log = pattern + "/initdb.log";
  std::vector<std::string> initdb = {bindir + "/initdb",
                                     "-D",
                                     pattern + "/data",
                                     "-U",
                                     kSuperuser,
                                     "-A",
                                     "trust",
                                     "-E",
                                     "UTF8",
                                     "--no-locale",
                                     "--no-sync"};
  ASSIGN_OR_RETURN(pid_t pid, Spawn(initdb, pattern, log, account));
  std::optional<int> status = WaitFor(pid, milliseconds(60000));
  if (!status) {
    EndChild(pid, SIGKILL, milliseconds(5000));
    return Internal("initdb did not finish in 60 s:\n" + TailOf(log, 20));
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return Internal("initdb failed:\n" + TailOf(log, 20));
  }
  RETURN_IF_ERROR(cluster->StartServer());
  return cluster;
}

Result<std::unique_ptr<TestCluster>> TestCluster::StartReplicaOf(const TestCluster& primary) {
  if (!primary.running()) return Invalid("the primary is not running");
  ASSIGN_OR_RETURN(Account account, ServerAccount());
  ASSIGN_OR_RETURN(std::unique_ptr<TestCluster> replica, MakeDirectory(primary.bindir_));
  const std::string& dir = replica->dir_;
  const std::string log = dir + "/basebackup.log";
  // -R writes standby.signal and primary_conninfo (this same connection string) into the copy;
  // -c fast: no wait for a spread checkpoint; --no-sync as initdb's.
  std::vector<std::string> argv = {
      primary.bindir_ + "/pg_basebackup",
      "-D",
      dir + "/data",
      "-d",
      "host=" + primary.dir_ + " port=" + std::to_string(primary.port_) + " user=" + kSuperuser,
      "-R",
      "-c",
      "fast",
      "-X",
      "stream",
      "--no-sync"};
  ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, dir, log, account));
  std::optional<int> status = WaitFor(pid, milliseconds(60000));
  if (!status) {
    EndChild(pid, SIGKILL, milliseconds(5000));
    return Internal("pg_basebackup did not finish in 60 s:\n" + TailOf(log, 20));
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return Internal("pg_basebackup failed:\n" + TailOf(log, 20));
  }
  RETURN_IF_ERROR(replica->StartServer());
  return replica;
}

Status TestCluster::StartServer() {
  ASSIGN_OR_RETURN(Account account, ServerAccount());
  // Only the unix socket, in the cluster's directory. Durability settings are the defaults
  // (fsync on); small shared memory, since several clusters may run at once.
  std::vector<std::string> argv = {bindir_ + "/postgres",
                                   "-D",
                                   dir_ + "/data",
                                   "-c",
                                   "listen_addresses=",
                                   "-c",
                                   "unix_socket_directories=" + dir_,
                                   "-c",
                                   "port=" + std::to_string(port_),
                                   "-c",
                                   "shared_buffers=16MB",
                                   "-c",
                                   "max_connections=40"};
  ASSIGN_OR_RETURN(pid_, Spawn(argv, dir_, dir_ + "/server.log", account));

  // Ready when it accepts a connection; bounded, and given up at once if the server exits.
  Options options;
  options.connect_timeout_s = 2;
  options.application_name = "vesta-test-cluster";
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
  Status last = Status::Ok();
  while (Clock::now() < deadline) {
    if (std::optional<int> exited = WaitFor(pid_, milliseconds(0))) {
      pid_ = 0;
      return Internal("the PostgreSQL server exited at start:\n" + LogTail());
    }
    Result<std::unique_ptr<Connection>> db = Connection::Open(Uri(), options);
    if (db.ok()) return Status::Ok();
    last = db.status();
    std::this_thread::sleep_for(milliseconds(20));
  }
  (void)Stop();
  return Internal("the PostgreSQL server did not accept connections in 30 s (" + last.message() +
                  "):\n" + LogTail());
}

TestCluster::~TestCluster() {
  (void)Stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string TestCluster::Uri(std::string_view database, std::string_view schema) const {
  std::string uri = "postgresql://" + std::string(kSuperuser) + "@/" + std::string(database) +
                    "?host=" + dir_ + "&port=" + std::to_string(port_);
  if (!schema.empty()) uri += "&options=-csearch_path%3D" + std::string(schema);
  return uri;
}

Status TestCluster::CreateDatabase(std::string_view name) {
  if (!IsIdentifier(name)) return Invalid("not a database name: " + std::string(name));
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> db, Connection::Open(Uri(), Options()));
  return db->Exec("CREATE DATABASE " + std::string(name));
}

Status TestCluster::CreateSchema(std::string_view name) {
  if (!IsIdentifier(name)) return Invalid("not a schema name: " + std::string(name));
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> db, Connection::Open(Uri(), Options()));
  return db->Exec("CREATE SCHEMA " + std::string(name));
}

Status TestCluster::Stop() {
  if (pid_ <= 0) return Status::Ok();
  pid_t pid = std::exchange(pid_, 0);
  if (!EndChild(pid, SIGINT, milliseconds(20000))) {
    return Internal("the PostgreSQL server (pid " + std::to_string(pid) + ") did not stop");
  }
  return Status::Ok();
}

Status TestCluster::Restart() {
  if (pid_ > 0) return Status::Ok();
  return StartServer();
}

std::string TestCluster::LogTail() const { return TailOf(dir_ + "/server.log", 20); }

// ---- PostgresTest -----------------------------------------------------------------------------

std::unique_ptr<TestCluster> PostgresTest::cluster_;
std::string PostgresTest::skip_reason_;
std::string PostgresTest::start_error_;

void PostgresTest::SetUpTestSuite() {
  skip_reason_.clear();
  start_error_.clear();
  Result<std::unique_ptr<TestCluster>> cluster = TestCluster::Start();
  if (cluster.ok()) {
    cluster_ = std::move(cluster).value();
  } else if (cluster.status().code() == StatusCode::kNotFound) {
    skip_reason_ = cluster.status().message();
  } else {
    start_error_ = cluster.status().message();
  }
}

void PostgresTest::TearDownTestSuite() { cluster_.reset(); }

void PostgresTest::SetUp() {
  if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
  ASSERT_TRUE(start_error_.empty()) << start_error_;
  ASSERT_NE(cluster_, nullptr);
  static int schemas = 0;
  std::string name = "test_" + std::to_string(++schemas);
  Status created = cluster_->CreateSchema(name);
  ASSERT_TRUE(created.ok()) << created.ToString();
  uri_ = cluster_->Uri("postgres", name);
  schema_ = name;
}

}  // namespace vesta::postgres
