// String parameters: https://hl7.org/fhir/R4/search.html#string
#include "base/strings.h"
#include "search/normalize.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {

// "By default, a field matches a string query if the value of the field equals or starts with
// the supplied parameter value, after both have been normalized by case and accent." :exact:
// "the search parameter [must] match the whole string, including casing and accents".
// :contains: "the search parameter [may] match anywhere within the field being searched".
Result<ValueTest> String(std::string_view name, std::string_view modifier, const std::string& v,
                         int component) {
  std::string exact = UnescapeSearchValue(v);
  std::string norm = NormalizeString(exact);
  if (modifier.empty()) {
    return ValueTest{Test::All({Test::Compare(At(Column::kNorm, component), Op::kStartsWith,
                                              {std::move(norm)})}),
                     false};
  }
  if (modifier == "exact") {
    return ValueTest{
        Test::All({Test::Compare(At(Column::kNorm, component), Op::kEq, {std::move(norm)}),
                   Test::Compare(At(Column::kExact, component), Op::kEq, {std::move(exact)})}),
        false};
  }
  if (modifier == "contains") {
    return ValueTest{Test::All({Test::Compare(Column::kNorm, Op::kContains, std::move(norm))}),
                     false};
  }
  return Bad(name, "modifier :" + std::string(modifier) +
                       " is not supported on strings "
                       "(supported: :exact, :contains, :missing)");
}

}  // namespace vesta::search::params
