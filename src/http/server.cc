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
// Specs: RFC 9110 (HTTP semantics), RFC 9112 (HTTP/1.1 message syntax), RFC 1952 (gzip).
#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "base/log.h"
#include "base/strings.h"
#include "http/gzip.h"
#include "http/message.h"

namespace vesta::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
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
using internal::GzipCompress;
using internal::GzipInflate;
using internal::HttpDate;
using internal::InflateResult;
using internal::IsSafeValue;
using internal::IsToken;
using internal::ParseTarget;

// Beast 1.74 speaks boost::string_view.
std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

// ---------------------------------------------------------------------------------------------

class Session;

// What the response builder needs to know about the request it answers.
struct ResponseContext {
  unsigned version = 11;
  bool head = false;
  bool accepts_gzip = false;
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
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  void Register(const std::shared_ptr<Session>& session);
  void Unregister(Session* session);
  // Runs the Handler (or inflates first) and builds the response. Thread-safe.
  Outgoing Process(Exchange exchange) const;
  // The response for an error the server detects itself, from options.error_responder.
  Response ErrorResponse(int status, const std::string& message) const;
  BeastResponse Build(Response response, const ResponseContext& context, bool keep_alive) const;

 private:
  void WaitForSignal();
  void Accept();
  struct Loop;
  void OnAccept(beast::error_code ec, tcp::socket socket, Loop& loop);
  void BeginShutdown();
  void MaybeFinish();
  void StopAll();
  Loop* LeastLoaded();
  std::vector<std::shared_ptr<Session>> LiveSessions();
  Response CallHandler(const Request& request) const;

  const ServerOptions options_;
  const Handler handler_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  bool destroying_ = false;
  uint16_t port_ = 0;

  std::mutex mu_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by mu_

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

// One connection. All members are touched only on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerCore& core, tcp::socket socket, std::atomic<int>& loop_sessions)
      : core_(core), stream_(std::move(socket)), loop_sessions_(loop_sessions) {}
  ~Session() {
    loop_sessions_.fetch_sub(1, std::memory_order_relaxed);
    core_.Unregister(this);
  }

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::ReadRequest, shared_from_this()));
  }

  // Graceful shutdown: an idle keep-alive connection is closed now; one with a request in
  // progress closes after its response (ReadRequest and Write check core_.stopping()).
  void Stop() {
    if (state_ == State::kReadingHeader && buffer_.size() == 0) Close();
  }

  beast::tcp_stream::executor_type executor() { return stream_.get_executor(); }

  // After a forced stop, when no thread runs the io_context any more.
  void CloseNow() { Close(); }

 private:
  enum class State { kReadingHeader, kReadingBody, kHandling, kWriting, kLingering, kClosed };

  void ReadRequest() {
    if (core_.stopping()) return Close();
    state_ = State::kReadingHeader;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(core_.options().max_body_bytes);
    stream_.expires_after(core_.options().idle_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  void OnHeader(beast::error_code ec, size_t /*bytes*/) {
    if (ec) return OnReadError(ec);
    const auto& req = parser_->get();
    context_.version = req.version();
    context_.head = req.method() == bhttp::verb::head;
    context_.accepts_gzip = AcceptsGzip(Sv(req[bhttp::field::accept_encoding]));

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
      stream_.expires_after(kWriteTimeout);
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code wec, size_t) {
                          if (wec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    state_ = State::kReadingBody;
    stream_.expires_after(core_.options().idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t /*bytes*/) {
    if (ec) return OnReadError(ec);
    Dispatch();
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return SendError(413, "request body larger than " +
                                std::to_string(core_.options().max_body_bytes) + " bytes");
    }
    if (ec == bhttp::error::header_limit) {
      // RFC 6585 §5.
      return SendError(431, "request header fields too large");
    }
    // end_of_stream: the client closed between requests; partial_message: it closed mid-request.
    // Neither is answered. Other parser errors are malformed requests (RFC 9112 §2.2: 400).
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
    exchange.context = context_;
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
    stream_.expires_after(kWriteTimeout);
    bhttp::async_write(stream_, response_,
                       beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
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
  void Linger() {
    state_ = State::kLingering;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    if (!linger_ && buffer_.size() == 0 && stream_.socket().available(ec) == 0) return Close();
    stream_.expires_after(kLingerTimeout);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  ServerCore& core_;
  beast::tcp_stream stream_;
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
  std::array<char, 4096> drain_;
};

// ---------------------------------------------------------------------------------------------
// ServerCore.

Status ServerCore::Start() {
  if (started_) return Status(StatusCode::kInternal, "Start() called twice");
  try {
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
  loop.sessions.fetch_add(1, std::memory_order_relaxed);
  auto session = std::make_shared<Session>(*this, std::move(socket), loop.sessions);
  Register(session);
  session->Start();
  Accept();
}

void ServerCore::Register(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mu_);
  sessions_.emplace(session.get(), session);
}

void ServerCore::Unregister(Session* session) {
  bool finished;
  {
    std::lock_guard lock(mu_);
    sessions_.erase(session);
    finished = sessions_.empty();
  }
  if (finished && !destroying_) MaybeFinish();
}

std::vector<std::shared_ptr<Session>> ServerCore::LiveSessions() {
  std::vector<std::shared_ptr<Session>> live;
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
