// Application ACKs on a connection of their own (mllp/app_ack.h): the routes as the command line
// spells them, the record's extension, the backoff, and the intake with the delivery over a real
// SQLite store and a listener on 127.0.0.1.
#include "mllp/app_ack.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "hl7v2/mllp.h"
#include "hl7v2/parse.h"
#include "json/parse.h"
#include "json/writer.h"
#include "mllp/intake.h"
#include "store/sqlite/sqlite_store.h"
#include "store/temp_dir.h"

namespace vesta::mllp {
namespace {

TEST(AppAckRouteTest, ParsesWhatTheFlagTakes) {
  Result<AppAckRoute> r = ParseAppAckRoute("LAB^NORTH=acks.example.org:2576");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->application, "LAB");
  EXPECT_EQ(r->facility, "NORTH");
  EXPECT_EQ(r->host, "acks.example.org");
  EXPECT_EQ(r->port, 2576);
  EXPECT_EQ(r->Destination(), "acks.example.org:2576");

  r = ParseAppAckRoute("LAB^*=127.0.0.1:1");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->facility, "*");
  EXPECT_EQ(r->port, 1);

  r = ParseAppAckRoute("LAB^NORTH=[::1]:65535");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->host, "::1");
  EXPECT_EQ(r->Destination(), "[::1]:65535");
}

TEST(AppAckRouteTest, RefusesWhatItCannotUse) {
  for (const char* bad :
       {"", "LAB^NORTH", "LAB=h:1", "LAB^NORTH^X=h:1", "^NORTH=h:1", "LAB^=h:1", "LAB^NORTH=h",
        "LAB^NORTH=:1", "LAB^NORTH=h:0", "LAB^NORTH=h:65536", "LAB^NORTH=h:12a",
        "LAB^NORTH=::1:2575", "LAB^NORTH=[::1]2575", "LAB^NORTH=h:123456"}) {
    Result<AppAckRoute> r = ParseAppAckRoute(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "' was taken";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalid);
    }
  }
}

TEST(AppAckRouteTest, AFacilityOfItsOwnComesBeforeAny) {
  AppAckRoutes routes({*ParseAppAckRoute("LAB^*=any:1"), *ParseAppAckRoute("LAB^NORTH=north:2"),
                       *ParseAppAckRoute("RAD^SOUTH=south:3")});
  ASSERT_NE(routes.Find("LAB", "NORTH"), nullptr);
  EXPECT_EQ(routes.Find("LAB", "NORTH")->host, "north");
  ASSERT_NE(routes.Find("LAB", "EAST"), nullptr);
  EXPECT_EQ(routes.Find("LAB", "EAST")->host, "any");
  EXPECT_EQ(routes.Find("RAD", "NORTH"), nullptr);
  EXPECT_EQ(routes.Find("lab", "NORTH"), nullptr) << "namespace ids are compared exactly";
  EXPECT_TRUE(routes.FirstMiss("RAD^NORTH"));
  EXPECT_FALSE(routes.FirstMiss("RAD^NORTH"));
}

TEST(AppAckTest, BackoffDoublesFromASecondToFiveMinutes) {
  using std::chrono::seconds;
  EXPECT_EQ(AppAckBackoff(0), seconds(1));
  EXPECT_EQ(AppAckBackoff(1), seconds(1));
  EXPECT_EQ(AppAckBackoff(2), seconds(2));
  EXPECT_EQ(AppAckBackoff(5), seconds(16));
  EXPECT_EQ(AppAckBackoff(9), seconds(256));
  EXPECT_EQ(AppAckBackoff(10), seconds(300));
  EXPECT_EQ(AppAckBackoff(1000), seconds(300));
}

