// The versioned write of update, patch and delete (rest/versioned_write.h): If-Match, the
// compare-and-set write, retries after a lost race, and the policies for absent and deleted
// resources. A small in-memory store stands in for the backend so that races can be staged.
#include "rest/versioned_write.h"

#include <gtest/gtest.h>

#include <map>

namespace vesta::rest {
namespace {

// Current versions only. `races` makes the next Write()s lose to a concurrent writer: the
// resource gets a new version and the write fails with kConflict, as a backend would.
class FakeStore : public store::Store {
 public:
  Result<store::StoredVersion> Read(const std::string& type, const std::string& id) override {
    auto it = current_.find(type + "/" + id);
    if (it == current_.end()) return Status(StatusCode::kNotFound, "no " + id);
    return it->second;
  }
  Result<store::StoredVersion> ReadVersion(const std::string&, const std::string&,
                                           int64_t) override {
    return Status(StatusCode::kNotSupported, "not in this fake");
  }
  Result<std::vector<store::WriteResult>> Write(std::span<const store::WriteOp> ops) override {
    ++writes;
    const store::WriteOp& op = ops[0];
    store::StoredVersion& v = current_[op.type + "/" + op.id];
    if (races > 0) {
      --races;
      v = store::StoredVersion{op.type, op.id, v.version + 1, 1, false, "{}"};
    }
    if (v.version != op.expected_version) {
      return Status(StatusCode::kConflict, op.type + "/" + op.id + " changed");
    }
    v = store::StoredVersion{op.type,
                             op.id,
                             op.expected_version + 1,
                             op.last_updated,
                             op.kind == store::WriteKind::kDelete,
                             op.json};
    return std::vector<store::WriteResult>(1);
  }
  Result<store::HistoryPage> History(const store::HistoryQuery&) override {
    return Status(StatusCode::kNotSupported, "not in this fake");
  }
  Status Close() override { return Status::Ok(); }

  void Put(int64_t version, bool deleted) {
    current_["Basic/b"] = store::StoredVersion{"Basic", "b", version, 5, deleted, "{}"};
  }

  int races = 0;
  int writes = 0;

 private:
  std::map<std::string, store::StoredVersion> current_;
};

class FixedClock : public Clock {
 public:
  Micros Now() override { return 42; }
};

class NoIds : public IdGenerator {
 public:
  std::string NewId() override { return "id"; }
};

class VersionedWriteTest : public ::testing::Test {
 protected:
  Result<VersionedWrite> Run(WhenAbsent absent, WhenDeleted deleted,
                             std::string_view if_match = "") {
    Request request;
    if (!if_match.empty()) request.headers.emplace_back("If-Match", std::string(if_match));
    return WriteVersioned(ctx_, request, Target{"Basic", "b", std::nullopt}, absent, deleted,
                          [&](const store::StoredVersion* current, store::WriteOp& op) {
                            seen_.push_back(current == nullptr ? 0 : current->version);
                            op.json = "{\"v\":" + std::to_string(op.expected_version + 1) + "}";
                            return WriteIt();
                          });
  }

