// The HTTP/1.1 server on Boost.Beast + Asio: connections, the acceptor and the event loops.
// Everything Beast/Asio stays in this file; what needs neither is beside it: message.h (the
// request-target, Accept-Encoding, Date, header-field checks) and gzip.h (zlib).
//
// Shape: `threads` event loops, each an io_context run by one thread, and one more io_context on
// the thread that calls Run() for the acceptor, signals and shutdown. A new connection goes to the
// loop with the fewest connections and stays there; it is a Session that handles one request at
// a time (read header → check → read body → Handler → write → next), so pipelined requests are
// answered in order from the bytes left in the read buffer (RFC 9112 §9.3.2). The Handler runs
// inline on its loop's thread. With up to `threads` connections each has a thread to itself, and
// a request costs no hand-off between threads: measured with wrk (32 connections, loopback, 2
// cores), one io_context shared by all threads cost about 12 context switches per request, and
// 32-client durable creates ran 25-45% faster once each loop had its own thread (docs/
// benchmarks.md). The price: beyond `threads` connections, connections share a loop, and a
// Handler that blocks holds up the others on its loop (not the whole server). Size `threads` for
// the number of connections that may be inside the Handler at once.
//
// TLS: with a certificate and key, every connection is a Session over Beast's ssl_stream (Asio's
// ssl::stream with OpenSSL) instead of a plain tcp_stream. Session is a template on the stream,
// so that the plain path pays nothing for TLS: no virtual call or extra allocation per request;
// only the shutdown registry sees connections through the small Connection interface.
//
// Specs: RFC 9110 (HTTP semantics), RFC 9112 (HTTP/1.1 message syntax), RFC 1952 (gzip),
// RFC 8446 (TLS 1.3) and RFC 5246 (TLS 1.2), https://fetch.spec.whatwg.org/ (CORS).
#include "http/server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "base/log.h"
#include "base/strings.h"
#include "http/cors.h"
#include "http/gzip.h"
#include "http/message.h"

namespace vesta::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using BeastResponse = bhttp::response<bhttp::string_body>;
using Clock = std::chrono::steady_clock;

// A request header block larger than this is refused (431); 64 KiB is far above what browsers
// and FHIR clients send and keeps a slow client's memory bounded.
constexpr uint32_t kHeaderLimit = 64 * 1024;
// How long writing one response may take before the client is deemed gone.
constexpr auto kWriteTimeout = std::chrono::seconds(60);
// After the last response on a connection we stop sending and read (and discard) what the client
// still sends for at most this long, so that the response is not destroyed by a TCP reset
// (RFC 9112 §9.6, "tear-down").
constexpr auto kLingerTimeout = std::chrono::seconds(2);
// Graceful shutdown waits this long for in-flight requests before closing everything.
constexpr auto kShutdownGrace = std::chrono::seconds(10);

using internal::AcceptsGzip;
using internal::CorsPolicy;
using internal::GzipCompress;
using internal::GzipInflate;
using internal::HttpDate;
using internal::InflateResult;
using internal::IsSafeValue;
using internal::IsToken;
using internal::ParseTarget;

// Beast 1.74 speaks boost::string_view.
std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }
beast::string_view Bv(std::string_view s) { return {s.data(), s.size()}; }

// https://ssl-config.mozilla.org/ "intermediate" (OpenSSL 3, 2024 guidelines, version 5.7): the
// TLS 1.2 suites, ECDHE key exchange (forward secrecy) with an AEAD cipher only. The profile's
// DHE suites are left out: they need DH parameters, and every client of TLS 1.2 has ECDHE.
// TLS 1.3's suites are OpenSSL's defaults, all of which the profile allows.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kTlsGroups[] = "X25519:prime256v1:secp384r1";

// ---------------------------------------------------------------------------------------------

// What the response builder needs to know about the request it answers.
struct ResponseContext {
  unsigned version = 11;
  bool head = false;
  bool accepts_gzip = false;
  // CORS, when configured: the Access-Control-Allow-Origin to send ("" for none), and whether the
  // request is a preflight (answered by the server).
  std::string allow_origin;
  bool preflight = false;
};

// The TCP peer of a connection, as Request reports it.
struct Peer {
  std::string address;
  uint16_t port = 0;
};

