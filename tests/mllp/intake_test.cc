// The feed's intake (mllp/intake.h) over a real SQLite store, with a mapping and an apply step
// the tests control.
#include "mllp/intake.h"

#include <gtest/gtest.h>

#include <atomic>

#include "hl7v2/parse.h"
#include "json/parse.h"
#include "json/writer.h"
#include "store/sqlite/sqlite_store.h"
#include "store/temp_dir.h"

namespace vesta::mllp {
namespace {

std::string Adt(const std::string& control_id, const std::string& extra_msh = "") {
  return "MSH|^~\\&|SENDER|FAC|VESTA|HOSP|20240105143000||ADT^A01^ADT_A01|" + control_id +
         "|P|2.5.1" + extra_msh + "\rPID|1||12345^^^HOSP^MR||Doe^Jane\r";
}

// The MSA segment's fields of an ACK.
std::vector<std::string> Msa(const std::string& ack) {
  Result<hl7v2::Message> m = hl7v2::Parse(ack);
  EXPECT_TRUE(m.ok()) << ack;
  if (!m.ok()) return {};
  std::optional<hl7v2::Segment> msa = m->Find("MSA");
  if (!msa) return {};
  return {msa->Field(1).text(), msa->Field(2).text()};
}

class IntakeTest : public ::testing::Test {
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

