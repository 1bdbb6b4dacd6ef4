// The statements of a PostgreSQL write: each version written by ONE statement, a round trip,
// that does the compare-and-set, inserts the version, moves `resource_current`, closes the
// replaced version (superseded_at) and replaces the search index rows (data-modifying WITH
// clauses; https://www.postgresql.org/docs/15/queries-with.html#QUERIES-WITH-MODIFYING). A write
// of one version needs no BEGIN/COMMIT: the statement is its own transaction.
//
// The compare-and-set without a prior SELECT ... FOR UPDATE:
//   * a create inserts version 1 into `resource` and its row into `resource_current`: a
//     resource that exists (or is being created concurrently) makes one of the unique indexes
//     fail (23505, kConflict) and the statement writes nothing;
//   * a replace (update or delete of version N) first takes the next seq, then updates
//     `resource_current` WHERE version = N. The row lock orders concurrent writers; under READ
//     COMMITTED the second re-reads the row after the first commits, sees N + 1, and updates
//     nothing. Every other clause (the new `resource` row, superseded_at, the index rows) reads
//     from that UPDATE's result, so when it matched nothing the statement writes nothing and
//     returns no seq: the caller answers kConflict.
// The replaced version's seq is read from the statement's snapshot, which is right whenever the
// UPDATE matched: the version it read is the one the snapshot holds.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "postgres/connection.h"
#include "store/postgres/search_index.h"

namespace vesta::store::pgwrite {

// The statement that creates version 1. Parameters: AppendCreateParams. Returns one row, the seq.
const std::string& CreateStatement();
// The statement that replaces version N with N + 1 (an update, or a delete when $5 is 1).
// Parameters: AppendReplaceParams. Returns one row: the new seq, or NULL when version N was not
// current (the compare-and-set failed; nothing was written).
const std::string& ReplaceStatement();

// The shard key a new resource takes (schema/003_shard_key.sql): a Patient's id; else the
// smallest id of the patients whose compartment holds it; else its own "Type/id".
std::string ShardKey(const WriteOp& op, const IndexRowsParams& index);

// The parameters of either statement for `op` and its prepared index rows. The values point into
// `op`, `index` and `shard_key` (filled here), which must outlive the call that uses them.
std::vector<postgres::Value> Params(const WriteOp& op, const IndexRowsParams& index,
                                    std::string* shard_key);

// Many creates in one statement (a bulk load, a transaction of new resources): the versions, the
// current rows and the index rows of all of them inserted from arrays, one row per op in op
// order (seqs are taken in that order). A resource that exists, or two ops of one (type, id),
// fail the whole statement on a unique index (kConflict): nothing is written. Returns one row,
// the number of versions written.
const std::string& BulkCreateStatement();

// The bulk statement's parameters: arrays built from every op (all creates) and its index rows.
// `storage` keeps their text alive for the call.
std::vector<postgres::Value> BulkParams(std::span<const WriteOp> ops,
                                        std::span<const IndexRowsParams> index,
                                        std::vector<std::string>* storage);

// The index rows of many current versions, written again (`vesta reindex`, after the index
// tables were emptied): search_resource and the value tables from arrays, each version's type,
// id and shard key read from resource_current by its seq. Returns one row, the number of
// versions found current.
const std::string& BulkIndexStatement();

// Its parameters: the seqs, and for each its prepared index rows (index[i] for seqs[i]).
std::vector<postgres::Value> BulkIndexParams(std::span<const int64_t> seqs,
                                             std::span<const IndexRowsParams> index,
                                             std::vector<std::string>* storage);

}  // namespace vesta::store::pgwrite
