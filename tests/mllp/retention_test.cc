// The retention of raw messages (mllp/retention.h) over a real SQLite store: the period's
// spelling, which records a pass takes, what their one version keeps, a pass that stopped
// between its steps finished by the next, and passes running at once.
#include "mllp/retention.h"

#include <gtest/gtest.h>

#include <thread>

#include "hl7v2/parse.h"
#include "json/parse.h"
#include "json/writer.h"
#include "mllp/intake.h"
#include "store/sqlite/sqlite_store.h"
#include "store/temp_dir.h"

namespace vesta::mllp {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr Micros kDay = Micros{86400} * 1000000;
constexpr Micros kT0 = 1795485179000000;  // 2026-11-24T01:52:59Z
// The raw message's extension in a record's JSON.
constexpr char kRawExtension[] = R"("url":"urn:vesta:hl7v2:raw")";

TEST(ParseRetentionTest, NumbersWithAUnitOrZero) {
  EXPECT_EQ(*ParseRetention("30d"), hours(24 * 30));
  EXPECT_EQ(*ParseRetention("12h"), hours(12));
  EXPECT_EQ(*ParseRetention("90m"), minutes(90));
  EXPECT_EQ(*ParseRetention("45s"), seconds(45));
  EXPECT_EQ(*ParseRetention("0"), seconds(0));
  EXPECT_EQ(*ParseRetention("0s"), seconds(0));
  for (const char* bad : {"", "d", "30", "30x", "-1d", "1.5h", "30 d", "12345678d", "1w"}) {
    Result<seconds> r = ParseRetention(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalid) << bad;
  }
  EXPECT_NE(ParseRetention("30x").status().message().find("30d, 12h"), std::string::npos);
}

TEST(RetentionThreadTest, IntervalIsAnHourATenthOrAMinute) {
  EXPECT_EQ(RetentionThread::Interval(hours(24 * 30)), hours(1));
  EXPECT_EQ(RetentionThread::Interval(hours(5)), minutes(30));
  EXPECT_EQ(RetentionThread::Interval(seconds(1)), minutes(1));
}

// Forwards to a store, except ExpungeHistory, which fails while `fail_expunge` is set: a process
// stopped between a purge's first write and its expunge.
class StoppingStore : public store::Store {
 public:
  explicit StoppingStore(store::Store& s) : s_(s) {}
  Result<store::StoredVersion> Read(const std::string& t, const std::string& id) override {
    return s_.Read(t, id);
  }
  Result<store::StoredVersion> ReadVersion(const std::string& t, const std::string& id,
                                           int64_t v) override {
    return s_.ReadVersion(t, id, v);
  }
  Result<std::vector<store::WriteResult>> Write(std::span<const store::WriteOp> ops) override {
    return s_.Write(ops);
  }
  Result<store::HistoryPage> History(const store::HistoryQuery& q) override {
    return s_.History(q);
  }
  Result<store::SearchPage> Search(const store::SearchQuery& q) override { return s_.Search(q); }
  Result<int64_t> ExpungeHistory(const std::string& t, const std::string& id) override {
    if (fail_expunge) return Status(StatusCode::kUnavailable, "stopped");
    return s_.ExpungeHistory(t, id);
  }
  Status Close() override { return Status::Ok(); }
  bool fail_expunge = false;

 private:
  store::Store& s_;
};

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store::SqliteStoreOptions o;
    o.directory = dir_.path();
    Result<std::unique_ptr<store::Store>> s = store::OpenSqliteStore(o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    if (store_) (void)store_->Close();
  }

  // An intake whose mapping makes an empty transaction and whose apply step writes the record
  // (as the REST transaction does), or fails while `fail_apply_` is set (a dead letter).
  Intake MakeIntake() {
    return Intake(
        *store_, clock_,
        [](const hl7v2::Message& m, const std::string&) -> Result<std::string> {
          return std::string(R"({"resourceType":"Bundle","id":")" + m.header().control_id +
                             R"(","type":"transaction","entry":[]})");
        },
        [this](const std::string& bundle) -> Status {
          if (fail_apply_) return Status(StatusCode::kUnprocessable, "Patient: invalid");
          Result<json::Document> doc = json::Parse(bundle);
          if (!doc.ok()) return doc.status();
          for (const json::Value& e : doc->root().Find("entry")->items()) {
            const json::Value* r = e.Find("resource");
            store::WriteOp op;
            op.type = "Basic";
            op.id = std::string(r->FindString("id"));
            op.last_updated = clock_.Now();
            op.json = json::ToString(*r);
            if (Status s = store_->Write({&op, 1}).status(); !s.ok()) return s;
          }
          return Status::Ok();
        });
  }

  static std::string Adt(const std::string& control_id) {
    return "MSH|^~\\&|SENDER|FAC|VESTA|HOSP|20240105143000||ADT^A01^ADT_A01|" + control_id +
           "|P|2.5.1\rPID|1||12345^^^HOSP^MR||Doe^Jane\r";
  }

  // The id of the record of `control_id`, received now.
  std::string Receive(Intake& intake, const std::string& control_id) {
    intake.Receive(Adt(control_id));
    Result<hl7v2::Message> m = hl7v2::Parse(Adt(control_id));
    return MessageId(m->header(), Adt(control_id));
  }

  int64_t Versions(const std::string& id) {
    store::HistoryQuery q;
    q.type = "Basic";
    q.id = id;
    return store_->History(q)->total;
  }

  store::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  FakeClock clock_{kT0};
  bool fail_apply_ = false;
};

