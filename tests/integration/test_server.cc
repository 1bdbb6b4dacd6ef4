#include "integration/test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>

#ifdef VESTA_TEST_POSTGRES
#include "postgres/test_cluster.h"
#endif

namespace vesta::testing {

namespace {

// $VESTA_TEST_STORE as given ("" when unset).
std::string StoreVariable() {
  const char* v = std::getenv("VESTA_TEST_STORE");
  return v != nullptr ? v : "";
}

#ifdef VESTA_TEST_POSTGRES
// The process's cluster, started on first use (from the environment's SetUp, on the main thread,
// which outlives it: test_cluster.h) and stopped at exit.
Result<postgres::TestCluster*> SharedCluster() {
  static Result<std::unique_ptr<postgres::TestCluster>> cluster = postgres::TestCluster::Start();
  if (!cluster.ok()) return cluster.status();
  return cluster->get();
}

// The --store URI for `data_dir`: its own schema, made the first time the directory is seen. The
// directory is made too, as the SQLite store would: tests put files there (the server reads the
// terminology from it).
Result<std::string> PostgresUriFor(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Internal("cannot make " + data_dir + ": " + ec.message());
  static std::mutex mu;
  static std::map<std::string, std::string> schemas;  // data_dir -> schema
  ASSIGN_OR_RETURN(postgres::TestCluster * cluster, SharedCluster());
  std::lock_guard lock(mu);
  auto [it, added] = schemas.try_emplace(data_dir, "server_" + std::to_string(schemas.size() + 1));
  if (added) {
    if (Status s = cluster->CreateSchema(it->second); !s.ok()) {
      schemas.erase(it);
      return s;
    }
  }
  return cluster->Uri("postgres", it->second);
}
#endif

// Set-up of every test binary linking this library: a bad $VESTA_TEST_STORE fails the run; under
// postgres the cluster is started here, and the run is skipped when PostgreSQL is not installed.
// TearDown prints kAllSkippedMarker when every test was skipped.
class StoreEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string store = StoreVariable();
    if (store.empty() || store == "sqlite") return;
    ASSERT_EQ(store, "postgres") << "VESTA_TEST_STORE is sqlite or postgres";
#ifdef VESTA_TEST_POSTGRES
    Result<postgres::TestCluster*> cluster = SharedCluster();
    if (!cluster.ok() && cluster.status().code() == StatusCode::kNotFound) {
      skipped_all_ = true;
      GTEST_SKIP() << "no PostgreSQL store to test: " << cluster.status().message();
    }
    ASSERT_TRUE(cluster.ok()) << "the PostgreSQL test cluster did not start: "
                              << cluster.status().ToString();
#else
    skipped_all_ = true;
    GTEST_SKIP() << "no PostgreSQL store to test: this build has none (libpq not found)";
#endif
  }

  // (A skip here runs no test, and GTest then counts every test as passed: hence skipped_all_.)
  void TearDown() override {
    const ::testing::UnitTest& run = *::testing::UnitTest::GetInstance();
    if (skipped_all_ ||
        (run.Passed() && run.successful_test_count() == 0 && run.skipped_test_count() > 0)) {
      std::printf("%s\n", kAllSkippedMarker);
      std::fflush(stdout);
    }
  }

 private:
  bool skipped_all_ = false;
};

[[maybe_unused]] const bool kStoreEnvironmentAdded =
    (::testing::AddGlobalTestEnvironment(new StoreEnvironment), true);

}  // namespace

TestStore CurrentTestStore() {
  return StoreVariable() == "postgres" ? TestStore::kPostgres : TestStore::kSqlite;
}

std::string HttpResult::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return v;
  }
  return "";
}

std::string VestaBinary() { return VESTA_BINARY; }

std::string StoreFlags(const std::string& data_dir) {
  std::string flags = " --data-dir '" + data_dir + "'";
  if (CurrentTestStore() == TestStore::kPostgres) {
#ifdef VESTA_TEST_POSTGRES
    Result<std::string> uri = PostgresUriFor(data_dir);
    // Without a schema, a --store the subcommand refuses: the test fails, saying why.
    flags += " --store '" + (uri.ok() ? *uri : "unavailable: " + uri.status().message()) + "'";
#else
    flags += " --store 'unavailable: this build has no PostgreSQL store'";
#endif
  }
  return flags;
}

