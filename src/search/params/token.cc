// Token parameters: https://hl7.org/fhir/R4/search.html#token
#include <algorithm>

#include "base/strings.h"
#include "search/extract.h"
#include "search/normalize.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {

// "[parameter]=[code]": the code, any system. "[system]|[code]": both. "|[code]": a code with no
// system. "[system]|": any code of the system. :text: "the search parameter is processed as a
// string that searches text associated with the code/value" (a prefix of the normalized text).
Result<ValueTest> Token(std::string_view name, std::string_view modifier, const std::string& v,
                        int component) {
  if (modifier == "text") {
    std::string norm = NormalizeString(UnescapeSearchValue(v));
    // The non-empty test repeats the partial index's condition, so that a backend may use it.
    return ValueTest{Test::All({Test::Compare(At(Column::kTokenText, 0), Op::kNotEmpty),
                                Test::Compare(Column::kTokenText, Op::kStartsWith, norm)}),
                     false};
  }
  if (!modifier.empty()) {
    return Bad(name, "modifier :" + std::string(modifier) +
                         " is not supported on tokens "
                         "(supported: :text, :not, :of-type, :missing, :in, :not-in, :below, "
                         ":above)");
  }
  std::optional<std::pair<std::string, std::string>> sc = SplitBar(v);
  if (!sc) {
    return ValueTest{
        Test::All({Test::Compare(At(Column::kCode, component), Op::kEq, {UnescapeSearchValue(v)})}),
        false};
  }
  ValueTest out;
  std::string code = UnescapeSearchValue(sc->second);
  if (!code.empty()) {
    out.test.children.push_back(Test::Compare(At(Column::kCode, component), Op::kEq, {code}));
    out.pinned = true;  // code and system: one key of the (param, code, system) index
  } else if (!sc->first.empty()) {
    // `system|`: the partial index on system holds these rows
    out.test.children.push_back(Test::Compare(At(Column::kSystem, component), Op::kNotEmpty));
  }
  out.test.children.push_back(Test::Compare(At(Column::kSystem, component), Op::kEq, {sc->first}));
  return out;
}

// https://hl7.org/fhir/R4/search.html#token, :of-type: "the search parameter has the format
// system|code|value, where the system and code refer to an Identifier.type.coding.system and
// .code, and match if any of the type codes match. All 3 parts must be present."
Result<ValueTest> OfType(std::string_view name, const std::string& v) {
  std::vector<std::string> parts = SplitEscaped(v, '|');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
    return Bad(name,
               "use :of-type=[type system]|[type code]|[identifier value], all three "
               "present");
  }
  std::string pair = UnescapeSearchValue(parts[1]);
  pair.push_back(kOfTypeSeparator);
  pair += UnescapeSearchValue(parts[2]);
  return ValueTest{
      Test::All({Test::Compare(Column::kCode, Op::kEq, pair),
                 Test::Compare(Column::kSystem, Op::kEq, UnescapeSearchValue(parts[0]))}),
      true};
}

namespace {

// Codes grouped by system (nullopt: any system), in the order of their first appearance; a
// `system|` pair with no code keeps a test of its own.
std::vector<Test> Grouped(
    const std::vector<std::pair<std::optional<std::string>, std::string>>& codes) {
  std::vector<std::pair<std::optional<std::string>, std::vector<Value>>> groups;
  std::vector<Test> out;
  for (const auto& [system, code] : codes) {
    if (system && code.empty()) {
      out.push_back(Test::All({Test::Compare(Column::kSystem, Op::kEq, *system)}));
      continue;
    }
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const auto& x) { return x.first == system; });
    if (g == groups.end()) g = groups.insert(groups.end(), {system, {}});
    g->second.emplace_back(code);
  }
  for (auto& [system, values] : groups) {
    Test t = Test::All({});
    if (system) t.children.push_back(Test::Compare(Column::kSystem, Op::kEq, *system));
    t.children.push_back(Test::Compare(At(Column::kCode, 0), Op::kInSet, std::move(values)));
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

std::vector<Test> TokenList(const std::vector<std::string>& values) {
  std::vector<std::pair<std::optional<std::string>, std::string>> codes;
  for (const std::string& v : values) {
    std::optional<std::pair<std::string, std::string>> sc = SplitBar(v);
    if (sc) {
      codes.emplace_back(sc->first, UnescapeSearchValue(sc->second));
    } else {
      codes.emplace_back(std::nullopt, UnescapeSearchValue(v));
    }
  }
  return Grouped(codes);
}

std::vector<Test> CodeSetTests(const CodeSet& set) {
  std::vector<std::pair<std::optional<std::string>, std::string>> codes;
  for (const auto& [system, code] : set.codes) codes.emplace_back(system, code);
  return Grouped(codes);
}

}  // namespace vesta::search::params
