// The audit chain's check (audit/chain.h): a sound chain, and each kind of tampering named at
// the first record it breaks.
#include "audit/chain.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace vesta::audit {
namespace {

std::vector<store::AuditEntry> Chain(int n) {
  std::vector<store::AuditEntry> out;
  std::string previous(store::kAuditGenesisHash);
  for (int i = 1; i <= n; ++i) {
    store::AuditEntry e;
    e.seq = i;
    e.recorded = 1000 + i;
    e.record = R"({"resourceType":"AuditEvent","n":)" + std::to_string(i) + "}";
    e.previous_hash = previous;
    e.hash = store::AuditChainHash(previous, e.record);
    previous = e.hash;
    out.push_back(std::move(e));
  }
  return out;
}

// The message of the first failure, or "" when the chain is sound.
std::string Verify(const std::vector<store::AuditEntry>& chain, ChainSummary* summary = nullptr) {
  ChainVerifier verifier;
  for (const store::AuditEntry& e : chain) {
    Status s = verifier.Check(e);
    if (!s.ok()) return s.message();
  }
  if (summary != nullptr) *summary = verifier.summary();
  return "";
}

TEST(AuditChainTest, HashIsSha256OfThePreviousHashAndTheRecord) {
  // SHA-256 of 32 zero bytes followed by "abc", computed independently (python3 hashlib).
  EXPECT_EQ(store::AuditChainHash(store::kAuditGenesisHash, "abc"),
            "365aa7d8f7f9402c4b9434502b4cc89ddb09fe50d7cd95b493b834c62d5a5370");
}

TEST(AuditChainTest, ASoundChainPasses) {
  ChainSummary summary;
  EXPECT_EQ(Verify(Chain(5), &summary), "");
  EXPECT_EQ(summary.records, 5);
  EXPECT_EQ(summary.first_recorded, 1001);
  EXPECT_EQ(summary.last_recorded, 1005);
  EXPECT_EQ(summary.last_hash, Chain(5).back().hash);
  EXPECT_EQ(Verify({}, &summary), "");
  EXPECT_EQ(summary.records, 0);
}

TEST(AuditChainTest, AChangedRecordIsNamed) {
  auto chain = Chain(5);
  chain[2].record[chain[2].record.size() - 2] = '9';
  EXPECT_EQ(Verify(chain),
            "audit record 3: its hash does not match its bytes (the record was changed)");
}

TEST(AuditChainTest, ARemovedRecordIsNamed) {
  auto chain = Chain(5);
  chain.erase(chain.begin() + 2);
  EXPECT_EQ(Verify(chain), "audit record 4: sequence number 3 is missing before it");
  auto last_two_gone = Chain(5);
  last_two_gone.erase(last_two_gone.begin() + 1, last_two_gone.begin() + 3);
  EXPECT_EQ(Verify(last_two_gone), "audit record 4: sequence numbers 2 to 3 are missing before it");
  auto first_gone = Chain(3);
  first_gone.erase(first_gone.begin());
  EXPECT_EQ(Verify(first_gone), "audit record 2: sequence number 1 is missing before it");
}

TEST(AuditChainTest, RenumberedAfterARemovalIsNamed) {
  // Record 3 removed and the later ones renumbered: the chain breaks at the new record 3.
  auto chain = Chain(5);
  chain.erase(chain.begin() + 2);
  for (size_t i = 2; i < chain.size(); ++i) chain[i].seq = static_cast<int64_t>(i + 1);
  EXPECT_EQ(Verify(chain), "audit record 3: its previous hash does not match the hash of record 2");
}

TEST(AuditChainTest, SwappedRecordsAreNamed) {
  // The rows' contents swapped (sequence numbers stay): record 2 now follows record 1 wrongly.
  auto rows = Chain(4);
  std::swap(rows[1].record, rows[2].record);
  std::swap(rows[1].previous_hash, rows[2].previous_hash);
  std::swap(rows[1].hash, rows[2].hash);
  std::swap(rows[1].recorded, rows[2].recorded);
  EXPECT_EQ(Verify(rows), "audit record 2: its previous hash does not match the hash of record 1");
  // Only the records' bytes swapped.
  auto bytes = Chain(4);
  std::swap(bytes[1].record, bytes[2].record);
  EXPECT_EQ(Verify(bytes),
            "audit record 2: its hash does not match its bytes (the record was changed)");
}

TEST(AuditChainTest, AForgedStartIsNamed) {
  auto chain = Chain(2);
  chain[0].previous_hash = std::string(64, 'f');
  chain[0].hash = store::AuditChainHash(chain[0].previous_hash, chain[0].record);
  EXPECT_EQ(Verify(chain),
            "audit record 1: the first record's previous hash is not the chain's start");
}

TEST(AuditChainTest, VerifyChainOverAStoreStopsAtTheFirstBadRecord) {
  // A store that holds a fixed list (what a tampered database would return).
  class ListStore : public store::Store {
   public:
    explicit ListStore(std::vector<store::AuditEntry> entries) : entries_(std::move(entries)) {}
    Result<store::StoredVersion> Read(const std::string&, const std::string&) override {
      return NotFound("none");
    }
    Result<store::StoredVersion> ReadVersion(const std::string&, const std::string&,
                                             int64_t) override {
      return NotFound("none");
    }
    Result<std::vector<store::WriteResult>> Write(std::span<const store::WriteOp>) override {
      return Internal("read-only");
    }
    Result<store::HistoryPage> History(const store::HistoryQuery&) override {
      return store::HistoryPage{};
    }
    Result<std::vector<store::AuditEntry>> ReadAudit(int64_t after, int limit) override {
      std::vector<store::AuditEntry> out;
      for (const auto& e : entries_) {
        if (e.seq > after && static_cast<int>(out.size()) < limit) out.push_back(e);
      }
      return out;
    }
    Status Close() override { return Status::Ok(); }

   private:
    std::vector<store::AuditEntry> entries_;
  };
  ListStore sound(Chain(10));
  Result<ChainSummary> summary = VerifyChain(sound, 3);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->records, 10);
  auto tampered = Chain(10);
  tampered[7].record += " ";
  ListStore bad(tampered);
  EXPECT_EQ(VerifyChain(bad, 3).status().message(),
            "audit record 8: its hash does not match its bytes (the record was changed)");
}

}  // namespace
}  // namespace vesta::audit
