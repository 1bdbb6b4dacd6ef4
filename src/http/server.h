// The HTTP/1.1 server (Boost.Beast). It knows nothing of FHIR: it parses requests, calls one
// Handler per request and writes the Response back, with keep-alive, a body-size limit, gzip for
// clients that accept it, TLS (OpenSSL), CORS for browser apps, and a graceful shutdown.
//
//   http::Server server(options, [](const http::Request& req) { return http::Response{...}; });
//   RETURN_IF_ERROR(server.Start());   // bound and listening; server.port() is the real port
//   server.Run();                      // blocks until Shutdown() (or SIGINT/SIGTERM)
//
// Threading: `options.threads` event loops of one thread each; a connection stays on one loop and
// its Handler calls run on that loop's thread. The Handler may block (e.g. on a durable write),
// holding up only the connections on its loop; it is called concurrently and must be
// thread-safe. Beast, Asio and OpenSSL stay
// inside src/http's .cc files and internal headers (pimpl: server_core.h, session.h,
// tls_context.h) so that other targets do not compile them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace vesta::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/Patient/1?_format=json"
  std::string path;    // percent-decoded path without the query: "/Patient/1"
  // Percent-decoded query parameters in order ('+' is a space). Repeats are kept.
  std::vector<std::pair<std::string, std::string>> query;
  HeaderList headers;  // names as sent
  std::string body;
  // Where the request came from: the TCP peer's address as text ("127.0.0.1", "2001:db8::1"; an
  // IPv4-mapped IPv6 address as its IPv4 form) and port, and whether the connection is TLS. The
  // peer is the client or, behind a proxy, the proxy.
  std::string remote_address;
  uint16_t remote_port = 0;
  bool tls = false;

  // The first header with this name (case-insensitive), or "" when absent.
  std::string_view Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  HeaderList headers;  // e.g. {"Content-Type", "application/fhir+json"}
  std::string body;
  // When set, the body is this file's content instead of `body`, streamed from disk as it is
  // written to the connection (never read whole into memory, never gzip-compressed): large
  // downloads such as Bulk Data export files. A file that cannot be opened is a 500.
  std::string body_file;
  // With body_file: the file is removed as soon as it is open (its bytes stay readable until the
  // body is sent): a spool file made for this response alone.
  bool remove_body_file = false;
};

using Handler = std::function<Response(const Request&)>;
// Builds the response for an error the server itself detects: 400 (malformed HTTP or target,
// corrupt gzip body), 413 (body over the limit), 415 (Content-Encoding other than gzip), 431
// (header over 64 KiB) or 500 (the Handler threw), with a human-readable message. The server
// overrides the returned status with `status`. The REST layer supplies one that answers with an
// OperationOutcome. Called on handler threads, concurrently.
using ErrorResponder = std::function<Response(int status, const std::string& message)>;

struct ServerOptions {
  std::string listen = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (tests)
  int threads = 32;      // event loops, one thread each; a connection stays on one
  size_t max_body_bytes = 16 * 1024 * 1024;
  size_t gzip_min_bytes = 1024;  // compress bodies at least this large when gzip is accepted
  bool handle_signals = false;   // SIGINT/SIGTERM start a graceful shutdown (a second: stop now)
  // A keep-alive connection with no request for this long is closed; also the time allowed to
  // read one request's header, and then its body.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  ErrorResponder error_responder;  // optional; plain text when unset

  // TLS. With both set, every connection is TLS (none is plain HTTP), configured as Mozilla's
  // "intermediate" profile (https://ssl-config.mozilla.org/): TLS 1.2 and 1.3 only; for TLS 1.2
  // only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305; the client's cipher preference;
  // no compression, no renegotiation. The handshake counts against idle_timeout, like reading
  // the first request's header. The files are read once, by Start(): a missing or unreadable
  // file, one that is not PEM, an encrypted key, or a key that does not match the certificate
  // makes Start() fail with kInvalid naming the file. Setting only one of the two is kInvalid.
  std::string tls_certificate_file;  // PEM: the server's certificate, then its intermediates
  std::string tls_private_key_file;  // PEM, not encrypted

  // CORS (https://fetch.spec.whatwg.org/#http-cors-protocol): the origins whose browser apps may
  // read responses, each "*" (any) or a serialized origin such as "https://app.example.org"
  // (Start() refuses anything else with kInvalid). Empty: no CORS headers at all. Otherwise
  // every response gets `Vary: Origin`, and one to a request whose Origin is allowed gets
  // Access-Control-Allow-Origin (that origin; "*" only when "*" is configured) and
  // Access-Control-Expose-Headers. A preflight (OPTIONS with Origin and
  // Access-Control-Request-Method) never reaches the Handler: an allowed origin gets 204 with
  // Access-Control-Allow-Methods, -Allow-Headers and -Max-Age, any other a 403.
  std::vector<std::string> cors_origins;
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  // REQUIRES: Run() is not running (it has returned, or was never called).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. kUnavailable when the address cannot be bound.
  Status Start();
  // The bound port (after Start()).
  uint16_t port() const;
  // Serves until Shutdown() or, with handle_signals, SIGINT/SIGTERM. Then stops accepting,
  // lets in-flight requests finish (up to 10 s), closes connections and returns. Call once;
  // returns at once when Start() failed or was not called.
  void Run();
  // Starts a graceful shutdown. Safe from any thread, any number of times.
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::http