std::string PostgresUriOf(const std::string& data_dir) {
  if (CurrentTestStore() != TestStore::kPostgres) return "";
#ifdef VESTA_TEST_POSTGRES
  Result<std::string> uri = PostgresUriFor(data_dir);
  return uri.ok() ? *uri : "unavailable: " + uri.status().message();
#else
  return "unavailable: this build has no PostgreSQL store";
#endif
}

HttpResult HttpRequest(int port, const std::string& method, const std::string& target,
                       const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       int timeout_ms) {
  HttpResult result;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return result;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return result;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nConnection: close\r\n";
  bool has_content_type = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    has_content_type |= strcasecmp(k.c_str(), "Content-Type") == 0;
  }
  if (!body.empty() && !has_content_type) req += "Content-Type: application/fhir+json\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      return result;
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.compare(0, 9, "HTTP/1.1 ") != 0) return result;
  result.status = std::atoi(raw.c_str() + 9);
  size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    size_t eol = raw.find("\r\n", line);
    std::string h = raw.substr(line, eol - line);
    size_t colon = h.find(':');
    if (colon != std::string::npos) {
      size_t v = h.find_first_not_of(' ', colon + 1);
      result.headers.emplace_back(h.substr(0, colon), v == std::string::npos ? "" : h.substr(v));
    }
    line = eol + 2;
  }
  result.body = raw.substr(head_end + 4);
  return result;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "vesta-test-XXXXXX").string();
  char* p = mkdtemp(tmpl.data());
  path_ = p != nullptr ? p : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

ServerProcess::ServerProcess(const std::string& data_dir, std::vector<std::string> extra_args,
                             const std::string& log_path) {
  std::vector<std::string> args = {VestaBinary(), "serve", "--listen",   "127.0.0.1",
                                   "--port",      "0",     "--data-dir", data_dir};
  bool own_store = false;
  bool own_auth = false;
  for (const std::string& a : extra_args) {
    own_store |= a == "--store" || a.starts_with("--store=");
    own_auth |= a == "--auth" || a.starts_with("--auth=");
  }
  // Authorization is tested where a test asks for it (--auth smart); the others run without.
  if (!own_auth) args.insert(args.end(), {"--auth", "off"});
  if (CurrentTestStore() == TestStore::kPostgres && !own_store) {
#ifdef VESTA_TEST_POSTGRES
    Result<std::string> uri = PostgresUriFor(data_dir);
    if (!uri.ok()) {
      std::cerr << "ServerProcess: no PostgreSQL schema for " << data_dir << ": "
                << uri.status().ToString() << "\n";
      return;
    }
    args.insert(args.end(), {"--store", *uri});
#else
    std::cerr << "ServerProcess: this build has no PostgreSQL store\n";
    return;
#endif
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  int out[2];
  if (pipe(out) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    // A test killed (a ctest timeout) takes its server with it: under postgres its cluster is
    // gone too (test_cluster.h), and no server is left behind. REQUIRES: the constructing thread
    // outlives the server (the kernel watches the thread that forked).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(out[1], STDOUT_FILENO);
    if (!log_path.empty()) {
      int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) {
        dup2(log, STDERR_FILENO);
        close(log);
      }
    }
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  // Read "vesta: listening on http://127.0.0.1:PORT\n" (bounded wait), and before it, with
  // --mllp-port, "vesta: MLLP listening on 127.0.0.1:PORT\n".
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto complete = [&] {
    const size_t at = line.find("listening on http");
    return at != std::string::npos && line.find('\n', at) != std::string::npos;
  };
  while (std::chrono::steady_clock::now() < deadline && !complete()) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char c[256];
    ssize_t n = read(out[0], c, sizeof c);
    if (n <= 0) break;
    line.append(c, static_cast<size_t>(n));
  }
  close(out[0]);
  if (const size_t mllp = line.find("MLLP listening on "); mllp != std::string::npos) {
    const size_t end = line.find('\n', mllp);
    const size_t colon = line.rfind(':', end);
    if (colon != std::string::npos && colon > mllp)
      mllp_port_ = std::atoi(line.c_str() + colon + 1);
  }
  const size_t http = line.find("listening on http");
  size_t colon =
      http == std::string::npos ? std::string::npos : line.rfind(':', line.find('\n', http));
  if (http != std::string::npos && colon != std::string::npos && colon > http) {
    port_ = std::atoi(line.c_str() + colon + 1);
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop();
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  // Bounded wait: escalate to SIGKILL after 30 s.
  for (int i = 0; i < 300; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    usleep(100 * 1000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace vesta::testing
