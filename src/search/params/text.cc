// The full-text parameters _text and _content: https://hl7.org/fhir/R4/search.html#text
#include "search/text.h"

#include "base/strings.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {

// "_text: ... a search against the narrative of the resource"; "_content: ... searches the
// entire content of the resource". The value is a text search expression (search/text.h);
// comma-separated values are alternatives (OR). The set is the same for every type: for a type
// without the parameter (_text on Bundle, Binary, Parameters) the parameter is unknown (the
// binder's check).
Result<Bound> Text(std::string_view name, std::string_view code, std::string_view modifier,
                   std::string_view value) {
  if (!modifier.empty()) {
    return Bad(name, "modifiers (:missing included) do not apply to " + std::string(code));
  }
  TextCondition c;
  c.scope = code == "_text" ? TextScope::kNarrative : TextScope::kContent;
  for (const std::string& alternative : SplitOutsideQuotes(value)) {
    Result<TextQuery> query = ParseTextQuery(UnescapeSearchValue(alternative));
    if (!query.ok()) return Bad(name, query.status().message());
    c.alternatives.push_back(std::move(query).value());
  }
  return Bound{{std::move(c)}, 3};
}

}  // namespace vesta::search::params