  FakeStore store_;
  FixedClock clock_;
  NoIds ids_;
  Context ctx_{RestOptions{}, store_, clock_, ids_, fhir::Model::R4(), nullptr};
  std::vector<int64_t> seen_;  // the current version each prepare saw (0: none)
};

TEST_F(VersionedWriteTest, AbsentResourceIsCreatedOrNotFound) {
  Result<VersionedWrite> w = Run(WhenAbsent::kNotFound, WhenDeleted::kPrepare);
  EXPECT_EQ(w.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(w.status().message(), "Basic/b is not known");
  EXPECT_TRUE(seen_.empty());

  w = Run(WhenAbsent::kCreate, WhenDeleted::kPrepare);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_FALSE(w->answer);
  EXPECT_EQ(w->op.kind, store::WriteKind::kCreate);
  EXPECT_EQ(w->op.expected_version, store::kExpectNone);
  EXPECT_EQ(w->op.last_updated, 42);
  EXPECT_EQ(w->op.json, "{\"v\":1}");
  EXPECT_EQ(w->written.version, 1);
  EXPECT_FALSE(w->written.deleted);
  EXPECT_EQ(seen_, std::vector<int64_t>{0});
}

TEST_F(VersionedWriteTest, IfMatchMustNameTheCurrentVersion) {
  store_.Put(2, false);
  EXPECT_EQ(Run(WhenAbsent::kCreate, WhenDeleted::kPrepare, "garbage").status().code(),
            StatusCode::kInvalid);
  EXPECT_EQ(Run(WhenAbsent::kCreate, WhenDeleted::kPrepare, "W/\"1\"").status().code(),
            StatusCode::kPreconditionFailed);
  EXPECT_EQ(store_.writes, 0);
  Result<VersionedWrite> w = Run(WhenAbsent::kCreate, WhenDeleted::kPrepare, "W/\"2\"");
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->op.kind, store::WriteKind::kUpdate);
  EXPECT_EQ(w->written.version, 3);
}

TEST_F(VersionedWriteTest, IfMatchOnAnAbsentResourceFails) {
  Result<VersionedWrite> w = Run(WhenAbsent::kCreate, WhenDeleted::kPrepare, "W/\"1\"");
  EXPECT_EQ(w.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(store_.writes, 0);
}

TEST_F(VersionedWriteTest, ALostRaceIsRetriedOnTheNewVersion) {
  store_.Put(1, false);
  store_.races = 2;
  Result<VersionedWrite> w = Run(WhenAbsent::kNotFound, WhenDeleted::kPrepare);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(seen_, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(w->written.version, 4);
  EXPECT_EQ(w->op.json, "{\"v\":4}");
}

TEST_F(VersionedWriteTest, ALostRaceWithIfMatchIsAPreconditionFailure) {
  store_.Put(1, false);
  store_.races = 1;
  Result<VersionedWrite> w = Run(WhenAbsent::kNotFound, WhenDeleted::kPrepare, "W/\"1\"");
  EXPECT_EQ(w.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(store_.writes, 1);
}

TEST_F(VersionedWriteTest, EndlessRacesEndInAConflict) {
  store_.Put(1, false);
  store_.races = 1000;
  Result<VersionedWrite> w = Run(WhenAbsent::kNotFound, WhenDeleted::kPrepare);
  EXPECT_EQ(w.status().code(), StatusCode::kConflict);
  EXPECT_EQ(store_.writes, kVersionedWriteAttempts);
}

TEST_F(VersionedWriteTest, DeletedResourceIsGoneOrPrepared) {
  store_.Put(3, true);
  Result<VersionedWrite> gone = Run(WhenAbsent::kNotFound, WhenDeleted::kGone, "W/\"1\"");
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  ASSERT_TRUE(gone->answer);
  EXPECT_EQ(gone->answer->status, 410);
  bool etag = false;
  for (const auto& [name, value] : gone->answer->headers)
    etag |= name == "ETag" && value == "W/\"3\"";
  EXPECT_TRUE(etag);
  EXPECT_TRUE(seen_.empty());
  EXPECT_EQ(store_.writes, 0);

  Result<VersionedWrite> again = Run(WhenAbsent::kNotFound, WhenDeleted::kPrepare);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(seen_, std::vector<int64_t>{3});
  EXPECT_EQ(again->written.version, 4);
}

TEST_F(VersionedWriteTest, PrepareMayAnswerOrFailWithoutWriting) {
  store_.Put(1, false);
  Request request;
  Target target{"Basic", "b", std::nullopt};
  Result<VersionedWrite> answered =
      WriteVersioned(ctx_, request, target, WhenAbsent::kNotFound, WhenDeleted::kPrepare,
                     [](const store::StoredVersion*, store::WriteOp&) {
                       Response r;
                       r.status = 299;
                       return AnswerWithoutWriting(r);
                     });
  ASSERT_TRUE(answered.ok());
  ASSERT_TRUE(answered->answer);
  EXPECT_EQ(answered->answer->status, 299);
  Result<VersionedWrite> failed =
      WriteVersioned(ctx_, request, target, WhenAbsent::kNotFound, WhenDeleted::kPrepare,
                     [](const store::StoredVersion*, store::WriteOp&) -> PrepareResult {
                       return Status(StatusCode::kUnprocessable, "no");
                     });
  EXPECT_EQ(failed.status().code(), StatusCode::kUnprocessable);
  EXPECT_EQ(store_.writes, 0);
}

TEST_F(VersionedWriteTest, DeleteKindIsReportedAsADeletion) {
  store_.Put(1, false);
  Request request;
  Result<VersionedWrite> w =
      WriteVersioned(ctx_, request, Target{"Basic", "b", std::nullopt}, WhenAbsent::kNotFound,
                     WhenDeleted::kPrepare, [](const store::StoredVersion*, store::WriteOp& op) {
                       op.kind = store::WriteKind::kDelete;
                       return WriteIt();
                     });
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->written.deleted);
  EXPECT_EQ(w->written.version, 2);
  EXPECT_TRUE(store_.Read("Basic", "b")->deleted);
}

}  // namespace
}  // namespace vesta::rest
