// Number and quantity parameters: https://hl7.org/fhir/R4/search.html#number, #quantity
#include <cmath>

#include "base/strings.h"
#include "fhir/ucum.h"
#include "search/extract.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {

// The stored value is the range [low, high] of its columns (a point for a number or a
// quantity's value; a Range otherwise); the searched value has the precision it is written with
// ("100" is [99.5, 100.5)).
//
// https://hl7.org/fhir/R4/search.html#quantity: with the UCUM system and a unit that
// ucum::Canonicalize knows, the comparison is made in canonical units against the rows'
// canonical form (5.4 mg, 0.0054 g and 5400 ug are one value); every bound (the precision
// range, the ap margin) is computed in the unit given and then converted. Other systems, and
// UCUM codes that are not known, match the unit as written.
Result<ValueTest> Number(ParamType type, std::string_view name, std::string_view modifier,
                         const std::string& value, int component) {
  if (!modifier.empty()) {
    return Bad(name, "modifier :" + std::string(modifier) + " is not supported here");
  }
  std::string_view v = value;
  Prefix prefix = TakePrefix(&v);
  std::string system, unit;
  std::string_view number = v;
  if (type == ParamType::kQuantity) {
    std::vector<std::string> parts = SplitEscaped(v, '|');
    if (parts.size() == 3) {
      system = UnescapeSearchValue(parts[1]);
      unit = UnescapeSearchValue(parts[2]);
      number = v.substr(0, v.find('|'));
    } else if (parts.size() != 1) {
      return Bad(name, "expected [prefix]number|system|code");
    }
  }
  double d = 0;
  if (!ParseDouble(number, &d)) {
    return Bad(name, "'" + std::string(number) + "' is not a number");
  }
  // The bounds the prefix compares with, in the unit given.
  double lo = 0, hi = 0;
  ImplicitRange(number, d, &lo, &hi);
  if (prefix == Prefix::kAp) {
    double margin = std::fabs(d) * 0.1;
    lo = d - margin;
    hi = d + margin;
  }
  Field low = At(Column::kNumberLow, component), high = At(Column::kNumberHigh, component);
  ValueTest out;
  std::vector<Test>& t = out.test.children;
  bool canonical = false;
  if (system == kUcumSystem && !unit.empty()) {
    std::optional<ucum::Canonical> cd = ucum::Canonicalize(d, unit);
    std::optional<ucum::Canonical> clo = ucum::Canonicalize(lo, unit);
    std::optional<ucum::Canonical> chi = ucum::Canonicalize(hi, unit);
    if (cd && clo && chi) {
      canonical = true;
      d = cd->value;
      lo = clo->value;
      hi = chi->value;
      low = At(Column::kCanonicalLow, component);
      high = At(Column::kCanonicalHigh, component);
      // The non-empty test repeats the partial index's condition, so that a backend may use it.
      t.push_back(Test::Compare(At(Column::kCanonicalCode, component), Op::kNotEmpty));
      t.push_back(Test::Compare(At(Column::kCanonicalCode, component), Op::kEq, {cd->code}));
    }
  }
  auto cmp = [](Field f, Op op, double x) { return Test::Compare(f, op, {x}); };
  switch (prefix) {
    case Prefix::kEq:
      t.push_back(cmp(low, Op::kGe, lo));
      t.push_back(cmp(high, Op::kLt, hi));
      break;
    case Prefix::kNe:
      t.push_back(Test::Not(Test::All({cmp(low, Op::kGe, lo), cmp(high, Op::kLt, hi)})));
      break;
    case Prefix::kGt:
      t.push_back(cmp(high, Op::kGt, d));
      break;
    case Prefix::kLt:
      t.push_back(cmp(low, Op::kLt, d));
      break;
    case Prefix::kGe:
      t.push_back(cmp(high, Op::kGe, d));
      break;
    case Prefix::kLe:
      t.push_back(cmp(low, Op::kLe, d));
      break;
    case Prefix::kSa:  // starts after: the whole range is above
      t.push_back(cmp(low, Op::kGt, d));
      break;
    case Prefix::kEb:  // ends before: the whole range is below
      t.push_back(cmp(high, Op::kLt, d));
      break;
    case Prefix::kAp:  // overlaps [d - 10%, d + 10%]
      t.push_back(cmp(low, Op::kLe, hi));
      t.push_back(cmp(high, Op::kGe, lo));
      break;
  }
  if (canonical) return out;
  if (!system.empty()) {
    t.push_back(Test::Compare(At(Column::kSystem, component), Op::kEq, {system}));
  }
  if (!unit.empty()) t.push_back(Test::Compare(At(Column::kCode, component), Op::kEq, {unit}));
  return out;
}

}  // namespace vesta::search::params
