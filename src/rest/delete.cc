// delete: DELETE [base]/[type]/[id] (https://hl7.org/fhir/R4/http.html#delete)
//
// A logical delete: a new version marked deleted; read then answers 410 Gone and history shows
// the deletion. "Performing this interaction on a resource that is already deleted has no
// effect, and the server should return either a 200 OK (if a response body is provided) or a
// 204 No Content." If-Match makes the delete conditional on the current version (412).
#include "rest/context.h"
#include "rest/outcome.h"

namespace vesta::rest {

Response DeleteInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target) {
  std::optional<int64_t> if_match;
  if (std::string_view im = request.Header("If-Match"); !im.empty()) {
    if_match = ParseETag(im);
    if (!if_match) {
      return ErrorResponse(
          Status(StatusCode::kInvalid, "If-Match must be a version ETag such as W/\"3\""));
    }
  }
  const std::string name = target.type + "/" + target.id;
  constexpr int kAttempts = 20;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Result<store::StoredVersion> cur = ctx.store.Read(target.type, target.id);
    if (!cur.ok()) {
      if (cur.status().code() == StatusCode::kNotFound) {
        return ErrorResponse(Status(StatusCode::kNotFound, name + " is not known"));
      }
      return ErrorResponse(cur.status());
    }
    if (if_match && *if_match != cur->version) {
      return ErrorResponse(
          Status(StatusCode::kPreconditionFailed, "If-Match " + ETagFor(*if_match) +
                                                      " does not match the current version " +
                                                      ETagFor(cur->version)));
    }
    Response r;
    if (cur->deleted) {
      SetVersionHeaders(*cur, &r);
      r.SetHeader("Content-Type", ContentType(format));
      r.body = RenderJson(InformationOutcomeJson(name + " was already deleted"), format);
      return r;
    }
    if (Status s = CheckNotReferenced(ctx, target.type, target.id); !s.ok()) {
      return ErrorResponse(s);
    }
    store::WriteOp op;
    op.kind = store::WriteKind::kDelete;
    op.type = target.type;
    op.id = target.id;
    op.expected_version = cur->version;
    op.last_updated = ctx.clock.Now();
    Result<std::vector<store::WriteResult>> written = ctx.store.Write({&op, 1});
    if (!written.ok()) {
      if (written.status().code() == StatusCode::kConflict) {
        if (if_match) {
          return ErrorResponse(
              Status(StatusCode::kPreconditionFailed, name + " was changed by another request"));
        }
        continue;
      }
      return ErrorResponse(written.status());
    }
    store::StoredVersion v{op.type, op.id, cur->version + 1, op.last_updated, true, {}};
    SetVersionHeaders(v, &r);
    r.SetHeader("Content-Type", ContentType(format));
    r.body = RenderJson(InformationOutcomeJson("deleted " + name), format);
    return r;
  }
  return ErrorResponse(Status(StatusCode::kConflict,
                              name + " is being changed by many requests at once; try again"));
}

}  // namespace vesta::rest
