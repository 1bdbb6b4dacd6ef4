// Dates, times and boundaries: now()/today()/timeOfDay()
// (http://hl7.org/fhirpath/N1/#utility-functions), precision(), lowBoundary()/highBoundary() and
// comparable()
// (https://build.fhir.org/ig/HL7/FHIRPath/#lowboundaryprecision-integer-decimal--date--datetime--time).
#include <algorithm>
#include <chrono>
#include <optional>
#include <tuple>

#include "fhir/fhirpath/functions/call.h"

namespace vesta::fhirpath::internal {

namespace {

// --- Boundaries:
// http://hl7.org/fhirpath/2.0.0/#lowboundaryprecision-integer-decimal--date--datetime--time

std::optional<Decimal> DecimalBoundary(const Decimal& v, int precision, bool high) {
  if (precision < 0 || precision > 28) return std::nullopt;
  // The value stands for the interval ±½ unit of its last digit.
  Decimal half{5, v.scale + 1};
  bool neg = v.mantissa < 0;
  Decimal mag = v;
  if (neg) mag.mantissa = -mag.mantissa;
  // For a negative value the low boundary mirrors the positive high one.
  bool toward_high = neg ? !high : high;
  Decimal b;
  if (toward_high) {
    if (!DecimalAdd(mag, half, &b)) return std::nullopt;
  } else {
    if (!DecimalSub(mag, half, &b)) return std::nullopt;
  }
  Decimal r;
  if (precision >= b.scale) {
    if (!b.Rescale(precision, &r)) return std::nullopt;
  } else if (toward_high) {
    if (!b.Rescale(precision, &r)) return std::nullopt;
  } else {
    r = b;
    while (r.scale > precision) {
      r.mantissa /= 10;
      --r.scale;
    }
  }
  if (neg) r.mantissa = -r.mantissa;
  return r;
}

int TemporalPrecisionDigits(const Temporal& t) {
  if (t.kind == TemporalKind::kTime) {
    switch (t.precision) {
      case Precision::kHour:
        return 2;
      case Precision::kMinute:
        return 4;
      case Precision::kSecond:
        return 6;
      default:
        return 9;
    }
  }
  switch (t.precision) {
    case Precision::kYear:
      return 4;
    case Precision::kMonth:
      return 6;
    case Precision::kDay:
      return 8;
    case Precision::kHour:
      return 10;
    case Precision::kMinute:
      return 12;
    case Precision::kSecond:
      return 14;
    default:
      return 17;
  }
}

std::optional<Temporal> TemporalBoundary(const Temporal& in, int digits, bool high) {
  Temporal t = in;
  Precision p;
  if (t.kind == TemporalKind::kTime) {
    switch (digits) {
      case 2:
        p = Precision::kHour;
        break;
      case 4:
        p = Precision::kMinute;
        break;
      case 6:
        p = Precision::kSecond;
        break;
      case 9:
        p = Precision::kMillisecond;
        break;
      default:
        return std::nullopt;
    }
  } else {
    switch (digits) {
      case 4:
        p = Precision::kYear;
        break;
      case 6:
        p = Precision::kMonth;
        break;
      case 8:
        p = Precision::kDay;
        break;
      case 10:
        p = Precision::kHour;
        break;
      case 12:
        p = Precision::kMinute;
        break;
      case 14:
        p = Precision::kSecond;
        break;
      case 17:
        p = Precision::kMillisecond;
        break;
      default:
        return std::nullopt;
    }
    if (t.kind == TemporalKind::kDate && p > Precision::kDay) return std::nullopt;
  }
  // Fill the fields below the known precision with their extreme values.
  if (t.precision < Precision::kMonth) t.month = high ? 12 : 1;
  if (t.precision < Precision::kDay) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dm = kDays[t.month - 1];
    if (t.month == 2 && ((t.year % 4 == 0 && t.year % 100 != 0) || t.year % 400 == 0)) dm = 29;
    t.day = high ? dm : 1;
  }
  if (t.precision < Precision::kHour) t.hour = high ? 23 : 0;
  if (t.precision < Precision::kMinute) t.minute = high ? 59 : 0;
  if (t.precision < Precision::kSecond) t.second = high ? 59 : 0;
  if (t.precision < Precision::kMillisecond) t.millisecond = high ? 999 : 0;
  if (in.kind == TemporalKind::kDateTime && in.precision == Precision::kHour) {
    // An hour alone is not a valid FHIR dateTime: it stands for hh:00.
    t.minute = 0;
    if (!high) t.second = 0, t.millisecond = 0;
  }
  if (t.kind == TemporalKind::kDateTime && p >= Precision::kHour && !t.has_timezone) {
    // Unknown timezone: the widest offsets (+14:00 for the low end, -12:00 for the high end).
    t.has_timezone = true;
    t.tz_minutes = high ? -12 * 60 : 14 * 60;
  }
  if (t.kind == TemporalKind::kDateTime && p < Precision::kHour) t.has_timezone = false;
  t.precision = p;
  return t;
}

int64_t NowMicros(const Environment& env) {
  if (env.now_micros != 0) return env.now_micros;
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Temporal FromMicros(int64_t us) {
  int64_t ms = us / 1000;
  int64_t days = ms / 86400000;
  int64_t rem = ms % 86400000;
  Temporal t;
  t.kind = TemporalKind::kDateTime;
  t.precision = Precision::kMillisecond;
  // civil from days
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  t.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  t.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  t.year = static_cast<int>(static_cast<int64_t>(yoe) + era * 400 + (t.month <= 2));
  t.hour = static_cast<int>(rem / 3600000);
  t.minute = static_cast<int>(rem / 60000 % 60);
  t.second = static_cast<int>(rem / 1000 % 60);
  t.millisecond = static_cast<int>(rem % 1000);
  t.has_timezone = true;
  t.tz_minutes = 0;
  return t;
}

// --- Date/time components and intervals (https://build.fhir.org/ig/HL7/FHIRPath/, STU):
// #extract-datedatetimetime-components and #date-and-time-interval-functions.

// The component `fn` asks for, or nullopt when the value does not have it: "If the input
// collection is empty, the [component] is not present in the value, or the value is not a
// [Date or DateTime | DateTime or Time], the result is empty."
std::optional<Item> Component(Fn fn, const Item& x) {
  if (!IsTemporal(x)) return std::nullopt;
  const Temporal& t = x.as_temporal();
  const bool date_part = t.kind != TemporalKind::kTime;
  const bool time_part = t.kind != TemporalKind::kDate;
  auto field = [&](bool allowed, Precision needed, int v) -> std::optional<Item> {
    if (!allowed || t.precision < needed) return std::nullopt;
    return Item::Integer(v);
  };
  switch (fn) {
    case Fn::kYearOf:
      return field(date_part, Precision::kYear, t.year);
    case Fn::kMonthOf:
      return field(date_part, Precision::kMonth, t.month);
    case Fn::kDayOf:
      return field(date_part, Precision::kDay, t.day);
    case Fn::kHourOf:
      return field(time_part, Precision::kHour, t.hour);
    case Fn::kMinuteOf:
      return field(time_part, Precision::kMinute, t.minute);
    case Fn::kSecondOf:
      return field(time_part, Precision::kSecond, t.second);
    case Fn::kMillisecondOf:
      return field(time_part, Precision::kMillisecond, t.millisecond);
    case Fn::kTimezoneOffsetOf: {
      // "expressed as the number of hours difference from UTC, with fractional hours expressed
      // as decimal values (e.g. -7.5 for UTC-7:30)".
      if (t.kind != TemporalKind::kDateTime || !t.has_timezone) return std::nullopt;
      Decimal hours;
      if (!DecimalDiv(Decimal::FromInt(t.tz_minutes), Decimal::FromInt(60), &hours)) {
        return std::nullopt;
      }
      if (hours.scale < 1) hours.Rescale(1, &hours);  // -7.0, as the specification writes it
      return Item::Dec(hours);
    }
    case Fn::kDateOf: {
      // "the date component (up to the precision present in the input value)".
      if (!date_part) return std::nullopt;
      Temporal d = t;
      d.kind = TemporalKind::kDate;
      d.precision = std::min(t.precision, Precision::kDay);
      d.has_timezone = false;
      d.tz_minutes = 0;
      d.hour = d.minute = d.second = d.millisecond = 0;
      return Item::Time(d);
    }
    case Fn::kTimeOf: {
      if (t.kind != TemporalKind::kDateTime || t.precision < Precision::kHour) return std::nullopt;
      Temporal d = t;
      d.kind = TemporalKind::kTime;
      d.has_timezone = false;
      d.tz_minutes = 0;
      d.year = 0, d.month = 1, d.day = 1;
      return Item::Time(d);
    }
    default:
      return std::nullopt;
  }
}

// The unit names duration() and difference() take, and the precision each needs.
std::optional<Precision> IntervalUnit(std::string_view unit) {
  if (unit == "year" || unit == "years") return Precision::kYear;
  if (unit == "month" || unit == "months") return Precision::kMonth;
  if (unit == "week" || unit == "weeks" || unit == "day" || unit == "days") return Precision::kDay;
  if (unit == "hour" || unit == "hours") return Precision::kHour;
  if (unit == "minute" || unit == "minutes") return Precision::kMinute;
  if (unit == "second" || unit == "seconds") return Precision::kSecond;
  if (unit == "millisecond" || unit == "milliseconds") return Precision::kMillisecond;
  return std::nullopt;
}

// Milliseconds since the epoch in UTC when the value has a timezone (hour and finer units
// "should normalize the timezone"), else of its fields as written.
int64_t UtcMillis(const Temporal& t) {
  int64_t ms = ToMillis(t);
  if (t.kind == TemporalKind::kDateTime && t.has_timezone) ms -= int64_t{t.tz_minutes} * 60000;
  return ms;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// difference(): "the number of boundaries crossed for the specified precision"; weeks start on
// Sunday. duration(): "the number of whole calendar periods", fractions dropped (toward zero).
// REQUIRES: both values have at least the unit's precision, and a <= b for duration().
int64_t Interval(const Temporal& a, const Temporal& b, std::string_view unit, bool whole) {
  const Precision p = *IntervalUnit(unit);
  const bool week = unit[0] == 'w';
  if (p >= Precision::kHour) {
    static const int64_t kUnitMs[] = {0, 0, 0, 3600000, 60000, 1000, 1};
    const int64_t u = kUnitMs[static_cast<int>(p)];
    const int64_t x = UtcMillis(a), y = UtcMillis(b);
    return whole ? (y - x) / u : FloorDiv(y, u) - FloorDiv(x, u);
  }
  const int64_t da = DaysFromCivil(a.year, a.month, a.day);
  const int64_t db = DaysFromCivil(b.year, b.month, b.day);
  // The part of a day past midnight, for whole periods of DateTimes.
  const int64_t ta = ToMillis(a) - da * 86400000, tb = ToMillis(b) - db * 86400000;
  if (p == Precision::kDay) {
    if (!whole) return week ? FloorDiv(db + 4, 7) - FloorDiv(da + 4, 7) : db - da;  // 1970-01-04
    int64_t days = db - da - (tb < ta ? 1 : 0);                                     // a Sunday
    return week ? days / 7 : days;
  }
  int64_t months = (int64_t{b.year} - a.year) * (p == Precision::kYear ? 1 : 12);
  if (p == Precision::kMonth) months += b.month - a.month;
  if (!whole) return months;
  // A period not yet complete: the later value's remaining fields are before the earlier's.
  auto rest = [&](const Temporal& t, int64_t tod) {
    return std::make_tuple(p == Precision::kYear ? t.month : 0, t.day, tod);
  };
  if (rest(b, tb) < rest(a, ta)) --months;
  return months;
}

}  // namespace

// The date/time functions, precision and boundaries.
Result<Collection> CallDate(FunctionCall& c) {
  const Node& n = c.n;
  Items input = c.input;
  (void)input;
  switch (n.fn) {
    case Fn::kNow:
    case Fn::kToday:
    case Fn::kTimeOfDay: {
      Temporal t = FromMicros(NowMicros(c.env()));
      if (n.fn == Fn::kToday) {
        t.kind = TemporalKind::kDate;
        t.precision = Precision::kDay;
        t.has_timezone = false;
      } else if (n.fn == Fn::kTimeOfDay) {
        t.kind = TemporalKind::kTime;
        t.has_timezone = false;
      }
      return Collection{Item::Time(t)};
    }
    case Fn::kYearOf:
    case Fn::kMonthOf:
    case Fn::kDayOf:
    case Fn::kHourOf:
    case Fn::kMinuteOf:
    case Fn::kSecondOf:
    case Fn::kMillisecondOf:
    case Fn::kTimezoneOffsetOf:
    case Fn::kDateOf:
    case Fn::kTimeOf: {
      Item x;
      ASSIGN_OR_RETURN(bool has, c.Single(&x));
      if (!has) return Collection{};
      std::optional<Item> r = Component(n.fn, x);
      if (!r) return Collection{};
      return Collection{*r};
    }
    case Fn::kDuration:
    case Fn::kDifference: {
      // "If there is more than one input item, or an incompatible item, the evaluation of the
      // expression will end and signal an error"; "If either the input or value argument is
      // empty, the result is empty"; "If the input value or value argument are of less precision
      // than the specified precision, the result is empty."
      Item x;
      ASSIGN_OR_RETURN(bool has, c.Single(&x));
      ASSIGN_OR_RETURN(Collection vc, c.Arg(0));
      std::string unit;
      ASSIGN_OR_RETURN(bool has_unit, c.StringArg(1, &unit));
      if (!has || vc.empty() || !has_unit) return Collection{};
      Item y;
      if (vc.size() > 1 || ValueLess(vc[0]) || !ToSystem(vc[0], &y)) {
        return c.Error(n.name + "() needs a single date, dateTime or time argument");
      }
      if (y.kind == ItemKind::kDate && x.kind == ItemKind::kDateTime) {
        x = Item::Time([&] {
          Temporal t = x.as_temporal();
          t.kind = TemporalKind::kDate;
          t.precision = std::min(t.precision, Precision::kDay);
          return t;
        }());
      }
      if (!IsTemporal(x) || !IsTemporal(y) ||
          (x.kind == ItemKind::kTime) != (y.kind == ItemKind::kTime)) {
        return c.Error(n.name + "() needs two dates, dateTimes or times");
      }
      const Temporal& a = x.as_temporal();
      Temporal b = y.as_temporal();
      if (b.kind != a.kind) b.kind = a.kind;  // a Date argument to a Date input, or the reverse
      std::optional<Precision> p = IntervalUnit(unit);
      const bool date_unit = p && *p <= Precision::kDay;
      if (!p || (a.kind == TemporalKind::kDate && !date_unit) ||
          (a.kind == TemporalKind::kTime && date_unit)) {
        return c.Error(n.name + "(): '" + unit + "' is not a unit for this value");
      }
      if (a.precision < *p || b.precision < *p) return Collection{};
      const bool whole = n.fn == Fn::kDuration;
      const std::optional<int> order = CompareTemporal(a, b);
      int64_t r = order && *order > 0 ? -Interval(b, a, unit, whole) : Interval(a, b, unit, whole);
      return Collection{Item::Integer(r)};
    }
    case Fn::kPrecision: {
      Item x;
      ASSIGN_OR_RETURN(bool has, c.Single(&x));
      if (!has) return Collection{};
      if (x.kind == ItemKind::kDecimal) return Collection{Item::Integer(x.as_decimal().scale)};
      if (x.kind == ItemKind::kInteger) return Collection{Item::Integer(0)};
      if (x.kind == ItemKind::kDate || x.kind == ItemKind::kDateTime || x.kind == ItemKind::kTime) {
        return Collection{Item::Integer(TemporalPrecisionDigits(x.as_temporal()))};
      }
      return c.Error("precision() needs a decimal or date/time");
    }
    case Fn::kLowBoundary:
    case Fn::kHighBoundary: {
      Item x;
      ASSIGN_OR_RETURN(bool has, c.Single(&x));
      if (!has) return Collection{};
      bool high = n.fn == Fn::kHighBoundary;
      int64_t p = -1;
      bool has_p = false;
      if (!n.args.empty()) {
        ASSIGN_OR_RETURN(has_p, c.IntArg(0, &p));
      }
      if (IsNumber(x) || x.kind == ItemKind::kQuantity) {
        Decimal d = x.kind == ItemKind::kQuantity ? x.as_quantity().value : AsDecimal(x);
        std::optional<Decimal> r = DecimalBoundary(d, has_p ? static_cast<int>(p) : 8, high);
        if (!r) return Collection{};
        if (x.kind == ItemKind::kQuantity) {
          Quantity q = x.as_quantity();
          q.value = *r;
          return Collection{Item::Qty(q)};
        }
        return Collection{Item::Dec(*r)};
      }
      if (x.kind == ItemKind::kDate || x.kind == ItemKind::kDateTime || x.kind == ItemKind::kTime) {
        const Temporal& t = x.as_temporal();
        int digits = has_p ? static_cast<int>(p)
                           : (t.kind == TemporalKind::kDate   ? 8
                              : t.kind == TemporalKind::kTime ? 9
                                                              : 17);
        std::optional<Temporal> r = TemporalBoundary(t, digits, high);
        if (!r) return Collection{};
        return Collection{Item::Time(*r)};
      }
      return c.Error(n.name + "() needs a number, quantity or date/time");
    }
    case Fn::kComparable: {
      Item x;
      ASSIGN_OR_RETURN(bool has, c.Single(&x));
      if (!has) return Collection{};
      ASSIGN_OR_RETURN(Collection oc, c.Arg(0));
      Item o;
      if (oc.empty()) return Collection{};
      if (x.kind != ItemKind::kQuantity || oc.size() > 1 || !ToSystem(oc[0], &o) ||
          o.kind != ItemKind::kQuantity) {
        return c.Error("comparable() needs quantities");
      }
      return Bool(QuantitiesComparable(x.as_quantity(), o.as_quantity()));
    }

    default:
      break;
  }
  return c.Error(n.name + "() is not supported");
}

}  // namespace vesta::fhirpath::internal
