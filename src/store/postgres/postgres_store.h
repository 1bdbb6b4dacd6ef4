// The PostgreSQL store: the Store interface (store/store.h) on one PostgreSQL database, which any
// number of processes ("nodes") may share. Versioned rows, compare-and-set writes, reads, vread,
// history and search, with the SQLite store's logical schema and semantics; the search index is
// written in each write's transaction and searches run the shared planner's plans rendered in
// PostgreSQL's SQL (search_sql.h). See docs/storage.md, "PostgreSQL store".
//
//   PostgresStoreOptions options;
//   options.uri = "postgresql://vesta@db.example/vesta";  // the password: PGPASSWORD, ~/.pgpass
//   ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenPostgresStore(options));
//
// libpq-fe.h stays out: every call goes through the adapter in src/postgres.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "postgres/connection.h"
#include "store/store.h"

namespace vesta::store {

struct PostgresStoreOptions {
  // Any libpq connection string: a URI (postgresql://user@host:port/db?...) or key=value pairs.
  // Keep the password out of it (and off command lines): libpq reads PGPASSWORD and ~/.pgpass.
  std::string uri;
  // The most connections this store opens (reads, writes and history share them); a call waits
  // up to acquire_timeout for one to come back, then fails with kUnavailable.
  int pool_size = 8;
  std::chrono::milliseconds acquire_timeout{5000};
  postgres::Options connection;
};

// Connects, applies pending schema migrations under an advisory lock (nodes starting together do
// not race) and returns the store. kUnavailable when the server cannot be reached, or when the
// database's schema is newer than this binary knows; kInvalid for an empty URI.
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresStoreOptions& options);

// Makes the SearchParameter resources stored in the database at `uri` part of
// search::Registry::Active() (as ActivateStoredSearchParameters does for a SQLite directory).
// Returns how many were stored; `skipped` gets a line for each one that cannot be used.
Result<int> ActivatePostgresSearchParameters(const std::string& uri,
                                             std::vector<std::string>* skipped);

// Updates the planner's statistics of every table (ANALYZE): after a bulk load, so that the first
// searches are planned on the real row counts rather than waiting for autovacuum.
Status AnalyzePostgresStore(const std::string& uri);

// Indexes every current resource of the database at `uri` again (`vesta reindex --store`).
// Returns the number of resources indexed.
Result<int64_t> ReindexPostgresStore(const std::string& uri);

}  // namespace vesta::store
