// CORS, the protocol by which a browser lets a web app on another origin read this server's
// responses (https://fetch.spec.whatwg.org/#http-cors-protocol). Internal to vesta_http: the
// server asks the policy, per request, which Access-Control-Allow-Origin to send, and answers
// preflights with PreflightHeaders() without calling the Handler. No socket and no Beast here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "http/server.h"

namespace vesta::http::internal {

// OK for "*" or a serialized origin (https://html.spec.whatwg.org/#ascii-serialisation-of-an-
// origin): "http" or "https", "://", a host, an optional ":port", and nothing after it (no path,
// not even "/"). kInvalid naming the value otherwise.
Status ValidateCorsOrigin(std::string_view origin);

// The configured origins. Thread-safe (const after construction).
class CorsPolicy {
 public:
  // REQUIRES: every origin passed ValidateCorsOrigin.
  explicit CorsPolicy(const std::vector<std::string>& origins);

  // False when no origin is configured: the server then sends no CORS headers at all.
  bool enabled() const { return enabled_; }

  // The Access-Control-Allow-Origin value for a request whose Origin header is `origin`: the
  // origin itself when listed, "*" when "*" is configured, "" when the origin is not allowed (or
  // the request has no Origin). The view is of `origin` or of a literal.
  std::string_view AllowOrigin(std::string_view origin) const;

  // The headers of the 204 answer to an allowed preflight (an OPTIONS request with Origin and
  // Access-Control-Request-Method): Allow-Methods, Allow-Headers (the requested ones, from the
  // Access-Control-Request-Headers value `requested_headers`, when all are allowed; else the
  // allowed list, and the browser refuses the request), Max-Age. The server adds
  // Access-Control-Allow-Origin and Vary to it as to every response.
  static HeaderList PreflightHeaders(std::string_view requested_headers);

  // Access-Control-Expose-Headers: the response headers a FHIR client reads beyond the
  // CORS-safelisted ones.
  static constexpr std::string_view kExposeHeaders =
      "Location, ETag, Last-Modified, Content-Location, WWW-Authenticate";

 private:
  bool enabled_ = false;
  bool any_ = false;  // "*" configured
  std::vector<std::string> origins_;
};

}  // namespace vesta::http::internal
