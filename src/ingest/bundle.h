// A Bundle being imported, entry by entry: each entry's resource is loaded as an NDJSON line would
// be, under an id that stays the same when the Bundle is imported again.
//
// Which Bundles are unpacked (BundleHandlingOf): transaction, batch, collection and searchset; a
// document or message Bundle is a resource in its own right and is stored whole; a history Bundle
// (several versions of a resource, newest first) is refused.
//
// For an unpacked Bundle (https://hl7.org/fhir/R4/http.html#trules, as far as it applies to
// loading resources):
//   - an entry's id is, in this order: the id of a PUT request.url (Type/id); X of a fullUrl
//     `urn:uuid:X` when X is a valid FHIR id (a UUID is); the resource's own id; else a new one;
//   - "Servers SHALL replace all matching links in the bundle": every Reference.reference in the
//     Bundle that equals an entry's fullUrl is rewritten to that entry's Type/id;
//   - a POST with request.ifNoneExist is a conditional create: when its search finds one resource,
//     the entry is not written and its fullUrl means that resource (several matches: rejected);
//   - GET and HEAD entries are ignored, and search.mode=outcome entries of a searchset; DELETE,
//     PATCH and conditional updates (PUT Type?query) are rejected, since the importer loads
//     resources and does not apply changes.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "fhir/model/model.h"
#include "json/value.h"

namespace vesta::ingest {

enum class BundleHandling {
  kUnpack,  // transaction, batch, collection, searchset
  kStore,   // document, message: stored as one Bundle resource
  kRefuse,  // history, or an unknown type
};

BundleHandling BundleHandlingOf(std::string_view bundle_type);

// One entry of an unpacked Bundle.
struct BundleEntry {
  size_t index = 0;      // in Bundle.entry (from 0, as Bundle.entry[N])
  std::string full_url;  // "" when absent
  std::string type;
  std::string id;
  // The resource as compact JSON, with `id` set and the Bundle's references rewritten; for a
  // rejected entry, the entry as it is.
  std::string resource;
  // The entry is a conditional create whose ifNoneExist matched Type/id: nothing to write.
  bool matched_existing = false;
  Status status;  // not OK: the entry is rejected, with this reason
};

// Searches `type` with the query of an ifNoneExist (form-encoded pairs) and returns the id of the
// one match, "" when nothing matches, or an error (several matches, a bad query).
using MatchFinder =
    std::function<Result<std::string>(const std::string& type, std::string_view query)>;

// The entries of `bundle` (a Bundle to unpack) that carry something to load, in Bundle order;
// ignored entries are left out. `arena` receives the rewritten values. kInvalid when the Bundle
// itself is malformed (entry not an array).
Result<std::vector<BundleEntry>> UnpackBundle(const json::Value& bundle, json::Arena& arena,
                                              const fhir::Model& model, IdGenerator& ids,
                                              const MatchFinder& if_none_exist);

// Whether `id` is a valid FHIR id: [A-Za-z0-9\-\.]{1,64}
// (https://hl7.org/fhir/R4/datatypes.html#id).
bool IsValidId(std::string_view id);

}  // namespace vesta::ingest
