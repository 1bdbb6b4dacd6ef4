// A resource on its way to the store: parsed once, checked against the R4 model, and given what
// the server owns (id, meta.versionId, meta.lastUpdated). Used by every writer of resources: the
// REST interactions, `vesta import`, the terminology publisher of `vesta serve` and the ICD-10
// migration. Knows nothing of HTTP or of the store.
//
//   ASSIGN_OR_RETURN(json::Document doc, fhir::ParseResourceBody(body, "Patient", model));
//   std::string stored = fhir::StoredJson(doc, id, version, now);
#pragma once

#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "fhir/model/model.h"
#include "fhir/validate/validator.h"
#include "json/value.h"

namespace vesta::fhir {

// Parses and validates a request body as a resource of `type`
// (https://hl7.org/fhir/R4/http.html#create, #update): well-formed UTF-8 JSON, resourceType equal
// to `type`, and the structural checks of fhir/validate. kInvalid with one issue per problem.
Result<json::Document> ParseResourceBody(std::string_view body, const std::string& type,
                                         const Model& model, const ValidationOptions& options = {});
// The same checks on a document already parsed: resourceType equal to `type` and the structural
// checks of fhir/validate (for a caller that parsed it to learn its type).
Status CheckResource(const json::Value& root, const std::string& type, const Model& model,
                     const ValidationOptions& options = {});

// The JSON to store and serve for a new version: `resource` with id, meta.versionId and
// meta.lastUpdated set by the server (resourceType, id and meta first; everything else as the
// client sent it, numbers byte for byte). `doc` is changed to that version: afterwards it is what
// parsing the returned bytes would give (store::WriteOp::document). Calling it again on the same
// `doc` for another version gives that version.
std::string StoredJson(json::Document& doc, const std::string& id, int64_t version,
                       Micros last_updated);

}  // namespace vesta::fhir
