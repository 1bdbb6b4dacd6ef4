// Helpers for the FHIRPath unit tests.
#pragma once

#include <string>
#include <string_view>

#include "fhir/fhirpath/fhirpath.h"
#include "json/parse.h"

namespace vesta::fhirpath::testing {

inline constexpr std::string_view kPatient = R"({
  "resourceType": "Patient", "id": "p1", "active": true,
  "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]},
           {"use": "usual", "given": ["Jim"]}],
  "birthDate": "1974-12-25",
  "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
  "gender": "male",
  "telecom": [{"system": "phone", "value": "555", "use": "home"}]
})";

// Evaluates `expr` on `resource` and returns the result as a JSON array, or "ERROR: ..." when
// compiling or evaluating fails.
inline std::string Eval(std::string_view expr, std::string_view resource = kPatient,
                        const Environment& env = {}) {
  Result<json::Document> doc = json::Parse(resource);
  if (!doc.ok()) return "BAD TEST INPUT: " + doc.status().message();
  Result<Expression> e = Expression::Compile(expr);
  if (!e.ok()) return "ERROR: " + e.status().message();
  Result<Collection> r = e->Evaluate(doc->root(), env);
  if (!r.ok()) return "ERROR: " + r.status().message();
  return CollectionToJson(*r);
}

inline bool IsError(const std::string& s) { return s.rfind("ERROR: ", 0) == 0; }

}  // namespace vesta::fhirpath::testing
