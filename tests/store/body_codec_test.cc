// Compressed resource bodies of the SQLite store (store/sqlite/body_codec.h): rows written
// uncompressed (before migration 013, or with compression off), compressed without a dictionary
// and with a trained one all read back byte for byte, also after a reopen; the dictionary is
// stored once, in the database.
#include "store/sqlite/body_codec.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sqlite/connection.h"
#include "store/sqlite/sqlite_store.h"
#include "store/temp_dir.h"

namespace vesta::store {
namespace {

constexpr Micros kT0 = 1795485179000000;

std::string ObservationJson(int i) {
  return R"({"resourceType":"Observation","id":"o)" + std::to_string(i) +
         R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":")" +
         std::to_string(8000 + i % 37) + R"(-4","display":"Heart rate"}]},"subject":)" +
         R"({"reference":"Patient/p)" + std::to_string(i % 50) + R"("},"valueQuantity":{"value":)" +
         std::to_string(60 + i % 40) +
         R"(,"unit":"beats/minute","system":"http://unitsofmeasure.org","code":"/min"}})";
}

class BodyCodecTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(bool compress) {
    SqliteStoreOptions options;
    options.directory = dir_.path();
    options.compress_bodies = compress;
    auto store = OpenSqliteStore(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  void WriteRange(Store& store, int from, int to) {
    for (int i = from; i < to; ++i) {
      WriteOp op{WriteKind::kCreate, "Observation", "o" + std::to_string(i),
                 kExpectNone,        kT0 + i,       ObservationJson(i)};
      ASSERT_TRUE(store.Write(std::span<const WriteOp>(&op, 1)).ok()) << i;
    }
  }

  void ExpectAll(Store& store, int to) {
    for (int i = 0; i < to; ++i) {
      auto v = store.Read("Observation", "o" + std::to_string(i));
      ASSERT_TRUE(v.ok()) << i << " " << v.status().ToString();
      EXPECT_EQ(v->json, ObservationJson(i)) << i;
    }
  }

  int64_t Count(const std::string& sql) {
    auto db = sqlite::Connection::Open(dir_.path() + "/vesta.db", sqlite::Mode::kReadOnly);
    EXPECT_TRUE(db.ok());
    auto stmt = (*db)->Prepare(sql);
    EXPECT_TRUE(stmt.ok());
    auto row = stmt->Step();
    EXPECT_TRUE(row.ok() && *row);
    return stmt->Int(0);
  }

  TempDir dir_;
};

TEST_F(BodyCodecTest, EveryKindOfRowReadsBack) {
  constexpr int kPlain = 50;
  const int trained = static_cast<int>(sqlite_internal::kTrainSamples);
  {
    auto store = Open(/*compress=*/false);  // as a store written before migration 013
    WriteRange(*store, 0, kPlain);
    ASSERT_TRUE(store->Close().ok());
  }
  EXPECT_EQ(Count("SELECT count(*) FROM resource WHERE hex(substr(json, 1, 1)) = '7B'"), kPlain);
  {
    auto store = Open(/*compress=*/true);
    // Without a dictionary until kTrainSamples bodies of the type were seen, then with one.
    WriteRange(*store, kPlain, kPlain + trained + 100);
    ExpectAll(*store, kPlain + trained + 100);
    ASSERT_TRUE(store->Close().ok());
  }
  EXPECT_EQ(Count("SELECT count(*) FROM body_dictionary WHERE type = 'Observation'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM resource WHERE hex(substr(json, 1, 1)) = '7B'"), kPlain);
  EXPECT_LT(Count("SELECT sum(length(json)) FROM resource WHERE seq > " +
                  std::to_string(kPlain + trained)) *
                3,
            Count("SELECT sum(length(json)) FROM resource WHERE seq <= " + std::to_string(kPlain)) *
                2);  // 100 trained rows against 50 plain ones: well under a third each
  {
    // Reopened: the dictionary comes from the database; new rows use it, without a new one.
    auto store = Open(/*compress=*/true);
    WriteRange(*store, kPlain + trained + 100, kPlain + trained + 200);
    ExpectAll(*store, kPlain + trained + 200);
    SearchQuery query;
    query.types = {"Observation"};
    query.params = {{"_id", "o1"}};
    auto found = store->Search(query);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    ASSERT_EQ(found->entries.size(), 1u);
    EXPECT_EQ(found->entries[0].version.json, ObservationJson(1));
  }
  EXPECT_EQ(Count("SELECT count(*) FROM body_dictionary"), 1);
}

TEST(DecodeBodyTest, PlainJsonIsReturnedAsItIs) {
  auto none = [](int64_t) -> Result<std::optional<std::string>> {
    return std::optional<std::string>();
  };
  auto out = sqlite_internal::DecodeBody(R"({"resourceType":"Patient"})", none);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, R"({"resourceType":"Patient"})");
  // A frame naming a dictionary that is not there is an error, not garbage.
  std::string frame("\x28\xB5\x2F\xFD\x23\x01\x00\x00\x00\x05\x00", 11);
  EXPECT_FALSE(sqlite_internal::DecodeBody(frame, none).ok());
}

}  // namespace
}  // namespace vesta::store
