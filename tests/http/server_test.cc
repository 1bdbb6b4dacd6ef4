// Tests for http::Server: the real server on 127.0.0.1 port 0, talked to over real sockets by a
// small blocking client. Every socket read has a timeout and every loop a fixed count, so a bug
// fails a test instead of hanging it.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "http/test_certificate.h"

namespace vesta::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Gzip(std::string_view in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::optional<std::string> Gunzip(std::string_view in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return std::nullopt;
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

struct RawResponse {
  int status = 0;
  std::string version;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (EqualsIgnoreCase(n, name)) return v;
    }
    return "";
  }
  bool HasHeader(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (EqualsIgnoreCase(n, name)) return true;
    }
    return false;
  }
};

// A blocking HTTP/1.1 client on one TCP connection. Reads time out after 10 s.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() {
    if (fd_ >= 0) close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  // The client's own port, as the server sees it.
  uint16_t local_port() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response. For a response to HEAD, pass head = true: no body follows.
  std::optional<RawResponse> Read(bool head = false) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    RawResponse r;
    std::string_view block(buffer_.data(), end);
    size_t line_end = block.find("\r\n");
    std::string_view status_line = block.substr(0, line_end);
    r.version = std::string(status_line.substr(0, status_line.find(' ')));
    r.status = std::atoi(std::string(status_line.substr(r.version.size() + 1, 3)).c_str());
    while (line_end != std::string_view::npos) {
      block.remove_prefix(line_end + 2);
      line_end = block.find("\r\n");
      std::string_view line = block.substr(0, line_end);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    buffer_.erase(0, end + 4);
    if (r.status / 100 == 1) return r;  // interim response
    if (head || r.status == 204 || r.status == 304) return r;
    if (r.HasHeader("Content-Length")) {
      size_t length = std::stoul(r.Header("Content-Length"));
      while (buffer_.size() < length) {
        if (!Fill()) return std::nullopt;
      }
      r.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
    } else {
      while (Fill()) {
      }
      r.body = std::move(buffer_);
      buffer_.clear();
    }
    return r;
  }

  // True when the server closes the connection (EOF or reset) before the read timeout.
  bool ClosedByPeer() {
    char c;
    ssize_t n = recv(fd_, &c, 1, 0);
    if (n == 0) return true;
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK;
  }

  std::optional<RawResponse> RoundTrip(std::string_view request, bool head = false) {
    if (!Send(request)) return std::nullopt;
    return Read(head);
  }

 private:
  bool Fill() {
    char buf[16384];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
         std::string(extra_headers) + "\r\n";
}

