// The HL7 v2 feed against the real server (`vesta serve --mllp-port 0`), on both stores: frames
// split byte by byte and several in one write, a frame over the bound, a duplicate, a malformed
// message, a message whose transaction fails (a dead letter, replayed with `vesta hl7v2
// deadletters replay`), kill -9 right after an ACK, and the sample messages sent by an MLLP
// client from npm (simple-hl7).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/test_server.h"
#include "json/parse.h"

namespace vesta::testing {
namespace {

namespace fs = std::filesystem;

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

// The next `n` ACK frames' contents (without framing); fewer when the connection closes.
std::vector<std::string> ReadAcks(int fd, size_t n) {
  std::vector<std::string> acks;
  std::string buffer;
  while (acks.size() < n) {
    size_t end = buffer.find("\x1c\r");
    if (end != std::string::npos) {
      const size_t start = buffer.find('\x0b');
      acks.push_back(buffer.substr(start + 1, end - start - 1));
      buffer.erase(0, end + 2);
      continue;
    }
    char chunk[4096];
    const ssize_t r = recv(fd, chunk, sizeof chunk, 0);
    if (r <= 0) break;
    buffer.append(chunk, static_cast<size_t>(r));
  }
  return acks;
}

// MSA-1 of an ACK.
std::string AckCode(const std::string& ack) {
  const size_t msa = ack.find("\rMSA|");
  if (msa == std::string::npos) return "(no MSA)";
  return ack.substr(msa + 5, ack.find_first_of("|\r", msa + 5) - msa - 5);
}

std::string Frame(const std::string& message) { return "\x0b" + message + "\x1c\r"; }

std::string Adt(const std::string& control_id, const std::string& mrn) {
  return "MSH|^~\\&|LAB|NORTH|VESTA|HOSP|20240105143000||ADT^A01^ADT_A01|" + control_id +
         "|P|2.5.1\rEVN|A01|20240105143000\rPID|1||" + mrn +
         "^^^NORTH^MR||Doe^Jane||19800101|F\rPV1|1|I|WARD^1^1\r";
}

int Count(int port, const std::string& query) {
  HttpResult r = HttpRequest(
      port, "GET", query + (query.find('?') == std::string::npos ? "?" : "&") + "_summary=count");
  Result<json::Document> doc = json::Parse(r.body);
  if (!doc.ok() || doc->root().Find("total") == nullptr) return -1;
  return std::atoi(std::string(doc->root().Find("total")->number_text()).c_str());
}

class MllpTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void Start() {
    server_ = std::make_unique<ServerProcess>(
        dir_.path() + "/data",
        std::vector<std::string>{"--mllp-port", "0", "--mllp-max-frame-kb", "64"});
    ASSERT_TRUE(server_->ok());
    ASSERT_GT(server_->mllp_port(), 0) << "the server prints its MLLP port";
  }
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(MllpTest, FramesAnyHowAndDuplicatesAppliedOnce) {
  int fd = Connect(server_->mllp_port());
  const std::string first = Frame(Adt("C1", "MRN1"));
  for (char c : first) ASSERT_EQ(send(fd, &c, 1, 0), 1);  // byte by byte
  std::vector<std::string> acks = ReadAcks(fd, 1);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(AckCode(acks[0]), "AA") << acks[0];
  EXPECT_NE(acks[0].find("MSA|AA|C1"), std::string::npos) << "MSA-2 echoes MSH-10";
  EXPECT_NE(acks[0].find("MSH|^~\\&|VESTA|HOSP|LAB|NORTH|"), std::string::npos)
      << "sender and receiver swapped: " << acks[0];
  // Two messages and a duplicate of the first in one write.
  const std::string three = Frame(Adt("C2", "MRN2")) + Frame(Adt("C3", "MRN3")) + first;
  ASSERT_EQ(send(fd, three.data(), three.size(), 0), static_cast<ssize_t>(three.size()));
  acks = ReadAcks(fd, 3);
  ASSERT_EQ(acks.size(), 3u);
  for (const std::string& a : acks) EXPECT_EQ(AckCode(a), "AA") << a;
  close(fd);
  EXPECT_EQ(Count(server_->port(), "/Patient?identifier=MRN1"), 1);
  EXPECT_EQ(Count(server_->port(), "/Patient?identifier=MRN2"), 1);
  // The duplicate was not applied again: the patient has one version.
  HttpResult history = HttpRequest(server_->port(), "GET", "/Patient?identifier=MRN1");
  EXPECT_NE(history.body.find("\"versionId\":\"1\""), std::string::npos) << history.body;
  // Each message is kept (applied), readable as a Basic resource.
  EXPECT_EQ(Count(server_->port(), "/Basic?_tag=urn:vesta:hl7v2:state|applied"), 3);
}

// What each message created, and the ACK it was answered with, are read from the API: the
// record keeps the ACK, and the mapping's Provenance names the record as its entity.
TEST_F(MllpTest, TheRecordKeepsItsAckAndItsProvenanceNamesIt) {
  int fd = Connect(server_->mllp_port());
  const std::string message = Frame(Adt("P1", "MRN-P1"));
  ASSERT_EQ(send(fd, message.data(), message.size(), 0), static_cast<ssize_t>(message.size()));
  std::vector<std::string> acks = ReadAcks(fd, 1);
  close(fd);
  ASSERT_EQ(acks.size(), 1u);
  HttpResult listed =
      HttpRequest(server_->port(), "GET", "/Basic?identifier=urn:vesta:hl7v2:message|LAB|NORTH|P1");
  Result<json::Document> bundle = json::Parse(listed.body);
  ASSERT_TRUE(bundle.ok()) << listed.body;
  const json::Value* entries = bundle->root().Find("entry");
  ASSERT_TRUE(entries != nullptr && entries->size() == 1) << listed.body;
  const json::Value& record = *entries->items()[0].Find("resource");
  const std::string id(record.FindString("id"));
  std::string code, text, sent;
  for (const json::Value& e : record.Find("extension")->items()) {
    if (e.FindString("url") != "urn:vesta:hl7v2:ack") continue;
    for (const json::Value& part : e.Find("extension")->items()) {
      if (part.FindString("url") == "code") code = part.Find("valueCoding")->FindString("code");
      if (part.FindString("url") == "message") sent = part.FindString("valueString");
    }
  }
  EXPECT_EQ(code, "AA") << listed.body;
  EXPECT_EQ(sent, acks[0]) << "the record keeps the ACK as sent";
  // The Provenance of the message, with what it created.
  HttpResult prov = HttpRequest(server_->port(), "GET",
                                "/Provenance?entity=Basic/" + id + "&_include=Provenance:target");
  EXPECT_EQ(prov.status, 200);
  EXPECT_NE(prov.body.find("\"reference\":\"Basic/" + id + "\""), std::string::npos) << prov.body;
  EXPECT_NE(prov.body.find("\"resourceType\":\"Patient\""), std::string::npos) << prov.body;
  EXPECT_NE(prov.body.find("\"resourceType\":\"Encounter\""), std::string::npos) << prov.body;
  EXPECT_EQ(Count(server_->port(), "/Binary"), 0) << "the message is kept once, in its record";
}

TEST_F(MllpTest, BadMessagesAreAnsweredWithAnError) {
  int fd = Connect(server_->mllp_port());
  // Malformed (no MSH-12): AR with an ERR naming the field.
  const std::string bad = Frame("MSH|^~\\&|LAB|NORTH|VESTA|HOSP|2024||ADT^A01|C9|P\rPID|1\r");
  send(fd, bad.data(), bad.size(), 0);
  std::vector<std::string> acks = ReadAcks(fd, 1);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(AckCode(acks[0]), "AR") << acks[0];
  EXPECT_NE(acks[0].find("\rERR|"), std::string::npos) << acks[0];
  EXPECT_NE(acks[0].find("MSH^1^12"), std::string::npos) << acks[0];
  // A message of a mapped type that cannot be mapped (an immunization without its date, RXA-3):
  // AE, kept as a dead letter; nothing of it is stored.
  const std::string refused = Frame(
      "MSH|^~\\&|LAB|NORTH|VESTA|HOSP|20240105143000||VXU^V04^VXU_V04|C10|P|2.5.1\r"
      "PID|1||MRN10^^^NORTH^MR||Doe^Jane||19800101|F\rRXA|0|1||||\r");
  send(fd, refused.data(), refused.size(), 0);
  acks = ReadAcks(fd, 1);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(AckCode(acks[0]), "AE") << acks[0];
  EXPECT_NE(acks[0].find("\rERR|"), std::string::npos) << acks[0];
  EXPECT_EQ(Count(server_->port(), "/Patient?identifier=MRN10"), 0);
  EXPECT_EQ(Count(server_->port(), "/Basic?_tag=urn:vesta:hl7v2:state|dead-letter"), 1);
  // Over the frame bound (64 KB): AR, and the connection is closed.
  const std::string big = Frame(Adt("C11", "MRN11") + "NTE|1||" + std::string(100000, 'x') + "\r");
  send(fd, big.data(), big.size(), MSG_NOSIGNAL);
  acks = ReadAcks(fd, 2);
  ASSERT_EQ(acks.size(), 1u) << "one reject, then the connection closes";
  EXPECT_EQ(AckCode(acks[0]), "AR") << acks[0];
  close(fd);
  // The dead letter is listed, and stays one when replayed unchanged.
  ASSERT_EQ(server_->Stop(), 0);
  const std::string list =
      VestaBinary() + " hl7v2 deadletters list" + StoreFlags(dir_.path() + "/data");
  FILE* p = popen(list.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 0);
  EXPECT_NE(out.find("control id C10"), std::string::npos) << out;
  EXPECT_NE(out.find("1 message(s) dead-letter"), std::string::npos) << out;
  const std::string replay = VestaBinary() + " hl7v2 deadletters replay --all" +
                             StoreFlags(dir_.path() + "/data") + " >/dev/null 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(replay.c_str())), 3) << "still refused";
  Start();
}

TEST_F(MllpTest, AnAcknowledgedMessageSurvivesKill9) {
  int fd = Connect(server_->mllp_port());
  const std::string m = Frame(Adt("K1", "MRNK"));
  send(fd, m.data(), m.size(), 0);
  std::vector<std::string> acks = ReadAcks(fd, 1);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(AckCode(acks[0]), "AA");
  server_->Kill();  // SIGKILL right after the ACK
  close(fd);
  Start();
  EXPECT_EQ(Count(server_->port(), "/Patient?identifier=MRNK"), 1);
  EXPECT_EQ(Count(server_->port(), "/Basic?_tag=urn:vesta:hl7v2:state|applied"), 1);
}

TEST_F(MllpTest, AMergeMovesTheOldPatientsRecords) {
  int fd = Connect(server_->mllp_port());
  // Two patients; the old one has a diagnosis and an allergy.
  const std::string msh = "MSH|^~\\&|ADT|NORTH|VESTA|HOSP|20240301101500+0100||";
  const std::string old_patient =
      msh +
      "ADT^A01^ADT_A01|M1|P|2.5.1\rEVN|A01|20240301101500+0100\r"
      "PID|1||OLD1^^^NORTH^MR||DOE^JANE||19800101|F\rPV1|1|I|W1^101^A\r"
      "DG1|1||I10^Essential hypertension^I10||20240301\rAL1|1|DA|70618^Penicillin^RXNORM|SV\r";
  const std::string new_patient =
      msh +
      "ADT^A01^ADT_A01|M2|P|2.5.1\rEVN|A01|20240301101500+0100\r"
      "PID|1||NEW1^^^NORTH^MR||DOE^JANE||19800101|F\rPV1|1|I|W1^102^A\r";
  const std::string merge = msh +
                            "ADT^A40^ADT_A39|M3|P|2.5.1\rEVN|A40|20240301101500+0100\r"
                            "PID|1||NEW1^^^NORTH^MR||DOE^JANE\rMRG|OLD1^^^NORTH^MR\r";
  for (const std::string& m : {old_patient, new_patient, merge}) {
    const std::string f = Frame(m);
    send(fd, f.data(), f.size(), 0);
    std::vector<std::string> acks = ReadAcks(fd, 1);
    ASSERT_EQ(acks.size(), 1u);
    ASSERT_EQ(AckCode(acks[0]), "AA") << acks[0];
  }
  close(fd);
  auto id_of = [&](const std::string& mrn) {
    HttpResult r = HttpRequest(server_->port(), "GET", "/Patient?identifier=" + mrn);
    Result<json::Document> doc = json::Parse(r.body);
    if (!doc.ok() || doc->root().Find("entry") == nullptr) return std::string();
    return std::string(doc->root().Find("entry")->items()[0].Find("resource")->FindString("id"));
  };
  const std::string old_id = id_of("OLD1"), new_id = id_of("NEW1");
  ASSERT_FALSE(old_id.empty());
  ASSERT_FALSE(new_id.empty());
  // The diagnosis and the allergy now belong to the surviving patient; the old one refers to it.
  EXPECT_EQ(Count(server_->port(), "/Condition?subject=Patient/" + new_id), 1);
  EXPECT_EQ(Count(server_->port(), "/AllergyIntolerance?patient=Patient/" + new_id), 1);
  EXPECT_EQ(Count(server_->port(), "/Condition?subject=Patient/" + old_id), 0);
  HttpResult old_read = HttpRequest(server_->port(), "GET", "/Patient/" + old_id);
  EXPECT_NE(old_read.body.find("\"active\":false"), std::string::npos) << old_read.body;
  EXPECT_NE(old_read.body.find("replaced-by"), std::string::npos) << old_read.body;
}

TEST_F(MllpTest, SamplesSentByAnIndependentClient) {
  const char* data = std::getenv("VESTA_SHARED_DATA");
  const fs::path samples = fs::path(data == nullptr ? "" : data) / "hl7v2" / "messages";
  if (data == nullptr || !fs::is_directory(samples)) {
    GTEST_SKIP() << "the HL7 v2 samples are absent (VESTA_SHARED_DATA/hl7v2/messages)";
  }
  if (std::string(VESTA_NODE).empty() || access(VESTA_NODE, X_OK) != 0 ||
      !fs::exists(fs::path(VESTA_NODE_MODULES) / "simple-hl7")) {
    GTEST_SKIP() << "node or node_modules/simple-hl7 is absent (run npm ci)";
  }
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(samples)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::string cmd = "NODE_PATH='" + std::string(VESTA_NODE_MODULES) + "' '" + VESTA_NODE + "' '" +
                    VESTA_MLLP_CLIENT + "' 127.0.0.1 " + std::to_string(server_->mllp_port());
  for (const std::string& f : files) cmd += " '" + f + "'";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string line;
  char buf[65536];
  int answered = 0, accepted = 0;
  std::string refusals;
  while (fgets(buf, sizeof buf, p) != nullptr) {
    Result<json::Document> doc = json::Parse(buf);
    ASSERT_TRUE(doc.ok()) << buf;
    ++answered;
    const std::string ack(doc->root().FindString("ack"));
    const std::string code = AckCode(ack);
    if (code == "AA" || code == "CA") {
      ++accepted;
    } else {
      refusals += std::string(doc->root().FindString("file")) + ": " + ack + "\n";
    }
  }
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 0);
  EXPECT_EQ(answered, static_cast<int>(files.size())) << "every message gets its ACK";
  // Every message type the feed maps is accepted; the others are rejected as unsupported.
  std::cout << "[ HL7 v2 samples: " << accepted << " of " << files.size() << " accepted ]\n"
            << refusals;
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace vesta::testing
