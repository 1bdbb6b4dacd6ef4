// One connection of the HTTP server: a Session reads a request, checks it, hands it to the
// ServerCore (server_core.h) and writes the response, one request at a time, then the next
// (pipelined requests are answered in order from the bytes left in the read buffer, RFC 9112
// §9.3.2). Internal to vesta_http: included by server.cc only, where both streams are
// instantiated.
//
// TLS: with a certificate and key, every connection is a Session over Beast's ssl_stream (Asio's
// ssl::stream with OpenSSL) instead of a plain tcp_stream. Session is a template on the stream,
// so that the plain path pays nothing for TLS: no virtual call or extra allocation per request;
// only the shutdown registry sees connections through the small Connection interface.
//
// Specs: RFC 9110 (HTTP semantics), RFC 9112 (HTTP/1.1 message syntax), RFC 8446 (TLS 1.3) and
// RFC 5246 (TLS 1.2), https://fetch.spec.whatwg.org/ (CORS).
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "base/strings.h"
#include "http/message.h"
#include "http/server.h"
#include "http/server_core.h"

namespace vesta::http::internal {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// A request header block larger than this is refused (431); 64 KiB is far above what browsers
// and FHIR clients send and keeps a slow client's memory bounded.
inline constexpr uint32_t kHeaderLimit = 64 * 1024;
// How long writing one response may take before the client is deemed gone.
inline constexpr auto kWriteTimeout = std::chrono::seconds(60);
// After the last response on a connection we stop sending and read (and discard) what the client
// still sends for at most this long, so that the response is not destroyed by a TCP reset
// (RFC 9112 §9.6, "tear-down").
inline constexpr auto kLingerTimeout = std::chrono::seconds(2);

// One connection over `Stream`: beast::tcp_stream (plain HTTP) or TlsStream. All members are
// touched only on the connection's strand. A Session owns itself: the handlers of its pending
// operations hold it (shared_from_this), the core's registry only a weak_ptr, and it is gone
// once no operation is pending. `core` outlives it: the core's io_contexts destroy the queued
// handlers, and with them the sessions, before the rest of the core goes.
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
    close_after_ = out.close || core_.stopping();
    if (out.file_message) {
      // A file body: the write timeout is per chunk of the file, renewed as it goes, so that a
      // large download on a slow link is not cut off while it progresses.
      file_response_ = std::move(out.file_message);
      if (close_after_) file_response_->keep_alive(false);
      file_serializer_.emplace(*file_response_);
      return WriteFileChunk();
    }
    response_ = std::move(out.message);
    if (close_after_) response_.keep_alive(false);
    Tcp().expires_after(kWriteTimeout);
    bhttp::async_write(stream_, response_,
                       beast::bind_front_handler(&Session::OnWrite, this->shared_from_this()));
  }

  void WriteFileChunk() {
    Tcp().expires_after(kWriteTimeout);
    bhttp::async_write_some(stream_, *file_serializer_,
                            [self = this->shared_from_this()](beast::error_code ec, size_t bytes) {
                              if (!ec && !self->file_serializer_->is_done())
                                return self->WriteFileChunk();
                              self->file_serializer_.reset();
                              self->file_response_.reset();
                              self->OnWrite(ec, bytes);
                            });
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
  std::optional<bhttp::response<bhttp::file_body>> file_response_;
  std::optional<bhttp::response_serializer<bhttp::file_body>> file_serializer_;
  bool close_after_ = false;
  bool linger_ = false;  // an error answered before the whole request was read
  State state_ = State::kReadingHeader;
  bool keep_deadline_ = false;  // the next header read keeps the handshake's deadline
  std::array<char, 4096> drain_;
};

}  // namespace vesta::http::internal