std::string Post(std::string_view target, std::string_view body,
                 std::string_view extra_headers = "") {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

// Echoes what the server parsed, one "key=value" line each, so that tests can compare text.
Response Echo(const Request& req) {
  std::string out = "method=" + req.method + "\npath=" + req.path + "\n";
  for (const auto& [k, v] : req.query) out += "q=" + k + ":" + v + "\n";
  out += "x-test=" + std::string(req.Header("X-TEST")) + "\n";
  out += "body=" + req.body;
  return Response{200, {{"Content-Type", "text/plain"}}, out, ""};
}

// Runs a Server on a background thread for the lifetime of the object.
class TestServer {
 public:
  TestServer(ServerOptions options, Handler handler) {
    options.listen = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(std::move(options), std::move(handler));
    start_status_ = server_->Start();
    if (start_status_.ok()) thread_ = std::thread([this] { server_->Run(); });
  }
  ~TestServer() { Stop(); }

  const Status& start_status() const { return start_status_; }
  uint16_t port() const { return server_->port(); }
  Server& server() { return *server_; }

  // Shuts down and waits for Run() to return.
  void Stop() {
    server_->Shutdown();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::unique_ptr<Server> server_;
  Status start_status_;
  std::thread thread_;
};

ServerOptions SmallOptions() {
  ServerOptions o;
  o.threads = 4;
  return o;
}

TEST(HttpServerTest, GetDecodesPathAndQuery) {
  TestServer ts(SmallOptions(), Echo);
  ASSERT_TRUE(ts.start_status().ok()) << ts.start_status().message();
  ASSERT_NE(ts.port(), 0);
  Client c(ts.port());
  ASSERT_TRUE(c.connected());
  auto r = c.RoundTrip(
      Get("/Patient/a%20b%2Fc?name=J%C3%B6rg+Smith&x=1%2B1&&flag&name=2", "x-TeSt: hello\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->version, "HTTP/1.1");
  EXPECT_EQ(r->body,
            "method=GET\npath=/Patient/a b/c\nq=name:J\xC3\xB6rg Smith\nq=x:1+1\nq=flag:\n"
            "q=name:2\nx-test=hello\nbody=");
  EXPECT_EQ(r->Header("Server"), "vesta");
  EXPECT_EQ(r->Header("Content-Type"), "text/plain");
  EXPECT_EQ(r->Header("Content-Length"), std::to_string(r->body.size()));
  EXPECT_TRUE(r->Header("Date").ends_with(" GMT")) << r->Header("Date");

  // The absolute form (RFC 9112 §3.2.2) is accepted too.
  r = c.RoundTrip(Get("http://localhost/Observation?code=1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "method=GET\npath=/Observation\nq=code:1\nx-test=\nbody=");
}

TEST(HttpServerTest, MalformedPercentEncodingIs400) {
  std::atomic<int> calls{0};
  ServerOptions o = SmallOptions();
  o.error_responder = [](int status, const std::string& message) {
    return Response{status,
                    {{"Content-Type", "text/x-error"}},
                    "E" + std::to_string(status) + ": " + message,
                    ""};
  };
  TestServer ts(o, [&](const Request& r) {
    ++calls;
    return Echo(r);
  });
  ASSERT_TRUE(ts.start_status().ok());
  for (const char* target : {"/a%zz", "/a%4", "/a?x=%4", "/a?%g1=1", "relative"}) {
    Client c(ts.port());
    auto r = c.RoundTrip(Get(target));
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, 400) << target;
    EXPECT_EQ(r->Header("Content-Type"), "text/x-error");
    EXPECT_TRUE(r->body.starts_with("E400: ")) << r->body;
    EXPECT_TRUE(c.ClosedByPeer());
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerTest, PostBody) {
  TestServer ts(SmallOptions(), Echo);
  ASSERT_TRUE(ts.start_status().ok());
  std::string body;
  for (int i = 0; body.size() < 200 * 1024; ++i) body += "line " + std::to_string(i) + "\n";
  Client c(ts.port());
  auto r = c.RoundTrip(Post("/Patient", body, "Content-Type: application/fhir+json\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "method=POST\npath=/Patient\nx-test=\nbody=" + body);

  // Chunked transfer coding (RFC 9112 §7.1).
  r = c.RoundTrip(
      "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "method=POST\npath=/x\nx-test=\nbody=hello world");
}

TEST(HttpServerTest, KeepAliveAndPipelining) {
  TestServer ts(SmallOptions(), Echo);
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  for (int i = 0; i < 5; ++i) {
    auto r = c.RoundTrip(Get("/k?i=" + std::to_string(i)));
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_NE(r->Header("Connection"), "close");
    EXPECT_EQ(r->body, "method=GET\npath=/k\nq=i:" + std::to_string(i) + "\nx-test=\nbody=");
  }
  // Three requests in one write are answered in order (RFC 9112 §9.3.2).
  ASSERT_TRUE(c.Send(Get("/p1") + Post("/p2", "xyz") + Get("/p3")));
  for (const char* expected : {"path=/p1", "path=/p2", "path=/p3"}) {
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_NE(r->body.find(expected), std::string::npos) << r->body;
  }
  // Connection: close is honoured.
  auto r = c.RoundTrip(Get("/last", "Connection: close\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST(HttpServerTest, Http10) {
  TestServer ts(SmallOptions(), Echo);
  ASSERT_TRUE(ts.start_status().ok());
  {
    Client c(ts.port());
    auto r = c.RoundTrip("GET /old HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->version, "HTTP/1.0");
    EXPECT_EQ(r->body, "method=GET\npath=/old\nx-test=\nbody=");
    EXPECT_TRUE(c.ClosedByPeer());
  }
  {
    // HTTP/1.0 keep-alive by request.
    Client c(ts.port());
    for (int i = 0; i < 2; ++i) {
      auto r = c.RoundTrip("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
      EXPECT_TRUE(EqualsIgnoreCase(r->Header("Connection"), "keep-alive"));
    }
  }
}

TEST(HttpServerTest, ManyConcurrentConnections) {
  ServerOptions o;
  o.threads = 8;
  std::atomic<int> in_handler{0}, max_in_handler{0};
  TestServer ts(o, [&](const Request& r) {
    int now = ++in_handler;
    int seen = max_in_handler.load();
    while (now > seen && !max_in_handler.compare_exchange_weak(seen, now)) {
    }
    if (r.path == "/slow") std::this_thread::sleep_for(milliseconds(1));
    --in_handler;
    return Echo(r);
  });
  ASSERT_TRUE(ts.start_status().ok());
  constexpr int kClients = 64, kRequests = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      Client c(ts.port());
      if (!c.connected()) return;
      for (int i = 0; i < kRequests; ++i) {
        std::string id = std::to_string(t) + "-" + std::to_string(i);
        auto r = c.RoundTrip(i % 2 ? Get("/slow?id=" + id) : Post("/fast", id));
        if (!r || r->status != 200) return;
        bool match = i % 2 ? r->body.find("q=id:" + id + "\n") != std::string::npos
                           : r->body.ends_with("body=" + id);
        if (match) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  EXPECT_LE(max_in_handler.load(), 8);
  EXPECT_GE(max_in_handler.load(), 2);  // handlers do run concurrently
}

// Each connection stays on one event loop; a new one goes to the loop with the fewest. With two
// loops, a second connection is served while the first one's Handler is blocked.
TEST(HttpServerTest, BlockedHandlerHoldsUpOnlyItsOwnLoop) {
  ServerOptions o;
  o.threads = 2;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false, blocked = false;
  TestServer ts(o, [&](const Request& r) {
    if (r.path == "/block") {
      std::unique_lock lock(mu);
      blocked = true;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
    }
    return Echo(r);
  });
  ASSERT_TRUE(ts.start_status().ok());
  Client a(ts.port());
  ASSERT_TRUE(a.connected());
  std::optional<RawResponse> blocked_response;
  std::thread t([&] { blocked_response = a.RoundTrip(Get("/block")); });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return blocked; }));
  }
  Client b(ts.port());
  ASSERT_TRUE(b.connected());
  auto r = b.RoundTrip(Get("/free"));
  bool served_while_blocked;
  {
    std::lock_guard lock(mu);
    served_while_blocked = !release;
    release = true;
  }
  cv.notify_all();
  t.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(served_while_blocked);
  ASSERT_TRUE(blocked_response);
  EXPECT_EQ(blocked_response->status, 200);
}

TEST(HttpServerTest, OversizedBodyIs413) {
  ServerOptions o = SmallOptions();
  o.max_body_bytes = 1024;
  o.error_responder = [](int status, const std::string& message) {
    return Response{status, {}, "E" + std::to_string(status) + ": " + message, ""};
  };
  std::atomic<int> calls{0};
  TestServer ts(o, [&](const Request& r) {
    ++calls;
    return Echo(r);
  });
  ASSERT_TRUE(ts.start_status().ok());
  {
    // Exactly the limit is fine.
    Client c(ts.port());
    auto r = c.RoundTrip(Post("/ok", std::string(1024, 'a')));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  {
    // Declared Content-Length over the limit; the client sends it all anyway.
    Client c(ts.port());
    auto r = c.RoundTrip(Post("/big", std::string(64 * 1024, 'b')));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(r->body.starts_with("E413: ")) << r->body;
    EXPECT_EQ(r->Header("Connection"), "close");
    EXPECT_TRUE(c.ClosedByPeer());
  }
  {
    // A huge declared length: answered from the header alone, nothing buffered.
    Client c(ts.port());
    auto r =
        c.RoundTrip("POST /huge HTTP/1.1\r\nHost: h\r\nContent-Length: 100000000000\r\n\r\nstart");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
  }
  {
    // Chunked: the limit is found while reading.
    Client c(ts.port());
    std::string chunk = std::string(600, 'c');
    std::string req = "POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 4; ++i) req += "258\r\n" + chunk + "\r\n";
    req += "0\r\n\r\n";
    auto r = c.RoundTrip(req);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_TRUE(c.ClosedByPeer());
  }
  {
    // Expect: 100-continue over the limit gets 413 instead of 100.
    Client c(ts.port());
    auto r = c.RoundTrip(
        "POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
  }
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpServerTest, MalformedRequestsAre400) {
  std::atomic<int> calls{0};
  TestServer ts(SmallOptions(), [&](const Request& r) {
    ++calls;
    return Echo(r);
  });
  ASSERT_TRUE(ts.start_status().ok());
  const char* garbage[] = {
      "NOT HTTP AT ALL\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",                                     // no Host (RFC 9112 §3.2)
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",               // two Hosts
      "GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",         // space in a field name
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",  // bad length
      "GET / HTTP/2.0\r\nHost: a\r\n\r\n",                          // not HTTP/1.x
  };
  for (const char* raw : garbage) {
    Client c(ts.port());
    auto r = c.RoundTrip(raw);
    ASSERT_TRUE(r) << raw;
    EXPECT_EQ(r->status, 400) << raw;
    EXPECT_EQ(r->Header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_TRUE(c.ClosedByPeer()) << raw;
  }
  {
    // Header block over 64 KiB.
    Client c(ts.port());
    auto r = c.RoundTrip(Get("/", "X-Big: " + std::string(70 * 1024, 'h') + "\r\n"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
  }
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServerTest, GzipResponses) {
  std::string big;
  for (int i = 0; big.size() < 8000; ++i)
    big += "{\"resourceType\":\"Patient\",\"id\":\"" + std::to_string(i) + "\"},";
  ServerOptions o = SmallOptions();
  o.gzip_min_bytes = 1024;
  TestServer ts(o, [&](const Request& r) {
    return Response{200,
                    {{"Content-Type", "application/fhir+json"}},
                    r.path == "/small" ? std::string(100, 'x') : big,
                    ""};
  });
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  for (const char* accept : {"gzip", "deflate, gzip;q=0.5", "GZIP", "br;q=1, *;q=0.1"}) {
    auto r = c.RoundTrip(Get("/big", "Accept-Encoding: " + std::string(accept) + "\r\n"));
    ASSERT_TRUE(r) << accept;
    EXPECT_EQ(r->Header("Content-Encoding"), "gzip") << accept;
    EXPECT_EQ(r->Header("Vary"), "Accept-Encoding");
    EXPECT_LT(r->body.size(), big.size());
    auto plain = Gunzip(r->body);
    ASSERT_TRUE(plain) << accept;
    EXPECT_EQ(*plain, big);
  }
  for (const char* accept : {"gzip;q=0", "gzip; q=0.000, identity", "*;q=0", "br", "gzip;q=0, *"}) {
    auto r = c.RoundTrip(Get("/big", "Accept-Encoding: " + std::string(accept) + "\r\n"));
    ASSERT_TRUE(r) << accept;
    EXPECT_FALSE(r->HasHeader("Content-Encoding")) << accept;
    EXPECT_EQ(r->Header("Vary"), "Accept-Encoding");
    EXPECT_EQ(r->body, big);
  }
  auto r = c.RoundTrip(Get("/big"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->HasHeader("Content-Encoding"));
  EXPECT_EQ(r->body, big);
  // Below gzip_min_bytes: sent as is.
  r = c.RoundTrip(Get("/small", "Accept-Encoding: gzip\r\n"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->HasHeader("Content-Encoding"));
  EXPECT_EQ(r->body, std::string(100, 'x'));
}

TEST(HttpServerTest, GzipRequestBodies) {
  ServerOptions o = SmallOptions();
  o.max_body_bytes = 64 * 1024;
  TestServer ts(o, Echo);
  ASSERT_TRUE(ts.start_status().ok());
  std::string body = "{\"resourceType\":\"Observation\",\"status\":\"final\"}";
  Client c(ts.port());
  auto r = c.RoundTrip(Post("/Observation", Gzip(body), "Content-Encoding: gzip\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "method=POST\npath=/Observation\nx-test=\nbody=" + body);

  // Corrupt gzip: 400, and the connection stays usable (the body was framed correctly).
  std::string corrupt = Gzip(body);
  corrupt[corrupt.size() / 2] ^= 0x5a;
  corrupt.resize(corrupt.size() - 4);
  r = c.RoundTrip(Post("/Observation", corrupt, "Content-Encoding: gzip\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = c.RoundTrip(Post("/Observation", "not gzip at all", "Content-Encoding: gzip\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);

  // Inflates past max_body_bytes: 413 even though the compressed body is small.
  std::string bomb = Gzip(std::string(1024 * 1024, 'z'));
  ASSERT_LT(bomb.size(), o.max_body_bytes);
  r = c.RoundTrip(Post("/Observation", bomb, "Content-Encoding: gzip\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);

  // Other codings: 415.
  Client c2(ts.port());
  r = c2.RoundTrip(Post("/Observation", "xx", "Content-Encoding: br\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415);
}

TEST(HttpServerTest, HeadSendsHeadersOnly) {
  TestServer ts(SmallOptions(), [](const Request& r) {
    return Response{200, {{"Content-Type", "text/plain"}}, "hello " + r.method, ""};
  });
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  auto r = c.RoundTrip("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n", /*head=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Length"), std::to_string(std::string("hello HEAD").size()));
  // No body bytes were sent: the next response on the connection parses cleanly.
  r = c.RoundTrip(Get("/y"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello GET");
}

TEST(HttpServerTest, FileBodiesAreStreamedWhole) {
  // A body larger than socket buffers, from a file: sent whole, never gzip-compressed, with its
  // length; HEAD gets the length only; a missing file is a 500; the connection stays usable.
  char tmpl[] = "/tmp/vesta-http-file-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  std::string content;
  for (int i = 0; content.size() < 3 * 1024 * 1024; ++i) {
    content += "{\"resourceType\":\"Patient\",\"id\":\"" + std::to_string(i) + "\"}\n";
  }
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
  const std::string path = tmpl;
  TestServer ts(SmallOptions(), [&](const Request& r) {
    Response out{200, {{"Content-Type", "application/fhir+ndjson"}}, "", ""};
    out.body_file = r.path == "/missing" ? path + ".absent" : path;
    return out;
  });
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  auto r = c.RoundTrip(Get("/file", "Accept-Encoding: gzip\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->HasHeader("Content-Encoding"));
  EXPECT_EQ(r->Header("Content-Length"), std::to_string(content.size()));
  EXPECT_EQ(r->body, content);
  r = c.RoundTrip("HEAD /file HTTP/1.1\r\nHost: h\r\n\r\n", /*head=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("Content-Length"), std::to_string(content.size()));
  r = c.RoundTrip(Get("/missing"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  r = c.RoundTrip(Get("/file"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body.size(), content.size());
  std::remove(path.c_str());
}

TEST(HttpServerTest, ExpectContinue) {
  TestServer ts(SmallOptions(), Echo);
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  ASSERT_TRUE(
      c.Send("POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = c.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  auto r = c.RoundTrip("abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.ends_with("body=abc"));
}

TEST(HttpServerTest, HandlerExceptionIs500) {
  TestServer ts(SmallOptions(), [](const Request& r) -> Response {
    if (r.path == "/throw") throw std::runtime_error("boom");
    return Response{
        r.path == "/bad-status" ? 42 : 204, {{"X-Bad", "a\r\nInjected: 1"}}, "gone", ""};
  });
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  auto r = c.RoundTrip(Get("/throw"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  r = c.RoundTrip(Get("/bad-status"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  r = c.RoundTrip(Get("/no-content"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_FALSE(r->HasHeader("Injected"));
  EXPECT_FALSE(r->HasHeader("X-Bad"));
  // 204 has no body: the connection stays in sync.
  r = c.RoundTrip(Get("/no-content"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
}

TEST(HttpServerTest, GracefulShutdownFinishesInFlightRequest) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  TestServer ts(SmallOptions(), [&](const Request& r) {
    if (r.path == "/slow") {
      {
        std::lock_guard lock(mu);
        entered = true;
      }
      cv.notify_all();
      std::this_thread::sleep_for(milliseconds(300));
    }
    return Echo(r);
  });
  ASSERT_TRUE(ts.start_status().ok());
  uint16_t port = ts.port();
  Client idle(port);  // an idle keep-alive connection: closed by the shutdown
  ASSERT_TRUE(idle.RoundTrip(Get("/warm")));
  Client busy(port);
  ASSERT_TRUE(busy.Send(Get("/slow")));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, seconds(10), [&] { return entered; }));
  }
  auto start = std::chrono::steady_clock::now();
  std::thread stopper([&] { ts.Stop(); });
  auto r = busy.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_NE(r->body.find("path=/slow"), std::string::npos);
  EXPECT_TRUE(busy.ClosedByPeer());
  EXPECT_TRUE(idle.ClosedByPeer());
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(8));
  // No longer accepting.
  Client late(port);
  EXPECT_TRUE(!late.connected() || late.ClosedByPeer());
}

TEST(HttpServerTest, ShutdownIsIdempotent) {
  TestServer ts(SmallOptions(), Echo);
  ASSERT_TRUE(ts.start_status().ok());
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 4; ++i) stoppers.emplace_back([&] { ts.server().Shutdown(); });
  for (auto& t : stoppers) t.join();
  ts.Stop();
  ts.server().Shutdown();
  ts.Stop();

  // Shutdown before Run: Run returns at once.
  ServerOptions o = SmallOptions();
  o.port = 0;
  Server s(o, Echo);
  ASSERT_TRUE(s.Start().ok());
  s.Shutdown();
  s.Run();
  s.Shutdown();

  // Never started: Run and Shutdown are harmless.
  Server never(o, Echo);
  never.Shutdown();
  never.Run();
}

TEST(HttpServerTest, IdleConnectionsTimeOut) {
  ServerOptions o = SmallOptions();
  o.idle_timeout = milliseconds(200);
  TestServer ts(o, Echo);
  ASSERT_TRUE(ts.start_status().ok());
  Client idle(ts.port());
  ASSERT_TRUE(idle.RoundTrip(Get("/once")));
  EXPECT_TRUE(idle.ClosedByPeer());  // well before the client's 10 s read timeout
  // A client that stops halfway through its header is dropped too (slowloris).
  Client partial(ts.port());
  ASSERT_TRUE(partial.Send("GET / HTTP/1.1\r\nHost: h\r\n"));
  EXPECT_TRUE(partial.ClosedByPeer());
}

TEST(HttpServerTest, SigtermShutsDownGracefully) {
  ServerOptions o = SmallOptions();
  o.handle_signals = true;
  TestServer ts(o, Echo);
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  ASSERT_TRUE(c.RoundTrip(Get("/before")));
  ASSERT_EQ(raise(SIGTERM), 0);  // handled by the server, not the default action
  EXPECT_TRUE(c.ClosedByPeer());
  ts.Stop();  // joins Run(), which returned because of the signal
}

TEST(HttpServerTest, BindErrorIsUnavailable) {
  TestServer first(SmallOptions(), Echo);
  ASSERT_TRUE(first.start_status().ok());
  ServerOptions o = SmallOptions();
  o.listen = "127.0.0.1";
  o.port = first.port();
  Server second(o, Echo);
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.message();
}

// --- The client's address ---------------------------------------------------------------------

TEST(HttpServerTest, HandlerSeesThePeer) {
  std::mutex mu;
  std::string address;
  uint16_t port = 0;
  bool tls = true;
  TestServer ts(SmallOptions(), [&](const Request& req) {
    std::lock_guard lock(mu);
    address = req.remote_address;
    port = req.remote_port;
    tls = req.tls;
    return Response{200, {}, "ok", ""};
  });
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  ASSERT_TRUE(c.RoundTrip(Get("/")));
  std::lock_guard lock(mu);
  EXPECT_EQ(address, "127.0.0.1");
  EXPECT_EQ(port, c.local_port());
  EXPECT_FALSE(tls);
}

// --- CORS (https://fetch.spec.whatwg.org/#http-cors-protocol) -----------------------------------

ServerOptions CorsOptions(std::vector<std::string> origins) {
  ServerOptions o = SmallOptions();
  o.cors_origins = std::move(origins);
  return o;
}

std::string Preflight(std::string_view origin, std::string_view headers = "") {
  std::string req =
      "OPTIONS /Patient HTTP/1.1\r\nHost: localhost\r\nOrigin: " + std::string(origin) +
      "\r\nAccess-Control-Request-Method: POST\r\n";
  if (!headers.empty()) req += "Access-Control-Request-Headers: " + std::string(headers) + "\r\n";
  return req + "\r\n";
}

TEST(HttpServerTest, WithoutCorsOriginsNothingChanges) {
  TestServer ts(SmallOptions(), Echo);
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  auto r = c.RoundTrip(Get("/x", "Origin: https://app.example.org\r\n"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->HasHeader("Access-Control-Allow-Origin"));
  EXPECT_FALSE(r->HasHeader("Vary"));
  // A preflight is an ordinary OPTIONS request for the Handler.
  r = c.RoundTrip(Preflight("https://app.example.org"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.starts_with("method=OPTIONS\n")) << r->body;
}

TEST(HttpServerTest, CorsHeadersForAllowedOrigins) {
  TestServer ts(CorsOptions({"https://app.example.org", "http://localhost:3000"}), Echo);
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  auto r = c.RoundTrip(Get("/x", "Origin: http://localhost:3000\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_EQ(r->Header("Vary"), "Origin");
  EXPECT_EQ(r->Header("Access-Control-Expose-Headers"),
            "Location, ETag, Last-Modified, Content-Location, WWW-Authenticate");
  // Another origin gets no CORS headers (the browser then refuses the response to the app), but
  // the response still varies by Origin for caches; so does one to a request without Origin.
  for (std::string_view extra : {"Origin: https://evil.example\r\n",
                                 "Origin: https://app.example.org.evil.example\r\n", ""}) {
    r = c.RoundTrip(Get("/x", extra));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->HasHeader("Access-Control-Allow-Origin")) << extra;
    EXPECT_FALSE(r->HasHeader("Access-Control-Expose-Headers")) << extra;
    EXPECT_EQ(r->Header("Vary"), "Origin") << extra;
  }
}

TEST(HttpServerTest, CorsStarAllowsAnyOrigin) {
  TestServer ts(CorsOptions({"*"}), Echo);
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  auto r = c.RoundTrip(Get("/x", "Origin: https://anyone.example\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "*");
  r = c.RoundTrip(Preflight("https://anyone.example", "Authorization"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "*");
}

TEST(HttpServerTest, CorsPreflightIsAnsweredWithoutTheHandler) {
  std::atomic<int> calls{0};
  TestServer ts(CorsOptions({"https://app.example.org"}), [&](const Request& req) {
    ++calls;
    return Echo(req);
  });
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  auto r = c.RoundTrip(Preflight("https://app.example.org", "content-type, authorization"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "https://app.example.org");
  EXPECT_EQ(r->Header("Vary"), "Origin");
  EXPECT_EQ(r->Header("Access-Control-Allow-Methods"), "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(r->Header("Access-Control-Allow-Headers"), "content-type, authorization");
  EXPECT_EQ(r->Header("Access-Control-Max-Age"), "600");
  EXPECT_EQ(r->body, "");
  // A header outside the list: the list is sent, without it, and the browser refuses.
  r = c.RoundTrip(Preflight("https://app.example.org", "If-Match, X-Secret"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->Header("Access-Control-Allow-Headers"),
            "Authorization, Content-Type, Accept, If-Match, If-None-Match, If-Modified-Since, "
            "If-None-Exist, Prefer, X-Requested-With");
  // Another origin's preflight: 403, no CORS headers.
  r = c.RoundTrip(Preflight("https://evil.example"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_FALSE(r->HasHeader("Access-Control-Allow-Origin"));
  EXPECT_FALSE(r->HasHeader("Access-Control-Allow-Methods"));
  EXPECT_EQ(calls.load(), 0);
  // OPTIONS without Access-Control-Request-Method is not a preflight: the Handler answers.
  r = c.RoundTrip(
      "OPTIONS /metadata HTTP/1.1\r\nHost: h\r\nOrigin: https://app.example.org\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "https://app.example.org");
}

TEST(HttpServerTest, CorsOnServerErrors) {
  ServerOptions o = CorsOptions({"https://app.example.org"});
  o.max_body_bytes = 10;
  TestServer ts(o, Echo);
  ASSERT_TRUE(ts.start_status().ok());
  Client c(ts.port());
  auto r = c.RoundTrip(Post("/x", std::string(100, 'a'), "Origin: https://app.example.org\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  // The app can read why its request failed.
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "https://app.example.org");
}

TEST(HttpServerTest, CorsOriginsMustBeOrigins) {
  for (const char* bad : {"https://app.example.org/", "app.example.org", "https://App.example.org",
                          "ftp://x.org", "https://", "null", "https://x.org/path"}) {
    Server server(CorsOptions({bad}), Echo);
    Status s = server.Start();
    EXPECT_EQ(s.code(), StatusCode::kInvalid) << bad;
    EXPECT_NE(s.message().find(bad), std::string::npos) << s.message();
  }
  for (const char* good : {"*", "https://app.example.org", "http://localhost:3000",
                           "http://127.0.0.1:8080", "https://[::1]:8443"}) {
    TestServer ts(CorsOptions({good}), Echo);
    EXPECT_TRUE(ts.start_status().ok()) << good << ": " << ts.start_status().message();
  }
}

// --- TLS --------------------------------------------------------------------------------------

class HttpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveCommand("openssl") || !testing::HaveCommand("curl")) {
      GTEST_SKIP() << "the openssl and curl commands are needed for the TLS tests";
    }
    char tmpl[] = "/tmp/vesta-tls-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(cert_.Make(dir_));
  }
  void TearDown() override {
    if (!dir_.empty()) testing::RunCommand("rm -rf '" + dir_ + "'");
  }

  ServerOptions TlsOptions() const {
    ServerOptions o = SmallOptions();
    o.tls_certificate_file = cert_.cert;
    o.tls_private_key_file = cert_.key;
    return o;
  }

  std::string Curl(uint16_t port, std::string_view path) const {
    return testing::RunCommand("curl -sS --max-time 10 --cacert '" + cert_.cert +
                               "' https://127.0.0.1:" + std::to_string(port) + std::string(path))
        .output;
  }

  std::string dir_;
  testing::TestCertificate cert_;
};

TEST_F(HttpTlsTest, HandlerSeesTlsAndThePeer) {
  TestServer ts(TlsOptions(), [](const Request& req) {
    return Response{200,
                    {{"Content-Type", "text/plain"}},
                    req.remote_address + " tls=" + (req.tls ? "1" : "0") + " " + req.path,
                    ""};
  });
  ASSERT_TRUE(ts.start_status().ok()) << ts.start_status().message();
  EXPECT_EQ(Curl(ts.port(), "/hello"), "127.0.0.1 tls=1 /hello");
  // Plain HTTP to the TLS port gets no answer, and the server carries on.
  Client plain(ts.port());
  ASSERT_TRUE(plain.connected());
  EXPECT_FALSE(plain.RoundTrip(Get("/plain")));
  EXPECT_EQ(Curl(ts.port(), "/again"), "127.0.0.1 tls=1 /again");
}

TEST_F(HttpTlsTest, SilentClientIsDroppedDuringTheHandshake) {
  ServerOptions o = TlsOptions();
  o.idle_timeout = milliseconds(200);
  TestServer ts(o, Echo);
  ASSERT_TRUE(ts.start_status().ok());
  Client silent(ts.port());
  ASSERT_TRUE(silent.connected());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.ClosedByPeer());
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
}

TEST_F(HttpTlsTest, GracefulShutdownWithTlsConnectionsOpen) {
  TestServer ts(TlsOptions(), Echo);
  ASSERT_TRUE(ts.start_status().ok());
  // s_client completes the handshake and waits on its stdin, which stays open until pclose.
  std::string cmd = "openssl s_client -quiet -connect 127.0.0.1:" + std::to_string(ts.port()) +
                    " -CAfile '" + cert_.cert + "' >/dev/null 2>&1";
  std::FILE* idle = popen(cmd.c_str(), "w");
  ASSERT_NE(idle, nullptr);
  // A request on another connection proves the server is serving; give s_client time to connect.
  EXPECT_NE(Curl(ts.port(), "/x").find("method=GET"), std::string::npos);
  std::this_thread::sleep_for(milliseconds(500));
  auto start = std::chrono::steady_clock::now();
  ts.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  pclose(idle);
}

TEST_F(HttpTlsTest, BadFilesFailStart) {
  auto start = [&](std::string cert, std::string key) {
    ServerOptions o = SmallOptions();
    o.tls_certificate_file = std::move(cert);
    o.tls_private_key_file = std::move(key);
    Server server(o, Echo);
    return server.Start();
  };
  Status s = start(dir_ + "/missing.pem", cert_.key);
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  EXPECT_NE(s.message().find(dir_ + "/missing.pem"), std::string::npos) << s.message();
  s = start(cert_.cert, cert_.other_key);
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  EXPECT_NE(s.message().find(cert_.other_key), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("does not match"), std::string::npos) << s.message();
  s = start(cert_.key, cert_.key);  // a key where the certificate belongs
  EXPECT_EQ(s.code(), StatusCode::kInvalid);
  EXPECT_NE(s.message().find(cert_.key), std::string::npos) << s.message();
  s = start(cert_.cert, "");
  EXPECT_EQ(s.code(), StatusCode::kInvalid) << s.message();
}

}  // namespace
}  // namespace vesta::http
