// The TLS configuration of the HTTP server: the OpenSSL context every TLS connection is made
// from, built once from ServerOptions' certificate and key files. Internal to vesta_http
// (server.cc is the user): it spells Asio's ssl::context, which no header outside src/http may.
//
// Specs: RFC 8446 (TLS 1.3), RFC 5246 (TLS 1.2); the profile is https://ssl-config.mozilla.org/
// "intermediate".
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <string>

#include "base/status.h"

namespace vesta::http::internal {

// A server context as Mozilla's "intermediate" profile: TLS 1.2 and 1.3 only; for TLS 1.2 only
// ECDHE key exchange with AES-GCM or ChaCha20-Poly1305; the client's cipher preference; no
// compression, no renegotiation. The certificate chain (PEM: the server's certificate, then its
// intermediates) and the private key (PEM, not encrypted) are read now and never again.
//
// kInvalid, naming the file, when either name is empty (both or neither are set), a file cannot
// be read (with the OS's reason), is not PEM, the key is encrypted (no prompt on the terminal),
// or the key does not match the certificate; kInternal when this OpenSSL lacks the versions,
// suites or groups. Throws what asio::ssl::context's constructor throws when OpenSSL cannot make
// a context at all (out of memory); Server::Start() turns that into kUnavailable.
//
// The context is thread-safe for making connections (OpenSSL's SSL_CTX), and shared by all.
Result<boost::asio::ssl::context> LoadTlsContext(const std::string& certificate_file,
                                                 const std::string& private_key_file);

}  // namespace vesta::http::internal
