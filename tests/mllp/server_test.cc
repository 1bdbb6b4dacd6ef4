// The MLLP listener over real sockets on loopback.
#include "mllp/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "http/test_certificate.h"

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

TEST(MllpServerTest, TlsWithTheServersCertificateAndOptionalClientCertificates) {
  if (!testing::HaveCommand("openssl")) GTEST_SKIP() << "the openssl command is not installed";
  char tmpl[] = "/tmp/vesta-mllp-tls-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  testing::TestCertificate cert;
  ASSERT_TRUE(cert.Make(dir));
  ServerOptions o;
  o.tls_certificate_file = cert.cert;
  o.tls_private_key_file = cert.key;
  Server server(o, [](std::string_view m) { return "ACK:" + std::string(m); });
  ASSERT_TRUE(server.Start().ok());
  const std::string port = std::to_string(server.port());
  // A TLS client that checks the server's certificate gets its ACK.
  testing::CommandResult r = testing::RunCommand(
      "printf '\\013MSH|tls\\034\\r' | timeout 2 openssl s_client -quiet -connect 127.0.0.1:" +
      port + " -CAfile '" + cert.cert + "' -verify_return_error");
  EXPECT_NE(r.output.find("ACK:MSH|tls"), std::string::npos) << r.output;
  // Plain MLLP on the TLS port gets nothing.
  int fd = Connect(server.port());
  const std::string plain = "\x0bMSH|plain\x1c\r";
  send(fd, plain.data(), plain.size(), 0);
  EXPECT_EQ(ReadFrames(fd, 1).find("ACK:"), std::string::npos);
  close(fd);
  server.Shutdown();
  // With a client CA, a sender without a certificate is refused; one with it is served.
  o.tls_client_ca_file = cert.cert;
  Server mutual(o, [](std::string_view m) { return "ACK:" + std::string(m); });
  ASSERT_TRUE(mutual.Start().ok());
  const std::string mport = std::to_string(mutual.port());
  r = testing::RunCommand(
      "printf '\\013MSH|anon\\034\\r' | timeout 2 openssl s_client -quiet "
      "-connect 127.0.0.1:" +
      mport + " -CAfile '" + cert.cert + "'");
  EXPECT_EQ(r.output.find("ACK:MSH|anon"), std::string::npos) << r.output;
  r = testing::RunCommand(
      "printf '\\013MSH|known\\034\\r' | timeout 2 openssl s_client -quiet "
      "-connect 127.0.0.1:" +
      mport + " -CAfile '" + cert.cert + "' -cert '" + cert.cert + "' -key '" + cert.key + "'");
  EXPECT_NE(r.output.find("ACK:MSH|known"), std::string::npos) << r.output;
  mutual.Shutdown();
  // Files it cannot use are refused at start, named.
  o.tls_private_key_file = cert.other_key;
  o.tls_client_ca_file.clear();
  Server bad(o, [](std::string_view) { return std::string(); });
  Status s = bad.Start();
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  EXPECT_NE(s.message().find("other_key.pem"), std::string::npos) << s.message();
  std::filesystem::remove_all(dir);
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
