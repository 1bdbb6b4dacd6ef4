// What a search request asks for, before it is parsed (https://hl7.org/fhir/R4/search.html):
// the input of search::PlanSearch (search/plan.h), and the part of store::SearchQuery a store
// hands to the planner. A plain value with no dependencies, so the Store interface can carry it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vesta::search {

enum class Handling { kLenient, kStrict };  // Prefer: handling=... (search.html#errors)
// _total (https://hl7.org/fhir/R4/search.html#total). kDefault: the total only when the whole
// result fits in the first page.
enum class TotalMode { kDefault, kNone, kEstimate, kAccurate };

// The codes a terminology gave for one token parameter with :below, :above, :in or :not-in
// (https://hl7.org/fhir/R4/search.html#token). A code with an empty system matches the index
// rows of plain `code` elements, whose system is implicit in their binding (Observation.status).
// The planner matches the parameter against the set: :not-in matches resources none of whose
// codes is in it, including those without the element.
struct CodeSet {
  std::vector<std::pair<std::string, std::string>> codes;  // (system, code), each once
};

struct SearchSpec {
  // Resource types searched: one for a type search; several (or none: every type) for a system
  // search with _type.
  std::vector<std::string> types;
  std::vector<std::pair<std::string, std::string>> params;  // decoded query pairs, in order
  // The expansions of the terminology modifiers, by the index of their pair in `params`.
  std::map<size_t, CodeSet> code_sets;
  std::string compartment_patient;  // Patient/[id]/[type] compartment search: the id
  Handling handling = Handling::kLenient;
  int default_count = 50;
  int max_count = 1000;
  int64_t now_micros = 0;  // for `ap` on dates
  // A driving list at least this long is not collected: the page walks the type's rows instead
  // (Plan::CountThenWalk). Tests lower it.
  int64_t walk_above = 2000;
};

}  // namespace vesta::search
