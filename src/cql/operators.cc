// The CQL operators on values (https://cql.hl7.org/09-b-cqlreference.html): arithmetic,
// intervals, lists, aggregates, date/time durations and conversions, with null propagation.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "cql/evaluator_internal.h"
#include "fhir/ucum.h"

namespace vesta::cql {

using K = Value::Kind;

std::string_view StripNamespace(std::string_view name) {
  size_t close = name.find('}');
  return close == std::string_view::npos ? name : name.substr(close + 1);
}

Value::Kind KindOfTypeName(std::string_view name) {
  static constexpr std::pair<std::string_view, K> kKinds[] = {
      {"Boolean", K::kBoolean},   {"Integer", K::kInteger}, {"Long", K::kLong},
      {"Decimal", K::kDecimal},   {"String", K::kString},   {"Date", K::kDate},
      {"DateTime", K::kDateTime}, {"Time", K::kTime},       {"Quantity", K::kQuantity},
      {"Ratio", K::kRatio},       {"Code", K::kCode},       {"Concept", K::kConcept}};
  for (const auto& [n, k] : kKinds) {
    if (n == name) return k;
  }
  return K::kNull;
}

std::optional<bool> AsBool(const Value& v) {
  if (v.kind() != K::kBoolean) return std::nullopt;
  return v.boolean();
}

namespace {

Value MakeTemporal(K kind, const cql::Temporal& t) {
  if (kind == K::kDate) return Value::FromDate(Date{t});
  if (kind == K::kTime) return Value::FromTime(Time{t});
  return Value::FromDateTime(DateTime{t});
}

// `q` in the unit `unit` when UCUM can convert it.
std::optional<double> ConvertQuantity(const Quantity& q, std::string_view unit) {
  if (q.unit == unit) return q.value;
  auto a = ucum::Canonicalize(q.value, q.unit), b = ucum::Canonicalize(1, unit);
  if (!a || !b || a->code != b->code || b->value == 0) return std::nullopt;
  return a->value / b->value;
}

Value AddDuration(const Value& t, const Quantity& q, int sign) {
  bool weeks = false;
  std::optional<Precision> unit = DurationUnit(q.unit, &weeks);
  if (!unit) Fail("cannot add a quantity in '" + q.unit + "' to a date/time");
  double amount = q.value * (weeks ? 7 : 1) * sign;
  return MakeTemporal(t.kind(), AddTemporal(t.temporal(), static_cast<int64_t>(std::trunc(amount)),
                                            *unit, t.kind()));
}

}  // namespace

Value Arithmetic(std::string_view op, const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Null();
  if (a.is_temporal() && b.kind() == K::kQuantity) {
    if (op == "Add") return AddDuration(a, b.quantity(), 1);
    if (op == "Subtract") return AddDuration(a, b.quantity(), -1);
  }
  if (a.is_numeric() && b.is_numeric()) {
    bool ints = a.kind() != K::kDecimal && b.kind() != K::kDecimal && op != "Divide";
    if (ints) {
      int64_t x = a.integer(), y = b.integer();
      if (op == "Add") return Value::Int(x + y);
      if (op == "Subtract") return Value::Int(x - y);
      if (op == "Multiply") return Value::Int(x * y);
      if (y == 0) return Value::Null();
      if (op == "TruncatedDivide") return Value::Int(x / y);
      if (op == "Modulo") return Value::Int(x % y);
    }
    double x = a.number(), y = b.number();
    if (op == "Add") return Value::Dec(x + y);
    if (op == "Subtract") return Value::Dec(x - y);
    if (op == "Multiply") return Value::Dec(x * y);
    if (y == 0) return Value::Null();
    if (op == "Divide") return Value::Dec(x / y);
    if (op == "TruncatedDivide") return Value::Dec(std::trunc(x / y));
    if (op == "Modulo") return Value::Dec(std::fmod(x, y));
  }
  if (a.kind() == K::kQuantity && b.kind() == K::kQuantity) {
    const Quantity &x = a.quantity(), &y = b.quantity();
    if (op == "Add" || op == "Subtract") {
      std::optional<double> yv = ConvertQuantity(y, x.unit);
      if (!yv) return Value::Null();
      return Value::FromQuantity({op == "Add" ? x.value + *yv : x.value - *yv, x.unit});
    }
    // Units multiply and divide as UCUM writes them; "1" is the unity
    // (https://cql.hl7.org/09-b-cqlreference.html#multiply).
    if (op == "Multiply") {
      std::string unit = x.unit == "1" ? y.unit : y.unit == "1" ? x.unit : x.unit + "." + y.unit;
      return Value::FromQuantity({x.value * y.value, unit});
    }
    if (op == "Divide") {
      if (y.value == 0) return Value::Null();
      if (y.unit == "1") return Value::FromQuantity({x.value / y.value, x.unit});
      std::optional<double> yv = ConvertQuantity(y, x.unit);
      if (yv) return Value::FromQuantity({x.value / *yv, "1"});
      return Value::FromQuantity({x.value / y.value, x.unit + "/" + y.unit});
    }
  }
  if (a.kind() == K::kQuantity && b.is_numeric()) {
    if (op == "Multiply")
      return Value::FromQuantity({a.quantity().value * b.number(), a.quantity().unit});
    if (op == "Divide") {
      if (b.number() == 0) return Value::Null();
      return Value::FromQuantity({a.quantity().value / b.number(), a.quantity().unit});
    }
  }
  if (a.is_numeric() && b.kind() == K::kQuantity && op == "Multiply") {
    return Value::FromQuantity({a.number() * b.quantity().value, b.quantity().unit});
  }
  Fail(std::string(op) + " of " + std::string(TypeName(a)) + " and " + std::string(TypeName(b)));
}

Value Negate(const Value& a) {
  switch (a.kind()) {
    case K::kNull:
      return a;
    case K::kInteger:
      return Value::Int(-a.integer());
    case K::kLong:
      return Value::LongInt(-a.integer());
    case K::kDecimal:
      return Value::Dec(-a.decimal());
    case K::kQuantity:
      return Value::FromQuantity({-a.quantity().value, a.quantity().unit});
    default:
      Fail("cannot negate " + std::string(TypeName(a)));
  }
}

Value MinValueOf(K kind) {
  cql::Temporal t;
  switch (kind) {
    case K::kInteger:
      return Value::Int(INT32_MIN);
    case K::kLong:
      return Value::LongInt(INT64_MIN);
    case K::kDecimal:
      return Value::Dec(-99999999999999999999.99999999);
    case K::kDate:
      t.year = 1;
      t.precision = Precision::kDay;
      return MakeTemporal(kind, t);
    case K::kDateTime:
      t.year = 1;
      t.precision = Precision::kMillisecond;
      return MakeTemporal(kind, t);
    case K::kTime:
      t.precision = Precision::kMillisecond;
      return MakeTemporal(kind, t);
    default:
      return Value::Null();
  }
}

Value MaxValueOf(K kind) {
  cql::Temporal t{9999, 12, 31, 23, 59, 59, 999, Precision::kMillisecond, 0};
  switch (kind) {
    case K::kInteger:
      return Value::Int(INT32_MAX);
    case K::kLong:
      return Value::LongInt(INT64_MAX);
    case K::kDecimal:
      return Value::Dec(99999999999999999999.99999999);
    case K::kDate:
      t.precision = Precision::kDay;
      return MakeTemporal(kind, t);
    case K::kDateTime:
      return MakeTemporal(kind, t);
    case K::kTime:
      t.year = 0;
      t.month = 1;
      t.day = 1;
      return MakeTemporal(kind, t);
    default:
      return Value::Null();
  }
}

Value Successor(const Value& v) {
  switch (v.kind()) {
    case K::kNull:
      return v;
    case K::kInteger:
      return Value::Int(v.integer() + 1);
    case K::kLong:
      return Value::LongInt(v.integer() + 1);
    case K::kDecimal:
      return Value::Dec(v.decimal() + 1e-8);
    case K::kQuantity:
      return Value::FromQuantity({v.quantity().value + 1e-8, v.quantity().unit});
    case K::kDate:
    case K::kDateTime:
    case K::kTime:
      return MakeTemporal(v.kind(), AddTemporal(v.temporal(), 1, v.temporal().precision, v.kind()));
    default:
      Fail("no successor of " + std::string(TypeName(v)));
  }
}

Value Predecessor(const Value& v) {
  switch (v.kind()) {
    case K::kNull:
      return v;
    case K::kInteger:
      return Value::Int(v.integer() - 1);
    case K::kLong:
      return Value::LongInt(v.integer() - 1);
    case K::kDecimal:
      return Value::Dec(v.decimal() - 1e-8);
    case K::kQuantity:
      return Value::FromQuantity({v.quantity().value - 1e-8, v.quantity().unit});
    case K::kDate:
    case K::kDateTime:
    case K::kTime:
      return MakeTemporal(v.kind(),
                          AddTemporal(v.temporal(), -1, v.temporal().precision, v.kind()));
    default:
      Fail("no predecessor of " + std::string(TypeName(v)));
  }
}

namespace {
K PointKind(const Interval& i) { return i.low.is_null() ? i.high.kind() : i.low.kind(); }

// A point as a degenerate interval, so that point/interval operators share the interval code.
const Interval* AsInterval(const Value& v, Interval& storage) {
  if (v.kind() == K::kInterval) return &v.interval();
  storage = Interval{v, v, true, true};
  return &storage;
}
}  // namespace

Value StartOf(const Value& v) {
  if (v.is_null()) return v;
  if (v.kind() != K::kInterval) Fail("start of " + std::string(TypeName(v)));
  const Interval& i = v.interval();
  if (i.low.is_null()) return i.low_closed ? MinValueOf(PointKind(i)) : Value::Null();
  return i.low_closed ? i.low : Successor(i.low);
}

Value EndOf(const Value& v) {
  if (v.is_null()) return v;
  if (v.kind() != K::kInterval) Fail("end of " + std::string(TypeName(v)));
  const Interval& i = v.interval();
  if (i.high.is_null()) return i.high_closed ? MaxValueOf(PointKind(i)) : Value::Null();
  return i.high_closed ? i.high : Predecessor(i.high);
}

namespace {
std::optional<int> Cmp(const Value& a, const Value& b, std::optional<Precision> p) {
  return p ? CompareAt(a, b, *p) : Compare(a, b);
}
Value Bool(std::optional<bool> b) { return Value::Bool3(b); }
std::optional<bool> And(std::optional<bool> a, std::optional<bool> b) {
  if (a == false || b == false) return false;
  if (!a || !b) return std::nullopt;
  return true;
}
std::optional<bool> Le(std::optional<int> c) {
  return c ? std::optional<bool>(*c <= 0) : std::nullopt;
}
std::optional<bool> Lt(std::optional<int> c) {
  return c ? std::optional<bool>(*c < 0) : std::nullopt;
}
}  // namespace

Value TimingCompare(std::string_view op, const Value& a, const Value& b,
                    std::optional<Precision> p) {
  if (a.is_null() || b.is_null()) return Value::Null();
  Interval sa, sb;
  const Value ia = a.kind() == K::kInterval ? a : Value::FromInterval(a, a, true, true);
  const Value ib = b.kind() == K::kInterval ? b : Value::FromInterval(b, b, true, true);
  (void)sa;
  (void)sb;
  if (op == "Before") return Bool(Lt(Cmp(EndOf(ia), StartOf(ib), p)));
  if (op == "After") return Bool(Lt(Cmp(EndOf(ib), StartOf(ia), p)));
  if (op == "SameOrBefore") return Bool(Le(Cmp(EndOf(ia), StartOf(ib), p)));
  if (op == "SameOrAfter") return Bool(Le(Cmp(EndOf(ib), StartOf(ia), p)));
  // SameAs
  std::optional<int> s = Cmp(StartOf(ia), StartOf(ib), p), e = Cmp(EndOf(ia), EndOf(ib), p);
  return Bool(And(s ? std::optional<bool>(*s == 0) : std::nullopt,
                  e ? std::optional<bool>(*e == 0) : std::nullopt));
}

// https://cql.hl7.org/09-b-cqlreference.html#in: a point in an interval (null when a boundary
// comparison is unknown), or an element in a list (by equality).
Value InOperator(const Value& a, const Value& b, std::optional<Precision> p) {
  if (b.is_null()) return b.kind() == K::kList ? Value::Boolean(false) : Value::Null();
  if (b.is_list()) {
    for (const Value& x : b.list()) {
      if (a.is_null() ? x.is_null() : Equal(a, x).value_or(false)) return Value::Boolean(true);
    }
    return Value::Boolean(false);
  }
  if (a.is_null()) return Value::Null();
  if (a.kind() == K::kInterval) return IncludedIn(a, b, p);
  return Bool(And(Le(Cmp(StartOf(b), a, p)), Le(Cmp(a, EndOf(b), p))));
}

Value IncludedIn(const Value& a, const Value& b, std::optional<Precision> p) {
  if (a.is_null() || b.is_null()) return Value::Null();
  if (a.is_list() && b.is_list()) {
    for (const Value& x : a.list()) {
      if (!InOperator(x, b, p).boolean()) return Value::Boolean(false);
    }
    return Value::Boolean(true);
  }
  if (a.kind() != K::kInterval) return InOperator(a, b, p);
  return Bool(And(Le(Cmp(StartOf(b), StartOf(a), p)), Le(Cmp(EndOf(a), EndOf(b), p))));
}

Value Overlaps(const Value& a, const Value& b, std::optional<Precision> p) {
  if (a.is_null() || b.is_null()) return Value::Null();
  Interval sa, sb;
  Value ia = Value::FromInterval(AsInterval(a, sa)->low, AsInterval(a, sa)->high,
                                 AsInterval(a, sa)->low_closed, AsInterval(a, sa)->high_closed);
  Value ib = Value::FromInterval(AsInterval(b, sb)->low, AsInterval(b, sb)->high,
                                 AsInterval(b, sb)->low_closed, AsInterval(b, sb)->high_closed);
  return Bool(And(Le(Cmp(StartOf(ia), EndOf(ib), p)), Le(Cmp(StartOf(ib), EndOf(ia), p))));
}

Value Meets(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Null();
  std::optional<bool> before = Equal(Successor(EndOf(a)), StartOf(b));
  std::optional<bool> after = Equal(Successor(EndOf(b)), StartOf(a));
  if (before == true || after == true) return Value::Boolean(true);
  if (!before || !after) return Value::Null();
  return Value::Boolean(false);
}

Value IntervalRelation(std::string_view op, const Value& a, const Value& b,
                       std::optional<Precision> p) {
  if (a.is_null() || b.is_null()) return Value::Null();
  auto eq = [&](const Value& x, const Value& y) -> std::optional<bool> {
    std::optional<int> c = Cmp(x, y, p);
    if (!c) return std::nullopt;
    return *c == 0;
  };
  if (op == "Meets") return Meets(a, b);
  if (op == "MeetsBefore") return Bool(Equal(Successor(EndOf(a)), StartOf(b)));
  if (op == "MeetsAfter") return Bool(Equal(Successor(EndOf(b)), StartOf(a)));
  if (op == "OverlapsBefore") {
    return Bool(And(AsBool(Overlaps(a, b, p)), Lt(Cmp(StartOf(a), StartOf(b), p))));
  }
  if (op == "OverlapsAfter") {
    return Bool(And(AsBool(Overlaps(a, b, p)), Lt(Cmp(EndOf(b), EndOf(a), p))));
  }
  if (op == "Starts") return Bool(And(eq(StartOf(a), StartOf(b)), Le(Cmp(EndOf(a), EndOf(b), p))));
  if (op == "Ends") return Bool(And(eq(EndOf(a), EndOf(b)), Le(Cmp(StartOf(b), StartOf(a), p))));
  // Properly included: included, and not the same interval (list).
  const Value& inner = op == "ProperIncludedIn" ? a : b;
  const Value& outer = op == "ProperIncludedIn" ? b : a;
  std::optional<bool> included = AsBool(IncludedIn(inner, outer, p));
  if (inner.is_list() && outer.is_list()) {
    return Bool(And(included, outer.list().size() > inner.list().size()));
  }
  std::optional<bool> same =
      And(eq(StartOf(inner), StartOf(outer)), eq(EndOf(inner), EndOf(outer)));
  return Bool(And(included, same ? std::optional<bool>(!*same) : std::nullopt));
}

Value MathFunction(std::string_view op, const std::vector<Value>& args) {
  for (const Value& v : args) {
    if (v.is_null()) return Value::Null();
  }
  const Value& x = args.at(0);
  if (op == "Power") {
    double r = std::pow(x.number(), args.at(1).number());
    if (x.kind() == K::kInteger && args[1].kind() == K::kInteger && args[1].integer() >= 0) {
      return Value::Int(static_cast<int64_t>(std::llround(r)));
    }
    return Value::Dec(r);
  }
  double d = x.number();
  if (op == "Round") {
    // Half rounds up (https://cql.hl7.org/09-b-cqlreference.html#round).
    double scale = std::pow(10.0, args.size() > 1 ? double(args[1].integer()) : 0.0);
    return Value::Dec(std::floor(d * scale + 0.5) / scale);
  }
  if (op == "Floor") return Value::Int(static_cast<int64_t>(std::floor(d)));
  if (op == "Ceiling") return Value::Int(static_cast<int64_t>(std::ceil(d)));
  if (op == "Truncate") return Value::Int(static_cast<int64_t>(std::trunc(d)));
  if (op == "Ln") return d <= 0 ? Value::Null() : Value::Dec(std::log(d));
  if (op == "Exp") return Value::Dec(std::exp(d));
  Fail("unknown math function " + std::string(op));
}

Value Width(const Value& v) {
  if (v.is_null()) return v;
  return Arithmetic("Subtract", EndOf(v), StartOf(v));
}

List Distinct(const List& items) {
  List out;
  for (const Value& x : items) {
    bool seen = false;
    for (const Value& y : out) {
      if ((x.is_null() && y.is_null()) || Equal(x, y).value_or(false)) {
        seen = true;
        break;
      }
    }
    if (!seen) out.push_back(x);
  }
  return out;
}

Value UnionOf(const Value& a, const Value& b) {
  if (a.kind() == K::kInterval || b.kind() == K::kInterval) {
    if (a.is_null() || b.is_null()) return Value::Null();
    if (!Overlaps(a, b, std::nullopt).boolean() && !Meets(a, b).boolean()) return Value::Null();
    Value s = Compare(StartOf(a), StartOf(b)).value_or(0) <= 0 ? StartOf(a) : StartOf(b);
    Value e = Compare(EndOf(a), EndOf(b)).value_or(0) >= 0 ? EndOf(a) : EndOf(b);
    return Value::FromInterval(s, e, true, true);
  }
  List all;
  if (a.is_list()) all = a.list();
  if (b.is_list()) all.insert(all.end(), b.list().begin(), b.list().end());
  return Value::FromList(Distinct(all));
}

Value IntersectOf(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Null();
  if (a.kind() == K::kInterval) {
    if (!Overlaps(a, b, std::nullopt).boolean()) return Value::Null();
    Value s = Compare(StartOf(a), StartOf(b)).value_or(0) >= 0 ? StartOf(a) : StartOf(b);
    Value e = Compare(EndOf(a), EndOf(b)).value_or(0) <= 0 ? EndOf(a) : EndOf(b);
    return Value::FromInterval(s, e, true, true);
  }
  List out;
  for (const Value& x : a.list()) {
    if (InOperator(x, b, std::nullopt).boolean()) out.push_back(x);
  }
  return Value::FromList(Distinct(out));
}

Value ExceptOf(const Value& a, const Value& b) {
  if (a.is_null()) return a;
  if (a.kind() == K::kInterval) Fail("except of intervals is not supported");
  List out;
  for (const Value& x : a.list()) {
    if (b.is_null() || !InOperator(x, b, std::nullopt).boolean()) out.push_back(x);
  }
  return Value::FromList(Distinct(out));
}

// https://cql.hl7.org/09-b-cqlreference.html#collapse: overlapping or meeting intervals merged,
// in order of their starts.
Value Collapse(const Value& list, const Value& per) {
  (void)per;
  if (list.is_null()) return list;
  std::vector<std::pair<Value, Value>> bounds;
  for (const Value& i : list.list()) {
    if (!i.is_null()) bounds.emplace_back(StartOf(i), EndOf(i));
  }
  std::stable_sort(bounds.begin(), bounds.end(), [](const auto& x, const auto& y) {
    return Compare(x.first, y.first).value_or(0) < 0;
  });
  List out;
  std::vector<std::pair<Value, Value>> merged;
  for (auto& b : bounds) {
    if (!merged.empty()) {
      auto& last = merged.back();
      std::optional<int> c = Compare(b.first, Successor(last.second));
      if (c && *c <= 0) {
        if (Compare(b.second, last.second).value_or(0) > 0) last.second = b.second;
        continue;
      }
    }
    merged.push_back(b);
  }
  for (auto& [s, e] : merged) out.push_back(Value::FromInterval(s, e, true, true));
  return Value::FromList(std::move(out));
}

// https://cql.hl7.org/09-b-cqlreference.html#expand: each interval cut into unit intervals
// (`per`, or 1 of the point type's precision).
Value Expand(const Value& list, const Value& per) {
  if (list.is_null()) return list;
  List out;
  for (const Value& i : list.list()) {
    if (i.is_null()) continue;
    Value s = StartOf(i), e = EndOf(i);
    if (s.is_null() || e.is_null()) continue;
    for (int guard = 0; Compare(s, e).value_or(1) <= 0 && guard < 100000; ++guard) {
      Value next = per.is_null() ? Successor(s) : Arithmetic("Add", s, per);
      Value high = per.is_null() ? s : Predecessor(next);
      if (Compare(high, e).value_or(1) > 0) break;
      out.push_back(Value::FromInterval(s, high, true, true));
      s = next;
    }
  }
  return Value::FromList(std::move(out));
}

Value Aggregate(std::string_view op, const Value& list) {
  if (op == "Count") {
    if (list.is_null()) return Value::Int(0);
    int64_t n = 0;
    for (const Value& x : list.list()) n += !x.is_null();
    return Value::Int(n);
  }
  if (list.is_null()) return Value::Null();
  if (op == "AllTrue" || op == "AnyTrue") {
    bool all = op == "AllTrue";
    for (const Value& x : list.list()) {
      std::optional<bool> b = AsBool(x);
      if (b && *b != all) return Value::Boolean(!all);
    }
    return Value::Boolean(all);
  }
  Value acc;
  int64_t n = 0;
  for (const Value& x : list.list()) {
    if (x.is_null()) continue;
    ++n;
    if (acc.is_null()) {
      acc = x;
    } else if (op == "Sum" || op == "Avg") {
      acc = Arithmetic("Add", acc, x);
    } else {
      std::optional<int> c = Compare(x, acc);
      if (c && ((op == "Min" && *c < 0) || (op == "Max" && *c > 0))) acc = x;
    }
  }
  if (op == "Avg" && n > 0) return Arithmetic("Divide", acc, Value::Dec(double(n)));
  return acc;
}

namespace {
// Both values normalised to UTC when they are DateTimes with times.
std::pair<cql::Temporal, cql::Temporal> Aligned(const Value& a, const Value& b) {
  cql::Temporal x = a.temporal(), y = b.temporal();
  if (a.kind() == K::kDateTime && b.kind() == K::kDateTime &&
      x.offset_minutes != y.offset_minutes) {
    if (x.precision >= Precision::kHour) {
      x = FromEpochMillis(EpochMillis(x) - int64_t(x.offset_minutes) * 60000, 0, x.precision);
    }
    if (y.precision >= Precision::kHour) {
      y = FromEpochMillis(EpochMillis(y) - int64_t(y.offset_minutes) * 60000, 0, y.precision);
    }
  }
  return {x, y};
}
constexpr int64_t kUnitMs[] = {0, 0, 86400000, 3600000, 60000, 1000, 1};
}  // namespace

namespace {
int DaysIn(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

// `t` with the components below `precision` at their least (high = false) or greatest value.
cql::Temporal Fill(cql::Temporal t, Precision precision, bool high) {
  if (precision < Precision::kMonth) t.month = high ? 12 : 1;
  if (precision < Precision::kDay) t.day = high ? DaysIn(t.year, t.month) : 1;
  if (precision < Precision::kHour) t.hour = high ? 23 : 0;
  if (precision < Precision::kMinute) t.minute = high ? 59 : 0;
  if (precision < Precision::kSecond) t.second = high ? 59 : 0;
  if (precision < Precision::kMillisecond) t.millisecond = high ? 999 : 0;
  t.precision = Precision::kMillisecond;
  return t;
}

// Whole periods of `p` from x to y, both complete.
int64_t WholePeriods(const cql::Temporal& x, const cql::Temporal& y, Precision p) {
  // Both on the last day of February: whole years
  // (https://cql.hl7.org/15-h-timeintervalcalculations.html, scenario 4).
  if (p == Precision::kYear && x.month == 2 && y.month == 2 && x.day == DaysIn(x.year, 2) &&
      y.day == DaysIn(y.year, 2)) {
    return int64_t(y.year) - x.year;
  }
  if (p <= Precision::kMonth) {
    int64_t months = (int64_t(y.year) - x.year) * 12 + (y.month - x.month);
    // The part below months decides whether the last month is whole.
    int64_t rest_x = EpochMillis(x) - EpochMillis({x.year, x.month, 1, 0, 0, 0, 0, x.precision, 0});
    int64_t rest_y = EpochMillis(y) - EpochMillis({y.year, y.month, 1, 0, 0, 0, 0, y.precision, 0});
    if (months > 0 && rest_y < rest_x) --months;
    if (months < 0 && rest_y > rest_x) ++months;
    return p == Precision::kYear ? months / 12 : months;
  }
  return (EpochMillis(y) - EpochMillis(x)) / kUnitMs[int(p)];
}
}  // namespace

// https://cql.hl7.org/09-b-cqlreference.html#duration: whole calendar periods from a to b,
// compared at the coarser of the two precisions. When that is coarser than `p` the answer is
// uncertain (https://cql.hl7.org/05-languagesemantics.html#uncertainty): the interval of the
// durations the values allow, or an Integer when they all agree.
Value DurationBetween(const Value& a, const Value& b, Precision p) {
  if (a.is_null() || b.is_null()) return Value::Null();
  auto [x, y] = Aligned(a, b);
  Precision have = std::min(x.precision, y.precision);
  if (have == Precision::kSecond) have = Precision::kMillisecond;  // one precision
  if (have >= p) {
    return Value::Int(WholePeriods(Fill(x, have, false), Fill(y, have, false), p));
  }
  int64_t low = WholePeriods(Fill(x, x.precision, true), Fill(y, y.precision, false), p);
  int64_t high = WholePeriods(Fill(x, x.precision, false), Fill(y, y.precision, true), p);
  if (low == high) return Value::Int(low);
  return Value::FromInterval(Value::Int(low), Value::Int(high), true, true);
}

// https://cql.hl7.org/09-b-cqlreference.html#difference: the number of boundaries of `p` crossed.
Value DifferenceBetween(const Value& a, const Value& b, Precision p) {
  if (a.is_null() || b.is_null()) return Value::Null();
  auto [x, y] = Aligned(a, b);
  if (std::min(x.precision, y.precision) < p) return Value::Null();
  if (p == Precision::kYear) return Value::Int(int64_t(y.year) - x.year);
  if (p == Precision::kMonth)
    return Value::Int((int64_t(y.year) - x.year) * 12 + (y.month - x.month));
  auto truncate = [&](cql::Temporal t) {
    t = FromEpochMillis(EpochMillis(t), t.offset_minutes, p);
    cql::Temporal z{t.year, t.month, t.day, 0, 0, 0, 0, p, 0};
    if (p >= Precision::kHour) z.hour = t.hour;
    if (p >= Precision::kMinute) z.minute = t.minute;
    if (p >= Precision::kSecond) z.second = t.second;
    if (p >= Precision::kMillisecond) z.millisecond = t.millisecond;
    return EpochMillis(z);
  };
  return Value::Int((truncate(y) - truncate(x)) / kUnitMs[int(p)]);
}

namespace {
// ISO 8601 text of a Date, DateTime or Time down to its precision
// (https://cql.hl7.org/09-b-cqlreference.html#tostring).
std::string TemporalText(const Value& v) {
  const cql::Temporal& t = v.temporal();
  char buf[64];
  std::string s;
  auto add = [&](const char* format, int x) {
    std::snprintf(buf, sizeof buf, format, x);
    s += buf;
  };
  if (v.kind() != K::kTime) {
    add("%04d", t.year);
    if (t.precision >= Precision::kMonth) add("-%02d", t.month);
    if (t.precision >= Precision::kDay) add("-%02d", t.day);
    if (v.kind() == K::kDate || t.precision < Precision::kHour) return s;
    s += 'T';
  }
  add("%02d", t.hour);
  if (t.precision >= Precision::kMinute) add(":%02d", t.minute);
  if (t.precision >= Precision::kSecond) add(":%02d", t.second);
  if (t.precision >= Precision::kMillisecond) add(".%03d", t.millisecond);
  if (v.kind() == K::kDateTime) {
    int off = t.offset_minutes;
    s += off < 0 ? '-' : '+';
    add("%02d", std::abs(off) / 60);
    add(":%02d", std::abs(off) % 60);
  }
  return s;
}
}  // namespace

Value ConvertTo(std::string_view op, const Value& v, int tz) {
  if (v.is_null()) return v;
  if (op == "ToConcept") {
    if (v.kind() == K::kConcept) return v;
    Concept c;
    c.codes = CodesOf(v);
    return Value::FromConcept(std::move(c));
  }
  if (op == "ToDate" || op == "DateFrom") {
    if (v.kind() == K::kString) {
      auto t = ParseTemporal(v.string(), K::kDate, tz);
      return t ? Value::FromDate(Date{*t}) : Value::Null();
    }
    cql::Temporal t = v.temporal();
    t.hour = t.minute = t.second = t.millisecond = 0;
    t.precision = std::min(t.precision, Precision::kDay);
    return Value::FromDate(Date{t});
  }
  if (op == "ToDateTime") {
    if (v.kind() == K::kString) {
      auto t = ParseTemporal(v.string(), K::kDateTime, tz);
      return t ? Value::FromDateTime(DateTime{*t}) : Value::Null();
    }
    cql::Temporal t = v.temporal();
    if (v.kind() == K::kDate) t.offset_minutes = tz;
    return Value::FromDateTime(DateTime{t});
  }
  if (op == "TimezoneOffsetFrom") {
    if (v.kind() != K::kDateTime || v.temporal().precision < Precision::kHour) return Value::Null();
    return Value::Dec(v.temporal().offset_minutes / 60.0);
  }
  if (op == "ToDecimal") {
    if (v.is_numeric()) return Value::Dec(v.number());
    if (v.kind() == K::kString) {
      char* end = nullptr;
      double d = std::strtod(v.string().c_str(), &end);
      return end && *end == 0 && !v.string().empty() ? Value::Dec(d) : Value::Null();
    }
  }
  if (op == "ToInteger") {
    if (v.kind() == K::kInteger) return v;
    if (v.kind() == K::kBoolean) return Value::Int(v.boolean());
    if (v.kind() == K::kString) {
      char* end = nullptr;
      long long i = std::strtoll(v.string().c_str(), &end, 10);
      return end && *end == 0 && !v.string().empty() ? Value::Int(i) : Value::Null();
    }
  }
  if (op == "ToQuantity") {
    if (v.kind() == K::kQuantity) return v;
    if (v.is_numeric()) return Value::FromQuantity({v.number(), "1"});
  }
  if (op == "ToBoolean") {
    if (v.kind() == K::kBoolean) return v;
    if (v.kind() == K::kString) {
      std::string s = v.string();
      for (char& c : s) c = char(std::tolower((unsigned char)c));
      if (s == "true" || s == "t" || s == "yes" || s == "y" || s == "1")
        return Value::Boolean(true);
      if (s == "false" || s == "f" || s == "no" || s == "n" || s == "0")
        return Value::Boolean(false);
      return Value::Null();
    }
  }
  if (op == "ToString") {
    char buf[64];
    switch (v.kind()) {
      case K::kString:
        return v;
      case K::kBoolean:
        return Value::String(v.boolean() ? "true" : "false");
      case K::kInteger:
      case K::kLong:
        return Value::String(std::to_string(v.integer()));
      case K::kDecimal:
        std::snprintf(buf, sizeof buf, "%.8g", v.decimal());
        return Value::String(buf);
      case K::kQuantity:
        std::snprintf(buf, sizeof buf, "%.8g", v.quantity().value);
        return Value::String(std::string(buf) + " '" + v.quantity().unit + "'");
      case K::kDate:
      case K::kDateTime:
      case K::kTime:
        return Value::String(TemporalText(v));
      case K::kCode:
        return Value::String(v.code().code);
      default:
        break;
    }
  }
  Fail(std::string(op) + " of " + std::string(TypeName(v)));
}

}  // namespace vesta::cql
