// The _list parameter: https://hl7.org/fhir/R4/search.html#list
#include "base/strings.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {

// `_list=42` matches the resources that List/42 refers to in its entries (List.entry.item, the
// List's `item` parameter); several ids are OR-ed. The functional lists (`$current-problems`,
// ...) are not supported. An entry matches by its relative reference (type and id), as the
// reference index holds it.
Result<Bound> List(const std::string& type, std::string_view name, std::string_view modifier,
                   std::string_view value) {
  if (!modifier.empty()) {
    return Bad(name, "modifiers (:missing included) do not apply to _list");
  }
  ListCondition c;
  c.type = type;
  for (const std::string& escaped : SplitEscaped(value, ',')) {
    std::string id = UnescapeSearchValue(escaped);
    if (!id.empty() && id.front() == '$') {
      return Bad(name, "functional lists such as '" + id +
                           "' are not supported; give the id of a List resource");
    }
    if (id.empty()) return Bad(name, "expected the id of a List resource");
    c.list_ids.push_back(std::move(id));
  }
  return Bound{{std::move(c)}, 0};  // a list names its items: usually a few
}

}  // namespace vesta::search::params
