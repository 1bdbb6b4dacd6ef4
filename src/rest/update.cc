// update: PUT [base]/[type]/[id] (https://hl7.org/fhir/R4/http.html#update)
//
// "The request body SHALL be a Resource with an id element that has an identical value to the
// [id] in the URL. If no id element is provided, or the id disagrees with the id in the URL,
// the server SHALL respond with an HTTP 400 error code." Update of a resource that does not
// exist creates it with the client's id (update as create: 201). With If-Match the update only
// happens when the current version matches (https://hl7.org/fhir/R4/http.html#concurrency),
// else 412 Precondition Failed.
#include "fhir/resource/resource_json.h"
#include "rest/context.h"
#include "rest/outcome.h"

namespace vesta::rest {

Response UpdateInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target) {
  if (Status s = CheckBodyContentType(request); !s.ok()) return ErrorResponse(s);
  Result<json::Document> doc = fhir::ParseResourceBody(request.body, target.type, ctx.model);
  if (!doc.ok()) return ErrorResponse(doc.status());
  const json::Value* body_id = doc->root().Find("id");
  if (body_id == nullptr) {
    std::string msg =
        "the resource has no id; it must equal the id in the URL ('" + target.id + "')";
    return ErrorResponse(Status(StatusCode::kInvalid, msg,
                                {Issue{Severity::kError, "required", msg, target.type + ".id"}}));
  }
  if (!body_id->is_string() || body_id->string_value() != target.id) {
    std::string msg = "the resource's id '" +
                      std::string(body_id->is_string() ? body_id->string_value() : "") +
                      "' differs from the id in the URL ('" + target.id + "')";
    return ErrorResponse(Status(StatusCode::kInvalid, msg,
                                {Issue{Severity::kError, "invalid", msg, target.type + ".id"}}));
  }
  // A resource may refer to itself (e.g. a Patient.link): it exists once written.
  if (Status s =
          CheckReferences(ctx, request, doc->root(), target.type, {target.type + "/" + target.id});
      !s.ok()) {
    return ErrorResponse(s);
  }
  std::optional<int64_t> if_match;
  if (std::string_view im = request.Header("If-Match"); !im.empty()) {
    if_match = ParseETag(im);
    if (!if_match) {
      return ErrorResponse(
          Status(StatusCode::kInvalid, "If-Match must be a version ETag such as W/\"3\""));
    }
  }
  // Compare-and-set against the current version; without If-Match a concurrent writer only
  // makes us read again and retry.
  constexpr int kAttempts = 20;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    int64_t current = store::kExpectNone;
    Result<store::StoredVersion> cur = ctx.store.Read(target.type, target.id);
    if (cur.ok()) {
      current = cur->version;
    } else if (cur.status().code() != StatusCode::kNotFound) {
      return ErrorResponse(cur.status());
    }
    if (if_match && *if_match != current) {
      return ErrorResponse(Status(
          StatusCode::kPreconditionFailed,
          "If-Match " + ETagFor(*if_match) + " does not match the current version " +
              (current == store::kExpectNone ? std::string("(none: the resource does not exist)")
                                             : ETagFor(current))));
    }
    store::WriteOp op;
    op.kind = current == store::kExpectNone ? store::WriteKind::kCreate : store::WriteKind::kUpdate;
    op.type = target.type;
    op.id = target.id;
    op.expected_version = current;
    op.last_updated = ctx.clock.Now();
    const int64_t version = current + 1;
    op.json = fhir::StoredJson(*doc, op.id, version, op.last_updated);
    Result<std::vector<store::WriteResult>> written = ctx.store.Write({&op, 1});
    if (!written.ok()) {
      if (written.status().code() != StatusCode::kConflict) {
        return ErrorResponse(written.status());
      }
      if (if_match) {
        return ErrorResponse(Status(
            StatusCode::kPreconditionFailed,
            "If-Match " + ETagFor(*if_match) + ": the resource was changed by another request"));
      }
      continue;
    }
    Response r;
    r.status = version == 1 ? 201 : 200;
    store::StoredVersion v{op.type, op.id, version, op.last_updated, false, {}};
    SetVersionHeaders(v, &r);
    if (version == 1) {
      r.SetHeader("Location", BaseUrl(ctx, request) + "/" + op.type + "/" + op.id + "/_history/1");
    }
    ApplyPrefer(request, format, op.json,
                (version == 1 ? "created " : "updated ") + op.type + "/" + op.id, &r);
    return r;
  }
  return ErrorResponse(Status(
      StatusCode::kConflict,
      target.type + "/" + target.id + " is being changed by many requests at once; try again"));
}

}  // namespace vesta::rest
