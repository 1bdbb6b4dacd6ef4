// The PostgreSQL store (first slice): the Store interface (store/store.h) on one PostgreSQL
// database, which any number of processes ("nodes") may share. Versioned rows, compare-and-set
// writes, reads, vread and history, with the SQLite store's logical schema and semantics; no
// search yet (Search answers kNotSupported). See docs/storage.md, "PostgreSQL store".
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

}  // namespace vesta::store
