// CORS (https://fetch.spec.whatwg.org/#http-cors-protocol).
#include "http/cors.h"

#include <algorithm>
#include <array>

#include "base/strings.h"

namespace vesta::http::internal {
namespace {

constexpr std::string_view kAllowMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
// The request headers a FHIR app sends beyond the CORS-safelisted ones (RFC 9110 conditional
// requests, FHIR's If-None-Exist and Prefer, OAuth's Authorization).
constexpr std::array<std::string_view, 9> kAllowHeaders = {
    "Authorization",     "Content-Type",  "Accept", "If-Match",        "If-None-Match",
    "If-Modified-Since", "If-None-Exist", "Prefer", "X-Requested-With"};
// https://fetch.spec.whatwg.org/#http-access-control-max-age: seconds a browser may cache the
// preflight's answer (browsers cap it: Chromium at 2 hours, Firefox at 24).
constexpr std::string_view kMaxAge = "600";

bool IsAllowedHeader(std::string_view name) {
  return std::any_of(kAllowHeaders.begin(), kAllowHeaders.end(),
                     [&](std::string_view h) { return EqualsIgnoreCase(h, name); });
}

std::string AllowHeadersList() {
  std::string out;
  for (std::string_view h : kAllowHeaders) {
    if (!out.empty()) out += ", ";
    out += h;
  }
  return out;
}

}  // namespace

Status ValidateCorsOrigin(std::string_view origin) {
  if (origin == "*") return Status::Ok();
  auto invalid = [&] {
    return Status(StatusCode::kInvalid,
                  "CORS origin '" + std::string(origin) +
                      "' is not an origin: give \"*\" or scheme://host[:port], with no path");
  };
  std::string_view rest;
  if (origin.starts_with("https://")) {
    rest = origin.substr(8);
  } else if (origin.starts_with("http://")) {
    rest = origin.substr(7);
  } else {
    return invalid();
  }
  if (rest.empty() || rest.front() == ':') return invalid();
  for (char c : rest) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == ':' || c == '[' || c == ']';
    // Browsers serialize the host in lower case (and IDNs as punycode); an upper-case letter
    // here would never match.
    if (!ok) return invalid();
  }
  return Status::Ok();
}

CorsPolicy::CorsPolicy(const std::vector<std::string>& origins) {
  enabled_ = !origins.empty();
  for (const std::string& o : origins) {
    if (o == "*") {
      any_ = true;
    } else {
      origins_.push_back(o);
    }
  }
}

// https://fetch.spec.whatwg.org/#cors-check: the browser compares Access-Control-Allow-Origin
// with the request's serialized origin byte for byte, or accepts "*" (without credentials).
std::string_view CorsPolicy::AllowOrigin(std::string_view origin) const {
  if (!enabled_ || origin.empty()) return {};
  if (std::find(origins_.begin(), origins_.end(), origin) != origins_.end()) return origin;
  if (any_) return "*";
  return {};
}

// https://fetch.spec.whatwg.org/#http-responses: a successful preflight answers with an ok
// status, Access-Control-Allow-Methods and Access-Control-Allow-Headers.
HeaderList CorsPolicy::PreflightHeaders(std::string_view requested_headers) {
  HeaderList headers;
  headers.emplace_back("Access-Control-Allow-Methods", std::string(kAllowMethods));
  std::string echoed;
  bool all_allowed = true;
  for (std::string_view name : Split(requested_headers, ',')) {
    name = Trim(name, kHttpWhitespace);
    if (name.empty()) continue;
    if (!IsAllowedHeader(name)) {
      all_allowed = false;
      break;
    }
    if (!echoed.empty()) echoed += ", ";
    echoed += name;
  }
  headers.emplace_back("Access-Control-Allow-Headers",
                       all_allowed && !echoed.empty() ? echoed : AllowHeadersList());
  headers.emplace_back("Access-Control-Max-Age", std::string(kMaxAge));
  return headers;
}

}  // namespace vesta::http::internal
