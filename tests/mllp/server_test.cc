// The MLLP listener over real sockets on loopback.
#include "mllp/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace vesta::mllp {
namespace {

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  return fd;
}

// Reads until `n` frames (0x1C 0x0D ends) arrived or 5 s passed; "" on close.
std::string ReadFrames(int fd, int n) {
  std::string got;
  for (int waited = 0; waited < 50;) {
    int ends = 0;
    for (size_t i = 0; i + 1 < got.size(); ++i) ends += got[i] == '\x1c' && got[i + 1] == '\r';
    if (ends >= n) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) {
      ++waited;
      continue;
    }
    char buf[4096];
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r <= 0) break;
    got.append(buf, static_cast<size_t>(r));
  }
  return got;
}

bool Closed(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 5000) <= 0) return false;
  char c;
  return recv(fd, &c, 1, 0) == 0;
}

TEST(MllpServerTest, FramesInAnyChunkingGetTheirAcksInOrder) {
  std::atomic<int> handled{0};
  ServerOptions o;
  o.max_frame_bytes = 1024;
  Server server(o, [&](std::string_view m) {
    ++handled;
    return "ACK:" + std::string(m);
  });
  ASSERT_TRUE(server.Start().ok());
  ASSERT_GT(server.port(), 0);
  int fd = Connect(server.port());
  // One frame byte by byte.
  const std::string one = "\x0bMSH|one\x1c\r";
  for (char c : one) ASSERT_EQ(send(fd, &c, 1, 0), 1);
  EXPECT_EQ(ReadFrames(fd, 1),
            "\x0b"
            "ACK:MSH|one\x1c\r");
  // Three frames in one write, with garbage between them.
  const std::string three = "\x0bMSH|a\x1c\rnoise\x0bMSH|b\x1c\r\r\n\x0bMSH|c\x1c\r";
  ASSERT_EQ(send(fd, three.data(), three.size(), 0), static_cast<ssize_t>(three.size()));
  EXPECT_EQ(ReadFrames(fd, 3),
            "\x0b"
            "ACK:MSH|a\x1c\r\x0b"
            "ACK:MSH|b\x1c\r\x0b"
            "ACK:MSH|c\x1c\r");
  EXPECT_EQ(handled, 4);
  // Larger than the bound: a reject, then the connection is closed; others still served.
  const std::string big = "\x0bMSH|" + std::string(2000, 'x') + "\x1c\r";
  send(fd, big.data(), big.size(), MSG_NOSIGNAL);
  const std::string reject = ReadFrames(fd, 1);
  EXPECT_NE(reject.find("MSA|AR"), std::string::npos) << reject;
  EXPECT_NE(reject.find("larger than 1024 bytes"), std::string::npos) << reject;
  EXPECT_TRUE(Closed(fd));
  close(fd);
  EXPECT_EQ(handled, 4);
  int fd2 = Connect(server.port());
  const std::string again = "\x0bMSH|again\x1c\r";
  send(fd2, again.data(), again.size(), 0);
  EXPECT_EQ(ReadFrames(fd2, 1),
            "\x0b"
            "ACK:MSH|again\x1c\r");
  close(fd2);
  server.Shutdown();
  server.Shutdown();
}

TEST(MllpServerTest, BindErrorIsUnavailable) {
  ServerOptions o;
  Server first(o, [](std::string_view) { return std::string(); });
  ASSERT_TRUE(first.Start().ok());
  o.port = first.port();
  Server second(o, [](std::string_view) { return std::string(); });
  EXPECT_EQ(second.Start().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace vesta::mllp
