// The parts of HTTP/1.1 message handling that need no socket and no Beast: the request-target,
// Accept-Encoding, the Date header and the validity of response header fields. Internal to
// vesta_http (server.cc is the user); kept apart so that they can be read and tested against the
// RFCs on their own.
//
// Specs: RFC 9110 (HTTP semantics), RFC 9112 (HTTP/1.1 message syntax).
#pragma once

#include <string>
#include <string_view>

#include "http/server.h"

namespace vesta::http::internal {

// Splits the request-target (RFC 9112 §3.2) into the decoded path and query pairs of `req`
// (req.path, req.query). origin-form "/p?q", absolute-form "http://host/p?q" (a server MUST
// accept it, §3.2.2) and asterisk-form "*" (OPTIONS, §3.2.4) are accepted; authority-form
// (CONNECT) is not. False on a malformed target (the server answers 400).
bool ParseTarget(std::string_view target, Request& req);

// Whether an Accept-Encoding field value (RFC 9110 §12.5.3) accepts gzip: "gzip" or its alias
// "x-gzip" (§8.4.1.3) with q > 0, or "*" with q > 0 when gzip is not listed by name.
bool AcceptsGzip(std::string_view value);

// The Date header (RFC 9110 §6.6.1, IMF-fixdate), formatted once per second per thread. The
// reference stays valid until the calling thread's next call.
const std::string& HttpDate();

// RFC 9110 §5.1: a field name is a token; §5.5: a value has no CR, LF or NUL. The handler is
// ours, but a header built from user input must never split the response.
bool IsToken(std::string_view s);
bool IsSafeValue(std::string_view s);

}  // namespace vesta::http::internal
