#include "mllp/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/clock.h"
#include "base/log.h"
#include "hl7v2/ack.h"
#include "hl7v2/mllp.h"
#include "hl7v2/parse.h"

namespace vesta::mllp {

struct Server::Connection {
  int fd = -1;
  SSL* ssl = nullptr;  // with TLS
  std::thread thread;
  std::atomic<bool> done{false};
};

struct Server::Tls {
  SSL_CTX* ctx = nullptr;
  ~Tls() {
    if (ctx != nullptr) SSL_CTX_free(ctx);
  }
};

namespace {

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

bool SendAll(int fd, SSL* ssl, std::string_view data) {
  while (!data.empty()) {
    if (ssl != nullptr) {
      const int n = SSL_write(ssl, data.data(), static_cast<int>(data.size()));
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The reject for a frame over the bound: its header cannot be read (the frame was not kept), so
// the ACK has the standard one's fields and says why.
std::string OversizeAck(size_t bound) {
  hl7v2::AckRequest request;
  request.outcome = hl7v2::Outcome::kReject;
  hl7v2::Error e;
  e.code = hl7v2::ErrorCode::kValueTooLong;
  e.message = "the message is larger than " + std::to_string(bound) +
              " bytes, the most this server takes in one frame";
  request.errors.push_back(e);
  hl7v2::AckOptions options;
  options.control_id = "VESTA-OVERSIZE";
  const std::string now = FormatInstant(SystemClock().Now());
  options.date_time = now.substr(0, 4) + now.substr(5, 2) + now.substr(8, 2) + now.substr(11, 2) +
                      now.substr(14, 2) + now.substr(17, 2) + "+0000";
  return hl7v2::BuildAck(hl7v2::SalvageHeader(""), request, options);
}

}  // namespace

Server::Server(ServerOptions options, Handler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

Server::~Server() { Shutdown(); }

Status Server::Start() {
  if (!options_.tls_certificate_file.empty() || !options_.tls_private_key_file.empty()) {
    // TLS 1.2 and 1.3 with OpenSSL 3's default ciphers; no compression, no renegotiation.
    tls_ = std::make_unique<Tls>();
    tls_->ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX* ctx = tls_->ctx;
    if (ctx == nullptr || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
      return Internal("MLLP: cannot set up TLS: " + OpenSslError());
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, options_.tls_certificate_file.c_str()) != 1) {
      return Invalid("MLLP: cannot load the TLS certificate chain from '" +
                     options_.tls_certificate_file + "': " + OpenSslError());
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, options_.tls_private_key_file.c_str(), SSL_FILETYPE_PEM) !=
            1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      return Invalid("MLLP: cannot use the TLS private key in '" + options_.tls_private_key_file +
                     "' with that certificate: " + OpenSslError());
    }
    if (!options_.tls_client_ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx, options_.tls_client_ca_file.c_str(), nullptr) != 1) {
        return Invalid("MLLP: cannot load the client CA certificates from '" +
                       options_.tls_client_ca_file + "': " + OpenSslError());
      }
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options_.port);
  if (getaddrinfo(options_.listen.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
    return Status(StatusCode::kUnavailable, "MLLP: cannot resolve " + options_.listen);
  }
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    freeaddrinfo(found);
    return Status(StatusCode::kUnavailable,
                  "MLLP: cannot listen on " + options_.listen + ":" + port + ": " + why);
  }
  freeaddrinfo(found);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listen_fd_ = fd;
  acceptor_ = std::thread([this] { Accept(); });
  return Status::Ok();
}

void Server::Accept() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu_);
    // Ended connections' threads are joined here, as new ones arrive.
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->done) {
        (*it)->thread.join();
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      LogWarning("MLLP: " + std::to_string(options_.max_connections) +
                 " connections open, the most allowed; closing a new one");
      ::close(fd);
      continue;
    }
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    Connection* raw = c.get();
    connections_.push_back(std::move(c));
    raw->thread = std::thread([this, raw] { Serve(raw); });
  }
}

void Server::Serve(Connection* c) {
  if (tls_) {
    // The handshake, bounded in time: a silent client does not hold the thread.
    timeval tv{10, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    c->ssl = SSL_new(tls_->ctx);
    if (c->ssl == nullptr || SSL_set_fd(c->ssl, c->fd) != 1 || SSL_accept(c->ssl) != 1) {
      LogWarning("MLLP: a TLS handshake failed: " + OpenSslError());
      if (c->ssl != nullptr) SSL_free(c->ssl);
      c->ssl = nullptr;
      ::close(c->fd);
      c->done = true;
      return;
    }
  }
  hl7v2::FrameDecoder decoder(options_.max_frame_bytes);
  std::vector<char> buffer(64 * 1024);
  std::vector<std::string> frames;
  auto idle_deadline = std::chrono::steady_clock::now() + options_.idle_timeout;
  while (!stopping_) {
    pollfd p{c->fd, POLLIN, 0};
    const int ready = c->ssl != nullptr && SSL_pending(c->ssl) > 0 ? 1 : ::poll(&p, 1, 200);
    if (ready == 0) {
      if (std::chrono::steady_clock::now() > idle_deadline) break;
      continue;
    }
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    ssize_t n = 0;
    if (c->ssl != nullptr) {
      n = SSL_read(c->ssl, buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) {
        const int e = SSL_get_error(c->ssl, static_cast<int>(n));
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) continue;
        break;  // closed (close_notify or not), or a TLS error
      }
    } else {
      n = ::recv(c->fd, buffer.data(), buffer.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // closed by the sender, or reset
    }
    idle_deadline = std::chrono::steady_clock::now() + options_.idle_timeout;
    frames.clear();
    Status fed = decoder.Feed(std::string_view(buffer.data(), static_cast<size_t>(n)), &frames);
    bool ok = true;
    for (const std::string& frame : frames) {
      const std::string ack = handler_(frame);
      if (!ack.empty() && !SendAll(c->fd, c->ssl, hl7v2::Frame(ack))) {
        ok = false;
        break;
      }
    }
    if (!ok) break;
    if (!fed.ok()) {
      LogWarning("MLLP: " + fed.message() + "; the connection is closed");
      (void)SendAll(c->fd, c->ssl, hl7v2::Frame(OversizeAck(options_.max_frame_bytes)));
      break;
    }
  }
  if (c->ssl != nullptr) {
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
    c->ssl = nullptr;
  }
  ::shutdown(c->fd, SHUT_RDWR);
  ::close(c->fd);
  c->done = true;
}

void Server::Shutdown() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  std::lock_guard lock(mu_);
  for (auto& c : connections_) {
    if (c->thread.joinable()) c->thread.join();
  }
  connections_.clear();
}

}  // namespace vesta::mllp