TEST(AppAckTest, TheRecordKeepsItAndItsNextVersionReplacesIt) {
  const std::string record =
      R"({"resourceType":"Basic","id":"v2-1","meta":{"versionId":"1","lastUpdated":)"
      R"("2026-01-01T00:00:00.000000Z","tag":[{"system":"urn:vesta:hl7v2:state","code":)"
      R"("applied"}]},"extension":[{"url":"urn:vesta:hl7v2:raw","valueString":"MSH|x"}],)"
      R"("code":{"text":"HL7 v2 ADT^A01"}})";
  Result<json::Document> doc = json::Parse(record);
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(AppAckOf(doc->root()).has_value());
  AppAck ack;
  ack.message = "MSH|^~\\&|VESTA|HOSP|LAB|NORTH|20260101||ACK^A01^ACK|X1|P|2.5.1\rMSA|AA|C1\r";
  ack.code = "AA";
  ack.attempts = 2;
  ack.error = "cannot connect: Connection refused";
  ack.destination = "127.0.0.1:9";
  ack.next = 1767225600000000;  // 2026-01-01T00:00:00Z
  const std::string next = WithAppAck(doc->root(), ack, 2, 1767225601000000);
  Result<json::Document> v2 = json::Parse(next);
  ASSERT_TRUE(v2.ok()) << next;
  std::optional<AppAck> back = AppAckOf(v2->root());
  ASSERT_TRUE(back.has_value()) << next;
  EXPECT_EQ(back->message, ack.message);
  EXPECT_EQ(back->code, "AA");
  EXPECT_EQ(back->state, AppAckState::kPending);
  EXPECT_EQ(back->attempts, 2);
  EXPECT_EQ(back->error, ack.error);
  EXPECT_EQ(back->destination, ack.destination);
  EXPECT_EQ(back->next, ack.next);
  EXPECT_EQ(back->sent, 0);
  EXPECT_NE(next.find(R"("versionId":"2")"), std::string::npos) << next;
  EXPECT_NE(next.find(R"({"system":"urn:vesta:hl7v2:app-ack","code":"pending"})"),
            std::string::npos)
      << next;
  EXPECT_NE(next.find(R"("code":"applied")"), std::string::npos) << "other tags kept: " << next;
  EXPECT_NE(next.find("urn:vesta:hl7v2:raw"), std::string::npos) << "other extensions kept";

  // Once more, sent: one tag and one extension, replaced.
  back->state = AppAckState::kSent;
  back->sent = 1767225602000000;
  back->next = 0;
  back->error.clear();
  const std::string third = WithAppAck(v2->root(), *back, 3, 1767225602000000);
  EXPECT_EQ(third.find("\"pending\""), std::string::npos) << third;
  size_t count = 0;
  for (size_t at = third.find(kAppAckUrl); at != std::string::npos;
       at = third.find(kAppAckUrl, at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 2u) << "one tag, one extension: " << third;
  Result<json::Document> v3 = json::Parse(third);
  ASSERT_TRUE(v3.ok()) << third;
  EXPECT_EQ(AppAckOf(v3->root())->state, AppAckState::kSent);
  EXPECT_EQ(AppAckOf(v3->root())->sent, 1767225602000000);
}

// A listener on 127.0.0.1 that records the frames it receives and answers each with `reply`
// (nothing when empty).
class Listener {
 public:
  explicit Listener(std::string reply = "") : reply_(std::move(reply)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 8), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> frames() {
    std::lock_guard lock(mu_);
    return frames_;
  }

 private:
  void Run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      hl7v2::FrameDecoder decoder;
      std::vector<std::string> got;
      for (int i = 0; i < 100 && got.empty(); ++i) {
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, 50) <= 0) continue;
        char buffer[4096];
        const ssize_t n = recv(c, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        (void)decoder.Feed(std::string_view(buffer, static_cast<size_t>(n)), &got);
      }
      {
        std::lock_guard lock(mu_);
        frames_.insert(frames_.end(), got.begin(), got.end());
      }
      if (!reply_.empty()) {
        const std::string framed = hl7v2::Frame(reply_);
        (void)send(c, framed.data(), framed.size(), MSG_NOSIGNAL);
      }
      close(c);
    }
  }

  std::string reply_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> frames_;
  std::thread thread_;
};

