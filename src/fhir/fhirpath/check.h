// Compile-time checks over the AST (internal to the engine).
//
// Types named in is/as/ofType must exist (System or FHIR). When the context type is known,
// element names along a path are checked against the R4 model with static types propagated
// through paths, filters and type casts
// (http://hl7.org/fhirpath/N1/#type-safety-and-strict-evaluation).
#pragma once

#include "base/status.h"
#include "fhir/fhirpath/ast.h"
#include "fhir/fhirpath/fhirpath.h"

namespace vesta::fhirpath::internal {

Status Check(const Node& root, const CompileOptions& options);

}  // namespace vesta::fhirpath::internal
