// read: GET [base]/[type]/[id] (https://hl7.org/fhir/R4/http.html#read)
#include "rest/context.h"
#include "rest/outcome.h"
#include "terminology/terminology_service.h"

namespace vesta::rest {

// "If-None-Match" and "If-Modified-Since" make a read conditional
// (https://hl7.org/fhir/R4/http.html#cread): 304 Not Modified when the client's copy is current.
static bool NotModified(const Request& request, const store::StoredVersion& v) {
  std::string_view inm = request.Header("If-None-Match");
  if (!inm.empty()) {
    if (inm == "*") return true;
    std::optional<int64_t> tag = ParseETag(inm);
    return tag && *tag == v.version;
  }
  std::string_view ims = request.Header("If-Modified-Since");
  if (!ims.empty()) {
    Micros since = 0;
    // HTTP dates have second precision: the resource is unmodified when its last change falls
    // in or before the given second.
    if (ParseHttpDate(std::string(ims), &since)) return v.last_updated < since + 1000000;
  }
  return false;
}

Response ReadInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                         const Target& target) {
  Result<ResourceView> view = ParseView(request);
  if (!view.ok()) return ErrorResponse(view.status());
  Result<store::StoredVersion> v = ReadCurrent(ctx, target.type, target.id);
  if (!v.ok()) {
    // The terminology's own CodeSystems, ValueSets and ConceptMaps (summaries: ICD-10-CM's
    // 95,000 concepts are reached through $lookup and $expand, not inlined).
    if (v.status().code() == StatusCode::kNotFound && ctx.options.terminology != nullptr &&
        (target.type == "CodeSystem" || target.type == "ValueSet" || target.type == "ConceptMap")) {
      Result<std::string> t = ctx.options.terminology->ReadResource(target.type, target.id);
      if (t.ok()) {
        Response r;
        r.SetHeader("Content-Type", ContentType(format));
        Result<std::string> body = RenderResource(*t, *view, format, ctx.model);
        if (!body.ok()) return ErrorResponse(body.status());
        r.body = std::move(body).value();
        return r;
      }
    }
    return ErrorResponse(v.status());
  }
  if (v->deleted) return GoneResponse(*v, target.type + "/" + target.id + " was deleted");
  if (NotModified(request, *v)) {
    Response r;
    r.status = 304;
    SetVersionHeaders(*v, &r);
    return r;
  }
  return ResourceResponse(ctx, *v, *view, format);
}

}  // namespace vesta::rest