std::string Adt(const std::string& control_id, const std::string& acks) {
  return "MSH|^~\\&|LAB|NORTH|VESTA|HOSP|20240105143000||ADT^A01^ADT_A01|" + control_id +
         "|P|2.5.1|||" + acks + "\rPID|1||12345^^^HOSP^MR||Doe^Jane\r";
}

std::string MsaField(const std::string& ack, int field) {
  Result<hl7v2::Message> m = hl7v2::Parse(ack);
  if (!m.ok()) return "(not a message)";
  std::optional<hl7v2::Segment> msa = m->Find("MSA");
  return msa ? msa->Field(field).text() : "(no MSA)";
}

class AppAckDeliveryTest : public ::testing::Test {
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

  // An intake whose mapping makes an empty Bundle (or fails, with fail_map_) and whose apply
  // step writes the record entry, as the REST transaction would.
  std::unique_ptr<Intake> MakeIntake(const AppAckRoutes* routes) {
    auto intake = std::make_unique<Intake>(
        *store_, clock_,
        [this](const hl7v2::Message&, const std::string&) -> Result<std::string> {
          if (fail_map_) return Invalid("PID-3: no identifier");
          return std::string(R"({"resourceType":"Bundle","type":"transaction","entry":[]})");
        },
        [this](const std::string& bundle) -> Status {
          ASSIGN_OR_RETURN(json::Document doc, json::Parse(bundle));
          for (const json::Value& e : doc.root().Find("entry")->items()) {
            const json::Value* r = e.Find("resource");
            store::WriteOp op;
            op.type = "Basic";
            op.id = std::string(r->FindString("id"));
            op.last_updated = clock_.Now();
            op.json = json::ToString(*r);
            RETURN_IF_ERROR(store_->Write({&op, 1}).status());
          }
          return Status::Ok();
        });
    intake->SetAppAckRoutes(routes, [this] { ++woken_; });
    return intake;
  }

  std::optional<AppAck> AppAckOfRecord(const std::string& control_id, const std::string& acks) {
    const std::string text = Adt(control_id, acks);
    Result<store::StoredVersion> v =
        store_->Read("Basic", MessageId(hl7v2::Parse(text)->header(), text));
    if (!v.ok()) return std::nullopt;
    Result<json::Document> doc = json::Parse(v->json);
    return doc.ok() ? AppAckOf(doc->root()) : std::nullopt;
  }

  store::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  SystemClock clock_;
  bool fail_map_ = false;
  int woken_ = 0;
};

