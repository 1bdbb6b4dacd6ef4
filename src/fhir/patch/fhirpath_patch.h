// FHIRPath Patch (https://hl7.org/fhir/R4/fhirpatch.html): a Parameters resource whose
// `operation` parameters add, insert, delete, replace or move elements found by FHIRPath.
//
//   ASSIGN_OR_RETURN(json::Value patched,
//                    patch::ApplyFhirPathPatch(doc.arena(), doc.root(), params.root(),
//                                              fhir::Model::R4()));
//
// Each operation's path is evaluated with the FHIRPath engine on the resource as changed by the
// operations before it; the tree is rebuilt by path copying in `arena` (the input is never
// modified). Element JSON names follow https://hl7.org/fhir/R4/json.html: a choice element is
// written with its type suffix (`valueQuantity`), and a primitive's id/extensions live in the
// `_name` sibling, which is replaced or removed together with the value.
//
// Lifetimes: the result shares subtrees with `resource` and with `parameters`; both must
// outlive it.
#pragma once

#include "base/status.h"
#include "fhir/model/model.h"
#include "json/value.h"

namespace vesta::patch {

// Applies every operation of `parameters` (a Parameters resource) in order; all or nothing.
// kInvalid for a malformed Parameters (unknown type, missing parts, a bad FHIRPath);
// kUnprocessable when an operation cannot be applied (the path selects no element or several
// where one is required, an index out of range, an element the model does not have). Messages
// name the operation's index and type.
Result<json::Value> ApplyFhirPathPatch(json::Arena& arena, const json::Value& resource,
                                       const json::Value& parameters, const fhir::Model& model);

}  // namespace vesta::patch
