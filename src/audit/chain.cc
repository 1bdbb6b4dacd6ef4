#include "audit/chain.h"

#include <vector>

namespace vesta::audit {

Status ChainVerifier::Check(const store::AuditEntry& e) {
  if (!failed_.ok()) return failed_;
  auto fail = [&](const std::string& what) {
    failed_ = Status(StatusCode::kInternal, "audit record " + std::to_string(e.seq) + ": " + what);
    return failed_;
  };
  const int64_t expected = summary_.records + 1;
  if (e.seq != expected) {
    if (e.seq > expected) {
      return fail(expected + 1 == e.seq
                      ? "sequence number " + std::to_string(expected) + " is missing before it"
                      : "sequence numbers " + std::to_string(expected) + " to " +
                            std::to_string(e.seq - 1) + " are missing before it");
    }
    return fail("sequence number out of order: expected " + std::to_string(expected));
  }
  if (e.previous_hash != summary_.last_hash) {
    return fail(expected == 1 ? "the first record's previous hash is not the chain's start"
                              : "its previous hash does not match the hash of record " +
                                    std::to_string(e.seq - 1));
  }
  if (e.hash != store::AuditChainHash(e.previous_hash, e.record)) {
    return fail("its hash does not match its bytes (the record was changed)");
  }
  if (summary_.records == 0) summary_.first_recorded = e.recorded;
  summary_.records = e.seq;
  summary_.last_recorded = e.recorded;
  summary_.last_hash = e.hash;
  return Status::Ok();
}

Result<ChainSummary> VerifyChain(store::Store& store, int page) {
  ChainVerifier verifier;
  int64_t after = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<store::AuditEntry> entries, store.ReadAudit(after, page));
    if (entries.empty()) break;
    for (const store::AuditEntry& e : entries) RETURN_IF_ERROR(verifier.Check(e));
    after = entries.back().seq;
  }
  return verifier.summary();
}

}  // namespace vesta::audit