// One parsed request on its way to the Handler.
struct Exchange {
  Request request;
  ResponseContext context;
  bool keep_alive = true;
  bool gzip_body = false;  // Content-Encoding: gzip, inflated before the Handler sees it
};

struct Outgoing {
  BeastResponse message;
  bool close = false;
};

// What the registry of live connections needs of one, whatever its stream; used at shutdown only.
class Connection {
 public:
  virtual ~Connection() = default;
  // See Session.
  virtual void Stop() = 0;
  virtual void CloseNow() = 0;
  virtual beast::tcp_stream::executor_type executor() = 0;
};

// The shared state of one server: options, the Handler, the acceptor and the live sessions.
class ServerCore {
 public:
  ServerCore(ServerOptions options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {}
  ~ServerCore() { destroying_ = true; }

  Status Start();
  uint16_t port() const { return port_; }
  void Run();
  void Shutdown();

  // For sessions.
  const ServerOptions& options() const { return options_; }
  const CorsPolicy& cors() const { return cors_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  void Register(const std::shared_ptr<Connection>& session);
  void Unregister(Connection* session);
  // Runs the Handler (or inflates first) and builds the response. Thread-safe.
  Outgoing Process(Exchange exchange) const;
  // The response for an error the server detects itself, from options.error_responder.
  Response ErrorResponse(int status, const std::string& message) const;
  BeastResponse Build(Response response, const ResponseContext& context, bool keep_alive) const;

 private:
  Status LoadTls();
  void WaitForSignal();
  void Accept();
  struct Loop;
  void OnAccept(beast::error_code ec, tcp::socket socket, Loop& loop);
  void BeginShutdown();
  void MaybeFinish();
  void StopAll();
  Loop* LeastLoaded();
  std::vector<std::shared_ptr<Connection>> LiveSessions();
  Response CallHandler(const Request& request) const;

  const ServerOptions options_;
  const Handler handler_;
  const CorsPolicy cors_{options_.cors_origins};
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  bool destroying_ = false;
  uint16_t port_ = 0;

  std::mutex mu_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> sessions_;  // guarded by mu_
  // Set by Start() when TLS is configured; shared by every connection (OpenSSL's SSL_CTX is
  // thread-safe for making connections).
  std::optional<asio::ssl::context> tls_;

  // Declared after the session registry: the io_contexts destroy queued handlers (and with them
  // sessions, which unregister) before the registry goes away.
  // Each connection lives on one of `loops_`, an io_context run by one thread of its own.
  struct Loop {
    std::atomic<int> sessions{0};  // declared first: `io`'s queued handlers hold sessions
    asio::io_context io{1};
  };
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> loop_work_;
  // `io_` runs the acceptor, signals and shutdown timer on the thread that calls Run(). Declared
  // after the loops, so destroyed before them: a pending accept holds a socket of a loop's
  // io_context, which must outlive it.
  asio::io_context io_{1};
  asio::strand<asio::io_context::executor_type> strand_{asio::make_strand(io_)};
  tcp::acceptor acceptor_{strand_};
  asio::steady_timer accept_retry_{strand_};
  asio::steady_timer deadline_{strand_};
  std::optional<asio::signal_set> signals_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
};

// One connection over `Stream`: beast::tcp_stream (plain HTTP) or TlsStream. All members are
// touched only on the connection's strand.
template <class Stream>
class Session final : public Connection, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  // `stream_args` follow the socket into Stream's constructor (TlsStream: the ssl::context).
  template <class... StreamArgs>
  Session(ServerCore& core, tcp::socket socket, Peer peer, std::atomic<int>& loop_sessions,
          StreamArgs&... stream_args)
      : core_(core),
        stream_(std::move(socket), stream_args...),
        peer_(std::move(peer)),
        loop_sessions_(loop_sessions) {}
  ~Session() override {
    loop_sessions_.fetch_sub(1, std::memory_order_relaxed);
    core_.Unregister(this);
  }

  void Start() {
    asio::dispatch(executor(),
                   beast::bind_front_handler(&Session::Begin, this->shared_from_this()));
  }

  // Graceful shutdown: an idle keep-alive connection (or one still in its TLS handshake) is
  // closed now; one with a request in progress closes after its response (ReadRequest and Write
  // check core_.stopping()).
  void Stop() override {
    if ((state_ == State::kReadingHeader && buffer_.size() == 0) || state_ == State::kHandshaking) {
      Close();
    }
  }

  beast::tcp_stream::executor_type executor() override { return stream_.get_executor(); }

  // After a forced stop, when no thread runs the io_context any more.
  void CloseNow() override { Close(); }

 private:
  enum class State {
    kHandshaking,
    kReadingHeader,
    kReadingBody,
    kHandling,
    kWriting,
    kLingering,
    kClosed
  };

  // The TCP stream under TLS, or the stream itself: timeouts and the socket.
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  void Begin() {
    if constexpr (kTls) {
      // The handshake and the first request's header share one deadline (ReadRequest keeps it):
      // a client that connects and sends nothing is dropped after idle_timeout, TLS or not.
      state_ = State::kHandshaking;
      Tcp().expires_after(core_.options().idle_timeout);
      keep_deadline_ = true;
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          beast::bind_front_handler(&Session::OnHandshake, this->shared_from_this()));
    } else {
      ReadRequest();
    }
  }

