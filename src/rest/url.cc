#include "rest/url.h"

#include <cctype>

#include "base/strings.h"

namespace vesta::rest {

std::string PercentEncode(std::string_view s) { return vesta::PercentEncode(s, ":|,"); }

Result<QueryList> ParseQueryString(std::string_view query) {
  std::optional<QueryList> pairs = ParseFormPairs(query);
  if (!pairs) {
    return Status(StatusCode::kInvalid, "bad %-escape in the query '" + std::string(query) + "'");
  }
  return std::move(*pairs);
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
  // An absolute URL of another server; a query may hold URLs (identifier=http://...|123).
  if (url.substr(0, url.find('?')).find("://") != std::string_view::npos) {
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
