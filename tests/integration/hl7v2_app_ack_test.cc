// Application ACKs on a connection of their own (mllp/app_ack.h) against the real server
// (`vesta serve --mllp-port 0 --hl7v2-app-ack-route ...`), on both stores: the route is a
// listener in this test (a TCP accept loop on 127.0.0.1 that records the frames it gets). An
// AL/AL message is answered CA on its connection and its AA reaches the route; a route that is
// down at first gets the ACK once it is up; an ACK pending at a stop is sent after the restart;
// an ER message that succeeds gets none; a sender without a route has its record say so.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "integration/test_server.h"
#include "json/parse.h"

namespace vesta::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string Frame(const std::string& message) { return "\x0b" + message + "\x1c\r"; }

// The frames' contents in `buffer`, which keeps what follows the last complete one.
std::vector<std::string> TakeFrames(std::string* buffer) {
  std::vector<std::string> frames;
  for (size_t end; (end = buffer->find('\x1c')) != std::string::npos;) {
    const size_t start = buffer->rfind('\x0b', end);
    if (start != std::string::npos) frames.push_back(buffer->substr(start + 1, end - start - 1));
    buffer->erase(0, end + 1);
    if (!buffer->empty() && buffer->front() == '\r') buffer->erase(0, 1);
  }
  return frames;
}

// A listener on 127.0.0.1 (`port`, or any free one with 0): each connection's frames recorded,
// each answered with a commit ACK, as an interface engine would.
class Listener {
 public:
  explicit Listener(uint16_t port = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd_, 8) == 0;
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
  bool ok() const { return ok_; }
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
      std::string buffer;
      // One connection at a time, until its peer closes it (or 5 s pass).
      for (const auto until = Clock::now() + std::chrono::seconds(5);
           !stop_ && Clock::now() < until;) {
        pollfd q{c, POLLIN, 0};
        if (poll(&q, 1, 50) <= 0) continue;
        char chunk[4096];
        const ssize_t n = recv(c, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buffer.append(chunk, static_cast<size_t>(n));
        for (const std::string& f : TakeFrames(&buffer)) {
          size_t count = 0;
          {
            std::lock_guard lock(mu_);
            frames_.push_back(f);
            count = frames_.size();
          }
          const std::string ca =
              Frame("MSH|^~\\&|LAB|NORTH|VESTA|HOSP|20240105143001||ACK|L" + std::to_string(count) +
                    "|P|2.5.1\rMSA|CA|" + Field(f, "MSH", 10) + "\r");
          (void)send(c, ca.data(), ca.size(), MSG_NOSIGNAL);
        }
      }
      close(c);
    }
  }

 public:
  // Field `n` of the segment `segment` of `message` (MSH-1 is the field separator).
  static std::string Field(const std::string& message, const std::string& segment, int n) {
    std::istringstream lines(message);
    std::string line;
    while (std::getline(lines, line, '\r')) {
      if (line.rfind(segment + "|", 0) != 0) continue;
      std::vector<std::string> fields;
      std::stringstream parts(line);
      for (std::string f; std::getline(parts, f, '|');) fields.push_back(f);
      const size_t at = segment == "MSH" ? static_cast<size_t>(n - 1) : static_cast<size_t>(n);
      return at < fields.size() ? fields[at] : "";
    }
    return "";
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> frames_;
  std::thread thread_;
};

// A loopback port nothing listens on now (taken from the system, then freed).
uint16_t FreePort() {
  Listener gone;
  return gone.port();
}

// MSH-15/16 `acks` ("AL|AL").
std::string Adt(const std::string& control_id, const std::string& acks,
                const std::string& application = "LAB") {
  return "MSH|^~\\&|" + application + "|NORTH|VESTA|HOSP|20240105143000||ADT^A01^ADT_A01|" +
         control_id + "|P|2.5.1|||" + acks + "\rEVN|A01|20240105143000\rPID|1||MRN-" + control_id +
         "^^^NORTH^MR||Doe^Jane||19800101|F\rPV1|1|I|WARD^1^1\r";
}

// Sends `message` on a connection of its own; the answer on that connection.
std::string SendMessage(int port, const std::string& message) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string framed = Frame(message);
  EXPECT_EQ(send(fd, framed.data(), framed.size(), 0), static_cast<ssize_t>(framed.size()));
  std::string buffer;
  std::vector<std::string> frames;
  while (frames.empty()) {
    char chunk[4096];
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    frames = TakeFrames(&buffer);
  }
  close(fd);
  return frames.empty() ? "" : frames.front();
}

