// The hash chain of the audit trail (store.h, AppendAudit; docs/security.md, "Audit trail"):
//
//   hash(n) = SHA-256(raw(hash(n - 1)) || record(n)),  hash(0) = 32 zero bytes
//
// where raw() is the 32 bytes a hash's 64 hex digits spell and record(n) the stored bytes of
// record n. Hashes are stored and compared as 64 lower-case hex digits. Changing, removing,
// inserting or reordering a record breaks the chain at that record; an attacker who can rewrite
// every later hash can hide it, which is why `vesta audit verify` prints the last hash for
// keeping elsewhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/strings.h"
#include "crypto/digest.h"

namespace vesta::store {

// A patient's audit records are indexed by blocks of 2^kAuditBlockBits records, (seq >>
// kAuditBlockBits, patient): appends touch only the last block's part of the index, and a search
// seeks once per block (the stores' SearchAudit).
inline constexpr int kAuditBlockBits = 12;

inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// A stored hash as 64 lower-case hex digits: the SQLite store keeps the 32 raw bytes.
inline std::string AuditHashHex(std::string stored) {
  return stored.size() == 32 ? HexEncode(stored) : stored;
}

// Hashes the records of an append in order (AppendAudit), carrying the previous hash as its raw
// bytes from one record to the next:
//
//   AuditChainer chain;
//   if (!chain.Start(head_hash)) ...malformed head...
//   for (...) { const std::string& hash = chain.Next(record); ... }
class AuditChainer {
 public:
  // Starts after the record whose hash is `previous_hash`: 64 hex digits, or its 32 raw bytes
  // (as the SQLite store keeps it); false when it is neither.
  bool Start(std::string_view previous_hash) {
    if (previous_hash.size() == 32) {
      previous_raw_ = std::string(previous_hash);
      previous_hex_ = HexEncode(previous_raw_);
      return true;
    }
    if (previous_hash.size() != 64) return false;
    std::optional<std::string> raw = HexDecode(previous_hash);
    if (!raw.has_value()) return false;
    previous_raw_ = std::move(*raw);
    previous_hex_ = std::string(previous_hash);
    return true;
  }
  // The hash of the record the next Next() follows: hex, and its raw bytes.
  const std::string& previous_hex() const { return previous_hex_; }
  const std::string& previous_raw() const { return previous_raw_; }
  // The hash (hex) of `record`, which follows the previous one; it becomes the previous one.
  const std::string& Next(std::string_view record) {
    previous_raw_ = crypto::Sha256(previous_raw_, record);
    previous_hex_ = HexEncode(previous_raw_);
    return previous_hex_;
  }

 private:
  std::string previous_raw_;
  std::string previous_hex_;
};

// The hash of a record whose predecessor's hash is `previous_hash` (hex); empty when
// `previous_hash` is not 64 hex digits.
inline std::string AuditChainHash(std::string_view previous_hash, std::string_view record) {
  AuditChainer chain;
  if (previous_hash.size() != 64 || !chain.Start(previous_hash)) return "";
  return chain.Next(record);
}

}  // namespace vesta::store
