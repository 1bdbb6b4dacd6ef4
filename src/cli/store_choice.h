// Which store a subcommand opens: `--store sqlite:DIR` (the same as `--data-dir DIR`, the
// default) or `--store postgresql://USER@HOST:PORT/DB` (any libpq connection URI; the password
// from PGPASSWORD or ~/.pgpass, never on the command line). Shared by serve, import, reindex,
// terminology load and icd10 migrate.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace vesta::cli {

struct StoreChoice {
  bool postgres = false;
  std::string uri;        // postgres: the connection URI
  std::string directory;  // SQLite: the data directory
};

// The help of --validation (serve, import): fhir::ValidationOptions::lenient.
inline constexpr const char* kValidationHelp =
    "strict: refuse resources that break R4's rules; lenient: also store those missing required "
    "elements or with a dateTime without a time zone, with the problems as warnings (test decks "
    "as measure stewards write them)";

// kInvalid, saying what --store takes, for any other value.
Result<StoreChoice> ChooseStore(const std::string& store_flag, const std::string& data_dir);

// Where the terminology of `choice` lives: the PostgreSQL store's own database (its terminology
// tables), or <DIR>/terminology.db beside the SQLite store (terminology/loaders.h).
std::string TerminologyLocation(const StoreChoice& choice);

// The PostgreSQL store on `uri`, with a pool of `connections`. kNotSupported when this vesta was
// built without libpq. Messages never repeat the URI (it may hold a password).
Result<std::unique_ptr<store::Store>> OpenPostgresStore(const std::string& uri, int connections);

// ANALYZE on PostgreSQL, after a bulk load (postgres_store.h, AnalyzePostgresStore).
Status AnalyzePostgres(const std::string& uri);

// `vesta reindex` on PostgreSQL: stored SearchParameters activated, then every current resource
// indexed again. The number indexed; `skipped` as for ActivateStoredSearchParameters.
Result<int64_t> ReindexPostgres(const std::string& uri, std::vector<std::string>* skipped,
                                int* custom);

}  // namespace vesta::cli
