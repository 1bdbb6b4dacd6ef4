// Evaluating a ValueSet's definition into its members: the compose
// (https://hl7.org/fhir/R4/valueset.html#compositions) against the code systems of the terminology
// database, or, when that cannot be done completely, the expansion the resource carries.
// Internal to src/terminology/: the package loader stores each ValueSet's members at load time
// with it, and the service evaluates ValueSets that are not stored (e.g. created through the REST
// API) with it at request time.
//
//   ASSIGN_OR_RETURN(Members m, EvaluateValueSet(db, value_set_json, resolver, 100000));
//   if (!m.complete) ... m.note says what could not be evaluated
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "json/value.h"
#include "terminology/db.h"

namespace vesta::terminology::internal {

struct Member {
  std::string system;
  std::string version;  // the code system version the member was taken from; '' when unknown
  std::string code;
  std::string display;
  bool abstract = false;  // notSelectable / a grouping: shown in expansions, not valid by default
};

struct Members {
  std::vector<Member> codes;  // unique by (system, code), in definition order
  // False when some include (or an exclude) could not be evaluated: `codes` are then only the
  // members that are certain, and a code not among them may still be in the value set.
  bool complete = true;
  std::string note;                // why it is not complete; '' when complete
  std::string method = "compose";  // or "expansion": taken from ValueSet.expansion.contains
};

// Returns the members of the value set with canonical `url` (possibly "url|version"), for
// include.valueSet; NotFound when unknown.
using ValueSetResolver = std::function<Result<Members>(std::string_view url)>;

// The members of `value_set` (a ValueSet resource). Supported in compose: include / exclude by
// system and concept list (the system need not be loaded), by whole system, by filter on a loaded
// system (property `concept` or `code` with is-a, descendent-of, is-not-a, generalizes, in,
// not-in, regex; `=` on parent, child or a stored concept property), and by valueSet (through
// `resolve`). Anything else makes the include incomplete (see Members::complete). When the
// compose is incomplete and the resource has an expansion, the expansion's codes are used.
// kUnprocessable (too-costly) when there are more than `limit` members.
Result<Members> EvaluateValueSet(Db& db, const json::Value& value_set,
                                 const ValueSetResolver& resolve, size_t limit);

}  // namespace vesta::terminology::internal