  Intake MakeIntake() {
    return Intake(
        *store_, clock_,
        [this](const hl7v2::Message& m, const std::string& record) -> Result<std::string> {
          last_record_ = record;
          if (m.header().message_code == "ZZZ") return NotSupported("ZZZ is not mapped");
          if (fail_map_) return Invalid("PID-3: no identifier");
          return std::string(R"({"resourceType":"Bundle","id":")" + m.header().control_id +
                             R"(","type":"transaction","entry":[]})");
        },
        [this](const std::string& bundle) -> Status {
          Result<json::Document> doc = json::Parse(bundle);
          if (!doc.ok()) return doc.status();
          // As the REST transaction would: a create-only entry (ifNoneMatch *) of a resource
          // that exists refuses the whole Bundle (412) before anything is applied.
          for (const json::Value& e : doc->root().Find("entry")->items()) {
            const json::Value* req = e.Find("request");
            if (req == nullptr || req->FindString("ifNoneMatch") != "*") continue;
            std::string_view url = req->FindString("url");
            const size_t slash = url.find('/');
            if (store_->Read(std::string(url.substr(0, slash)), std::string(url.substr(slash + 1)))
                    .status()
                    .code() != StatusCode::kNotFound) {
              return Status(StatusCode::kUnprocessable, "the transaction was refused (412)");
            }
          }
          ++applied_;
          last_bundle_ = bundle;
          if (fail_apply_) return Status(StatusCode::kUnprocessable, "Patient: invalid");
          // As the REST transaction would: the message's own record (a Basic entry) is written
          // in the same commit as the rest.
          for (const json::Value& e : doc->root().Find("entry")->items()) {
            const json::Value* r = e.Find("resource");
            if (r == nullptr || r->FindString("resourceType") != "Basic") continue;
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

  // The ACK the record keeps (the extension urn:vesta:hl7v2:ack).
  SentAck AckOf(const std::string& id) {
    Intake intake = MakeIntake();
    for (const char* state : {"applied", "dead-letter", "rejected", "received"}) {
      Result<std::vector<StoredMessage>> listed = intake.List(state, 100);
      if (!listed.ok()) continue;
      for (const StoredMessage& m : *listed) {
        if (m.id == id) return m.ack;
      }
    }
    return {};
  }

  std::string StateOf(const std::string& id) {
    Result<store::StoredVersion> v = store_->Read("Basic", id);
    if (!v.ok()) return "(absent)";
    const size_t at = v->json.find(std::string(kStateSystem) + "\",\"code\":\"");
    if (at == std::string::npos) return "(no state)";
    const size_t start = at + std::string(kStateSystem).size() + 10;
    return v->json.substr(start, v->json.find('"', start) - start);
  }

  store::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  SystemClock clock_;
  std::atomic<int> applied_{0};
  std::string last_bundle_;
  std::string last_record_;  // the record the mapping was told to name in its Provenance
  bool fail_map_ = false;
  bool fail_apply_ = false;
};

TEST_F(IntakeTest, StoresAppliesAndAcknowledgesOnce) {
  Intake intake = MakeIntake();
  const std::string message = Adt("MSG1");
  const std::string first_ack = intake.Receive(message);
  EXPECT_EQ(Msa(first_ack), (std::vector<std::string>{"AA", "MSG1"}));
  EXPECT_EQ(applied_, 1);
  // The message's transaction, with its record (state applied) as one more entry.
  EXPECT_NE(last_bundle_.find(R"("id":"MSG1")"), std::string::npos) << last_bundle_;
  EXPECT_NE(last_bundle_.find(R"("url":"Basic/v2-)"), std::string::npos) << last_bundle_;
  const std::string id = MessageId(hl7v2::Parse(message)->header(), message);
  EXPECT_EQ(last_record_, "Basic/" + id) << "the Provenance names the record";
  EXPECT_EQ(StateOf(id), "applied");
  // The record was written by that transaction with the ACK sent, whole and as its MSA-1.
  EXPECT_NE(last_bundle_.find(std::string(kAckUrl)), std::string::npos) << last_bundle_;
  SentAck kept = AckOf(id);
  EXPECT_EQ(kept.message, first_ack);
  EXPECT_EQ(kept.code, "AA");
  EXPECT_EQ(kept.text, "");
  // The stored resource keeps the raw message and is a valid Basic.
  Result<store::StoredVersion> stored = store_->Read("Basic", id);
  ASSERT_TRUE(stored.ok());
  // UTF-8 text: kept as a string, readable in the record (segment ends escaped as \r).
  EXPECT_NE(stored->json.find(R"("url":"urn:vesta:hl7v2:raw","valueString":"MSH|)"),
            std::string::npos)
      << stored->json;
  Result<std::vector<StoredMessage>> listed = intake.List("applied", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].raw, message);
  EXPECT_EQ((*listed)[0].type, "ADT^A01");
  EXPECT_EQ((*listed)[0].control_id, "MSG1");
  // A duplicate (same sender, facility and control id) is acknowledged, not applied again.
  EXPECT_EQ(Msa(intake.Receive(message)), (std::vector<std::string>{"AA", "MSG1"}));
  EXPECT_EQ(applied_, 1);
  // The same message with LF segment ends (as a file holds it) is the same message.
  std::string lf = message;
  for (char& c : lf) c = c == '\r' ? '\n' : c;
  EXPECT_EQ(Msa(intake.Receive(lf))[0], "AA");
  EXPECT_EQ(applied_, 1);
  // A different message reusing the control id is a message of its own.
  std::string changed = message;
  changed.replace(changed.find("Jane"), 4, "Joan");
  EXPECT_EQ(Msa(intake.Receive(changed))[0], "AA");
  EXPECT_EQ(applied_, 2);
  // Another sender's MSG1 is another message.
  std::string other = message;
  other.replace(other.find("SENDER"), 6, "OTHER1");
  EXPECT_EQ(Msa(intake.Receive(other)), (std::vector<std::string>{"AA", "MSG1"}));
  EXPECT_EQ(applied_, 3);
}

// A message that is not UTF-8 (a Latin-1 feed) is kept byte for byte, in base64.
TEST_F(IntakeTest, KeepsAMessageThatIsNotUtf8InBase64) {
  Intake intake = MakeIntake();
  std::string latin1 = Adt("MSG10");
  latin1.replace(latin1.find("Jane"), 4, "Jos\xe9");
  EXPECT_EQ(Msa(intake.Receive(latin1))[0], "AA");
  const std::string id = MessageId(hl7v2::Parse(latin1)->header(), latin1);
  Result<store::StoredVersion> stored = store_->Read("Basic", id);
  ASSERT_TRUE(stored.ok());
  EXPECT_NE(stored->json.find(R"("url":"urn:vesta:hl7v2:raw","valueBase64Binary":)"),
            std::string::npos);
  Result<std::vector<StoredMessage>> listed = intake.List("applied", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].raw, latin1);
}

TEST_F(IntakeTest, FailuresBecomeDeadLettersThatReplay) {
  Intake intake = MakeIntake();
  fail_apply_ = true;
  const std::string message = Adt("MSG2");
  const std::string ack = intake.Receive(message);
  EXPECT_EQ(Msa(ack), (std::vector<std::string>{"AE", "MSG2"}));
  EXPECT_NE(ack.find("ERR|"), std::string::npos) << ack;
  EXPECT_NE(ack.find("Patient: invalid"), std::string::npos) << ack;
  const std::string id = MessageId(hl7v2::Parse(message)->header(), message);
  EXPECT_EQ(StateOf(id), "dead-letter");
  Result<std::vector<StoredMessage>> dead = intake.List("dead-letter", 10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_NE((*dead)[0].reason.find("Patient: invalid"), std::string::npos);
  // The dead letter keeps the AE it was answered with, and why.
  EXPECT_EQ((*dead)[0].ack.message, ack);
  EXPECT_EQ((*dead)[0].ack.code, "AE");
  EXPECT_NE((*dead)[0].ack.text.find("Patient: invalid"), std::string::npos);
  // Resent: the same answer, not applied again.
  EXPECT_EQ(Msa(intake.Receive(message))[0], "AE");
  EXPECT_EQ(applied_, 1);
  // Replayed after the cause is fixed: applied.
  fail_apply_ = false;
  EXPECT_TRUE(intake.Replay(id).ok());
  EXPECT_EQ(StateOf(id), "applied");
  EXPECT_EQ(applied_, 2);
  // No ACK goes back for a replay: the record keeps the one its sender was sent.
  EXPECT_EQ(AckOf(id).message, ack);
  EXPECT_FALSE(intake.Replay(id).ok()) << "only dead letters replay";
  // A mapping failure is a dead letter too.
  fail_map_ = true;
  EXPECT_EQ(Msa(intake.Receive(Adt("MSG3")))[0], "AE");
  EXPECT_EQ(StateOf(MessageId(hl7v2::Parse(Adt("MSG3"))->header(), Adt("MSG3"))), "dead-letter");
}

TEST_F(IntakeTest, RejectsWhatItCannotTake) {
  Intake intake = MakeIntake();
  // An unsupported type: AR with error 200, kept as rejected.
  std::string zzz = Adt("MSG4");
  zzz.replace(zzz.find("ADT^A01^ADT_A01"), 15, "ZZZ^Z01");
  const std::string ack = intake.Receive(zzz);
  EXPECT_EQ(Msa(ack), (std::vector<std::string>{"AR", "MSG4"}));
  EXPECT_NE(ack.find("200^"), std::string::npos) << ack;
  EXPECT_EQ(StateOf(MessageId(hl7v2::Parse(zzz)->header(), zzz)), "rejected");
  EXPECT_EQ(AckOf(MessageId(hl7v2::Parse(zzz)->header(), zzz)).message, ack);
  // Malformed: AR with the parser's error, nothing applied.
  const std::string bad = "MSH|^~\\&|S|F|R|F|2024||ADT^A01|MSG5|P\rPID|1\r";  // no MSH-12
  const std::string bad_ack = intake.Receive(bad);
  EXPECT_EQ(Msa(bad_ack)[0], "AR");
  EXPECT_NE(bad_ack.find("MSH^1^12"), std::string::npos) << bad_ack;
  EXPECT_EQ(Msa(intake.Receive("garbage"))[0], "AR");
  EXPECT_EQ(applied_, 0);
}

TEST_F(IntakeTest, EnhancedModeAnswersAsAsked) {
  Intake intake = MakeIntake();
  // MSH-15 AL: a commit ACK (CA) once stored.
  EXPECT_EQ(Msa(intake.Receive(Adt("MSG6", "|||AL|NE")))[0], "CA");
  EXPECT_EQ(
      AckOf(MessageId(hl7v2::Parse(Adt("MSG6", "|||AL|NE"))->header(), Adt("MSG6", "|||AL|NE")))
          .code,
      "CA");
  // MSH-15 NE, MSH-16 AL: the application ACK.
  EXPECT_EQ(Msa(intake.Receive(Adt("MSG7", "|||NE|AL")))[0], "AA");
  // Both NE: MLLP still answers every message, with the commit ACK.
  EXPECT_EQ(Msa(intake.Receive(Adt("MSG8", "|||NE|NE")))[0], "CA");
  EXPECT_EQ(applied_, 3);
}

TEST_F(IntakeTest, MessagesStoredButNotAppliedAreAppliedAtStart) {
  const std::string message = Adt("MSG9");
  const hl7v2::Header h = hl7v2::Parse(message)->header();
  {
    // What a server that stopped right after storing leaves: the message in state received.
    fail_apply_ = true;
    Intake intake = MakeIntake();
    EXPECT_EQ(Msa(intake.Receive(message))[0], "AE");
  }
  // Put it back to received, as if the stop came before applying.
  Result<store::StoredVersion> v = store_->Read("Basic", MessageId(h, message));
  ASSERT_TRUE(v.ok());
  std::string json = v->json;
  json.replace(json.find("dead-letter"), 11, "received");
  json.replace(json.find("\"versionId\":\"1\""), 15, "\"versionId\":\"2\"");
  store::WriteOp op;
  op.kind = store::WriteKind::kUpdate;
  op.type = "Basic";
  op.id = MessageId(h, message);
  op.expected_version = 1;
  op.last_updated = clock_.Now();
  op.json = json;
  ASSERT_TRUE(store_->Write({&op, 1}).ok());
  fail_apply_ = false;
  Intake restarted = MakeIntake();
  Result<int> recovered = restarted.RecoverPending();
  ASSERT_TRUE(recovered.ok()) << recovered.status().message();
  EXPECT_EQ(*recovered, 1);
  EXPECT_EQ(StateOf(MessageId(h, message)), "applied");
}

// Ids begin with the message's time and control id; a store written before keeps its records
// under the earlier ids (v2- and 40 hex digits), and a message resent after the upgrade is still
// the duplicate it is.
TEST_F(IntakeTest, RecordsUnderEarlierIdsAreStillDuplicates) {
  const std::string message = Adt("MSG9");
  const hl7v2::Header h = hl7v2::Parse(message)->header();
  const std::string id = MessageId(h, message);
  EXPECT_EQ(id.substr(0, 23), "v2-20240105143000-MSG9-") << id;
  EXPECT_EQ(id.size(), 23u + 24u);
  const std::string legacy = LegacyMessageId(h, message);
  EXPECT_EQ(legacy.size(), 43u);
  EXPECT_EQ(legacy.substr(3, 24), id.substr(23)) << "the same hash";
  {
    Intake intake = MakeIntake();
    EXPECT_EQ(Msa(intake.Receive(message))[0], "AA");
  }
  EXPECT_EQ(applied_, 1);
  // The record moved to its earlier id, as an older server stored it.
  Result<store::StoredVersion> v = store_->Read("Basic", id);
  ASSERT_TRUE(v.ok());
  std::string json = v->json;
  json.replace(json.find(id), id.size(), legacy);
  store::WriteOp op;
  op.type = "Basic";
  op.id = legacy;
  op.last_updated = clock_.Now();
  op.json = json;
  ASSERT_TRUE(store_->Write({&op, 1}).ok());
  store::WriteOp gone;
  gone.kind = store::WriteKind::kDelete;
  gone.type = "Basic";
  gone.id = id;
  gone.expected_version = 1;
  gone.last_updated = clock_.Now();
  ASSERT_TRUE(store_->Write({&gone, 1}).ok());
  Intake upgraded = MakeIntake();
  EXPECT_EQ(Msa(upgraded.Receive(message)), (std::vector<std::string>{"AA", "MSG9"}));
  EXPECT_EQ(applied_, 1) << "not applied twice";
  EXPECT_EQ(Msa(upgraded.Receive(Adt("MSG10")))[0], "AA");
  EXPECT_EQ(applied_, 2);
}

}  // namespace
}  // namespace vesta::mllp
