// Decimal, date/time and quantity arithmetic for the evaluator:
// http://hl7.org/fhirpath/N1/#math-1, #datetime-arithmetic, #comparison.
#include <algorithm>
#include <cmath>

#include "fhir/fhirpath/eval.h"
#include "fhir/ucum.h"

namespace vesta::fhirpath::internal {

// ---------------------------------------------------------------------------------------------
// Decimal arithmetic.

namespace {
constexpr __int128 kLimit = static_cast<__int128>(1) << 122;

bool Align(const Decimal& a, const Decimal& b, Decimal* x, Decimal* y) {
  int s = std::max(a.scale, b.scale);
  return a.Rescale(s, x) && b.Rescale(s, y);
}
}  // namespace

bool DecimalAdd(const Decimal& a, const Decimal& b, Decimal* out) {
  Decimal x, y;
  if (!Align(a, b, &x, &y)) return false;
  out->mantissa = x.mantissa + y.mantissa;
  out->scale = x.scale;
  return out->mantissa < kLimit && out->mantissa > -kLimit;
}

bool DecimalSub(const Decimal& a, const Decimal& b, Decimal* out) {
  Decimal nb = b;
  nb.mantissa = -nb.mantissa;
  return DecimalAdd(a, nb, out);
}

bool DecimalMul(const Decimal& a, const Decimal& b, Decimal* out) {
  Decimal x = a.Normalized(), y = b.Normalized();
  __int128 r;
  if (__builtin_mul_overflow(x.mantissa, y.mantissa, &r)) return false;
  Decimal d{r, x.scale + y.scale};
  if (d.scale > 30) {
    if (!d.Rescale(30, &d)) return false;
  }
  *out = d;
  return true;
}

// Division to 8 decimal places beyond the operands, trailing zeros dropped
// (http://hl7.org/fhirpath/N1/#division: the result is a Decimal).
bool DecimalDiv(const Decimal& a, const Decimal& b, Decimal* out) {
  if (b.mantissa == 0) return false;
  Decimal x = a.Normalized(), y = b.Normalized();
  // result = x.m / y.m * 10^(y.s - x.s); compute with 8 extra digits.
  const int kDigits = 8;
  int shift = kDigits + std::max(0, x.scale - y.scale);
  __int128 num = x.mantissa;
  for (int i = 0; i < shift + (y.scale - x.scale) && i < 60; ++i) {
    if (num > kLimit / 10 || num < -kLimit / 10) return false;
    num *= 10;
  }
  int scale = shift;
  // Handle y.scale - x.scale possibly negative (shift includes it).
  if (shift + (y.scale - x.scale) < 0) return false;
  __int128 q = num / y.mantissa, r = num % y.mantissa;
  if (r < 0) r = -r;
  __int128 ay = y.mantissa < 0 ? -y.mantissa : y.mantissa;
  if (2 * r >= ay) q += ((num < 0) != (y.mantissa < 0)) ? -1 : 1;
  *out = Decimal{q, scale}.Normalized();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Dates and times: http://hl7.org/fhirpath/N1/#datetime-arithmetic and #comparison.

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {

void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yy + (*m <= 2));
}

int MonthDays(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[(m - 1 + 12) % 12];
}

}  // namespace

int64_t ToMillis(const Temporal& t) {
  int64_t days = t.kind == TemporalKind::kTime ? 0 : DaysFromCivil(t.year, t.month, t.day);
  return ((days * 24 + t.hour) * 60 + t.minute) * 60000 + t.second * 1000 + t.millisecond;
}

namespace {

void FromMillis(int64_t ms, Temporal* t) {
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rem = ms - days * 86400000;
  if (t->kind != TemporalKind::kTime) CivilFromDays(days, &t->year, &t->month, &t->day);
  t->hour = static_cast<int>(rem / 3600000);
  t->minute = static_cast<int>(rem / 60000 % 60);
  t->second = static_cast<int>(rem / 1000 % 60);
  t->millisecond = static_cast<int>(rem % 1000);
}

// Fields compared in order; seconds and milliseconds are one precision
// (http://hl7.org/fhirpath/N1/#comparison).
void Fields(const Temporal& t, int64_t f[6]) {
  Temporal u = t;
  if (t.has_timezone && t.tz_minutes != 0 && t.kind != TemporalKind::kTime &&
      t.precision >= Precision::kHour) {
    FromMillis(ToMillis(t) - static_cast<int64_t>(t.tz_minutes) * 60000, &u);
  }
  f[0] = u.year;
  f[1] = u.month;
  f[2] = u.day;
  f[3] = u.hour;
  f[4] = u.minute;
  f[5] = u.second * 1000 + u.millisecond;
}

int Level(const Temporal& t) {
  int p = static_cast<int>(t.precision);
  return std::min(p, static_cast<int>(Precision::kSecond));
}

}  // namespace

