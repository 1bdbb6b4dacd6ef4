// The audit trail's block summaries on SQLite (store/sqlite/audit_blocks.h): the Bloom filter
// never misses a patient it holds and rarely claims one it does not, and the summaries follow
// the appends (a block's time range, its filter, blocks split across batches).
#include "store/sqlite/audit_blocks.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sqlite/connection.h"
#include "store/audit_chain.h"

namespace vesta::store::sqlite_internal {
namespace {

std::string Patient(int i) { return "patient-" + std::to_string(i * 7919); }

TEST(AuditBlocksTest, FilterHoldsWhatWasAddedAndRarelyMore) {
  std::string filter(kAuditBloomBytes, '\0');
  for (int i = 0; i < 4096; ++i) AuditBloomAdd(filter, Patient(i));
  for (int i = 0; i < 4096; ++i) EXPECT_TRUE(AuditBloomMayHold(filter, Patient(i))) << i;
  int false_positives = 0;
  for (int i = 4096; i < 4096 + 20000; ++i)
    false_positives += AuditBloomMayHold(filter, Patient(i));
  // About 0.24% expected at 4096 patients; ten times that would mean a broken hash.
  EXPECT_LT(false_positives, 500) << false_positives;
  // No filter, or one of another size: anyone may be there.
  EXPECT_TRUE(AuditBloomMayHold("", "x"));
  EXPECT_TRUE(AuditBloomMayHold(std::string(16, '\0'), "x"));
  EXPECT_FALSE(AuditBloomMayHold(std::string(kAuditBloomBytes, '\0'), "x"));
}

TEST(AuditBlocksTest, SummariesFollowTheAppends) {
  auto db = sqlite::Connection::Open(":memory:", sqlite::OpenOptions::ReadWrite());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)
                  ->Exec("CREATE TABLE audit_block (block INTEGER PRIMARY KEY,"
                         " first_recorded INTEGER NOT NULL, last_recorded INTEGER NOT NULL,"
                         " patients BLOB)")
                  .ok());
  constexpr int64_t kBlock = int64_t{1} << kAuditBlockBits;
  // Records kBlock - 2 .. kBlock + 1: two in block 0, two in block 1; times out of order.
  std::vector<AuditAppend> first(4);
  const Micros times[] = {50, 40, 70, 60};
  for (int i = 0; i < 4; ++i) {
    first[i].recorded = times[i];
    first[i].patient = i == 3 ? "" : Patient(i);
  }
  ASSERT_TRUE(UpdateAuditBlocks(**db, kBlock - 2, first).ok());
  // A later batch in block 1.
  std::vector<AuditAppend> second(1);
  second[0].recorded = 30;
  second[0].patient = "late";
  ASSERT_TRUE(UpdateAuditBlocks(**db, kBlock + 2, second).ok());

  auto rows = (*db)->Prepare(
      "SELECT block, first_recorded, last_recorded, patients FROM audit_block ORDER BY block");
  ASSERT_TRUE(rows.ok());
  ASSERT_TRUE(*rows->Step());
  EXPECT_EQ(rows->Int(0), 0);
  EXPECT_EQ(rows->Int(1), 40);
  EXPECT_EQ(rows->Int(2), 50);
  EXPECT_TRUE(AuditBloomMayHold(rows->Text(3), Patient(0)));
  EXPECT_TRUE(AuditBloomMayHold(rows->Text(3), Patient(1)));
  EXPECT_FALSE(AuditBloomMayHold(rows->Text(3), "late"));
  ASSERT_TRUE(*rows->Step());
  EXPECT_EQ(rows->Int(0), 1);
  EXPECT_EQ(rows->Int(1), 30);
  EXPECT_EQ(rows->Int(2), 70);
  EXPECT_TRUE(AuditBloomMayHold(rows->Text(3), Patient(2)));
  EXPECT_TRUE(AuditBloomMayHold(rows->Text(3), "late"));
  EXPECT_FALSE(AuditBloomMayHold(rows->Text(3), Patient(0)));
  EXPECT_FALSE(*rows->Step());

  // A block from before the filters (NULL) stays unfiltered: it holds records no filter saw.
  ASSERT_TRUE((*db)->Exec("INSERT INTO audit_block VALUES (5, 1, 2, NULL)").ok());
  std::vector<AuditAppend> third(1);
  third[0].recorded = 3;
  third[0].patient = "p";
  ASSERT_TRUE(UpdateAuditBlocks(**db, 5 * kBlock + 9, third).ok());
  auto legacy = (*db)->Prepare(
      "SELECT last_recorded, patients IS NULL FROM audit_block"
      " WHERE block = 5");
  ASSERT_TRUE(legacy.ok());
  ASSERT_TRUE(*legacy->Step());
  EXPECT_EQ(legacy->Int(0), 3);
  EXPECT_EQ(legacy->Int(1), 1);
}

}  // namespace
}  // namespace vesta::store::sqlite_internal
