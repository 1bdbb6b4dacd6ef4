// The one writer of the Bundles the server answers with (https://hl7.org/fhir/R4/bundle.html):
// searchset (search, Patient/$everything), history, batch-response and transaction-response.
// Elements come in the R4 order (resourceType, id, meta, type, total, link, entry; in an entry
// fullUrl, resource, search, request, response), resources are copied as the bytes given, and
// every paged Bundle links its pages the same way (PagingLinks).
//
//   BundleHead head;
//   head.type = "searchset";
//   head.id = ctx.ids.NewId();
//   head.links = PagingLinks(path, query, page.next_cursor);
//   BundleWriter bundle(head);
//   BundleEntry entry;
//   entry.full_url = url;
//   entry.resource = json;
//   bundle.Add(entry);
//   return JsonResponse(bundle.Finish(), format);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "rest/request.h"

namespace vesta::rest {

// https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.link
struct BundleLink {
  std::string relation;  // "self", "next"
  std::string url;
};

// Whether a Bundle without entries has `"entry":[]` or no `entry` at all. R4 JSON leaves empty
// arrays out (search and history do); $everything and the batch and transaction responses have
// always written the empty array, and their clients read `entry` without checking for it.
enum class EmptyEntries { kOmit, kWriteEmptyArray };

// What precedes the entries.
struct BundleHead {
  std::string_view type;               // Bundle.type: searchset, history, batch-response, ...
  std::string id;                      // a new id per response
  std::optional<Micros> last_updated;  // meta.lastUpdated; absent: no meta
  std::optional<int64_t> total;        // Bundle.total; absent when not known
  std::vector<BundleLink> links;
  EmptyEntries empty_entries = EmptyEntries::kOmit;
};

// https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.search.mode
enum class SearchEntryMode { kNone, kMatch, kInclude };

// Bundle.entry.request (history).
struct BundleEntryRequest {
  std::string_view method;  // POST, PUT, DELETE
  std::string_view url;
};

// Bundle.entry.response (history, batch and transaction responses). Empty or zero fields are
// left out.
struct BundleEntryResponse {
  std::string_view status;    // "201 Created" (transaction) or "201" (history)
  std::string_view location;  // "Patient/1/_history/2"
  int64_t version = 0;        // etag W/"N"
  Micros last_modified = 0;   // lastModified
  std::string_view outcome;   // an OperationOutcome's JSON, copied as is
};

// One entry. The views need only stay valid during BundleWriter::Add; empty ones are left out.
struct BundleEntry {
  std::string_view full_url;
  std::string_view resource;  // the resource's JSON, copied as is
  SearchEntryMode search = SearchEntryMode::kNone;
  std::optional<BundleEntryRequest> request;
  std::optional<BundleEntryResponse> response;
};

// Writes one Bundle as compact JSON, entry by entry, so that a page of resources is copied once.
// Not thread-safe; one writer per response.
class BundleWriter {
 public:
  explicit BundleWriter(const BundleHead& head);

  void Add(const BundleEntry& entry);
  // The Bundle's JSON. The writer may not be used afterwards.
  std::string Finish();

 private:
  std::string out_;
  size_t entries_ = 0;
  EmptyEntries empty_entries_;
};

// The paging links of search, history and Patient/$everything
// (https://hl7.org/fhir/R4/http.html#paging), in one format:
//   self  [path]?[query]
//   next  [path]?[query]&_cursor=[next_cursor]   (only when `next_cursor` is not empty)
// `path` is absolute (base URL included); `query` is what the server used, percent-encoded as
// EncodeQuery does, without `_cursor`: the self link states the search, not the page.
std::vector<BundleLink> PagingLinks(std::string_view path, std::string_view query,
                                    std::string_view next_cursor);

// Bundle.entry.fullUrl of a stored resource: [base]/[type]/[id].
std::string FullUrl(std::string_view base, std::string_view type, std::string_view id);

// "name=value&..." for a link, names and values percent-encoded (url.h), `_cursor` left out.
std::string EncodeQuery(const QueryList& params);

}  // namespace vesta::rest
