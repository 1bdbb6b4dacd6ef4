// patch: PATCH [base]/[type]/[id] (https://hl7.org/fhir/R4/http.html#patch)
//
// "The body of a PATCH operation SHALL be either a JSON Patch document with a content type of
// application/json-patch+json, an XML Patch document [...] or a FHIRPath Patch parameters
// Resource with FHIR Content Type". The patched resource must be a valid resource of the same
// type and id; "Processing PATCH operations may be very version sensitive. For this reason,
// servers that support PATCH SHALL support Resource Contention on the PATCH interaction" — with
// If-Match the patch applies only to that version (else 412); without it a concurrent change is
// read again and the patch re-applied to the new version.
#include "fhir/patch/fhirpath_patch.h"
#include "fhir/patch/json_patch.h"
#include "fhir/resource/resource_json.h"
#include "json/parse.h"
#include "json/writer.h"
#include "rest/access.h"
#include "rest/context.h"
#include "rest/outcome.h"
#include "rest/versioned_write.h"

namespace vesta::rest {
namespace {

enum class PatchKind { kJsonPatch, kFhirPathPatch };

Result<json::Document> PatchedResource(const Context& ctx, const Target& target,
                                       const std::string& current_json, PatchKind kind,
                                       const json::Value& patch, std::vector<Issue>* warnings);

// https://hl7.org/fhir/R4/http.html#patch: the media type says which patch format the body is.
Result<PatchKind> KindOf(const Request& request) {
  std::string_view ct = request.Header("Content-Type");
  const std::string media = MediaTypeOf(ct);
  if (media == "application/json-patch+json") return PatchKind::kJsonPatch;
  if (media == "application/fhir+json" || media == "application/json" ||
      media == "application/json+fhir") {
    return PatchKind::kFhirPathPatch;
  }
  return Status(StatusCode::kUnsupportedMedia,
                "Content-Type '" + std::string(ct) +
                    "' is not a patch format: send application/json-patch+json (JSON Patch) or "
                    "application/fhir+json with a Parameters resource (FHIRPath Patch)");
}

// Applies the patch to the stored JSON of the current version and checks the result: same
// resourceType and id (400 otherwise), and a valid resource (422 with the validator's issues).
}  // namespace

Result<json::Document> ApplyPatchToResource(const Context& ctx, const Target& target,
                                            const std::string& current_json, bool json_patch,
                                            const json::Value& patch) {
  return PatchedResource(ctx, target, current_json,
                         json_patch ? PatchKind::kJsonPatch : PatchKind::kFhirPathPatch, patch,
                         nullptr);
}

namespace {

Result<json::Document> PatchedResource(const Context& ctx, const Target& target,
                                       const std::string& current_json, PatchKind kind,
                                       const json::Value& patch, std::vector<Issue>* warnings) {
  ASSIGN_OR_RETURN(json::Document current, json::Parse(current_json));
  json::Value patched;
  if (kind == PatchKind::kJsonPatch) {
    ASSIGN_OR_RETURN(patched, patch::ApplyJsonPatch(current.arena(), current.root(), patch));
  } else {
    ASSIGN_OR_RETURN(patched,
                     patch::ApplyFhirPathPatch(current.arena(), current.root(), patch, ctx.model));
  }
  if (!patched.is_object() || patched.FindString("resourceType") != target.type) {
    std::string msg = "the patch may not change the resourceType (" + target.type + ")";
    return Status(StatusCode::kInvalid, msg,
                  {Issue{Severity::kError, "invalid", msg, target.type}});
  }
  const json::Value* id = patched.Find("id");
  if (id == nullptr || !id->is_string() || id->string_value() != target.id) {
    std::string msg = "the patch may not change or remove the id (" + target.id + ")";
    return Status(StatusCode::kInvalid, msg,
                  {Issue{Severity::kError, "invalid", msg, target.type + ".id"}});
  }
  // The same checks as a PUT of the patched resource; a patch that breaks the resource is
  // unprocessable (422) rather than a malformed request.
  Result<json::Document> checked = fhir::ParseResourceBody(json::ToString(patched), target.type,
                                                           ctx.model, ValidationFor(ctx, warnings));
  if (!checked.ok()) {
    return Status(StatusCode::kUnprocessable,
                  "the patched resource is not valid: " + checked.status().message(),
                  checked.status().issues());
  }
  return checked;
}

}  // namespace

Response PatchInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                          const Target& target) {
  Result<PatchKind> kind = KindOf(request);
  if (!kind.ok()) return ErrorResponse(kind.status());
  if (request.body.empty()) {
    return ErrorResponse(Status(StatusCode::kInvalid, "the PATCH has no body"));
  }
  Result<json::Document> patch_doc = json::Parse(request.body);
  if (!patch_doc.ok()) return ErrorResponse(patch_doc.status());
  if (*kind == PatchKind::kFhirPathPatch &&
      patch_doc->root().FindString("resourceType") != "Parameters") {
    return ErrorResponse(
        Status(StatusCode::kInvalid, "a FHIRPath Patch body must be a Parameters resource"));
  }
  json::Document doc;  // the latest attempt's patched resource; lives until the write is done
  std::vector<Issue> warnings;  // the latest attempt's (lenient validation)
  Result<VersionedWrite> w = WriteVersioned(
      ctx, request, target, WhenAbsent::kNotFound, WhenDeleted::kGone,
      [&](const store::StoredVersion* current, store::WriteOp& op) -> PrepareResult {
        warnings.clear();
        ASSIGN_OR_RETURN(
            doc, PatchedResource(ctx, target, current->json, *kind, patch_doc->root(), &warnings));
        // Referential integrity as for update; a resource may refer to itself.
        RETURN_IF_ERROR(CheckReferences(ctx, request, doc.root(), target.type,
                                        {target.type + "/" + target.id}));
        // The patched content stays where the token may write (rest/access.h).
        RETURN_IF_ERROR(
            CheckNewContent(ctx, request, auth::Permission::kUpdate, target.type, doc.root()));
        op.json = fhir::StoredJson(doc, op.id, op.expected_version + 1, op.last_updated);
        op.document = &doc;  // indexed as parsed, not parsed again
        return WriteIt();
      });
  if (!w.ok()) return ErrorResponse(w.status());
  if (w->answer) return std::move(*w->answer);
  Response r;
  SetVersionHeaders(w->written, &r);
  ApplyPrefer(request, format, w->op.json, "patched " + target.type + "/" + target.id, &r,
              warnings);
  return r;
}

}  // namespace vesta::rest
