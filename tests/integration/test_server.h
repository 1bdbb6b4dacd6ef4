// Test support: runs the real `vesta serve` binary on 127.0.0.1 port 0 in a child process and
// talks HTTP/1.1 to it over real sockets.
//
// The store the servers run on is $VESTA_TEST_STORE: `sqlite` (the default) or `postgres`.
// ctest runs each store-touching binary once per store (`vesta_store_test`, tests/CMakeLists.txt:
// entries `<name>.sqlite` and `<name>.postgres`, the latter with VESTA_TEST_STORE=postgres).
//
// - sqlite: `vesta serve --data-dir DATA_DIR`.
// - postgres: the process starts one throw-away cluster (tests/postgres/test_cluster.h) before
//   its first test and keeps it until exit. Each distinct DATA_DIR given to ServerProcess is a
//   schema of its own in that cluster, made on first use: a server stopped and started again on
//   the same DATA_DIR finds its data, and every test (its own TempDir) starts on an empty store.
//   The server gets `--data-dir DATA_DIR --store <the schema's URI>`; the terminology is in that
//   schema too (load it with `vesta terminology load ...` + StoreFlags(DATA_DIR)). Extra
//   arguments that name a --store of their own are passed as they are.
//
// Skips need nothing in the tests: a global gtest environment (registered by this library)
// starts the cluster and, when PostgreSQL is not installed, skips every test of the process with
// the reason. CLI subcommands that take --store get the same store with StoreFlags(DATA_DIR). A
// test that needs what the PostgreSQL store lacks yet (a subcommand without --store, the SQLite
// file itself) starts with VESTA_SKIP_ON_POSTGRES("what is missing"); `grep -rn
// VESTA_SKIP_ON_POSTGRES tests/` lists them. When every test of a run is skipped, the
// environment prints kAllSkippedMarker, which ctest's SKIP_REGULAR_EXPRESSION turns into a
// skipped entry (a GTest binary whose tests all skip exits 0, which ctest would count as passed).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vesta::testing {

enum class TestStore { kSqlite, kPostgres };

// $VESTA_TEST_STORE as a store (kSqlite when unset; a bad value fails the run's set-up).
TestStore CurrentTestStore();

// Printed once at the end of a run in which every test was skipped (tests/CMakeLists.txt matches
// it).
inline constexpr char kAllSkippedMarker[] = "[ VESTA: EVERY TEST SKIPPED ]";

// Skips the current test under the PostgreSQL store, saying what is missing there for it, e.g.
// VESTA_SKIP_ON_POSTGRES("vesta icd10 migrate has no --store yet"). In a test body or SetUp().
#define VESTA_SKIP_ON_POSTGRES(what_is_missing)                                         \
  if (::vesta::testing::CurrentTestStore() != ::vesta::testing::TestStore::kPostgres) { \
  } else                                                                                \
    GTEST_SKIP() << "not on the PostgreSQL store yet: " << (what_is_missing)

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

// A `vesta serve` child process, on the store of CurrentTestStore() (above), with `--auth off`
// unless `extra_args` name an --auth of their own. It is killed when
// the thread that started it exits (PR_SET_PDEATHSIG): a test process killed by a timeout leaves
// no server behind.
class ServerProcess {
 public:
  // Starts the server on `data_dir` with extra flags; waits until it prints its port. ok() is
  // false when it did not start (the reason is on stderr). With a
  // `log_path`, the server's stderr (its log) is appended to that file instead of the test's.
  explicit ServerProcess(const std::string& data_dir, std::vector<std::string> extra_args = {},
                         const std::string& log_path = "");
  ~ServerProcess();  // SIGTERM and wait, when still running

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  // The MLLP listener's port, when the server was started with --mllp-port; 0 otherwise.
  int mllp_port() const { return mllp_port_; }
  pid_t pid() const { return pid_; }
  // SIGTERM; waits for the exit; returns the exit status (or -1).
  int Stop();
  // SIGKILL; waits.
  void Kill();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int mllp_port_ = 0;
};

// The path of the vesta binary under test.
std::string VestaBinary();

// The store flags, shell-quoted and with a leading space, of a CLI subcommand that takes
// --store (`vesta import`, `vesta reindex`, `vesta terminology load`, `vesta icd10 migrate`) on
// `data_dir`'s store: the same store and schema as ServerProcess(data_dir). E.g. VestaBinary() + "
// reindex" + StoreFlags(dir).
std::string StoreFlags(const std::string& data_dir);

// The PostgreSQL URI of `data_dir`'s schema (as StoreFlags gives it) under the postgres store;
// "" under SQLite. For tests that open the same database themselves.
std::string PostgresUriOf(const std::string& data_dir);

}  // namespace vesta::testing
