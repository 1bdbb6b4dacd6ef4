// The terminology database in PostgreSQL: tables of its own in the store's database
// (schema/postgres/), on the PostgreSQL adapter (postgres/pool.h), so that a node serving the
// PostgreSQL store needs nothing local. Internal to src/terminology/; reached through OpenDb
// (db.h); built only when libpq is (VESTA_TERMINOLOGY_POSTGRES).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "terminology/db.h"

namespace vesta::terminology::internal {

// A pool of connections to `uri` (one for a loader, two for a server, each statement on a
// connection lent for it, a transaction on one lent for the whole of it), so that a connection
// lost with a server restart is replaced. kRead: NotFound when nothing has been loaded into
// this database (the terminology tables are missing). kWrite: statements have no time limit (a
// reload deletes and copies hundreds of thousands of rows).
Result<std::unique_ptr<Db>> OpenPostgresDb(const std::string& uri, Access access);

}  // namespace vesta::terminology::internal
