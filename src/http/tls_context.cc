// The server's TLS context: Mozilla's "intermediate" profile on OpenSSL 3, and the errors of bad
// certificate and key files in words an operator can act on.
#include "http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/error_code.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

namespace vesta::http::internal {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// https://ssl-config.mozilla.org/ "intermediate" (OpenSSL 3, 2024 guidelines, version 5.7): the
// TLS 1.2 suites, ECDHE key exchange (forward secrecy) with an AEAD cipher only. The profile's
// DHE suites are left out: they need DH parameters, and every client of TLS 1.2 has ECDHE.
// TLS 1.3's suites are OpenSSL's defaults, all of which the profile allows.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kTlsGroups[] = "X25519:prime256v1:secp384r1";

// The reason OpenSSL gave for `ec` (an asio::error::get_ssl_category() code), or ec's message.
std::string TlsError(const error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    if (const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()))) {
      return reason;
    }
  }
  return ec.message();
}

// The files are read once, at start-up; this names the one that cannot be read, with the OS's
// reason, before OpenSSL's less telling "system lib".
Status CheckReadable(const std::string& path, const char* what) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) {
    return Status(StatusCode::kInvalid, std::string("cannot read the TLS ") + what + " file '" +
                                            path + "': " + std::strerror(errno));
  }
  std::fclose(f);
  return Status::Ok();
}

}  // namespace

// https://ssl-config.mozilla.org/ "intermediate": TLS 1.2 and 1.3, the suites of kTls12Ciphers,
// the client's preference among them ("ssl_prefer_server_ciphers off": every suite offered is
// strong, and the client knows whether it has AES hardware), no compression (CRIME), no
// renegotiation. Session tickets stay on (OpenSSL's default; the key lives as long as the
// process).
Result<asio::ssl::context> LoadTlsContext(const std::string& certificate_file,
                                          const std::string& private_key_file) {
  const std::string& cert = certificate_file;
  const std::string& key = private_key_file;
  if (cert.empty() || key.empty()) {
    return Status(StatusCode::kInvalid,
                  "TLS needs both a certificate file and a private key file, got only the " +
                      std::string(cert.empty() ? "key" : "certificate"));
  }
  RETURN_IF_ERROR(CheckReadable(cert, "certificate"));
  RETURN_IF_ERROR(CheckReadable(key, "private key"));
  asio::ssl::context tls(asio::ssl::context::tls_server);
  SSL_CTX* ctx = tls.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kTlsGroups) != 1) {
    return Status(StatusCode::kInternal, "this OpenSSL lacks the TLS versions or ciphers needed");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An encrypted key would make OpenSSL prompt on the terminal; an empty password fails instead.
  tls.set_password_callback(
      [](size_t, asio::ssl::context::password_purpose) { return std::string(); });
  error_code ec;
  tls.use_certificate_chain_file(cert, ec);
  if (ec) {
    return Status(StatusCode::kInvalid, "cannot load the TLS certificate chain from '" + cert +
                                            "' (PEM expected): " + TlsError(ec));
  }
  tls.use_private_key_file(key, asio::ssl::context::pem, ec);
  if (!ec && SSL_CTX_check_private_key(ctx) != 1) {
    ec.assign(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category());
    ERR_clear_error();
    if (!ec) ec = asio::error::invalid_argument;
  }
  if (ec) {
    bool mismatch =
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH ||
        ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_PRIVATE_KEY_MISMATCH;
    if (mismatch) {
      return Status(StatusCode::kInvalid, "the TLS private key in '" + key +
                                              "' does not match the certificate in '" + cert + "'");
    }
    return Status(StatusCode::kInvalid, "cannot load the TLS private key from '" + key +
                                            "' (PEM, not encrypted, expected): " + TlsError(ec));
  }
  return tls;
}

}  // namespace vesta::http::internal