std::optional<int> CompareTemporal(const Temporal& a, const Temporal& b) {
  int64_t fa[6], fb[6];
  Fields(a, fa);
  Fields(b, fb);
  int la = Level(a), lb = Level(b);
  int start = 0;
  if (a.kind == TemporalKind::kTime) {
    start = 3;
  }
  int common = std::min(la, lb);
  // One side with a timezone and the other without: the order is unknown past the date
  // (http://hl7.org/fhirpath/N1/#comparison).
  if (a.kind != TemporalKind::kTime && common >= 3 && a.has_timezone != b.has_timezone) {
    for (int i = 0; i < 3; ++i) {
      if (fa[i] != fb[i]) return fa[i] < fb[i] ? -1 : 1;
    }
    return std::nullopt;
  }
  for (int i = start; i <= common; ++i) {
    if (fa[i] != fb[i]) return fa[i] < fb[i] ? -1 : 1;
  }
  if (la != lb) return std::nullopt;
  return 0;
}

bool IsCalendarKeyword(std::string_view u) {
  static const char* kUnits[] = {
      "year", "years", "month",  "months",  "week",   "weeks",   "day",         "days",
      "hour", "hours", "minute", "minutes", "second", "seconds", "millisecond", "milliseconds"};
  for (const char* k : kUnits) {
    if (u == k) return true;
  }
  return false;
}

std::string_view CalendarToUcum(std::string_view u) {
  if (u == "year" || u == "years") return "a";
  if (u == "month" || u == "months") return "mo";
  if (u == "week" || u == "weeks") return "wk";
  if (u == "day" || u == "days") return "d";
  if (u == "hour" || u == "hours") return "h";
  if (u == "minute" || u == "minutes") return "min";
  if (u == "second" || u == "seconds") return "s";
  if (u == "millisecond" || u == "milliseconds") return "ms";
  return u;
}

bool AddDuration(const Temporal& t, const Quantity& q, int sign, Temporal* out) {
  std::string_view u = q.unit;
  // Years and months only as calendar durations; UCUM 'a' and 'mo' are not calendar-exact.
  // Only whole calendar units are added (http://hl7.org/fhirpath/N1/#datetime-arithmetic).
  double dv = std::trunc(q.value.ToDouble()) * sign;
  if (!(std::fabs(dv) < 1e9)) return false;  // far outside the years a date can hold
  Temporal r = t;
  if (u == "year" || u == "years" || u == "month" || u == "months") {
    int64_t n = static_cast<int64_t>(std::trunc(dv));
    bool years = u[0] == 'y';
    if (t.kind == TemporalKind::kTime) return false;
    int64_t total = static_cast<int64_t>(r.year) * 12 + (r.month - 1) + (years ? n * 12 : n);
    if (!years && t.precision < Precision::kMonth) {
      // A year-precision date: whole years only.
      total = static_cast<int64_t>(r.year) * 12 + (r.month - 1) + (n / 12) * 12;
    }
    r.year = static_cast<int>(total >= 0 ? total / 12 : (total - 11) / 12);
    r.month = static_cast<int>(total - static_cast<int64_t>(r.year) * 12) + 1;
    if (r.year < 1 || r.year > 9999) return false;
    r.day = std::min(r.day, MonthDays(r.year, r.month));
    *out = r;
    return true;
  }
  int64_t unit_ms;
  std::string_view c = CalendarToUcum(u);
  if (c == "wk")
    unit_ms = 7 * 86400000LL;
  else if (c == "d")
    unit_ms = 86400000LL;
  else if (c == "h")
    unit_ms = 3600000LL;
  else if (c == "min")
    unit_ms = 60000LL;
  else if (c == "s")
    unit_ms = 1000LL;
  else if (c == "ms")
    unit_ms = 1LL;
  else
    return false;
  int64_t prec_ms;
  switch (t.precision) {
    case Precision::kYear:
    case Precision::kMonth:
      prec_ms = -1;
      break;
    case Precision::kDay:
      prec_ms = 86400000LL;
      break;
    case Precision::kHour:
      prec_ms = 3600000LL;
      break;
    case Precision::kMinute:
      prec_ms = 60000LL;
      break;
    case Precision::kSecond:
      prec_ms = 1000LL;
      break;
    default:
      prec_ms = 1;
      break;
  }
  if (t.kind == TemporalKind::kTime && unit_ms >= 86400000LL) return false;
  double delta = dv * static_cast<double>(unit_ms);
  if (std::fabs(delta) > 1e15) return false;
  if (prec_ms < 0) {
    // Year/month precision: only whole years (as days / 365) could apply; leave unchanged for
    // smaller spans.
    *out = r;
    return true;
  }
  int64_t d = static_cast<int64_t>(std::trunc(delta / static_cast<double>(prec_ms))) * prec_ms;
  int64_t ms = ToMillis(t) + d;
  if (t.kind == TemporalKind::kTime) ms = ((ms % 86400000LL) + 86400000LL) % 86400000LL;
  FromMillis(ms, &r);
  if (t.kind != TemporalKind::kTime && (r.year < 1 || r.year > 9999)) return false;
  *out = r;
  return true;
}

