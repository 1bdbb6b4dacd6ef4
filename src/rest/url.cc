#include "rest/url.h"

#include <cctype>

namespace vesta::rest {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Decode(std::string_view s, bool plus_is_space, std::string* out) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && plus_is_space) {
      out->push_back(' ');
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return false;
      int a = HexValue(s[i + 1]), b = HexValue(s[i + 2]);
      if (a < 0 || b < 0) return false;
      out->push_back(static_cast<char>(a * 16 + b));
      i += 2;
    } else {
      out->push_back(s[i]);
    }
  }
  return true;
}

}  // namespace

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '|' ||
        c == ',') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

Result<QueryList> ParseQueryString(std::string_view query) {
  QueryList out;
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(start, amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string name, value;
      if (!Decode(pair.substr(0, eq), true, &name) ||
          (eq != std::string_view::npos && !Decode(pair.substr(eq + 1), true, &value))) {
        return Status(StatusCode::kInvalid,
                      "bad %-escape in the query '" + std::string(query) + "'");
      }
      out.emplace_back(std::move(name), std::move(value));
    }
    start = amp + 1;
  }
  return out;
}

Result<EntryUrl> ParseEntryUrl(std::string_view url, std::string_view base) {
  if (!base.empty() && url.substr(0, base.size()) == base) url.remove_prefix(base.size());
  if (url.find("://") != std::string_view::npos) {
    return Status(StatusCode::kInvalid,
                  "request.url '" + std::string(url) + "' is not on this server");
  }
  EntryUrl out;
  size_t q = url.find('?');
  std::string_view path = url.substr(0, q);
  if (path.empty() || path[0] != '/') out.path = "/";
  std::string decoded;
  if (!Decode(path, false, &decoded)) {
    return Status(StatusCode::kInvalid, "bad %-escape in request.url '" + std::string(url) + "'");
  }
  out.path += decoded;
  if (q != std::string_view::npos) {
    out.has_query = true;
    ASSIGN_OR_RETURN(out.query, ParseQueryString(url.substr(q + 1)));
  }
  return out;
}

}  // namespace vesta::rest
