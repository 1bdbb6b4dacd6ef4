// Reference parameters: https://hl7.org/fhir/R4/search.html#reference
#include <algorithm>

#include "base/strings.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {

// "[type]/[id]", "[id]" (any of the parameter's target types, or the type the :[type] modifier
// names), or an absolute url. A component of a composite holds a relative reference as one
// text, "Type/id", in its code column.
Result<ValueTest> Reference(const std::vector<std::string>& targets, std::string_view name,
                            std::string_view modifier, const std::string& value, int component) {
  std::string v = UnescapeSearchValue(value);
  std::string type(modifier), id = v;
  if (!modifier.empty() && std::find(targets.begin(), targets.end(), type) == targets.end()) {
    return Bad(name, "':" + type +
                         "' is not a target type of this parameter (supported "
                         "modifiers: :[type], :identifier, :missing)");
  }
  const Field code = At(Column::kCode, component);
  if (v.find("://") != std::string::npos || v.rfind("urn:", 0) == 0) {
    if (component > 0) return ValueTest{Test::All({Test::Compare(code, Op::kEq, {v})}), false};
    // Such references have no target id (extract.cc); the empty-id test lets a backend's
    // partial index over url references serve the lookup.
    return ValueTest{Test::All({Test::Compare(At(Column::kTargetId, 0), Op::kEmpty),
                                Test::Compare(Column::kUrl, Op::kEq, v)}),
                     false};
  }
  size_t slash = v.find('/');
  if (slash != std::string::npos) {
    std::string t = v.substr(0, slash);
    if (!type.empty() && t != type) {
      return Bad(name, "the type in the value contradicts :" + type);
    }
    type = t;
    id = v.substr(slash + 1);
    size_t hist = id.find("/_history/");
    if (hist != std::string::npos) id.resize(hist);
  }
  if (component > 0) {
    if (!type.empty()) {
      return ValueTest{Test::All({Test::Compare(code, Op::kEq, {type + "/" + id})}), false};
    }
    if (targets.empty()) return Bad(name, "give the reference as [type]/[id]");
    std::vector<Value> keys;
    for (const std::string& t : targets) keys.emplace_back(t + "/" + id);
    return ValueTest{Test::All({Test::Compare(code, Op::kIn, std::move(keys))}), false};
  }
  if (!type.empty()) {
    // One key of the (param, target type, target id) index.
    return ValueTest{Test::All({Test::Compare(Column::kTargetType, Op::kEq, type),
                                Test::Compare(Column::kTargetId, Op::kEq, id)}),
                     true};
  }
  // An id alone: any of the parameter's target types (each one an index lookup).
  ValueTest out;
  out.pinned = targets.size() == 1;
  if (!targets.empty()) {
    out.test.children.push_back(Test::Compare(At(Column::kTargetType, 0), Op::kIn,
                                              std::vector<Value>(targets.begin(), targets.end())));
  }
  out.test.children.push_back(Test::Compare(Column::kTargetId, Op::kEq, id));
  return out;
}

}  // namespace vesta::search::params
