// A group of resources prepared for the store, and the decision, for each, to write it now, defer
// it or reject it.
//
// A group is what came in together: one NDJSON line (a group of one), or the entries of one Bundle,
// whose references to each other were rewritten to `Type/id`. Its members may reference each
// other, so they are decided together: a member that references one that is deferred is deferred
// with it, one that references a rejected member is rejected (its reference would dangle).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "json/value.h"

namespace vesta::ingest {

// One resource on its way to the store (or the reason it will not get there).
struct Prepared {
  // Where it came from, for messages: "file:line", "file:entry N (fullUrl)", "-:line".
  std::string where;
  // What the reject file shows: the line as read, or a Bundle entry's resource with its id set
  // and the Bundle's references rewritten.
  std::string original;
  std::string type;
  std::string id;
  Status status;  // not OK: rejected, with this reason
  // A conditional create (Bundle entry request.ifNoneExist) that matched an existing resource:
  // nothing to write.
  bool matched_existing = false;
  // When OK: the checked resource as version 1 will store it (fhir::StoredJson applied) and its
  // bytes; the writer restamps both when the resource turns out to exist already.
  json::Document doc;
  std::string json;
  int64_t version = 1;  // the version `doc` and `json` are stamped for
  Micros last_updated = 0;
  // References not resolved yet: "Type/id" of resources not found in the store, and conditional
  // references ("Type?query") that matched nothing yet. Decided by ResolveGroup.
  std::vector<std::string> missing;

  std::string key() const { return type + "/" + id; }
};

using Group = std::vector<Prepared>;

enum class Fate { kWrite, kDefer, kReject };

enum class Pass {
  kEarly,  // more passes follow: a reference not resolved yet defers the resource
  kLast,   // no more passes: a reference not resolved now rejects the resource
};

// Decides each member of `group`. A member already rejected stays rejected. For the others, each
// `missing` reference is resolved when it names another member of the group or `exists(ref)`
// says so (it is then removed from `missing`); a conditional reference is never resolved here (the
// preparer resolves those by search). A member with a reference left unresolved is deferred (Pass
// kEarly) or rejected with a reason (kLast); then, until nothing changes, a member that
// references a rejected member is rejected and one that references a deferred member is deferred.
// Reasons are written into the rejected members' `status`. `exists` is called from this thread.
std::vector<Fate> ResolveGroup(Group& group, const std::function<bool(const std::string&)>& exists,
                               Pass pass);

// A one-line reason for the reject report: the message and its issues, "location: diagnostics",
// joined by "; ".
std::string OneLine(const Status& status);

}  // namespace vesta::ingest
