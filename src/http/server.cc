// The HTTP/1.1 server on Boost.Beast + Asio: the acceptor, the event loops, shutdown, and the
// response to each request. The rest of vesta_http is beside it: session.h (one connection, a
// template on its stream), server_core.h (what connections and this file share), tls_context.cc
// (the TLS configuration), and what needs no socket: message.h (the request-target,
// Accept-Encoding, Date, header-field checks), cors.h and gzip.h (zlib).
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
// Specs: RFC 9110 (HTTP semantics), RFC 9112 (HTTP/1.1 message syntax), RFC 1952 (gzip),
// https://fetch.spec.whatwg.org/ (CORS).
#include "http/server.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <csignal>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/log.h"
#include "base/strings.h"
#include "http/cors.h"
#include "http/gzip.h"
#include "http/message.h"
#include "http/server_core.h"
#include "http/session.h"
#include "http/tls_context.h"

namespace vesta::http {
namespace internal {
namespace {

// Graceful shutdown waits this long for in-flight requests before closing everything.
constexpr auto kShutdownGrace = std::chrono::seconds(10);

}  // namespace

// ---------------------------------------------------------------------------------------------
// Start-up, the acceptor and shutdown.

Status ServerCore::Start() {
  if (started_) return Status(StatusCode::kInternal, "Start() called twice");
  for (const std::string& origin : options_.cors_origins) {
    RETURN_IF_ERROR(ValidateCorsOrigin(origin));
  }
  try {
    if (!options_.tls_certificate_file.empty() || !options_.tls_private_key_file.empty()) {
      Result<asio::ssl::context> tls =
          LoadTlsContext(options_.tls_certificate_file, options_.tls_private_key_file);
      if (!tls.ok()) return tls.status();
      tls_.emplace(std::move(tls).value());
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

// ---------------------------------------------------------------------------------------------
// Each request's response.

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
          403, {{"Content-Type", "text/plain; charset=utf-8"}}, "CORS: origin not allowed\n", ""};
    } else {
      r = Response{
          204,
          CorsPolicy::PreflightHeaders(exchange.request.Header("Access-Control-Request-Headers")),
          "", ""};
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
  if (!response.body_file.empty()) {
    return BuildFile(std::move(response), exchange.context, exchange.keep_alive);
  }
  return {Build(std::move(response), exchange.context, exchange.keep_alive), !exchange.keep_alive};
}

Outgoing ServerCore::BuildFile(Response response, const ResponseContext& context,
                               bool keep_alive) const {
  bhttp::file_body::value_type file;
  beast::error_code ec;
  file.open(response.body_file.c_str(), beast::file_mode::scan, ec);
  if (ec) {
    LogError("http: cannot open " + response.body_file + ": " + ec.message());
    return {
        Build(ErrorResponse(500, "the file of this response cannot be read"), context, keep_alive),
        !keep_alive};
  }
  if (response.remove_body_file) ::unlink(response.body_file.c_str());
  const uint64_t size = file.size();
  response.body.clear();
  response.body_file.clear();
  // The header as for any response (no gzip: the body is empty here), then the file's length.
  Outgoing out{Build(std::move(response), context, keep_alive), !keep_alive};
  out.message.content_length(size);
  if (!context.head) {
    out.file_message.emplace(std::move(out.message.base()), std::move(file));
    out.file_message->content_length(size);
  }
  return out;
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
    response = Response{
        500, {{"Content-Type", "text/plain; charset=utf-8"}}, "internal server error\n", ""};
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

}  // namespace internal

// ---------------------------------------------------------------------------------------------
// Public API.

std::string_view Request::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return {};
}

class Server::Impl : public internal::ServerCore {
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
