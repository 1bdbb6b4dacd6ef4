// vread: GET [base]/[type]/[id]/_history/[vid] (https://hl7.org/fhir/R4/http.html#vread)
#include "rest/context.h"
#include "rest/outcome.h"

namespace vesta::rest {

Response VReadInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                          const Target& target) {
  Result<ResourceView> view = ParseView(request);
  if (!view.ok()) return ErrorResponse(view.status());
  Result<store::StoredVersion> v = ctx.store.ReadVersion(target.type, target.id, *target.version);
  std::string name = target.type + "/" + target.id + "/_history/" + std::to_string(*target.version);
  if (!v.ok()) {
    if (v.status().code() == StatusCode::kNotFound) {
      // Versions are numbered 1, 2, 3... with none skipped: an earlier one that is missing was
      // removed from the history (store.h, ExpungeHistory; docs/hl7v2.md, "Retention").
      Result<store::StoredVersion> current = ctx.store.Read(target.type, target.id);
      if (current.ok() && *target.version >= 1 && *target.version < current->version) {
        const std::string why = " is no longer kept: the server removed the earlier versions of ";
        return ErrorResponse(
            Status(StatusCode::kNotFound, name + why + target.type + "/" + target.id));
      }
      return ErrorResponse(Status(StatusCode::kNotFound, name + " is not known"));
    }
    return ErrorResponse(v.status());
  }
  // A version that records a deletion has no content (http.html#vread: 410 Gone).
  if (v->deleted) return GoneResponse(*v, name + " is a deletion");
  return ResourceResponse(ctx, *v, *view, format);
}

}  // namespace vesta::rest