  // A failed handshake (plain HTTP sent to the TLS port, a protocol version or cipher suite
  // refused, a timeout) has no one to answer: the connection closes.
  void OnHandshake(beast::error_code ec) {
    if (ec) return Close();
    ReadRequest();
  }

  void ReadRequest() {
    if (core_.stopping()) return Close();
    state_ = State::kReadingHeader;
    context_ = ResponseContext{};
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(core_.options().max_body_bytes);
    if (!keep_deadline_) Tcp().expires_after(core_.options().idle_timeout);
    keep_deadline_ = false;
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::OnHeader, this->shared_from_this()));
  }

  // What the response needs of the request's header (also for an error found after it).
  void ReadContext(const bhttp::request<bhttp::string_body>& req) {
    context_.version = req.version();
    context_.head = req.method() == bhttp::verb::head;
    context_.accepts_gzip = AcceptsGzip(Sv(req[bhttp::field::accept_encoding]));
    if (core_.cors().enabled()) {
      // https://fetch.spec.whatwg.org/#cors-preflight-fetch: a preflight is an OPTIONS request
      // with Origin and Access-Control-Request-Method.
      std::string_view origin = Sv(req[bhttp::field::origin]);
      context_.allow_origin = core_.cors().AllowOrigin(origin);
      context_.preflight = req.method() == bhttp::verb::options && !origin.empty() &&
                           req.count(bhttp::field::access_control_request_method) > 0;
    }
  }

  void OnHeader(beast::error_code ec, size_t /*bytes*/) {
    if (ec) return OnReadError(ec);
    const auto& req = parser_->get();
    ReadContext(req);
    // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request without a Host field or
    // with more than one.
    size_t hosts = req.count(bhttp::field::host);
    if ((req.version() >= 11 && hosts == 0) || hosts > 1) {
      return SendError(400, "missing or repeated Host header");
    }
    // RFC 9110 §8.4: only gzip (and its alias x-gzip) is decoded; anything else is 415
    // (§15.5.16).
    std::string_view encoding = Trim(Sv(req[bhttp::field::content_encoding]), kHttpWhitespace);
    gzip_body_ = false;
    if (EqualsIgnoreCase(encoding, "gzip") || EqualsIgnoreCase(encoding, "x-gzip")) {
      gzip_body_ = true;
    } else if (!encoding.empty() && !EqualsIgnoreCase(encoding, "identity")) {
      return SendError(415, "unsupported Content-Encoding: " + std::string(encoding));
    }
    // A declared length over the limit is refused before any of the body is read (§15.5.14).
    if (auto length = parser_->content_length();
        length && *length > core_.options().max_body_bytes) {
      return SendError(413, "request body larger than " +
                                std::to_string(core_.options().max_body_bytes) + " bytes");
    }
    request_ = Request{};
    request_.remote_address = peer_.address;
    request_.remote_port = peer_.port;
    request_.tls = kTls;
    request_.method = std::string(Sv(req.method_string()));
    request_.target = std::string(Sv(req.target()));
    if (!ParseTarget(request_.target, request_)) {
      return SendError(400, "malformed request target");
    }
    if (parser_->is_done()) return Dispatch();
    // RFC 9110 §10.1.1: answer "100-continue" before reading the body the client is holding.
    if (req.version() >= 11 &&
        EqualsIgnoreCase(Trim(Sv(req[bhttp::field::expect]), kHttpWhitespace), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      state_ = State::kReadingBody;
      Tcp().expires_after(kWriteTimeout);
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = this->shared_from_this()](beast::error_code wec, size_t) {
                          if (wec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    state_ = State::kReadingBody;
    Tcp().expires_after(core_.options().idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnBody, this->shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t /*bytes*/) {
    if (ec) return OnReadError(ec);
    Dispatch();
  }

  void OnReadError(beast::error_code ec) {
    // A declared Content-Length over the limit fails the header read itself, after every field
    // was parsed.
    if (parser_ && (parser_->is_header_done() || ec == bhttp::error::body_limit)) {
      ReadContext(parser_->get());
    }
    if (ec == bhttp::error::body_limit) {
      return SendError(413, "request body larger than " +
                                std::to_string(core_.options().max_body_bytes) + " bytes");
    }
    if (ec == bhttp::error::header_limit) {
      // RFC 6585 §5.
      return SendError(431, "request header fields too large");
    }
    // end_of_stream: the client closed between requests; partial_message: it closed mid-request.
    // Neither is answered. Other parser errors are malformed requests (RFC 9112 §2.2: 400). Under
    // TLS a close without close_notify is ssl::error::stream_truncated, also not answered.
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      return SendError(400, "malformed HTTP request: " + ec.message());
    }
    Close();  // EOF, reset, timeout, or cancelled by Stop()
  }

  void Dispatch() {
    state_ = State::kHandling;
    auto& req = parser_->get();
    Exchange exchange;
    exchange.request = std::move(request_);
    exchange.context = std::move(context_);
    exchange.keep_alive = req.keep_alive();
    exchange.gzip_body = gzip_body_;
    exchange.request.headers.reserve(std::distance(req.begin(), req.end()));
    for (const auto& field : req) {
      exchange.request.headers.emplace_back(std::string(Sv(field.name_string())),
                                            std::string(Sv(field.value())));
    }
    exchange.request.body = std::move(req.body());
    parser_.reset();
    // The Handler may block; it runs on this io thread, one of options.threads.
    Write(core_.Process(std::move(exchange)));
  }

  // Answers an error found before the request was fully read; the connection closes after it,
  // lingering because the client may still be sending the rest of the request.
  void SendError(int status, const std::string& message) {
    Outgoing out{core_.Build(core_.ErrorResponse(status, message), context_, false), true};
    linger_ = true;
    Write(std::move(out));
  }

  void Write(Outgoing out) {
    state_ = State::kWriting;
    response_ = std::move(out.message);
    close_after_ = out.close || core_.stopping();
    if (close_after_) response_.keep_alive(false);
    Tcp().expires_after(kWriteTimeout);
    bhttp::async_write(stream_, response_,
                       beast::bind_front_handler(&Session::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t /*bytes*/) {
    response_ = {};
    if (ec) return Close();
    if (close_after_) return Linger();
    ReadRequest();
  }

  // Half-closes and discards what the client still sends, for a bounded time, so that unread
  // request bytes do not turn our close into a reset that destroys the response (RFC 9112 §9.6).
  // An ordinary close (Connection: close, shutdown) skips the wait unless bytes are already
  // waiting: a client that asked to close is not sending more.
  // Under TLS the close starts with close_notify (RFC 8446 §6.1; RFC 5246 §7.2.1), which
  // async_shutdown sends before it waits, within the linger time, for the client's; then the TCP
  // connection lingers as a plain one does (its bytes, still encrypted, are discarded unread).
  void Linger() {
    state_ = State::kLingering;
    if constexpr (kTls) {
      Tcp().expires_after(kLingerTimeout);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->LingerTcp(); });
    } else {
      LingerTcp();
    }
  }

  void LingerTcp() {
    beast::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    if (!linger_ && buffer_.size() == 0 && Tcp().socket().available(ec) == 0) return Close();
    Tcp().expires_after(kLingerTimeout);
    Drain();
  }

  void Drain() {
    Tcp().async_read_some(asio::buffer(drain_),
                          [self = this->shared_from_this()](beast::error_code ec, size_t) {
                            if (ec) return self->Close();
                            self->Drain();
                          });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    beast::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    Tcp().close();
  }

  ServerCore& core_;
  Stream stream_;
  const Peer peer_;
  std::atomic<int>& loop_sessions_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request request_;
  ResponseContext context_;
  bool gzip_body_ = false;
  BeastResponse response_;
  bool close_after_ = false;
  bool linger_ = false;  // an error answered before the whole request was read
  State state_ = State::kReadingHeader;
  bool keep_deadline_ = false;  // the next header read keeps the handshake's deadline
  std::array<char, 4096> drain_;
};

// ---------------------------------------------------------------------------------------------
// ServerCore.

Status ServerCore::Start() {
  if (started_) return Status(StatusCode::kInternal, "Start() called twice");
  for (const std::string& origin : options_.cors_origins) {
    RETURN_IF_ERROR(internal::ValidateCorsOrigin(origin));
  }
  try {
    if (!options_.tls_certificate_file.empty() || !options_.tls_private_key_file.empty()) {
      RETURN_IF_ERROR(LoadTls());
    }
    beast::error_code ec;
    tcp::endpoint endpoint;
    auto address = asio::ip::make_address(options_.listen, ec);
    if (!ec) {
      endpoint = tcp::endpoint(address, options_.port);
    } else {
      tcp::resolver resolver(io_);
      auto results = resolver.resolve(options_.listen, std::to_string(options_.port),
                                      tcp::resolver::passive, ec);
      if (ec || results.empty()) {
        return Status(StatusCode::kUnavailable,
                      "cannot resolve listen address '" + options_.listen + "'");
      }
      endpoint = results.begin()->endpoint();
    }
    auto fail = [&](const char* what) {
      beast::error_code ignored;
      acceptor_.close(ignored);
      return Status(StatusCode::kUnavailable, std::string(what) + " " + options_.listen + ":" +
                                                  std::to_string(options_.port) + ": " +
                                                  ec.message());
    };
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) return fail("cannot open a socket for");
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return fail("cannot set SO_REUSEADDR on");
    acceptor_.bind(endpoint, ec);
    if (ec) return fail("cannot bind");
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("cannot listen on");
    port_ = acceptor_.local_endpoint(ec).port();
    if (ec) return fail("cannot read the bound port of");

    work_.emplace(io_.get_executor());
    int loops = std::max(1, options_.threads);
    loops_.reserve(loops);
    loop_work_.reserve(loops);
    for (int i = 0; i < loops; ++i) {
      loops_.push_back(std::make_unique<Loop>());
      loop_work_.push_back(asio::make_work_guard(loops_.back()->io));
    }
    if (options_.handle_signals) {
      signals_.emplace(strand_, SIGINT, SIGTERM);
      WaitForSignal();
    }
    started_ = true;
    asio::post(strand_, [this] { Accept(); });
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status(StatusCode::kUnavailable, std::string("cannot start the server: ") + e.what());
  }
}

// The reason OpenSSL gave for `ec` (an asio::error::get_ssl_category() code), or ec's message.
std::string TlsError(const beast::error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    if (const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) {
      return reason;
    }
  }
  return ec.message();
}

