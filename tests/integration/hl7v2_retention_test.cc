// The retention of raw HL7 v2 messages (mllp/retention.h, docs/hl7v2.md "Retention") against the
// real server, on both stores: `vesta hl7v2 purge --older-than 0s` removes the text of applied
// messages from every version of their records, which keep what a duplicate needs; a dead letter
// keeps its text and is replayed; and `vesta serve --hl7v2-retention 1s` purges at start.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "integration/test_server.h"
#include "json/parse.h"

namespace vesta::testing {
namespace {

// Sends one framed message on a new connection and returns MSA-1 of its ACK ("" when none).
std::string SendAndAck(int port, const std::string& message) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return "";
  }
  const std::string frame = "\x0b" + message + "\x1c\r";
  std::string got;
  if (send(fd, frame.data(), frame.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(frame.size())) {
    char chunk[4096];
    while (got.find("\x1c\r") == std::string::npos) {
      const ssize_t r = recv(fd, chunk, sizeof chunk, 0);
      if (r <= 0) break;
      got.append(chunk, static_cast<size_t>(r));
    }
  }
  close(fd);
  const size_t msa = got.find("\rMSA|");
  if (msa == std::string::npos) return "";
  return got.substr(msa + 5, got.find_first_of("|\r", msa + 5) - msa - 5);
}

std::string Adt(const std::string& control_id, const std::string& mrn) {
  return "MSH|^~\\&|LAB|NORTH|VESTA|HOSP|20240105143000||ADT^A01^ADT_A01|" + control_id +
         "|P|2.5.1\rEVN|A01|20240105143000\rPID|1||" + mrn +
         "^^^NORTH^MR||Doe^Jane||19800101|F\rPV1|1|I|WARD^1^1\r";
}

// `command`'s exit status and standard output.
std::pair<int, std::string> RunCommand(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return {-1, ""};
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class Hl7v2RetentionTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"--mllp-port", "0"});
    server_ = std::make_unique<ServerProcess>(dir_.path() + "/data", args);
    ASSERT_TRUE(server_->ok());
    ASSERT_GT(server_->mllp_port(), 0);
  }
  void Stop() { ASSERT_EQ(server_->Stop(), 0); }
  std::string Vesta(const std::string& subcommand) {
    return VestaBinary() + " " + subcommand + StoreFlags(dir_.path() + "/data") + " 2>/dev/null";
  }

  // The record of the message LAB|NORTH|control_id (the Basic resource), as JSON text.
  std::string Record(const std::string& control_id) {
    HttpResult r = HttpRequest(server_->port(), "GET",
                               "/Basic?identifier=urn:vesta:hl7v2:message|LAB|NORTH|" + control_id);
    Result<json::Document> doc = json::Parse(r.body);
    if (!doc.ok() || doc->root().Find("entry") == nullptr ||
        doc->root().Find("entry")->size() != 1) {
      return "";
    }
    const json::Value& resource = *doc->root().Find("entry")->items()[0].Find("resource");
    id_ = std::string(resource.FindString("id"));
    return r.body;
  }
  // The number of versions `_history` lists for Basic/id_.
  int Versions() {
    HttpResult r = HttpRequest(server_->port(), "GET", "/Basic/" + id_ + "/_history");
    Result<json::Document> doc = json::Parse(r.body);
    if (!doc.ok() || doc->root().Find("entry") == nullptr) return -1;
    return static_cast<int>(doc->root().Find("entry")->size());
  }
  int Count(const std::string& query) {
    HttpResult r = HttpRequest(server_->port(), "GET", query + "&_summary=count");
    Result<json::Document> doc = json::Parse(r.body);
    if (!doc.ok() || doc->root().Find("total") == nullptr) return -1;
    return std::atoi(std::string(doc->root().Find("total")->number_text()).c_str());
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string id_;  // the record Record() found last
};

constexpr char kRaw[] = "\"url\":\"urn:vesta:hl7v2:raw\"";
constexpr char kPurged[] = "\"url\":\"urn:vesta:hl7v2:raw-purged\"";

