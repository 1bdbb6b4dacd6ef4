// URL pieces the REST layer builds and takes apart: query strings in links and in the request
// URLs of Bundle entries (https://hl7.org/fhir/R4/http.html#transaction).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "rest/request.h"

namespace vesta::rest {

// Percent-encodes a query name or value (RFC 3986 unreserved characters, plus ':' '|' ',' which
// FHIR search values use, stay as they are).
std::string PercentEncode(std::string_view s);

// Splits "a=1&b=x%20y" into decoded pairs ('+' is a space). kInvalid on a bad %-escape.
Result<QueryList> ParseQueryString(std::string_view query);

// The non-empty segments of a URL path: "/Patient//1/" gives "Patient", "1". Views into `path`.
std::vector<std::string_view> SplitPath(std::string_view path);

// A relative request URL of a Bundle entry ("Patient/1", "Patient?identifier=x",
// "Patient/1/_history/2", "/Patient" or an absolute URL under `base`) as a path and query.
struct EntryUrl {
  std::string path;  // "/Patient/1"
  QueryList query;
  bool has_query = false;  // a '?' was present (a conditional URL)
};
Result<EntryUrl> ParseEntryUrl(std::string_view url, std::string_view base);

}  // namespace vesta::rest