TEST_F(RetentionTest, PurgesAppliedMessagesOlderThanTheCutoffOnly) {
  Intake intake = MakeIntake();
  const std::string old_one = Receive(intake, "OLD");
  fail_apply_ = true;
  const std::string dead = Receive(intake, "DEAD");
  fail_apply_ = false;
  clock_.Advance(10 * kDay);
  const std::string recent = Receive(intake, "NEW");
  clock_.Advance(kDay);

  RawPurge purge(*store_, clock_, /*batch=*/1);  // one record a page: the pages chain
  Result<PurgeCount> done = purge.Run(kT0 + 5 * kDay);
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(done->purged, 1);
  EXPECT_EQ(done->skipped, 0);

  Result<store::StoredVersion> v = store_->Read("Basic", old_one);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->json.find(kRawExtension), std::string::npos) << v->json;
  EXPECT_EQ(v->json.find("PID|1"), std::string::npos) << v->json;
  EXPECT_EQ(v->version, 3);
  EXPECT_EQ(Versions(old_one), 1);
  // What the listings show is still there, the time of receipt included.
  Result<std::vector<StoredMessage>> listed = intake.List("applied", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  const StoredMessage& m = listed->back().id == old_one ? listed->back() : listed->front();
  EXPECT_EQ(m.id, old_one);
  EXPECT_EQ(m.type, "ADT^A01");
  EXPECT_EQ(m.sender, "SENDER^FAC");
  EXPECT_EQ(m.control_id, "OLD");
  EXPECT_EQ(m.received, kT0);
  EXPECT_EQ(m.raw_purged, kT0 + 11 * kDay);
  EXPECT_EQ(m.ack.code, "AA");
  EXPECT_TRUE(m.raw.empty());
  // The recent message and the dead letter keep their text.
  EXPECT_NE(store_->Read("Basic", recent)->json.find(kRawExtension), std::string::npos);
  EXPECT_NE(store_->Read("Basic", dead)->json.find(kRawExtension), std::string::npos);
  // A resend is a duplicate, answered AA, and writes nothing.
  const std::string ack = intake.Receive(Adt("OLD"));
  EXPECT_NE(ack.find("MSA|AA|OLD"), std::string::npos) << ack;
  EXPECT_EQ(store_->Read("Basic", old_one)->version, 3);
  // Nothing is taken twice.
  done = purge.Run(clock_.Now());
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->purged, 1);  // the recent one, now older than the cutoff
  EXPECT_EQ(purge.Run(clock_.Now())->purged, 0);
}

TEST_F(RetentionTest, APassStoppedBetweenItsStepsIsFinishedByTheNext) {
  Intake intake = MakeIntake();
  const std::string id = Receive(intake, "C1");
  clock_.Advance(kDay);
  StoppingStore stopping(*store_);
  stopping.fail_expunge = true;
  EXPECT_EQ(RawPurge(stopping, clock_).Run(clock_.Now()).status().code(), StatusCode::kUnavailable);
  // The text has left the current version, not the first.
  EXPECT_EQ(store_->Read("Basic", id)->json.find(kRawExtension), std::string::npos);
  EXPECT_NE(store_->ReadVersion("Basic", id, 1)->json.find(kRawExtension), std::string::npos);
  // The next pass finishes it, whatever its cutoff.
  Result<PurgeCount> done = RawPurge(*store_, clock_).Run(kT0 - kDay);
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(done->purged, 1);
  EXPECT_EQ(Versions(id), 1);
  EXPECT_EQ(store_->ReadVersion("Basic", id, 1).status().code(), StatusCode::kNotFound);
  EXPECT_NE(store_->Read("Basic", id)->json.find(R"("code":"purged")"), std::string::npos);
}

// Several processes (PostgreSQL nodes) purging at once: each record is purged once, the others'
// attempts are conflicts, skipped.
TEST_F(RetentionTest, PassesAtOnceTakeEachRecordOnce) {
  Intake intake = MakeIntake();
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(Receive(intake, "M" + std::to_string(i)));
  clock_.Advance(kDay);
  std::vector<Result<PurgeCount>> results(3, PurgeCount{});
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] { results[t] = RawPurge(*store_, clock_, 7).Run(kT0 + 1); });
  }
  for (auto& t : threads) t.join();
  int64_t purged = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().message();
    purged += r->purged;
  }
  EXPECT_EQ(purged, 40);
  for (const std::string& id : ids) {
    EXPECT_EQ(Versions(id), 1) << id;
    EXPECT_EQ(store_->Read("Basic", id)->json.find(kRawExtension), std::string::npos);
  }
}

TEST_F(RetentionTest, TheThreadPurgesAtStartAndStopsPromptly) {
  Intake intake = MakeIntake();
  const std::string id = Receive(intake, "T1");
  clock_.Advance(2 * kDay);
  RetentionThread thread(*store_, clock_, hours(24));
  thread.Start();
  auto purged = [&] {
    return store_->Read("Basic", id)->json.find(kRawPurgedUrl) != std::string::npos &&
           Versions(id) == 1;
  };
  for (int i = 0; i < 400 && !purged(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto before = std::chrono::steady_clock::now();
  thread.Stop();  // waiting for the next pass, an hour away
  EXPECT_LT(std::chrono::steady_clock::now() - before, seconds(5));
  EXPECT_TRUE(purged());
}

}  // namespace
}  // namespace vesta::mllp