// Start() reads the files once; this names the one that cannot be read, with the OS's reason,
// before OpenSSL's less telling "system lib".
Status CheckReadable(const std::string& path, const char* what) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) {
    return Status(StatusCode::kInvalid, std::string("cannot read the TLS ") + what + " file '" +
                                            path + "': " + std::strerror(errno));
  }
  std::fclose(f);
  return Status::Ok();
}

// https://ssl-config.mozilla.org/ "intermediate": TLS 1.2 and 1.3, the suites of kTls12Ciphers,
// the client's preference among them ("ssl_prefer_server_ciphers off": every suite offered is
// strong, and the client knows whether it has AES hardware), no compression (CRIME), no
// renegotiation. Session tickets stay on (OpenSSL's default; the key lives as long as the
// process).
Status ServerCore::LoadTls() {
  const std::string& cert = options_.tls_certificate_file;
  const std::string& key = options_.tls_private_key_file;
  if (cert.empty() || key.empty()) {
    return Status(StatusCode::kInvalid,
                  "TLS needs both a certificate file and a private key file, got only the " +
                      std::string(cert.empty() ? "key" : "certificate"));
  }
  RETURN_IF_ERROR(CheckReadable(cert, "certificate"));
  RETURN_IF_ERROR(CheckReadable(key, "private key"));
  tls_.emplace(asio::ssl::context::tls_server);
  SSL_CTX* ctx = tls_->native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kTlsGroups) != 1) {
    tls_.reset();
    return Status(StatusCode::kInternal, "this OpenSSL lacks the TLS versions or ciphers needed");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An encrypted key would make OpenSSL prompt on the terminal; an empty password fails instead.
  tls_->set_password_callback(
      [](size_t, asio::ssl::context::password_purpose) { return std::string(); });
  beast::error_code ec;
  tls_->use_certificate_chain_file(cert, ec);
  if (ec) {
    tls_.reset();
    return Status(StatusCode::kInvalid, "cannot load the TLS certificate chain from '" + cert +
                                            "' (PEM expected): " + TlsError(ec));
  }
  tls_->use_private_key_file(key, asio::ssl::context::pem, ec);
  if (!ec && SSL_CTX_check_private_key(ctx) != 1) {
    ec.assign(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category());
    ERR_clear_error();
    if (!ec) ec = asio::error::invalid_argument;
  }
  if (ec) {
    bool mismatch =
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH ||
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_PRIVATE_KEY_MISMATCH;
    tls_.reset();
    if (mismatch) {
      return Status(StatusCode::kInvalid, "the TLS private key in '" + key +
                                              "' does not match the certificate in '" + cert + "'");
    }
    return Status(StatusCode::kInvalid, "cannot load the TLS private key from '" + key +
                                            "' (PEM, not encrypted, expected): " + TlsError(ec));
  }
  return Status::Ok();
}

