// The resource-level parameters _id and _lastUpdated: https://hl7.org/fhir/R4/search.html#all
#include "base/strings.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {

// https://hl7.org/fhir/R4/search.html#id: "_id ... the logical id of the resource". Every
// resource has one: `:missing=true` matches nothing.
Result<Bound> Id(const std::string& type, std::string_view name, std::string_view modifier,
                 std::string_view value) {
  if (modifier == "missing") return Bound{{ConstantCondition{value != "true"}}, 3};
  const bool negated = modifier == "not";
  if (!modifier.empty() && !negated) return Bad(name, "modifier not supported on _id");
  IdCondition c;
  c.type = type;
  c.negated = negated;
  for (const std::string& id : SplitEscaped(value, ',')) {
    c.ids.push_back(UnescapeSearchValue(id));
  }
  return Bound{{std::move(c)}, negated ? 9 : 0};
}

// https://hl7.org/fhir/R4/search.html#lastUpdated: a date search on meta.lastUpdated, a point in
// time (the same tests as a date range whose low and high are equal). Every resource has one.
Result<Bound> LastUpdated(const std::string& type, std::string_view name, std::string_view modifier,
                          std::string_view value, int64_t now) {
  if (modifier == "missing") return Bound{{ConstantCondition{value != "true"}}, 3};
  if (!modifier.empty()) return Bad(name, "modifier not supported on _lastUpdated");
  LastUpdatedCondition c;
  c.type = type;
  const Field at{Column::kLastUpdated, 0};
  for (const std::string& v : SplitEscaped(value, ',')) {
    ASSIGN_OR_RETURN(Test t, Date(name, v, at, at, now));
    c.alternatives.push_back(std::move(t));
  }
  return Bound{{std::move(c)}, 5};
}

}  // namespace vesta::search::params
