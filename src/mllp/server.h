// The MLLP listener (HL7 v2 Minimal Lower Layer Protocol, HL7 v2.5.1 appendix C "Lower layer
// protocols", C.4 MLLP): a TCP server whose connections carry framed messages (0x0B message
// 0x1C 0x0D) and get each message's acknowledgment back in the same framing, in order.
//
//   mllp::Server server(options, [&](std::string_view message) { return intake.Receive(message);
//   }); RETURN_IF_ERROR(server.Start());   // listening; server.port() is the real port
//   ...
//   server.Shutdown();                 // stops accepting, closes connections, joins threads
//
// With a certificate, MLLP over TLS (the sender's certificate required when a client CA is given).
// One thread per connection (at most max_connections; more are closed at once): a sender keeps a
// connection open and sends one message at a time, waiting for its ACK, so a thread that blocks
// on the durable write of a message holds up only its own sender. A frame larger than
// max_frame_bytes is answered with a reject (AR with an ERR saying so) and the connection closed;
// bytes outside frames are ignored.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"

namespace vesta::mllp {

struct ServerOptions {
  std::string listen = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port
  size_t max_frame_bytes = size_t{16} << 20;
  int max_connections = 64;
  // A connection with nothing received for this long is closed.
  std::chrono::seconds idle_timeout = std::chrono::seconds(600);
  // MLLP over TLS (both set; PEM, the key not encrypted): every connection is TLS 1.2 or 1.3.
  // With a client CA file, a sender must present a certificate it signed (mutual TLS: the
  // sender's authentication). Start() refuses files it cannot load, naming them.
  std::string tls_certificate_file;
  std::string tls_private_key_file;
  std::string tls_client_ca_file;
};

// Answers one message (the frame's content): the ACK to send back, or "" to send nothing.
using Handler = std::function<std::string(std::string_view message)>;

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // Shutdown()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts accepting. kUnavailable when the address cannot be bound.
  Status Start();
  uint16_t port() const { return port_; }
  // Stops accepting, closes every connection (a message being handled finishes first) and waits
  // for the threads. Idempotent.
  void Shutdown();

 private:
  struct Connection;
  struct Tls;
  void Accept();
  void Serve(Connection* connection);

  ServerOptions options_;
  Handler handler_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> connections_;
  std::unique_ptr<Tls> tls_;
};

}  // namespace vesta::mllp