// ---------------------------------------------------------------------------------------------
// UCUM units (fhir/ucum.h, shared with search). Calendar keywords map to their UCUM definite
// durations for comparisons.

namespace {

std::optional<ucum::Unit> ParseUnit(std::string_view unit) {
  return ucum::ParseUnit(CalendarToUcum(unit));
}

}  // namespace

bool QuantitiesComparable(const Quantity& a, const Quantity& b) {
  std::optional<ucum::Unit> x = ParseUnit(a.unit), y = ParseUnit(b.unit);
  return x && y && ucum::Commensurable(*x, *y);
}

bool ConvertQuantity(const Quantity& q, std::string_view unit, Quantity* out) {
  if (q.unit == unit) {
    *out = q;
    return true;
  }
  std::optional<ucum::Unit> from = ParseUnit(q.unit), to = ParseUnit(unit);
  if (!from || !to || !ucum::Commensurable(*from, *to)) return false;
  // Temperatures with offsets are not converted.
  if (from->dim(ucum::Dim::kKelvin) != 0 && q.unit != unit) return false;
  double ratio = from->factor / to->factor;
  Decimal r;
  // Exact when the ratio is a power of ten.
  double lg = std::log10(ratio);
  if (std::fabs(lg - std::round(lg)) < 1e-12 && std::fabs(lg) < 30) {
    int p = static_cast<int>(std::round(lg));
    r = q.value;
    if (p >= 0) {
      for (int i = 0; i < p; ++i) r.mantissa *= 10;
    } else {
      r.scale -= p;
    }
  } else if (!Decimal::FromDouble(q.value.ToDouble() * ratio, 12, &r)) {
    return false;
  }
  out->value = r;
  out->unit = std::string(unit);
  return true;
}

bool MultiplyQuantities(const Quantity& a, const Quantity& b, bool divide, Quantity* out) {
  std::optional<ucum::Unit> x = ParseUnit(a.unit), y = ParseUnit(b.unit);
  if (!x || !y) return false;
  ucum::Unit r;
  for (int d = 0; d < ucum::kDims; ++d) {
    r.dims[d] = x->dims[d] + (divide ? -y->dims[d] : y->dims[d]);
  }
  Decimal xa, yb;
  // Values in base units.
  if (!Decimal::FromDouble(a.value.ToDouble() * x->factor, 12, &xa) ||
      !Decimal::FromDouble(b.value.ToDouble() * y->factor, 12, &yb)) {
    return false;
  }
  Decimal v;
  if (divide ? !DecimalDiv(xa, yb, &v) : !DecimalMul(xa, yb, &v)) return false;
  out->value = v;
  out->unit = ucum::CanonicalCode(r);
  return true;
}

}  // namespace vesta::fhirpath::internal
