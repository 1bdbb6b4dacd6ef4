// create: POST [base]/[type] (https://hl7.org/fhir/R4/http.html#create)
//
// "The resource does not need to have an id element (this is one of the few cases where a
// resource exists without an id element). If an id is provided, the server SHALL ignore it."
// The server assigns id, meta.versionId and meta.lastUpdated; 201 Created with Location,
// ETag and Last-Modified.
#include "rest/context.h"
#include "rest/outcome.h"
#include "rest/resource_json.h"

namespace vesta::rest {

Response CreateInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target) {
  if (!request.Header("If-None-Exist").empty()) {
    return ErrorResponse(Status(StatusCode::kNotSupported,
                                "conditional create (If-None-Exist) is not supported yet"));
  }
  if (Status s = CheckBodyContentType(request); !s.ok()) return ErrorResponse(s);
  Result<json::Document> doc = ParseResourceBody(request.body, target.type, ctx.model);
  if (!doc.ok()) return ErrorResponse(doc.status());
  store::WriteOp op;
  op.kind = store::WriteKind::kCreate;
  op.type = target.type;
  op.id = ctx.ids.NewId();
  op.expected_version = store::kExpectNone;
  op.last_updated = ctx.clock.Now();
  op.json = StoredJson(*doc, op.id, 1, op.last_updated);
  Result<std::vector<store::WriteResult>> written = ctx.store.Write({&op, 1});
  if (!written.ok()) return ErrorResponse(written.status());
  Response r;
  r.status = 201;
  store::StoredVersion v{op.type, op.id, 1, op.last_updated, false, {}};
  SetVersionHeaders(v, &r);
  r.SetHeader("Location", BaseUrl(ctx, request) + "/" + op.type + "/" + op.id + "/_history/1");
  ApplyPrefer(request, format, op.json, "created " + op.type + "/" + op.id, &r);
  return r;
}

}  // namespace vesta::rest
