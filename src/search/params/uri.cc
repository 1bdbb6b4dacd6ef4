// Uri parameters: https://hl7.org/fhir/R4/search.html#uri
#include "base/strings.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {

// "The :above modifier ... the search [matches] all resources whose URL is a prefix of (or equal
// to) the given URL" (here: prefixes ending at a path segment); ":below ... the URL starts with
// the given value".
Result<ValueTest> Uri(std::string_view name, std::string_view modifier, const std::string& value,
                      int component) {
  std::string v = UnescapeSearchValue(value);
  if (modifier.empty()) {
    const Field f = component > 0 ? At(Column::kCode, component) : At(Column::kUri, 0);
    return ValueTest{Test::All({Test::Compare(f, Op::kEq, {std::move(v)})}), false};
  }
  if (modifier == "below") {
    return ValueTest{Test::All({Test::Compare(Column::kUri, Op::kStartsWith, std::move(v))}),
                     false};
  }
  if (modifier == "above") {
    // Every prefix of the value that ends at a path segment, and the value itself.
    std::vector<Value> prefixes;
    size_t scheme = v.find("://");
    size_t from = scheme == std::string::npos ? 0 : scheme + 3;
    for (size_t i = v.find('/', from); i != std::string::npos; i = v.find('/', i + 1)) {
      prefixes.emplace_back(v.substr(0, i));
    }
    prefixes.emplace_back(v);
    return ValueTest{Test::All({Test::Compare(At(Column::kUri, 0), Op::kIn, std::move(prefixes))}),
                     false};
  }
  return Bad(name, "modifier :" + std::string(modifier) +
                       " is not supported on uris "
                       "(supported: :below, :above, :missing)");
}

}  // namespace vesta::search::params
