#include "rest/versioned_write.h"

#include <string>

namespace vesta::rest {

Result<std::optional<int64_t>> ParseIfMatch(const Request& request) {
  std::string_view header = request.Header("If-Match");
  if (header.empty()) return std::optional<int64_t>();
  std::optional<int64_t> version = ParseETag(header);
  if (!version) {
    return Status(StatusCode::kInvalid, "If-Match must be a version ETag such as W/\"3\"");
  }
  return version;
}

Result<VersionedWrite> WriteVersioned(const Context& ctx, const Request& request,
                                      const Target& target, WhenAbsent when_absent,
                                      WhenDeleted when_deleted, const PrepareWrite& prepare) {
  ASSIGN_OR_RETURN(std::optional<int64_t> if_match, ParseIfMatch(request));
  for (int attempt = 0; attempt < kVersionedWriteAttempts; ++attempt) {
    Result<store::StoredVersion> cur = ReadCurrent(ctx, target.type, target.id);
    const bool absent = !cur.ok() && cur.status().code() == StatusCode::kNotFound;
    if (!cur.ok() && !(absent && when_absent == WhenAbsent::kCreate)) return cur.status();
    const int64_t current = absent ? store::kExpectNone : cur->version;
    if (!absent && cur->deleted && when_deleted == WhenDeleted::kGone) {
      VersionedWrite gone;
      gone.answer = GoneResponse(*cur, target.type + "/" + target.id + " was deleted");
      return gone;
    }
    if (if_match && *if_match != current) {
      return Status(
          StatusCode::kPreconditionFailed,
          "If-Match " + ETagFor(*if_match) + " does not match the current version " +
              (absent ? std::string("(none: the resource does not exist)") : ETagFor(current)));
    }
    VersionedWrite w;
    w.op.kind = absent ? store::WriteKind::kCreate : store::WriteKind::kUpdate;
    w.op.type = target.type;
    w.op.id = target.id;
    w.op.expected_version = current;
    w.op.last_updated = ctx.clock.Now();
    ASSIGN_OR_RETURN(w.answer, prepare(absent ? nullptr : &*cur, w.op));
    if (w.answer) return w;
    Result<std::vector<store::WriteResult>> written = ctx.store.Write({&w.op, 1});
    if (!written.ok()) {
      if (written.status().code() != StatusCode::kConflict) return written.status();
      if (if_match) {
        return Status(
            StatusCode::kPreconditionFailed,
            "If-Match " + ETagFor(*if_match) + ": the resource was changed by another request");
      }
      continue;  // another writer came first: start again from its version
    }
    w.written = store::StoredVersion{
        w.op.type, w.op.id, current + 1, w.op.last_updated, w.op.kind == store::WriteKind::kDelete,
        {}};
    return w;
  }
  return Status(StatusCode::kConflict, target.type + "/" + target.id +
                                           " is being changed by many requests at once; try again");
}

}  // namespace vesta::rest
