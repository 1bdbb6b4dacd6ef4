// Test support: runs the real `vesta serve` binary on 127.0.0.1 port 0 in a child process and
// talks HTTP/1.1 to it over real sockets.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vesta::testing {

struct HttpResult {
  int status = 0;  // 0: the connection failed
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header with this name (case-insensitive); "" when absent.
  std::string Header(std::string_view name) const;
};

// One request on a fresh connection (Connection: close). `headers` are sent as given.
HttpResult HttpRequest(int port, const std::string& method, const std::string& target,
                       const std::string& body = "",
                       const std::vector<std::pair<std::string, std::string>>& headers = {},
                       int timeout_ms = 30000);

// A temporary directory removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A `vesta serve` child process.
class ServerProcess {
 public:
  // Starts the server on `data_dir` with extra flags; waits until it prints its port. With a
  // `log_path`, the server's stderr (its log) is appended to that file instead of the test's.
  explicit ServerProcess(const std::string& data_dir, std::vector<std::string> extra_args = {},
                         const std::string& log_path = "");
  ~ServerProcess();  // SIGTERM and wait, when still running

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // SIGTERM; waits for the exit; returns the exit status (or -1).
  int Stop();
  // SIGKILL; waits.
  void Kill();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// The path of the vesta binary under test.
std::string VestaBinary();

}  // namespace vesta::testing
