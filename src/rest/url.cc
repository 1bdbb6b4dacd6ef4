#include "rest/url.h"

#include <cctype>

#include "base/strings.h"

namespace vesta::rest {

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
      if (!PercentDecode(pair.substr(0, eq), PlusIs::kSpace, &name) ||
          (eq != std::string_view::npos &&
           !PercentDecode(pair.substr(eq + 1), PlusIs::kSpace, &value))) {
        return Status(StatusCode::kInvalid,
                      "bad %-escape in the query '" + std::string(query) + "'");
      }
      out.emplace_back(std::move(name), std::move(value));
    }
    start = amp + 1;
  }
  return out;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  for (std::string_view part : Split(path, '/')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
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
  if (!PercentDecode(path, PlusIs::kPlus, &decoded)) {
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
