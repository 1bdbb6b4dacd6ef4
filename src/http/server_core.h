// The inside of http::Server: ServerCore owns the options, the Handler, the acceptor, the event
// loops and the registry of live connections, and turns a parsed request into the response to
// write; each connection is a Session (session.h) that reports to it. Internal to vesta_http: it
// spells Beast and Asio, which server.h keeps from every other target (Server::Impl is a
// ServerCore). server.cc has the shape of the event loops and why.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "http/cors.h"
#include "http/server.h"

namespace vesta::http::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using BeastResponse = bhttp::response<bhttp::string_body>;

// Beast 1.74 speaks boost::string_view.
inline std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }
inline beast::string_view Bv(std::string_view s) { return {s.data(), s.size()}; }

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

// A response ready to write, and whether the connection closes after it.
struct Outgoing {
  Outgoing() = default;
  Outgoing(BeastResponse m, bool c) : message(std::move(m)), close(c) {}
  BeastResponse message;
  bool close = false;
  // A body streamed from a file (Response::body_file): written instead of `message`, whose
  // header it carries.
  std::optional<bhttp::response<bhttp::file_body>> file_message;
};

// What the registry of live connections needs of one, whatever its stream; used at shutdown only,
// so that the per-request path of a Session makes no virtual call.
class Connection {
 public:
  virtual ~Connection() = default;
  // Graceful shutdown: closes the connection now if it is idle (or still in its TLS handshake);
  // one with a request in progress closes after its response. Call on executor().
  virtual void Stop() = 0;
  // Closes at once. Only after a forced stop, when no thread runs the io_contexts any more.
  virtual void CloseNow() = 0;
  virtual beast::tcp_stream::executor_type executor() = 0;
};

// The shared state of one server: options, the Handler, the acceptor and the live sessions.
// Start(), port(), Run() and Shutdown() are Server's, with its contracts (server.h).
class ServerCore {
 public:
  ServerCore(ServerOptions options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {}
  ~ServerCore() { destroying_ = true; }

  Status Start();
  uint16_t port() const { return port_; }
  void Run();
  void Shutdown();

  // For sessions, from their loops' threads.
  const ServerOptions& options() const { return options_; }
  const CorsPolicy& cors() const { return cors_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // Thread-safe. A session registers once it exists and unregisters when destroyed; the last
  // one to go during a shutdown stops the event loops.
  void Register(const std::shared_ptr<Connection>& session);
  void Unregister(Connection* session);
  // Runs the Handler (or inflates first) and builds the response. Thread-safe.
  Outgoing Process(Exchange exchange) const;
  // The response for an error the server detects itself, from options.error_responder.
  Response ErrorResponse(int status, const std::string& message) const;
  // The message to write for `response`: invalid and framing headers dropped, Server, Date and
  // the CORS headers added, the body gzipped when the client accepts it and it is worth it.
  BeastResponse Build(Response response, const ResponseContext& context, bool keep_alive) const;
  // The response for a Handler's Response with a body_file: its header, and the file to stream.
  Outgoing BuildFile(Response response, const ResponseContext& context, bool keep_alive) const;

 private:
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
  // Set by Start() when TLS is configured (tls_context.h); shared by every connection
  // (OpenSSL's SSL_CTX is thread-safe for making connections).
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

}  // namespace vesta::http::internal