// The first SIGINT/SIGTERM starts a graceful shutdown; a second one stops at once (an operator
// pressing Ctrl-C again does not want to wait for the grace period).
void ServerCore::WaitForSignal() {
  signals_->async_wait([this](beast::error_code ec, int signal) {
    if (ec) return;
    if (stopping()) {
      LogWarning("signal " + std::to_string(signal) + " during shutdown: stopping now");
      StopAll();
      return;
    }
    LogInfo("signal " + std::to_string(signal) + ": shutting down");
    Shutdown();
    WaitForSignal();
  });
}

// The loop with the fewest connections, so that up to `threads` connections each have a thread
// of their own and a blocking Handler holds up only the connections that share its loop.
ServerCore::Loop* ServerCore::LeastLoaded() {
  Loop* best = loops_.front().get();
  int least = best->sessions.load(std::memory_order_relaxed);
  for (auto& loop : loops_) {
    int n = loop->sessions.load(std::memory_order_relaxed);
    if (n < least) least = n, best = loop.get();
  }
  return best;
}

void ServerCore::Accept() {
  if (stopping()) return;
  Loop* loop = LeastLoaded();
  acceptor_.async_accept(
      loop->io.get_executor(),
      [this, loop](beast::error_code ec, tcp::socket s) { OnAccept(ec, std::move(s), *loop); });
}

