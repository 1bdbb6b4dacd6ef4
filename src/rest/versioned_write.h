// Internal to rest/: the one way update, patch and delete write the next version of a resource
// (https://hl7.org/fhir/R4/http.html#concurrency, "Managing Resource Contention").
//
// "Servers SHOULD support [...] If-Match [...]; if the version id given in the If-Match header
// does not match, the server returns a 412 Precondition Failed status code." Every attempt reads
// the current version, checks If-Match against it, lets the interaction prepare the new version
// and writes it with compare-and-set on the version read (store::Store::Write). A concurrent
// writer makes the write fail with kConflict: with If-Match that is a 412; without it the next
// attempt reads the new current version and prepares again (a patch is re-applied to it), up to
// kVersionedWriteAttempts times (then 409).
//
//   Result<VersionedWrite> w = WriteVersioned(ctx, request, target, WhenAbsent::kNotFound,
//       WhenDeleted::kGone,
//       [&](const store::StoredVersion* current, store::WriteOp& op) -> PrepareResult {
//         op.json = ...;   // the new version's bytes (id and meta set: fhir::StoredJson)
//         return WriteIt();  // or AnswerWithoutWriting(response)
//       });
#pragma once

#include <functional>
#include <optional>
#include <utility>

#include "base/status.h"
#include "rest/context.h"
#include "rest/request.h"
#include "store/store.h"

namespace vesta::rest {

inline constexpr int kVersionedWriteAttempts = 20;

// If-Match (W/"N" or "N"); nullopt when the header is absent. kInvalid when it is not a version
// ETag.
Result<std::optional<int64_t>> ParseIfMatch(const Request& request);

// When the resource has never existed.
enum class WhenAbsent {
  kCreate,    // update as create: prepare sees no current version; the write is a kCreate
  kNotFound,  // 404 "Type/id is not known"
};

// When the current version is a deletion.
enum class WhenDeleted {
  kPrepare,  // like any version: prepare decides (update writes a new version over it)
  kGone,     // 410 with the deletion's ETag, before If-Match is looked at (patch)
};

// Prepares one attempt. `current` is the version read (nullptr when the resource does not exist
// and WhenAbsent::kCreate). `op` arrives with type, id, expected_version (the version read, or
// store::kExpectNone), last_updated (now) and kind (kCreate when absent, else kUpdate) set;
// prepare adds the new content (json) or makes it a kDelete. A Response ends the interaction
// without writing; an error Status ends it with that error. Called again on every retry. What
// `op` points to (store::WriteOp::document) must outlive WriteVersioned: keep it in the caller.
using PrepareResult = Result<std::optional<Response>>;
using PrepareWrite =
    std::function<PrepareResult(const store::StoredVersion* current, store::WriteOp& op)>;
// What prepare returns when `op` is ready to be written.
inline PrepareResult WriteIt() { return PrepareResult(std::nullopt); }
// What prepare returns to end the interaction with `r` and write nothing.
inline PrepareResult AnswerWithoutWriting(Response r) { return PrepareResult(std::move(r)); }

// How a versioned write ended when it did not fail.
struct VersionedWrite {
  // The answer when nothing was written: prepare's, or the 410 of WhenDeleted::kGone.
  std::optional<Response> answer;
  // Otherwise what was written, and the version it made (json left empty; see op.json).
  store::WriteOp op;
  store::StoredVersion written;
};

// Writes the next version of `target` (type and id) as described above. Errors: kInvalid for a
// malformed If-Match, kNotFound (WhenAbsent::kNotFound), kPreconditionFailed (If-Match),
// kConflict when every attempt lost to another writer, and what prepare or the store return.
Result<VersionedWrite> WriteVersioned(const Context& ctx, const Request& request,
                                      const Target& target, WhenAbsent when_absent,
                                      WhenDeleted when_deleted, const PrepareWrite& prepare);

}  // namespace vesta::rest
