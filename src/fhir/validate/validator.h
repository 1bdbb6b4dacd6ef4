// Structural checks of a resource's JSON against the R4 model: what a server must refuse on
// write (https://hl7.org/fhir/R4/json.html, https://hl7.org/fhir/R4/datatypes.html).
//
//   Status s = fhir::ValidateResource(doc.root(), fhir::Model::R4());
//   // s.issues(): each problem with its FHIRPath location, e.g. "Patient.birthDate"
//
// Checked: a known, concrete resourceType; every property an element of its type (choice
// elements by type suffix, `_name` primitive extensions, contained and inline resources by their
// own resourceType); arrays exactly where the element repeats; primitive values in their JSON
// type and R4 lexical format (dates, instants, decimals, integers, codes, ids, uris, base64...);
// no empty objects, arrays or strings; null only inside primitive arrays paired with `_name`;
// at most one type of a choice element; minimum cardinalities. Invariants (FHIRPath
// constraints) and terminology bindings are not checked here.
#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"
#include "fhir/model/model.h"
#include "json/value.h"

namespace vesta::fhir {

struct ValidationOptions {
  bool check_min_cardinality = true;
  size_t max_issues = 100;  // stop collecting after this many
  // Lenient validation (`--validation lenient`): what test data as measure stewards write it
  // breaks by habit is accepted and reported as warnings instead of errors: a missing required
  // element (minimum cardinality), and a dateTime or instant with a time but no time zone. The
  // rest (malformed JSON, unknown elements, wrong JSON types, other bad lexical forms) is still
  // refused. Terminology bindings are checked in neither level.
  bool lenient = false;
  std::vector<Issue>* warnings = nullptr;  // lenient: where the warnings go (may be null)
};

// OK, or kInvalid with one Issue per problem (capped at max_issues).
Status ValidateResource(const json::Value& resource, const Model& model,
                        const ValidationOptions& options = {});

// Lexical checks of single primitive values, exposed for reuse (search parameters, FHIRPath).
// https://hl7.org/fhir/R4/datatypes.html#primitive
bool IsValidId(std::string_view s);
bool IsValidDate(std::string_view s);
bool IsValidDateTime(std::string_view s);
bool IsValidInstant(std::string_view s);
bool IsValidTime(std::string_view s);
bool IsValidCode(std::string_view s);

}  // namespace vesta::fhir
