// Reads from a streaming replica, writes to the primary (`vesta serve --read-store URI`): a Store
// that sends Write to the PostgreSQL store on the primary and Read, ReadVersion, History and
// Search to a PostgreSQL store on a hot standby of it, so that reads scale out without losing
// read-your-writes for the clients of this node. See docs/deployment.md, "Read replicas".
//
//   ReadReplicaOptions options;
//   options.primary_uri = "postgresql://vesta@db-primary/vesta";
//   options.replica_uri = "postgresql://vesta@db-replica/vesta";
//   ASSIGN_OR_RETURN(std::unique_ptr<Store> primary, OpenPostgresStore({.uri = ...}));
//   ASSIGN_OR_RETURN(std::unique_ptr<Store> store,
//                    OpenReadReplicaStore(std::move(primary), options));
//
// The rule. A replica applies the primary's WAL some time after the primary commits it, so a
// read there may not see a write that was just acknowledged. After every write that may have
// committed, this store asks the primary for pg_current_wal_lsn() (asked after the COMMIT
// returned, so at least the commit's LSN) and keeps the highest: the LSN this node has written.
// A read goes to the replica only once the replica's pg_last_wal_replay_lsn() has reached it,
// waiting up to `max_wait` (polling); otherwise the primary serves it. So every client of this
// node reads its own writes, and those of every other client of this node, at once. A client that
// writes through another node gets no such promise here: its write reaches this node's reads
// within the replica's lag. Another writer's win is learned too: after a kConflict the LSN
// recorded is the primary's current one, so the re-read of a compare-and-set retry sees the write
// that beat it.
//
// A replica that cannot be reached, or answers kUnavailable, is not an outage: the primary serves
// the read. Thread-safety: as Store, every method from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "postgres/connection.h"
#include "store/store.h"

namespace vesta::store {

struct ReadReplicaOptions {
  std::string primary_uri;  // the database `primary` (below) was opened on
  std::string replica_uri;  // one hot standby of it (not a load balancer over several)
  // The most a read waits for the replica to replay this node's last write before the primary
  // serves it.
  std::chrono::milliseconds max_wait{200};
  // At open, the most to wait for the replica to replay what the primary has (its schema
  // migrations above all) before giving up with kUnavailable.
  std::chrono::milliseconds open_wait{30000};
  // Connections of the store on the replica (reads, history, searches).
  int replica_pool_size = 8;
  postgres::Options connection;
};

// Waits (up to open_wait) for the replica to replay the primary's current WAL, opens the store on
// the replica, and returns the store that routes between the two. kInvalid when the replica is
// not a hot standby (pg_is_in_recovery() false); kUnavailable when either cannot be reached or
// the replica stays behind. Messages never repeat a URI.
Result<std::unique_ptr<Store>> OpenReadReplicaStore(std::unique_ptr<Store> primary,
                                                    const ReadReplicaOptions& options);

}  // namespace vesta::store
