// Request-target parsing, Accept-Encoding, Date and header-field checks; see message.h.
#include "http/message.h"

#include <cctype>
#include <ctime>
#include <optional>
#include <string>
#include <utility>

#include "base/strings.h"

namespace vesta::http::internal {
namespace {

// True when a qvalue (RFC 9110 §12.4.2) is above zero: "0", "0.0", "0.000" are zero.
bool QValuePositive(std::string_view q) {
  for (char c : q) {
    if (c >= '1' && c <= '9') return true;
  }
  return false;
}

}  // namespace

bool ParseTarget(std::string_view target, Request& req) {
  if (target == "*") {
    req.path = "*";
    return true;
  }
  std::string_view rest = target;
  if (rest.empty() || rest.front() != '/') {
    size_t scheme_end = rest.find("://");
    if (scheme_end == std::string_view::npos) return false;
    std::string_view scheme = rest.substr(0, scheme_end);
    if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "https")) return false;
    rest.remove_prefix(scheme_end + 3);
    size_t path_start = rest.find_first_of("/?");
    rest = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  }
  // Drop a fragment should a client send one; it is not part of the request-target.
  rest = rest.substr(0, rest.find('#'));
  size_t q = rest.find('?');
  std::string_view raw_path = rest.substr(0, q);
  std::string_view raw_query =
      q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  if (raw_path.empty()) raw_path = "/";  // "http://host?x" has the path "/"
  req.path.clear();
  if (!PercentDecode(raw_path, PlusIs::kPlus, &req.path)) return false;
  while (!raw_query.empty()) {
    size_t amp = raw_query.find('&');
    std::string_view pair = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view() : raw_query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    // In the query '+' means a space (application/x-www-form-urlencoded, as FHIR clients send).
    std::string key, value;
    if (!PercentDecode(pair.substr(0, eq), PlusIs::kSpace, &key)) return false;
    if (eq != std::string_view::npos &&
        !PercentDecode(pair.substr(eq + 1), PlusIs::kSpace, &value)) {
      return false;
    }
    req.query.emplace_back(std::move(key), std::move(value));
  }
  return true;
}

bool AcceptsGzip(std::string_view value) {
  std::optional<bool> gzip, star;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view coding = Trim(item.substr(0, semi), kHttpWhitespace);
    bool positive = true;
    while (semi != std::string_view::npos) {
      item = item.substr(semi + 1);
      semi = item.find(';');
      std::string_view param = Trim(item.substr(0, semi), kHttpWhitespace);
      if (param.size() >= 2 && Lower(param[0]) == 'q' && param[1] == '=') {
        positive = QValuePositive(param.substr(2));
      }
    }
    if (EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip")) {
      gzip = gzip.value_or(false) || positive;
    } else if (coding == "*") {
      star = positive;
    }
  }
  if (gzip.has_value()) return *gzip;
  return star.value_or(false);
}

const std::string& HttpDate() {
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf, n);
    cached_second = now;
  }
  return cached;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (std::isalnum(c)) continue;
    if (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool IsSafeValue(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

}  // namespace vesta::http::internal