void ServerCore::OnAccept(beast::error_code ec, tcp::socket socket, Loop& loop) {
  if (ec == asio::error::operation_aborted || stopping()) return;
  if (ec) {
    // Typically EMFILE: back off briefly rather than spin on the failing accept.
    LogWarning("accept failed: " + ec.message());
    accept_retry_.expires_after(std::chrono::milliseconds(100));
    accept_retry_.async_wait([this](beast::error_code tec) {
      if (!tec) Accept();
    });
    return;
  }
  beast::error_code ignored;
  // Responses go out in one write; Nagle would only delay the next pipelined one.
  socket.set_option(tcp::no_delay(true), ignored);
  Peer peer;
  if (tcp::endpoint remote = socket.remote_endpoint(ignored); !ignored) {
    asio::ip::address address = remote.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    peer.address = address.to_string();
    peer.port = remote.port();
  }
  loop.sessions.fetch_add(1, std::memory_order_relaxed);
  if (tls_) {
    auto session = std::make_shared<Session<TlsStream>>(*this, std::move(socket), std::move(peer),
                                                        loop.sessions, *tls_);
    Register(session);
    session->Start();
  } else {
    auto session = std::make_shared<Session<beast::tcp_stream>>(*this, std::move(socket),
                                                                std::move(peer), loop.sessions);
    Register(session);
    session->Start();
  }
  Accept();
}

