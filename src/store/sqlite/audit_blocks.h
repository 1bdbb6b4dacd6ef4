// Internal to the SQLite store: the audit trail's block summaries (schema/019_audit_blocks.sql).
// Every block of 2^kAuditBlockBits records has a row in `audit_block`: the first and last time
// its records were recorded, and a Bloom filter of the patients they name, so that a search by
// patient or by date scans only the blocks that may hold a match. Appends keep the summaries up
// to date in their transaction (one row rewrite per block per batch).
//
// The filter: kAuditBloomBytes bytes, kAuditBloomProbes bit positions a patient (from one 64-bit
// FNV-1a hash, by double hashing). With 4096 distinct patients in a block, about one block in
// 400 is scanned in vain; a block holding one patient's records is never missed.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "sqlite/connection.h"
#include "store/store.h"

namespace vesta::store::sqlite_internal {

inline constexpr size_t kAuditBloomBytes = 8192;
inline constexpr int kAuditBloomProbes = 4;

// Adds `patient` to `filter` (kAuditBloomBytes bytes).
void AuditBloomAdd(std::string& filter, std::string_view patient);
// Whether `patient` may be in `filter`: false only when it is certainly not. A filter of another
// size (or none) may hold anyone.
bool AuditBloomMayHold(std::string_view filter, std::string_view patient);

// Folds `records`, appended as seq first_seq, first_seq + 1, ..., into their blocks' summaries.
// Runs in the appending transaction.
Status UpdateAuditBlocks(sqlite::Connection& db, int64_t first_seq,
                         std::span<const AuditAppend> records);

}  // namespace vesta::store::sqlite_internal