// Polls `done` every 100 ms until it holds or `seconds` pass.
bool WaitFor(const std::function<bool()>& done, int seconds) {
  for (const auto until = Clock::now() + std::chrono::seconds(seconds); Clock::now() < until;) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

// The current record of the message with control id `control_id` from LAB^NORTH, as JSON.
std::string Record(int port, const std::string& control_id, const std::string& app = "LAB") {
  return HttpRequest(port, "GET",
                     "/Basic?identifier=urn:vesta:hl7v2:message|" + app + "|NORTH|" + control_id)
      .body;
}

int Count(int port, const std::string& query) {
  HttpResult r = HttpRequest(port, "GET", query + "&_summary=count");
  Result<json::Document> doc = json::Parse(r.body);
  if (!doc.ok() || doc->root().Find("total") == nullptr) return -1;
  return std::atoi(std::string(doc->root().Find("total")->number_text()).c_str());
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Route(const std::string& sender, uint16_t port) {
  return sender + "=127.0.0.1:" + std::to_string(port);
}

class AppAckTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServerProcess> Start(const std::vector<std::string>& routes) {
    std::vector<std::string> args = {"--mllp-port", "0"};
    for (const std::string& r : routes) {
      args.push_back("--hl7v2-app-ack-route");
      args.push_back(r);
    }
    auto server = std::make_unique<ServerProcess>(data(), args, dir_.path() + "/server.log");
    EXPECT_TRUE(server->ok());
    EXPECT_GT(server->mllp_port(), 0);
    return server;
  }
  std::string data() const { return dir_.path() + "/data"; }
  TempDir dir_;
};

TEST_F(AppAckTest, CommitAckOnTheConnectionApplicationAckToTheRoute) {
  Listener route;
  ASSERT_TRUE(route.ok());
  std::unique_ptr<ServerProcess> server = Start({Route("LAB^*", route.port())});
  ASSERT_TRUE(server->ok());
  const std::string ack = SendMessage(server->mllp_port(), Adt("A1", "AL|AL"));
  EXPECT_EQ(Listener::Field(ack, "MSA", 1), "CA") << ack;
  EXPECT_EQ(Listener::Field(ack, "MSA", 2), "A1") << ack;
  ASSERT_TRUE(WaitFor([&] { return !route.frames().empty(); }, 30)) << "no application ACK";
  const std::string app_ack = route.frames().front();
  EXPECT_EQ(Listener::Field(app_ack, "MSA", 1), "AA") << app_ack;
  EXPECT_EQ(Listener::Field(app_ack, "MSA", 2), "A1") << "MSA-2: the message's control id";
  EXPECT_EQ(Listener::Field(app_ack, "MSH", 15), "NE") << "an ACK is never acknowledged";
  EXPECT_EQ(Listener::Field(app_ack, "MSH", 16), "NE");
  EXPECT_NE(Listener::Field(app_ack, "MSH", 10), Listener::Field(ack, "MSH", 10))
      << "a control id of its own";
  EXPECT_EQ(Listener::Field(app_ack, "MSH", 5), "LAB") << "sent to the message's sender";
  // The record says it was sent.
  EXPECT_TRUE(WaitFor(
      [&] { return Count(server->port(), "/Basic?_tag=urn:vesta:hl7v2:app-ack|sent") == 1; }, 10))
      << Record(server->port(), "A1");
  EXPECT_NE(Record(server->port(), "A1").find(R"("url":"sent","valueInstant")"), std::string::npos);

  // MSH-16 ER, and the message succeeds: no application ACK, and the record has none.
  const std::string er_ack = SendMessage(server->mllp_port(), Adt("E1", "AL|ER"));
  EXPECT_EQ(Listener::Field(er_ack, "MSA", 1), "CA") << er_ack;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(route.frames().size(), 1u);
  const std::string record = Record(server->port(), "E1");
  EXPECT_NE(record.find("urn:vesta:hl7v2:state"), std::string::npos) << record;
  EXPECT_EQ(record.find("urn:vesta:hl7v2:app-ack"), std::string::npos) << record;
}

TEST_F(AppAckTest, ARouteDownAtFirstGetsItOnceUp) {
  const uint16_t port = FreePort();
  std::unique_ptr<ServerProcess> server = Start({Route("LAB^NORTH", port)});
  ASSERT_TRUE(server->ok());
  EXPECT_EQ(Listener::Field(SendMessage(server->mllp_port(), Adt("R1", "AL|AL")), "MSA", 1), "CA");
  // Tried, failed, the error kept; still pending.
  ASSERT_TRUE(WaitFor(
      [&] { return Record(server->port(), "R1").find(R"("url":"error")") != std::string::npos; },
      20))
      << Record(server->port(), "R1");
  EXPECT_EQ(Count(server->port(), "/Basic?_tag=urn:vesta:hl7v2:app-ack|pending"), 1);
  Listener route(port);
  ASSERT_TRUE(route.ok()) << "port " << port << " taken meanwhile";
  ASSERT_TRUE(WaitFor([&] { return !route.frames().empty(); }, 40)) << "not retried";
  EXPECT_EQ(Listener::Field(route.frames().front(), "MSA", 1), "AA");
  EXPECT_EQ(Listener::Field(route.frames().front(), "MSA", 2), "R1");
  EXPECT_TRUE(WaitFor(
      [&] { return Count(server->port(), "/Basic?_tag=urn:vesta:hl7v2:app-ack|sent") == 1; }, 10));
  const std::string record = Record(server->port(), "R1");
  EXPECT_EQ(record.find(R"("url":"error")"), std::string::npos) << "cleared once sent: " << record;
  EXPECT_EQ(route.frames().size(), 1u);
}

TEST_F(AppAckTest, APendingAckIsSentAfterARestart) {
  const uint16_t port = FreePort();
  std::unique_ptr<ServerProcess> server = Start({Route("LAB^*", port)});
  ASSERT_TRUE(server->ok());
  EXPECT_EQ(Listener::Field(SendMessage(server->mllp_port(), Adt("S1", "AL|AL")), "MSA", 1), "CA");
  ASSERT_EQ(server->Stop(), 0);
  Listener route(port);
  ASSERT_TRUE(route.ok()) << "port " << port << " taken meanwhile";
  EXPECT_TRUE(route.frames().empty());
  server = Start({Route("LAB^*", port)});
  ASSERT_TRUE(server->ok());
  ASSERT_TRUE(WaitFor([&] { return !route.frames().empty(); }, 30)) << "lost at the restart";
  EXPECT_EQ(Listener::Field(route.frames().front(), "MSA", 2), "S1");
  ASSERT_TRUE(WaitFor(
      [&] { return Count(server->port(), "/Basic?_tag=urn:vesta:hl7v2:app-ack|sent") == 1; }, 10));
  ASSERT_EQ(server->Stop(), 0);
  // The tool lists it.
  const std::string list = VestaBinary() + " hl7v2 acks list --state sent" + StoreFlags(data());
  FILE* p = popen(list.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 0);
  EXPECT_NE(out.find("control id S1"), std::string::npos) << out;
  EXPECT_NE(out.find("AA sent"), std::string::npos) << out;
  EXPECT_NE(out.find("1 application ACK(s) sent"), std::string::npos) << out;
}

TEST_F(AppAckTest, ASenderWithoutARouteIsLoggedOnceAndItsRecordSaysSo) {
  Listener route;
  std::unique_ptr<ServerProcess> server = Start({Route("RAD^*", route.port())});
  ASSERT_TRUE(server->ok());
  for (const char* id : {"N1", "N2"}) {
    EXPECT_EQ(Listener::Field(SendMessage(server->mllp_port(), Adt(id, "AL|AL")), "MSA", 1), "CA");
  }
  EXPECT_EQ(Count(server->port(), "/Basic?_tag=urn:vesta:hl7v2:app-ack|failed"), 2);
  EXPECT_NE(Record(server->port(), "N1").find("no application ACK route for LAB^NORTH"),
            std::string::npos)
      << Record(server->port(), "N1");
  // The routed sender's still go.
  EXPECT_EQ(Listener::Field(SendMessage(server->mllp_port(), Adt("N3", "AL|AL", "RAD")), "MSA", 1),
            "CA");
  ASSERT_TRUE(WaitFor([&] { return !route.frames().empty(); }, 30));
  EXPECT_EQ(route.frames().size(), 1u) << "only the routed sender's";
  ASSERT_EQ(server->Stop(), 0);
  const std::string log = ReadText(dir_.path() + "/server.log");
  size_t lines = 0;
  for (size_t at = log.find("application ACKs of LAB^NORTH cannot be delivered");
       at != std::string::npos;
       at = log.find("application ACKs of LAB^NORTH cannot be delivered", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 1u) << log;

  // A server started with a route for LAB^NORTH delivers what waited for one.
  Listener lab;
  ASSERT_TRUE(lab.ok());
  server = Start({Route("LAB^NORTH", lab.port()), Route("RAD^*", route.port())});
  ASSERT_TRUE(server->ok());
  ASSERT_TRUE(WaitFor([&] { return lab.frames().size() == 2; }, 30))
      << lab.frames().size() << " of 2 delivered";
  std::vector<std::string> delivered;
  for (const std::string& f : lab.frames()) delivered.push_back(Listener::Field(f, "MSA", 2));
  std::sort(delivered.begin(), delivered.end());
  EXPECT_EQ(delivered, (std::vector<std::string>{"N1", "N2"}));
  EXPECT_TRUE(WaitFor(
      [&] { return Count(server->port(), "/Basic?_tag=urn:vesta:hl7v2:app-ack|sent") == 3; }, 10));
  EXPECT_EQ(Count(server->port(), "/Basic?_tag=urn:vesta:hl7v2:app-ack|failed"), 0);
  EXPECT_EQ(route.frames().size(), 1u) << "RAD's was sent before";
}

}  // namespace
}  // namespace vesta::testing
