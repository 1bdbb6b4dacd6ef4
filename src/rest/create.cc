// create: POST [base]/[type] (https://hl7.org/fhir/R4/http.html#create)
//
// "The resource does not need to have an id element (this is one of the few cases where a
// resource exists without an id element). If an id is provided, the server SHALL ignore it."
// The server assigns id, meta.versionId and meta.lastUpdated; 201 Created with Location,
// ETag and Last-Modified.
#include "fhir/resource/resource_json.h"
#include "rest/context.h"
#include "rest/outcome.h"
#include "rest/url.h"

namespace vesta::rest {

Response CreateInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target) {
  if (Status s = CheckBodyContentType(request); !s.ok()) return ErrorResponse(s);
  std::vector<Issue> warnings;
  Result<json::Document> doc =
      fhir::ParseResourceBody(request.body, target.type, ctx.model, ValidationFor(ctx, &warnings));
  if (!doc.ok()) return ErrorResponse(doc.status());
  // Conditional create (https://hl7.org/fhir/R4/http.html#ccreate): "If-None-Exist: [search
  // parameters]": no match: create; one match: ignore the POST and answer 200 OK; several: 412.
  std::vector<std::unique_lock<std::mutex>> held;  // the criteria's lock, to the write
  if (std::string_view ine = request.Header("If-None-Exist"); !ine.empty()) {
    if (ine.front() == '?') ine.remove_prefix(1);
    if (size_t q = ine.find('?'); q != std::string_view::npos) ine.remove_prefix(q + 1);
    Result<QueryList> query = ParseQueryString(ine);
    if (!query.ok()) return ErrorResponse(query.status());
    held = ctx.conditional_locks->Lock({ConditionalKey(target.type, *query)});
    Result<std::vector<std::string>> found = FindMatches(ctx, target.type, *query, 1);
    if (!found.ok()) return ErrorResponse(found.status());
    if (found->size() > 1) {
      return ErrorResponse(Status(StatusCode::kPreconditionFailed,
                                  "If-None-Exist matched more than one " + target.type));
    }
    if (found->size() == 1) {
      Result<store::StoredVersion> existing = ctx.store.Read(target.type, (*found)[0]);
      if (!existing.ok()) return ErrorResponse(existing.status());
      Response r;
      SetVersionHeaders(*existing, &r);
      r.SetHeader("Location", BaseUrl(ctx, request) + "/" + target.type + "/" + existing->id +
                                  "/_history/" + std::to_string(existing->version));
      ApplyPrefer(request, format, existing->json,
                  target.type + "/" + existing->id + " already matches; nothing created", &r);
      return r;
    }
  }
  if (Status s = CheckReferences(ctx, request, doc->root(), target.type); !s.ok()) {
    return ErrorResponse(s);
  }
  store::WriteOp op;
  op.kind = store::WriteKind::kCreate;
  op.type = target.type;
  op.id = ctx.ids.NewId();
  op.expected_version = store::kExpectNone;
  op.last_updated = ctx.clock.Now();
  op.json = fhir::StoredJson(*doc, op.id, 1, op.last_updated);
  op.document = &*doc;  // indexed as parsed, not parsed again
  Result<std::vector<store::WriteResult>> written = ctx.store.Write({&op, 1});
  if (!written.ok()) return ErrorResponse(written.status());
  Response r;
  r.status = 201;
  store::StoredVersion v{op.type, op.id, 1, op.last_updated, false, {}};
  SetVersionHeaders(v, &r);
  r.SetHeader("Location", BaseUrl(ctx, request) + "/" + op.type + "/" + op.id + "/_history/1");
  ApplyPrefer(request, format, op.json, "created " + op.type + "/" + op.id, &r, warnings);
  return r;
}

}  // namespace vesta::rest