TEST_F(AppAckDeliveryTest, CommitAckOnTheConnectionApplicationAckToTheRoute) {
  Listener listener("MSH|^~\\&|LAB|NORTH|VESTA|HOSP|20240105||ACK|L1|P|2.5.1\rMSA|CA|X\r");
  AppAckRoutes routes({*ParseAppAckRoute("LAB^*=127.0.0.1:" + std::to_string(listener.port()))});
  std::unique_ptr<Intake> intake = MakeIntake(&routes);
  EXPECT_EQ(MsaField(intake->Receive(Adt("C1", "AL|AL")), 1), "CA");
  EXPECT_EQ(woken_, 1);
  std::optional<AppAck> pending = AppAckOfRecord("C1", "AL|AL");
  ASSERT_TRUE(pending.has_value()) << "kept with the record, in the same write";
  EXPECT_EQ(pending->state, AppAckState::kPending);
  EXPECT_EQ(pending->code, "AA");
  EXPECT_EQ(MsaField(pending->message, 2), "C1");

  // MSH-16 ER and a success: none; NE/AL: the application ACK answers the connection itself.
  EXPECT_EQ(MsaField(intake->Receive(Adt("C2", "AL|ER")), 1), "CA");
  EXPECT_FALSE(AppAckOfRecord("C2", "AL|ER").has_value());
  EXPECT_EQ(MsaField(intake->Receive(Adt("C3", "NE|AL")), 1), "AA");
  EXPECT_FALSE(AppAckOfRecord("C3", "NE|AL").has_value());
  // A message that fails, with ER: CA on the connection (it is kept), AE later.
  fail_map_ = true;
  EXPECT_EQ(MsaField(intake->Receive(Adt("C4", "AL|ER")), 1), "CA");
  ASSERT_TRUE(AppAckOfRecord("C4", "AL|ER").has_value());
  EXPECT_EQ(AppAckOfRecord("C4", "AL|ER")->code, "AE");
  EXPECT_EQ(woken_, 2);

  AppAckDelivery delivery(*store_, clock_, routes);
  Result<DeliveryCount> done = delivery.RunOnce();
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(done->sent, 2);
  std::vector<std::string> frames = listener.frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(MsaField(frames[0], 1), "AA");
  EXPECT_EQ(MsaField(frames[0], 2), "C1");
  EXPECT_EQ(MsaField(frames[1], 1), "AE");
  EXPECT_EQ(MsaField(frames[1], 2), "C4");
  std::optional<AppAck> sent = AppAckOfRecord("C1", "AL|AL");
  EXPECT_EQ(sent->state, AppAckState::kSent);
  EXPECT_EQ(sent->attempts, 1);
  EXPECT_GT(sent->sent, 0);
  EXPECT_EQ(sent->destination, "127.0.0.1:" + std::to_string(listener.port()));
  // Nothing left: a second pass sends nothing again.
  done = delivery.RunOnce();
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->sent, 0);
  EXPECT_EQ(listener.frames().size(), 2u);
  Result<std::vector<StoredMessage>> listed = intake->ListAppAcks("sent", 10);
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);
}

TEST_F(AppAckDeliveryTest, WithoutARouteTheRecordSaysItCannotBeDelivered) {
  AppAckRoutes routes({*ParseAppAckRoute("RAD^*=127.0.0.1:9")});
  std::unique_ptr<Intake> intake = MakeIntake(&routes);
  EXPECT_EQ(MsaField(intake->Receive(Adt("N1", "AL|AL")), 1), "CA");
  EXPECT_EQ(woken_, 0);
  std::optional<AppAck> ack = AppAckOfRecord("N1", "AL|AL");
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->state, AppAckState::kFailed);
  EXPECT_NE(ack->error.find("LAB^NORTH"), std::string::npos) << ack->error;
  Result<std::vector<StoredMessage>> listed = intake->ListAppAcks("failed", 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().control_id, "N1");
}

TEST_F(AppAckDeliveryTest, ARouteDownIsTriedAgainLaterAndKeepsTheError) {
  // A port nothing listens on: taken, then freed.
  uint16_t port = 0;
  {
    Listener gone;
    port = gone.port();
  }
  AppAckRoutes routes({*ParseAppAckRoute("LAB^NORTH=127.0.0.1:" + std::to_string(port))});
  std::unique_ptr<Intake> intake = MakeIntake(&routes);
  EXPECT_EQ(MsaField(intake->Receive(Adt("D1", "AL|AL")), 1), "CA");
  AppAckDelivery delivery(*store_, clock_, routes);
  Micros next_due = 0;
  Result<DeliveryCount> done = delivery.RunOnce(&next_due);
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(done->retried, 1);
  EXPECT_GT(next_due, 0);
  std::optional<AppAck> ack = AppAckOfRecord("D1", "AL|AL");
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->state, AppAckState::kPending);
  EXPECT_EQ(ack->attempts, 1);
  EXPECT_NE(ack->error.find("cannot connect"), std::string::npos) << ack->error;
  EXPECT_GT(ack->next, 0);
  // Not due yet: the next pass leaves it alone.
  done = delivery.RunOnce();
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->retried + done->sent, 0);
}

}  // namespace
}  // namespace vesta::mllp
