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
#include "rest/versioned_write.h"

namespace vesta::rest {

Response UpdateInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target) {
  if (Status s = CheckBodyContentType(request); !s.ok()) return ErrorResponse(s);
  std::vector<Issue> warnings;
  Result<json::Document> doc =
      fhir::ParseResourceBody(request.body, target.type, ctx.model, ValidationFor(ctx, &warnings));
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
  Result<VersionedWrite> w = WriteVersioned(
      ctx, request, target, WhenAbsent::kCreate, WhenDeleted::kPrepare,
      [&](const store::StoredVersion*, store::WriteOp& op) -> PrepareResult {
        op.json = fhir::StoredJson(*doc, op.id, op.expected_version + 1, op.last_updated);
        op.document = &*doc;  // indexed as parsed, not parsed again
        return WriteIt();
      });
  if (!w.ok()) return ErrorResponse(w.status());
  const store::StoredVersion& v = w->written;
  const bool created = v.version == 1;
  Response r;
  r.status = created ? 201 : 200;
  SetVersionHeaders(v, &r);
  if (created) {
    r.SetHeader("Location", BaseUrl(ctx, request) + "/" + v.type + "/" + v.id + "/_history/1");
  }
  ApplyPrefer(request, format, w->op.json,
              (created ? "created " : "updated ") + v.type + "/" + v.id, &r, warnings);
  return r;
}

}  // namespace vesta::rest
