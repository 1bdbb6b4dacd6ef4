// Checking the audit trail's hash chain (store/audit_chain.h; `vesta audit verify`).
//
//   audit::ChainVerifier verifier;
//   for (const store::AuditEntry& e : entries) RETURN_IF_ERROR(verifier.Check(e));
//   // or, over a whole store, page by page:
//   ASSIGN_OR_RETURN(audit::ChainSummary summary, audit::VerifyChain(store));
#pragma once

#include <cstdint>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "store/audit_chain.h"
#include "store/store.h"

namespace vesta::audit {

struct ChainSummary {
  int64_t records = 0;
  Micros first_recorded = 0;  // of record 1; 0 when there are none
  Micros last_recorded = 0;
  std::string last_hash = std::string(store::kAuditGenesisHash);  // the head of the chain
};

// Checks records one after the other, in the order they were read (seq order). Not thread-safe.
class ChainVerifier {
 public:
  // kInternal naming the record ("audit record 7: ...") when it is not the next link of the
  // chain: its sequence number is not the next one (a record before it is missing, or the
  // chain does not start at 1), its previous hash is not the hash of the record before it, or
  // its hash does not match its bytes. After a failure the verifier stays failed.
  Status Check(const store::AuditEntry& entry);
  const ChainSummary& summary() const { return summary_; }

 private:
  ChainSummary summary_;
  Status failed_;
};

// Walks the whole chain of `store` in pages of `page` records: the summary, or the first bad
// record's failure (as ChainVerifier::Check), or the store's error.
Result<ChainSummary> VerifyChain(store::Store& store, int page = 1000);

}  // namespace vesta::audit
