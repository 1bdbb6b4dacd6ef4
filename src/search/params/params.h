// One file per search parameter type and special parameter: each binds a value of the request to
// a value test (search/plan.h, Test) or a condition, and answers kInvalid naming the parameter for
// a value it cannot take. Internal to src/search: search/bind.cc dispatches to them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "search/plan.h"
#include "search/registry.h"

namespace vesta::search {

class Binder;

namespace params {

// A value test (a Test of kind kAll whose children are AND-ed) and whether it pins every column
// of its value index but the row order (token system and code, reference type and id).
struct ValueTest {
  Test test = Test::All({});
  bool pinned = false;
};

// The columns of a parameter type's own index row (component 0) or of one component of a
// composite row (1, 2, 3).
inline Field At(Column c, int component) { return Field{c, component}; }

// https://hl7.org/fhir/R4/search.html#token (modifiers :text and none; :not is the caller's).
Result<ValueTest> Token(std::string_view name, std::string_view modifier, const std::string& v,
                        int component);
// :of-type on an identifier: `system|code|value`.
Result<ValueTest> OfType(std::string_view name, const std::string& v);
// A long OR list of token values: one test per system (and one for codes of any system) with
// its codes as a set; `system|` values keep a test of their own.
std::vector<Test> TokenList(const std::vector<std::string>& values);
// The codes of a terminology expansion, grouped the same way.
std::vector<Test> CodeSetTests(const CodeSet& codes);
// A token OR list longer than this is grouped (TokenList).
inline constexpr size_t kTokenListAbove = 16;

// https://hl7.org/fhir/R4/search.html#string (none, :exact, :contains)
Result<ValueTest> String(std::string_view name, std::string_view modifier, const std::string& v,
                         int component);

// https://hl7.org/fhir/R4/search.html#date: the test of a resource's range [low, high] against
// the searched value's range with its prefix. `now` for `ap`.
Result<Test> Date(std::string_view name, std::string_view value, Field low, Field high,
                  int64_t now);

// https://hl7.org/fhir/R4/search.html#number, #quantity
Result<ValueTest> Number(ParamType type, std::string_view name, std::string_view modifier,
                         const std::string& value, int component);

// https://hl7.org/fhir/R4/search.html#reference (none, :[type]); `targets`: the allowed types.
Result<ValueTest> Reference(const std::vector<std::string>& targets, std::string_view name,
                            std::string_view modifier, const std::string& value, int component);

// https://hl7.org/fhir/R4/search.html#uri (none, :below, :above)
Result<ValueTest> Uri(std::string_view name, std::string_view modifier, const std::string& value,
                      int component);

// The value test of a parameter (or composite component) of `type`.
Result<ValueTest> ValueOf(ParamType type, const std::vector<std::string>& targets,
                          std::string_view name, std::string_view modifier, const std::string& v,
                          int component, int64_t now);

// https://hl7.org/fhir/R4/search.html#composite: "[value]$[value]..." with one part per component.
Result<ValueTest> Composite(const Param& p, std::string_view name, const std::string& value,
                            int64_t now);

// The special parameters, each a whole condition with its planner priority.
struct Bound {
  Condition condition;
  int priority = 3;  // 0: the most selective
};

// https://hl7.org/fhir/R4/search.html#id, _lastUpdated
Result<Bound> Id(const std::string& type, std::string_view name, std::string_view modifier,
                 std::string_view value);
Result<Bound> LastUpdated(const std::string& type, std::string_view name, std::string_view modifier,
                          std::string_view value, int64_t now);
// https://hl7.org/fhir/R4/search.html#list
Result<Bound> List(const std::string& type, std::string_view name, std::string_view modifier,
                   std::string_view value);
// https://hl7.org/fhir/R4/search.html#text: _text, _content
Result<Bound> Text(std::string_view name, std::string_view code, std::string_view modifier,
                   std::string_view value);
// Location `near`
Result<Bound> Near(const std::string& type, std::string_view name, std::string_view modifier,
                   std::string_view value);
// https://hl7.org/fhir/R4/search.html#chaining and #has: the inner parameter is bound by
// `binder` one level deeper (with `codes`, a terminology modifier's expansion, or null).
// nullopt when the reference parameter is unknown (lenient).
Result<std::optional<Bound>> Chain(Binder& binder, const std::string& type, std::string_view head,
                                   std::string_view rest, std::string_view value,
                                   const CodeSet* codes, int depth);
Result<Bound> Has(Binder& binder, const std::string& type, std::string_view name,
                  std::string_view value, const CodeSet* codes, int depth);

}  // namespace params
}  // namespace vesta::search