TEST_F(Hl7v2RetentionTest, PurgeRemovesTheTextAndKeepsWhatADuplicateNeeds) {
  Start();
  // Two patients with the identifier the dead letter's message names: its conditional update
  // matches both, so its transaction fails until one is gone.
  const std::string twin =
      R"({"resourceType":"Patient","identifier":[{"system":"http://vesta.example/hl7v2/)"
      R"(assigning-authority/NORTH","value":"MRN-DL"}]})";
  const std::vector<std::pair<std::string, std::string>> json = {
      {"Content-Type", "application/fhir+json"}};
  ASSERT_EQ(HttpRequest(server_->port(), "POST", "/Patient", twin, json).status, 201);
  HttpResult second = HttpRequest(server_->port(), "POST", "/Patient", twin, json);
  ASSERT_EQ(second.status, 201);
  const std::string location = second.Header("Location");
  const std::string twin_id = location.substr(
      location.find("/Patient/") + 9, location.find("/_history") - location.find("/Patient/") - 9);

  ASSERT_EQ(SendAndAck(server_->mllp_port(), Adt("R1", "MRN-R1")), "AA");
  ASSERT_EQ(SendAndAck(server_->mllp_port(), Adt("R2", "MRN-R2")), "AA");
  ASSERT_EQ(SendAndAck(server_->mllp_port(), Adt("DL1", "MRN-DL")), "AE");
  std::string r1 = Record("R1");
  ASSERT_NE(r1.find(kRaw), std::string::npos) << r1;
  Stop();

  // One pass; on SQLite with the server stopped, as the docs say.
  auto [status, out] = RunCommand(Vesta("hl7v2 purge --older-than 0s"));
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("2 message(s) applied before"), std::string::npos) << out;
  // A second pass finds nothing left to do.
  std::tie(status, out) = RunCommand(Vesta("hl7v2 purge --older-than 0s"));
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("0 message(s)"), std::string::npos) << out;
  EXPECT_EQ(out.find("skipped"), std::string::npos) << "purged records are not searched again";

  Start();
  r1 = Record("R1");
  ASSERT_FALSE(r1.empty());
  EXPECT_EQ(r1.find(kRaw), std::string::npos) << "no raw text left: " << r1;
  EXPECT_EQ(r1.find("PID|1"), std::string::npos) << r1;
  EXPECT_NE(r1.find(kPurged), std::string::npos) << r1;
  EXPECT_NE(r1.find("\"url\":\"urn:vesta:hl7v2:received\""), std::string::npos) << r1;
  EXPECT_NE(r1.find(R"("system":"urn:vesta:hl7v2:state","code":"applied")"), std::string::npos);
  EXPECT_NE(r1.find(R"("system":"urn:vesta:hl7v2:raw","code":"purged")"), std::string::npos);
  EXPECT_NE(r1.find("\"url\":\"urn:vesta:hl7v2:ack\""), std::string::npos) << "the ACK stays";
  // One version left, and the history and vread say the same.
  EXPECT_EQ(Versions(), 1);
  HttpResult v1 = HttpRequest(server_->port(), "GET", "/Basic/" + id_ + "/_history/1");
  EXPECT_EQ(v1.status, 404);
  EXPECT_NE(v1.body.find("no longer kept"), std::string::npos) << v1.body;
  EXPECT_EQ(HttpRequest(server_->port(), "GET", "/Basic/" + id_ + "/_history/3").status, 200);

  // A resend is still a duplicate: acknowledged, not applied again, the record unchanged.
  EXPECT_EQ(SendAndAck(server_->mllp_port(), Adt("R1", "MRN-R1")), "AA");
  EXPECT_EQ(Count("/Patient?identifier=MRN-R1"), 1);
  HttpResult patient = HttpRequest(server_->port(), "GET", "/Patient?identifier=MRN-R1");
  EXPECT_NE(patient.body.find("\"versionId\":\"1\""), std::string::npos) << patient.body;
  EXPECT_EQ(Versions(), 1);

  // The dead letter keeps its text.
  const std::string dead = Record("DL1");
  EXPECT_NE(dead.find(kRaw), std::string::npos) << dead;
  EXPECT_EQ(dead.find(kPurged), std::string::npos) << dead;
  // Remove the second patient: the message can now be applied.
  const int deleted = HttpRequest(server_->port(), "DELETE", "/Patient/" + twin_id).status;
  EXPECT_TRUE(deleted == 200 || deleted == 204) << deleted;
  Stop();

  // The listings still say what each message was.
  std::tie(status, out) = RunCommand(Vesta("hl7v2 deadletters list --state applied"));
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("ADT^A01  from LAB^NORTH  control id R1  answered AA  text removed"),
            std::string::npos)
      << out;
  std::tie(status, out) = RunCommand(Vesta("hl7v2 deadletters replay --all"));
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("1 applied, 0 still dead letters"), std::string::npos) << out;

  // Applied now, it is purged by the next pass like any other.
  std::tie(status, out) = RunCommand(Vesta("hl7v2 purge --older-than 0s"));
  EXPECT_NE(out.find("1 message(s)"), std::string::npos) << out;
  Start();
  EXPECT_EQ(Count("/Patient?identifier=MRN-DL"), 1);
  const std::string replayed = Record("DL1");
  EXPECT_EQ(replayed.find(kRaw), std::string::npos) << replayed;
  EXPECT_EQ(Versions(), 1);
  EXPECT_EQ(Count("/Basic?_tag=urn:vesta:hl7v2:state|applied"), 3);
}

// `vesta serve --hl7v2-retention`: the pass at start purges what is older than the period.
TEST_F(Hl7v2RetentionTest, TheServerPurgesAtStart) {
  Start({"--hl7v2-retention", "1s"});
  ASSERT_EQ(SendAndAck(server_->mllp_port(), Adt("S1", "MRN-S1")), "AA");
  ASSERT_NE(Record("S1").find(kRaw), std::string::npos);
  Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // older than the period
  Start({"--hl7v2-retention", "1s"});
  // The pass runs on its own thread: wait for it, within a bound.
  std::string record;
  for (int i = 0; i < 200; ++i) {
    record = Record("S1");
    if (record.find(kRaw) == std::string::npos && Versions() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(record.find(kRaw), std::string::npos) << record;
  EXPECT_NE(record.find(kPurged), std::string::npos) << record;
  EXPECT_EQ(Versions(), 1);
  EXPECT_EQ(SendAndAck(server_->mllp_port(), Adt("S1", "MRN-S1")), "AA");
  EXPECT_EQ(Count("/Patient?identifier=MRN-S1"), 1);
  Stop();
  // With 0 the text is kept.
  Start({"--hl7v2-retention", "0"});
  ASSERT_EQ(SendAndAck(server_->mllp_port(), Adt("S2", "MRN-S2")), "AA");
  Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Start({"--hl7v2-retention", "0"});
  EXPECT_NE(Record("S2").find(kRaw), std::string::npos);
}

TEST_F(Hl7v2RetentionTest, BadPeriodsAreRefused) {
  auto [status, out] = RunCommand(VestaBinary() + " serve --hl7v2-retention 30x 2>&1");
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("not a retention period"), std::string::npos) << out;
  std::tie(status, out) = RunCommand(Vesta("hl7v2 purge --older-than soon"));
  EXPECT_NE(status, 0);
}

}  // namespace
}  // namespace vesta::testing