void ServerCore::Register(const std::shared_ptr<Connection>& session) {
  std::lock_guard lock(mu_);
  sessions_.emplace(session.get(), session);
}

void ServerCore::Unregister(Connection* session) {
  bool finished;
  {
    std::lock_guard lock(mu_);
    sessions_.erase(session);
    finished = sessions_.empty();
  }
  if (finished && !destroying_) MaybeFinish();
}

std::vector<std::shared_ptr<Connection>> ServerCore::LiveSessions() {
  std::vector<std::shared_ptr<Connection>> live;
  std::lock_guard lock(mu_);
  live.reserve(sessions_.size());
  for (auto& [ptr, weak] : sessions_) {
    if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  return live;
}

void ServerCore::MaybeFinish() {
  if (!stopping()) return;
  {
    std::lock_guard lock(mu_);
    if (!sessions_.empty()) return;
  }
  StopAll();
}

void ServerCore::StopAll() {
  io_.stop();
  for (auto& loop : loops_) loop->io.stop();
}

void ServerCore::Shutdown() {
  if (stopping_.exchange(true, std::memory_order_acq_rel)) return;
  asio::post(strand_, [this] { BeginShutdown(); });
}

void ServerCore::BeginShutdown() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
  for (auto& session : LiveSessions()) {
    asio::post(session->executor(), [session] { session->Stop(); });
  }
  deadline_.expires_after(kShutdownGrace);
  deadline_.async_wait([this](beast::error_code ec) {
    if (ec) return;
    LogWarning("shutdown: requests still in flight after the grace period; closing them");
    StopAll();
  });
  MaybeFinish();
}

void ServerCore::Run() {
  if (!started_) return;
  auto run = [](asio::io_context& io) {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        // Our handlers catch what they expect; this keeps a surprise from ending the thread.
        LogError(std::string("http: unexpected exception: ") + e.what());
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(loops_.size());
  for (auto& loop : loops_) pool.emplace_back([&run, &loop] { run(loop->io); });
  run(io_);
  // io_ stops last (StopAll), or first on a forced stop: either way every loop is stopped.
  for (auto& loop : loops_) loop->io.stop();
  for (auto& t : pool) t.join();
  // A forced stop may leave connections open; no thread runs the io_context any more, so they
  // can be closed from here.
  for (auto& session : LiveSessions()) session->CloseNow();
}

Response ServerCore::CallHandler(const Request& request) const {
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    LogError(std::string("http: handler threw: ") + e.what());
  } catch (...) {
    LogError("http: handler threw a non-standard exception");
  }
  return ErrorResponse(500, "internal server error");
}

Outgoing ServerCore::Process(Exchange exchange) const {
  if (exchange.context.preflight) {
    // https://fetch.spec.whatwg.org/#http-responses: the server answers the preflight itself,
    // with "ok" status (204) for an allowed origin. A refused one gets no CORS headers, so the
    // browser fails the request; the 403 tells a person reading the network log why.
    Response r;
    if (exchange.context.allow_origin.empty()) {
      r = Response{
          403, {{"Content-Type", "text/plain; charset=utf-8"}}, "CORS: origin not allowed\n"};
    } else {
      r = Response{
          204,
          CorsPolicy::PreflightHeaders(exchange.request.Header("Access-Control-Request-Headers")),
          ""};
    }
    return {Build(std::move(r), exchange.context, exchange.keep_alive), !exchange.keep_alive};
  }
  if (exchange.gzip_body) {
    std::string inflated;
    // The body was framed and read in full, so the connection stays usable after these errors.
    switch (GzipInflate(exchange.request.body, options_.max_body_bytes, inflated)) {
      case InflateResult::kOk:
        exchange.request.body = std::move(inflated);
        break;
      case InflateResult::kCorrupt:
        return {Build(ErrorResponse(400, "corrupt gzip request body"), exchange.context,
                      exchange.keep_alive),
                !exchange.keep_alive};
      case InflateResult::kTooLarge:
        return {Build(ErrorResponse(413, "request body larger than " +
                                             std::to_string(options_.max_body_bytes) +
                                             " bytes once inflated"),
                      exchange.context, exchange.keep_alive),
                !exchange.keep_alive};
    }
  }
  Response response = CallHandler(exchange.request);
  return {Build(std::move(response), exchange.context, exchange.keep_alive), !exchange.keep_alive};
}

