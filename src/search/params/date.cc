// Date parameters: https://hl7.org/fhir/R4/search.html#date, #prefix
#include <cstdlib>
#include <limits>

#include "fhir/datetime.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {
namespace {

constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinI64 = std::numeric_limits<int64_t>::min();

}  // namespace

// The parameter's value is a range [pl, ph] (its precision); the resource's value a range
// [low, high]. "eq: the range of the search value fully contains the range of the target
// value"; "gt: the range above the search value intersects the range of the target value";
// "sa: the range of the search value does not overlap with the range of the target value, and
// the range above the search value contains the range of the target value"; "ap: the value for
// the parameter in the resource is approximately the same to the provided value".
Result<Test> Date(std::string_view name, std::string_view value, Field low, Field high,
                  int64_t now) {
  std::string_view v = value;
  Prefix prefix = TakePrefix(&v);
  Result<fhir::TimeRange> r = fhir::ParseTimeRange(v);
  if (!r.ok()) {
    return Bad(name, "'" + std::string(value) + "' is not a date: " + r.status().message());
  }
  const int64_t pl = r->low, ph = r->high;
  auto cmp = [](Field f, Op op, int64_t x) { return Test::Compare(f, op, {x}); };
  auto within = [&] { return Test::All({cmp(low, Op::kGe, pl), cmp(high, Op::kLe, ph)}); };
  switch (prefix) {
    case Prefix::kEq:
      return within();
    case Prefix::kNe:
      return Test::Not(within());
    case Prefix::kGt:
      return cmp(high, Op::kGt, ph);
    case Prefix::kLt:
      return cmp(low, Op::kLt, pl);
    case Prefix::kGe:
      return Test::Any({cmp(high, Op::kGt, ph), within()});
    case Prefix::kLe:
      return Test::Any({cmp(low, Op::kLt, pl), within()});
    case Prefix::kSa:
      return cmp(low, Op::kGt, ph);
    case Prefix::kEb:
      return cmp(high, Op::kLt, pl);
    case Prefix::kAp: {
      // "approximately": within 10% of the distance from now, at least a day.
      int64_t d = std::max<int64_t>(86400000000LL, static_cast<int64_t>(std::llabs(now - pl) / 10));
      return Test::All({cmp(low, Op::kLe, ph > kMaxI64 - d ? kMaxI64 : ph + d),
                        cmp(high, Op::kGe, pl < kMinI64 + d ? kMinI64 : pl - d)});
    }
  }
  return Bad(name, "unknown prefix");
}

}  // namespace vesta::search::params
