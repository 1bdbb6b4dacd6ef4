// The store backends the contract tests (store_contract_test.cc) run on: SQLite in a temporary
// directory, and PostgreSQL in a fresh schema of a throw-away cluster (tests/postgres/
// test_cluster.h) when the store is built (VESTA_STORE_POSTGRES) and the server is installed.
// The cluster is started once per process, on first use, and stopped at exit.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "store/temp_dir.h"

#ifdef VESTA_STORE_POSTGRES
#include "postgres/test_cluster.h"
#include "store/postgres/postgres_store.h"
#endif

namespace vesta::store {

#ifdef VESTA_STORE_POSTGRES
// The process's cluster: kNotFound (the test skips) when PostgreSQL is not installed.
inline Result<postgres::TestCluster*> SharedTestCluster() {
  static Result<std::unique_ptr<postgres::TestCluster>> cluster = postgres::TestCluster::Start();
  if (!cluster.ok()) return cluster.status();
  return cluster->get();
}

// A URI whose search_path is a new, empty schema.
inline Result<std::string> FreshPostgresUri() {
  ASSIGN_OR_RETURN(postgres::TestCluster * cluster, SharedTestCluster());
  static int schemas = 0;
  std::string name = "store_" + std::to_string(++schemas);
  RETURN_IF_ERROR(cluster->CreateSchema(name));
  return cluster->Uri("postgres", name);
}
#endif

// One backend's place: Open() opens a store on it, again and again (a reopen finds what the
// previous store wrote).
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  virtual Result<std::unique_ptr<Store>> Open() = 0;
};

class SqliteBackend : public StoreBackend {
 public:
  explicit SqliteBackend(Durability durability = Durability::kFull) : durability_(durability) {}
  Result<std::unique_ptr<Store>> Open() override {
    if (dir_.path().empty()) return Internal("no temporary directory");
    SqliteStoreOptions options;
    options.directory = dir_.path() + "/data";
    options.durability = durability_;
    return OpenSqliteStore(options);
  }

 private:
  TempDir dir_;
  Durability durability_;
};

#ifdef VESTA_STORE_POSTGRES
class PostgresBackend : public StoreBackend {
 public:
  explicit PostgresBackend(std::string uri) : uri_(std::move(uri)) {}
  Result<std::unique_ptr<Store>> Open() override {
    PostgresStoreOptions options;
    options.uri = uri_;
    options.pool_size = 8;
    return OpenPostgresStore(options);
  }
  const std::string& uri() const { return uri_; }

 private:
  std::string uri_;
};
#endif

}  // namespace vesta::store