Response ServerCore::ErrorResponse(int status, const std::string& message) const {
  Response r;
  bool built = false;
  if (options_.error_responder) {
    try {
      r = options_.error_responder(status, message);
      built = true;
    } catch (const std::exception& e) {
      LogError(std::string("http: error responder threw: ") + e.what());
    } catch (...) {
      LogError("http: error responder threw");
    }
  }
  if (!built) {
    r = Response{};
    r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    r.body = message + "\n";
  }
  r.status = status;
  return r;
}

BeastResponse ServerCore::Build(Response response, const ResponseContext& context,
                                bool keep_alive) const {
  BeastResponse m;
  m.version(context.version);
  // 1xx is the server's business (100-continue); 101 upgrades are not supported.
  if (response.status < 200 || response.status > 999) {
    LogError("http: handler returned status " + std::to_string(response.status));
    response =
        Response{500, {{"Content-Type", "text/plain; charset=utf-8"}}, "internal server error\n"};
  }
  m.result(static_cast<unsigned>(response.status));
  bool has_server = false, has_date = false, has_encoding = false;
  for (auto& [name, value] : response.headers) {
    if (!IsToken(name) || !IsSafeValue(value)) {
      LogError("http: dropped an invalid response header '" + name + "'");
      continue;
    }
    // Framing and connection management are ours (RFC 9112 §6, §9).
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
        EqualsIgnoreCase(name, "Connection")) {
      continue;
    }
    has_server = has_server || EqualsIgnoreCase(name, "Server");
    has_date = has_date || EqualsIgnoreCase(name, "Date");
    has_encoding = has_encoding || EqualsIgnoreCase(name, "Content-Encoding");
    m.insert(name, value);
  }
  if (!has_server) m.set(bhttp::field::server, "vesta");
  if (cors_.enabled()) {
    // https://fetch.spec.whatwg.org/#cors-protocol-and-http-caches: the answer depends on Origin
    // (CORS headers or none), so every response says so, those to requests without one too.
    m.insert(bhttp::field::vary, "Origin");
    if (!context.allow_origin.empty()) {
      m.set(bhttp::field::access_control_allow_origin, context.allow_origin);
      if (!context.preflight) {
        m.set(bhttp::field::access_control_expose_headers, Bv(CorsPolicy::kExposeHeaders));
      }
    }
  }
  // RFC 9110 §6.6.1: an origin server with a clock MUST send Date.
  if (!has_date) m.set(bhttp::field::date, HttpDate());

  // RFC 9110 §15.3.5, §15.4.5: 204 and 304 have no content.
  bool no_content = response.status == 204 || response.status == 304;
  if (no_content) {
    response.body.clear();
  } else {
    if (!has_encoding && response.body.size() >= options_.gzip_min_bytes) {
      // The representation depends on Accept-Encoding whether or not this client takes gzip
      // (RFC 9110 §12.5.5), so caches must see Vary either way.
      m.insert(bhttp::field::vary, "Accept-Encoding");
      std::string compressed;
      if (context.accepts_gzip && GzipCompress(response.body, compressed) &&
          compressed.size() < response.body.size()) {
        response.body = std::move(compressed);
        m.set(bhttp::field::content_encoding, "gzip");
      }
    }
    // RFC 9110 §9.3.2: HEAD gets the header fields a GET would, Content-Length included.
    m.content_length(response.body.size());
    if (!context.head) m.body() = std::move(response.body);
  }
  m.keep_alive(keep_alive);
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public API.

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return {};
}

class Server::Impl : public ServerCore {
 public:
  using ServerCore::ServerCore;
};

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() = default;

Status Server::Start() { return impl_->Start(); }
uint16_t Server::port() const { return impl_->port(); }
void Server::Run() { impl_->Run(); }
void Server::Shutdown() { impl_->Shutdown(); }

}  // namespace vesta::http
