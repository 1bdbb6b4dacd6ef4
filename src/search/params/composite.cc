// Composite parameters (https://hl7.org/fhir/R4/search.html#composite), and the dispatch of a
// value to its parameter type's test, which composites use per component.
#include "base/strings.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {

Result<ValueTest> ValueOf(ParamType type, const std::vector<std::string>& targets,
                          std::string_view name, std::string_view modifier, const std::string& v,
                          int component, int64_t now) {
  switch (type) {
    case ParamType::kToken:
      return Token(name, modifier, v, component);
    case ParamType::kString:
      return String(name, modifier, v, component);
    case ParamType::kDate: {
      if (!modifier.empty()) {
        return Bad(name, "modifier :" + std::string(modifier) + " is not supported on dates");
      }
      ASSIGN_OR_RETURN(Test t, Date(name, v, At(Column::kDateLow, component),
                                    At(Column::kDateHigh, component), now));
      return ValueTest{Test::All({std::move(t)}), false};
    }
    case ParamType::kNumber:
    case ParamType::kQuantity:
      return Number(type, name, modifier, v, component);
    case ParamType::kReference:
      return Reference(targets, name, modifier, v, component);
    case ParamType::kUri:
      return Uri(name, modifier, v, component);
    default:
      return Bad(name, "not supported");
  }
}

// "[value]$[value]..." with one part per component, each in the syntax of the component's type
// (its prefixes included), all matching the same tuple (one composite row).
Result<ValueTest> Composite(const Param& p, std::string_view name, const std::string& value,
                            int64_t now) {
  std::vector<std::string> parts = SplitEscaped(value, '$');
  if (parts.size() != p.components.size()) {
    std::string form;
    for (const Component& c : p.components) form += (form.empty() ? "[" : "$[") + c.code + "]";
    return Bad(name, "expected " + std::to_string(p.components.size()) +
                         " values separated by $: " + form);
  }
  ValueTest out;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Component& c = p.components[i];
    if (parts[i].empty()) {
      return Bad(name, "the " + c.code + " part ($" + std::to_string(i + 1) + ") is empty");
    }
    ASSIGN_OR_RETURN(ValueTest part,
                     ValueOf(c.type, c.targets, name, "", parts[i], static_cast<int>(i) + 1, now));
    for (Test& t : part.test.children) out.test.children.push_back(std::move(t));
  }
  return out;
}

}  // namespace vesta::search::params
