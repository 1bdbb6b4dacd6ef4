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

// The hash of a record whose predecessor's hash is `previous_hash` (hex); empty when
// `previous_hash` is not 64 hex digits.
inline std::string AuditChainHash(std::string_view previous_hash, std::string_view record) {
  if (previous_hash.size() != 64) return "";
  std::optional<std::string> previous = HexDecode(previous_hash);
  if (!previous.has_value()) return "";
  std::string input = std::move(*previous);
  input.append(record);
  return HexEncode(crypto::Sha256(input));
}

}  // namespace vesta::store
