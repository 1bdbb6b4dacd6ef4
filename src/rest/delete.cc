// delete: DELETE [base]/[type]/[id] (https://hl7.org/fhir/R4/http.html#delete)
//
// A logical delete: a new version marked deleted; read then answers 410 Gone and history shows
// the deletion. "Performing this interaction on a resource that is already deleted has no
// effect, and the server should return either a 200 OK (if a response body is provided) or a
// 204 No Content." If-Match makes the delete conditional on the current version (412).
#include "rest/context.h"
#include "rest/outcome.h"
#include "rest/versioned_write.h"

namespace vesta::rest {

Response DeleteInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target) {
  const std::string name = target.type + "/" + target.id;
  Result<VersionedWrite> w = WriteVersioned(
      ctx, request, target, WhenAbsent::kNotFound, WhenDeleted::kPrepare,
      [&](const store::StoredVersion* current, store::WriteOp& op) -> PrepareResult {
        if (current->deleted) {
          Response r = JsonResponse(InformationOutcomeJson(name + " was already deleted"), format);
          SetVersionHeaders(*current, &r);
          return AnswerWithoutWriting(std::move(r));
        }
        RETURN_IF_ERROR(CheckNotReferenced(ctx, target.type, target.id));
        op.kind = store::WriteKind::kDelete;
        return WriteIt();
      });
  if (!w.ok()) return ErrorResponse(w.status());
  if (w->answer) return std::move(*w->answer);
  Response r = JsonResponse(InformationOutcomeJson("deleted " + name), format);
  SetVersionHeaders(w->written, &r);
  return r;
}

}  // namespace vesta::rest
