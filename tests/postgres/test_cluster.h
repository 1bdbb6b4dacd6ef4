// A throw-away PostgreSQL cluster for tests: initdb into a fresh temporary directory, the server
// listening on a unix socket in that directory only (no TCP), a database per test, and on
// destruction the server stopped and the directory removed.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<TestCluster> cluster, TestCluster::Start());
//   RETURN_IF_ERROR(cluster->CreateDatabase("t1"));
//   auto db = postgres::Connection::Open(cluster->Uri("t1"), {});
//
// Tests derive from PostgresTest (below), which starts one cluster per test suite and skips with
// the reason when PostgreSQL is not installed, so that `make test` passes without it.
//
// initdb and postgres refuse to run as root. When the test runs as root (CI does), the helper
// runs those two, and only those, as the `postgres` account that Debian's package creates: the
// child process switches its user and group before it execs them, and the directory is handed
// to that account. The test process stays itself and connects over the socket (the cluster's
// superuser is `vesta`, trust authentication).
//
// The server is the helper's own child: it is stopped by its pid (SIGINT, PostgreSQL's fast
// shutdown, which `pg_ctl stop -m fast` also sends), bounded in time, then SIGQUIT and SIGKILL;
// no other process is touched. Should the test process die first, the server gets SIGQUIT
// (immediate shutdown) from the kernel (PR_SET_PDEATHSIG). REQUIRES: Start() and Restart() are
// called from a thread that outlives the cluster (the kernel watches the thread that forked).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace vesta::postgres {

class TestCluster {
 public:
  // The directory of initdb and postgres: $VESTA_PG_BINDIR, `pg_config --bindir`, Debian's
  // /usr/lib/postgresql/<newest>/bin or the PATH. kNotFound, saying what was tried and how to
  // install them, when there are none; also kNotFound when running as root without a
  // `postgres` account to run them as.
  static Result<std::string> FindServer();

  // initdb (--no-sync, trust, UTF8, no locale), then the server started and accepting
  // connections, all bounded (60 s for initdb, 30 s for the start). kNotFound as FindServer();
  // other failures carry the tail of the server's log.
  static Result<std::unique_ptr<TestCluster>> Start();

  ~TestCluster();  // Stop(), then the directory removed
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  // A libpq URI for `database` over the cluster's unix socket, as the superuser; with a
  // `schema`, the connection's search_path is that schema (made by CreateSchema).
  std::string Uri(std::string_view database = "postgres", std::string_view schema = "") const;
  // CREATE DATABASE `name` (an SQL identifier). About a second with fsync on: a test that needs
  // only tables of its own takes a schema.
  Status CreateDatabase(std::string_view name);
  // CREATE SCHEMA `name` (an SQL identifier) in database `postgres`: instant.
  Status CreateSchema(std::string_view name);

  // A streaming replica of `primary` (a hot standby): `pg_basebackup -R` copies the primary's
  // data directory into a fresh directory of its own over a replication connection (the
  // primary's socket; initdb's pg_hba.conf lets the superuser replicate, trust, and PostgreSQL
  // 15's defaults, wal_level=replica and max_wal_senders=10, allow it), then the standby starts
  // on a socket and port of its own and follows the primary. Uri() works on it as on the
  // primary, for reads. Bounded (60 s for the copy, 30 s for the start). REQUIRES: `primary`
  // runs.
  static Result<std::unique_ptr<TestCluster>> StartReplicaOf(const TestCluster& primary);

  // Stops the server (fast shutdown: open connections are closed); the data stays. Bounded.
  Status Stop();
  // Starts the server again on the same directory and socket: the same URIs work again.
  Status Restart();
  bool running() const { return pid_ > 0; }

  const std::string& directory() const { return dir_; }
  // The last lines of the server's log, for failure messages.
  std::string LogTail() const;

 private:
  TestCluster(std::string bindir, std::string dir, int port)
      : bindir_(std::move(bindir)), dir_(std::move(dir)), port_(port) {}
  // A fresh directory for a cluster (handed to the server's account) and a port to name its
  // socket.
  static Result<std::unique_ptr<TestCluster>> MakeDirectory(const std::string& bindir);
  Status StartServer();

  std::string bindir_;
  std::string dir_;  // the cluster's directory: data/, the socket, the logs
  int port_;         // names the socket file only: nothing listens on TCP
  pid_t pid_ = 0;    // the postmaster, while running
};

// A test fixture with a fresh schema per test (uri() connects with it as the search_path, so
// unqualified tables are the test's own) on a cluster started once per test suite: ctest runs
// each suite of these tests as one process (tests/postgres/CMakeLists.txt), since an initdb costs
// about two seconds. Skips the test, with the reason, when PostgreSQL is not installed.
class PostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  const std::string& uri() const { return uri_; }
  const std::string& schema() const { return schema_; }  // this test's, in database `postgres`
  TestCluster& cluster() const { return *cluster_; }

 private:
  static std::unique_ptr<TestCluster> cluster_;
  static std::string skip_reason_;
  static std::string start_error_;
  std::string uri_;
  std::string schema_;
};

}  // namespace vesta::postgres
