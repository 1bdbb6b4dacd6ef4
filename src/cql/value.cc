#include "cql/value.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "fhir/ucum.h"
#include "json/value.h"

namespace vesta::cql {

Value Value::FromRatio(Quantity n, Quantity d) {
  return Value(Rep(std::make_shared<const Ratio>(Ratio{std::move(n), std::move(d)})));
}

Value Value::FromInterval(Value low, Value high, bool low_closed, bool high_closed) {
  return Value(Rep(std::make_shared<const Interval>(
      Interval{std::move(low), std::move(high), low_closed, high_closed})));
}

Value Value::FromTuple(std::vector<std::pair<std::string, Value>> elements) {
  return Value(Rep(std::make_shared<const Tuple>(Tuple{std::move(elements)})));
}

const Temporal& Value::temporal() const {
  switch (kind()) {
    case Kind::kDate:
      return std::get<Date>(rep_);
    case Kind::kTime:
      return std::get<Time>(rep_);
    default:
      return std::get<DateTime>(rep_);
  }
}

const Value* Tuple::Find(std::string_view name) const {
  for (const auto& [n, v] : elements) {
    if (n == name) return &v;
  }
  return nullptr;
}

std::string_view TypeName(const Value& v) {
  static constexpr std::string_view kNames[] = {
      "Null",    "Boolean",  "Integer", "Long",     "Decimal", "String",
      "Date",    "DateTime", "Time",    "Quantity", "Ratio",   "Code",
      "Concept", "Interval", "List",    "Tuple",    "",        "ValueSet"};
  if (v.kind() == Value::Kind::kFhir) return v.fhir().type;
  return kNames[static_cast<int>(v.kind())];
}

// --- calendar arithmetic ---

namespace {

// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yoe + era * 400 + (*m <= 2));
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

constexpr int64_t kMsPer[] = {0, 0, 86400000, 3600000, 60000, 1000, 1};

// Seconds and milliseconds are one precision when comparing
// (https://cql.hl7.org/09-b-cqlreference.html#datetime-operators-2).
Precision ComparePrecision(Precision p) {
  return p == Precision::kSecond ? Precision::kMillisecond : p;
}

int Component(const Temporal& t, Precision p) {
  switch (p) {
    case Precision::kYear:
      return t.year;
    case Precision::kMonth:
      return t.month;
    case Precision::kDay:
      return t.day;
    case Precision::kHour:
      return t.hour;
    case Precision::kMinute:
      return t.minute;
    case Precision::kSecond:
      return t.second;
    case Precision::kMillisecond:
      return t.millisecond;
  }
  return 0;
}

// The DateTime in UTC (its offset applied), so that values written in different zones compare.
Temporal ToUtc(const Temporal& t) {
  if (t.offset_minutes == 0 || t.precision < Precision::kHour) return t;
  Temporal u = FromEpochMillis(EpochMillis(t) - int64_t(t.offset_minutes) * 60000, 0, t.precision);
  return u;
}

std::optional<int> CompareTemporal(const Value& a, const Value& b, std::optional<Precision> cap) {
  Temporal x = a.temporal(), y = b.temporal();
  if (a.kind() == Value::Kind::kDateTime && b.kind() == Value::Kind::kDateTime) {
    x = ToUtc(x);
    y = ToUtc(y);
  }
  const bool is_time = a.kind() == Value::Kind::kTime;
  Precision px = ComparePrecision(x.precision), py = ComparePrecision(y.precision);
  Precision limit = std::min(px, py);
  if (cap) limit = std::min(limit, ComparePrecision(*cap));
  for (int p = is_time ? int(Precision::kHour) : 0; p <= int(limit); ++p) {
    int cx = Component(x, Precision(p)), cy = Component(y, Precision(p));
    if (p == int(Precision::kMillisecond)) {
      cx += Component(x, Precision::kSecond) * 1000;
      cy += Component(y, Precision::kSecond) * 1000;
    }
    if (p == int(Precision::kSecond)) continue;  // folded into milliseconds
    if (cx != cy) return cx < cy ? -1 : 1;
  }
  const Precision wanted = cap ? ComparePrecision(*cap) : std::max(px, py);
  if (px >= wanted && py >= wanted) return 0;
  return std::nullopt;
}

// Calendar duration words and their UCUM codes, so that `1 year` and `1 'a'` compare.
std::string_view UcumOf(std::string_view unit) {
  bool weeks = false;
  std::optional<Precision> p = DurationUnit(unit, &weeks);
  if (!p) return unit;
  if (weeks) return "wk";
  static constexpr std::string_view kCodes[] = {"a", "mo", "d", "h", "min", "s", "ms"};
  return kCodes[int(*p)];
}

std::optional<int> CompareQuantity(const Quantity& a, const Quantity& b) {
  double x = a.value, y = b.value;
  std::string_view ua = UcumOf(a.unit), ub = UcumOf(b.unit);
  if (ua != ub) {
    auto ca = ucum::Canonicalize(a.value, ua), cb = ucum::Canonicalize(b.value, ub);
    if (!ca || !cb || ca->code != cb->code) return std::nullopt;
    x = ca->value;
    y = cb->value;
  }
  if (std::fabs(x - y) < 1e-8 * std::max(1.0, std::fabs(x))) return 0;
  return x < y ? -1 : 1;
}

std::string Lower(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool CodeEquivalent(const Code& a, const Code& b) {
  return a.code == b.code && a.system == b.system;
}

}  // namespace

std::optional<Precision> ParsePrecision(std::string_view name) {
  static constexpr std::string_view kNames[] = {"Year",   "Month",  "Day",        "Hour",
                                                "Minute", "Second", "Millisecond"};
  for (int i = 0; i < 7; ++i) {
    if (name == kNames[i]) return Precision(i);
  }
  if (name == "Week") return Precision::kDay;
  return std::nullopt;
}

std::optional<Precision> DurationUnit(std::string_view unit, bool* weeks) {
  if (weeks) *weeks = false;
  if (unit == "year" || unit == "years" || unit == "a") return Precision::kYear;
  if (unit == "month" || unit == "months" || unit == "mo") return Precision::kMonth;
  if (unit == "week" || unit == "weeks" || unit == "wk") {
    if (weeks) *weeks = true;
    return Precision::kDay;
  }
  if (unit == "day" || unit == "days" || unit == "d") return Precision::kDay;
  if (unit == "hour" || unit == "hours" || unit == "h") return Precision::kHour;
  if (unit == "minute" || unit == "minutes" || unit == "min") return Precision::kMinute;
  if (unit == "second" || unit == "seconds" || unit == "s") return Precision::kSecond;
  if (unit == "millisecond" || unit == "milliseconds" || unit == "ms")
    return Precision::kMillisecond;
  return std::nullopt;
}

int64_t EpochMillis(const Temporal& t) {
  return DaysFromCivil(t.year, t.month, t.day) * 86400000 + int64_t(t.hour) * 3600000 +
         int64_t(t.minute) * 60000 + int64_t(t.second) * 1000 + t.millisecond;
}

Temporal FromEpochMillis(int64_t ms, int offset_minutes, Precision precision) {
  Temporal t;
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rest = ms - days * 86400000;
  CivilFromDays(days, &t.year, &t.month, &t.day);
  t.hour = int(rest / 3600000);
  t.minute = int(rest / 60000 % 60);
  t.second = int(rest / 1000 % 60);
  t.millisecond = int(rest % 1000);
  t.precision = precision;
  t.offset_minutes = offset_minutes;
  return t;
}

Temporal AddTemporal(const Temporal& t, int64_t amount, Precision unit, Value::Kind kind) {
  Temporal r = t;
  // A finer unit than the value's precision is converted to it, truncating
  // (https://cql.hl7.org/09-b-cqlreference.html#add-1).
  if (unit > t.precision && t.precision <= Precision::kMonth) {
    int64_t ms = amount * (unit >= Precision::kDay ? kMsPer[int(unit)] : 0);
    int64_t days = ms / 86400000;
    amount = t.precision == Precision::kYear ? days / 365 : days / 30;
    unit = t.precision;
  } else if (unit > t.precision) {
    amount = amount * kMsPer[int(unit)] / kMsPer[int(t.precision)];
    unit = t.precision;
  }
  if (unit <= Precision::kMonth) {
    int64_t months =
        int64_t(r.year) * 12 + (r.month - 1) + (unit == Precision::kYear ? amount * 12 : amount);
    r.year = int(months >= 0 ? months / 12 : (months - 11) / 12);
    r.month = int(months - int64_t(r.year) * 12) + 1;
    if (r.precision >= Precision::kDay) r.day = std::min(r.day, DaysInMonth(r.year, r.month));
    return r;
  }
  if (kind == Value::Kind::kTime) {
    int64_t day_ms = (EpochMillis(r) - DaysFromCivil(r.year, r.month, r.day) * 86400000 +
                      amount * kMsPer[int(unit)]) %
                     86400000;
    if (day_ms < 0) day_ms += 86400000;
    Temporal x = FromEpochMillis(day_ms, 0, r.precision);
    r.hour = x.hour;
    r.minute = x.minute;
    r.second = x.second;
    r.millisecond = x.millisecond;
    return r;
  }
  return FromEpochMillis(EpochMillis(r) + amount * kMsPer[int(unit)], r.offset_minutes,
                         r.precision);
}

std::optional<Temporal> ParseTemporal(std::string_view s, Value::Kind kind,
                                      int default_offset_minutes) {
  Temporal t;
  t.offset_minutes = default_offset_minutes;
  size_t i = 0;
  auto digits = [&](int n, int* out) {
    if (i + n > s.size()) return false;
    int v = 0;
    for (int k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    *out = v;
    i += n;
    return true;
  };
  auto time_part = [&](Precision first) {
    if (!digits(2, &t.hour)) return false;
    t.precision = first;
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!digits(2, &t.minute)) return false;
      t.precision = Precision::kMinute;
      if (i < s.size() && s[i] == ':') {
        ++i;
        if (!digits(2, &t.second)) return false;
        t.precision = Precision::kSecond;
        if (i < s.size() && s[i] == '.') {
          ++i;
          size_t start = i;
          int ms = 0, n = 0;
          while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            if (n < 3) ms = ms * 10 + (s[i] - '0');
            ++n;
            ++i;
          }
          if (i == start) return false;
          for (; n < 3; ++n) ms *= 10;
          t.millisecond = ms;
          t.precision = Precision::kMillisecond;
        }
      }
    }
    return true;
  };
  if (kind == Value::Kind::kTime) {
    if (i < s.size() && s[i] == 'T') ++i;
    if (!time_part(Precision::kHour) || i != s.size()) return std::nullopt;
    return t;
  }
  if (!digits(4, &t.year)) return std::nullopt;
  t.precision = Precision::kYear;
  if (i < s.size() && s[i] == '-') {
    ++i;
    if (!digits(2, &t.month) || t.month < 1 || t.month > 12) return std::nullopt;
    t.precision = Precision::kMonth;
    if (i < s.size() && s[i] == '-') {
      ++i;
      if (!digits(2, &t.day) || t.day < 1 || t.day > DaysInMonth(t.year, t.month))
        return std::nullopt;
      t.precision = Precision::kDay;
    }
  }
  if (i < s.size() && s[i] == 'T') {
    ++i;
    if (i == s.size()) return t;  // "2019T": a DateTime at year precision
    if (!time_part(Precision::kHour)) return std::nullopt;
  }
  if (i < s.size()) {
    if (s[i] == 'Z') {
      t.offset_minutes = 0;
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      int sign = s[i] == '-' ? -1 : 1, hh = 0, mm = 0;
      ++i;
      if (!digits(2, &hh) || i >= s.size() || s[i] != ':') return std::nullopt;
      ++i;
      if (!digits(2, &mm)) return std::nullopt;
      t.offset_minutes = sign * (hh * 60 + mm);
    }
  }
  if (i != s.size()) return std::nullopt;
  if (kind == Value::Kind::kDate && t.precision > Precision::kDay) t.precision = Precision::kDay;
  return t;
}

// --- comparison ---

std::optional<int> Compare(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return std::nullopt;
  // An uncertain Integer (a duration between values too coarse for its precision) is an
  // interval of the possible values: the comparison holds when it holds for all of them.
  if (a.kind() == Value::Kind::kInterval && b.is_numeric()) {
    std::optional<int> low = Compare(a.interval().low, b), high = Compare(a.interval().high, b);
    if (high && *high < 0) return -1;
    if (low && *low > 0) return 1;
    if (low == 0 && high == 0) return 0;
    return std::nullopt;
  }
  if (b.kind() == Value::Kind::kInterval && a.is_numeric()) {
    std::optional<int> c = Compare(b, a);
    if (!c) return std::nullopt;
    return -*c;
  }
  if (a.is_numeric() && b.is_numeric()) {
    if (a.kind() != Value::Kind::kDecimal && b.kind() != Value::Kind::kDecimal) {
      return a.integer() < b.integer() ? -1 : a.integer() > b.integer() ? 1 : 0;
    }
    double x = a.number(), y = b.number();
    if (std::fabs(x - y) < 1e-9) return 0;
    return x < y ? -1 : 1;
  }
  if (a.is_temporal() && b.is_temporal()) return CompareTemporal(a, b, std::nullopt);
  if (a.kind() == Value::Kind::kString && b.kind() == Value::Kind::kString) {
    int c = a.string().compare(b.string());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.kind() == Value::Kind::kQuantity && b.kind() == Value::Kind::kQuantity) {
    return CompareQuantity(a.quantity(), b.quantity());
  }
  if (a.kind() == Value::Kind::kBoolean && b.kind() == Value::Kind::kBoolean) {
    return int(a.boolean()) - int(b.boolean());
  }
  return std::nullopt;
}

std::optional<int> CompareAt(const Value& a, const Value& b, Precision precision) {
  if (a.is_null() || b.is_null()) return std::nullopt;
  if (!a.is_temporal() || !b.is_temporal()) return Compare(a, b);
  return CompareTemporal(a, b, precision);
}

std::optional<bool> Equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.is_null() || b.is_null()) return std::nullopt;
  if ((a.is_numeric() && b.is_numeric()) || (a.is_temporal() && b.is_temporal()) ||
      (a.kind() == K::kQuantity && b.kind() == K::kQuantity) ||
      (a.kind() == K::kInterval && b.is_numeric()) ||
      (a.is_numeric() && b.kind() == K::kInterval)) {
    std::optional<int> c = Compare(a, b);
    if (!c) return std::nullopt;
    return *c == 0;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::kBoolean:
      return a.boolean() == b.boolean();
    case K::kString:
      return a.string() == b.string();
    case K::kCode: {
      // Tuple equality (https://cql.hl7.org/09-b-cqlreference.html#equal-3) over code, system
      // and version: a component present on one side only makes the result null. The display is
      // not compared, as by the engine the measures' expected results come from (their CQL
      // compares "laboratory" with data displaying "Laboratory" and expects a match).
      const Code &x = a.code(), &y = b.code();
      bool unknown = false;
      for (auto [p, q] : {std::pair{&x.code, &y.code}, std::pair{&x.system, &y.system},
                          std::pair{&x.version, &y.version}}) {
        if (p->empty() && q->empty()) continue;
        if (p->empty() || q->empty()) {
          unknown = true;
          continue;
        }
        if (*p != *q) return false;
      }
      if (unknown) return std::nullopt;
      return true;
    }
    case K::kConcept: {
      const auto &x = a.concept_value().codes, &y = b.concept_value().codes;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!Equal(Value::FromCode(x[i]), Value::FromCode(y[i])).value_or(false)) return false;
      }
      return true;
    }
    case K::kRatio: {
      auto n = CompareQuantity(a.ratio().numerator, b.ratio().numerator);
      auto d = CompareQuantity(a.ratio().denominator, b.ratio().denominator);
      if (!n || !d) return std::nullopt;
      return *n == 0 && *d == 0;
    }
    case K::kInterval: {
      const Interval &x = a.interval(), &y = b.interval();
      if (x.low_closed != y.low_closed || x.high_closed != y.high_closed) return false;
      std::optional<bool> lo = x.low.is_null() && y.low.is_null() ? true : Equal(x.low, y.low);
      std::optional<bool> hi = x.high.is_null() && y.high.is_null() ? true : Equal(x.high, y.high);
      if (lo == false || hi == false) return false;
      if (!lo || !hi) return std::nullopt;
      return true;
    }
    case K::kList: {
      const List &x = a.list(), &y = b.list();
      if (x.size() != y.size()) return false;
      bool unknown = false;
      for (size_t i = 0; i < x.size(); ++i) {
        std::optional<bool> e = Equal(x[i], y[i]);
        if (e == false) return false;
        if (!e) unknown = true;
      }
      if (unknown) return std::nullopt;
      return true;
    }
    case K::kTuple: {
      const Tuple &x = a.tuple(), &y = b.tuple();
      if (x.elements.size() != y.elements.size()) return false;
      bool unknown = false;
      for (const auto& [name, v] : x.elements) {
        const Value* w = y.Find(name);
        if (!w) return false;
        if (v.is_null() && w->is_null()) continue;
        std::optional<bool> e = Equal(v, *w);
        if (e == false) return false;
        if (!e) unknown = true;
      }
      if (unknown) return std::nullopt;
      return true;
    }
    case K::kFhir:
      return a.fhir().node == b.fhir().node || json::Equal(*a.fhir().node, *b.fhir().node);
    case K::kValueSet:
      return a.valueset_url() == b.valueset_url();
    default:
      return std::nullopt;
  }
}

bool Equivalent(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  if (a.kind() == K::kString && b.kind() == K::kString)
    return Lower(a.string()) == Lower(b.string());
  if (a.kind() == K::kCode && b.kind() == K::kCode) return CodeEquivalent(a.code(), b.code());
  if ((a.kind() == K::kConcept || a.kind() == K::kCode) &&
      (b.kind() == K::kConcept || b.kind() == K::kCode)) {
    auto codes = [](const Value& v) {
      return v.kind() == K::kCode ? std::vector<Code>{v.code()} : v.concept_value().codes;
    };
    for (const Code& x : codes(a)) {
      for (const Code& y : codes(b)) {
        if (CodeEquivalent(x, y)) return true;
      }
    }
    return false;
  }
  if (a.kind() == K::kList && b.kind() == K::kList) {
    const List &x = a.list(), &y = b.list();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!Equivalent(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.kind() == K::kTuple && b.kind() == K::kTuple) {
    const Tuple &x = a.tuple(), &y = b.tuple();
    if (x.elements.size() != y.elements.size()) return false;
    for (const auto& [name, v] : x.elements) {
      const Value* w = y.Find(name);
      if (!w || !Equivalent(v, *w)) return false;
    }
    return true;
  }
  return Equal(a, b).value_or(false);
}

std::string ToDebugString(const Value& v) {
  using K = Value::Kind;
  char buf[64];
  switch (v.kind()) {
    case K::kNull:
      return "null";
    case K::kBoolean:
      return v.boolean() ? "true" : "false";
    case K::kInteger:
    case K::kLong:
      return std::to_string(v.integer());
    case K::kDecimal:
      std::snprintf(buf, sizeof buf, "%.8g", v.decimal());
      return buf;
    case K::kString:
      return "'" + v.string() + "'";
    case K::kDate:
    case K::kDateTime:
    case K::kTime: {
      const Temporal& t = v.temporal();
      std::snprintf(buf, sizeof buf, "@%04d-%02d-%02dT%02d:%02d:%02d.%03d(p%d,%+d)", t.year,
                    t.month, t.day, t.hour, t.minute, t.second, t.millisecond, int(t.precision),
                    t.offset_minutes);
      return buf;
    }
    case K::kQuantity:
      std::snprintf(buf, sizeof buf, "%.8g", v.quantity().value);
      return std::string(buf) + " '" + v.quantity().unit + "'";
    case K::kCode:
      return "Code(" + v.code().system + "|" + v.code().code + ")";
    case K::kConcept: {
      std::string s = "Concept{";
      for (const Code& c : v.concept_value().codes) s += c.system + "|" + c.code + " ";
      return s + "}";
    }
    case K::kInterval: {
      const Interval& i = v.interval();
      return std::string("Interval") + (i.low_closed ? "[" : "(") + ToDebugString(i.low) + ", " +
             ToDebugString(i.high) + (i.high_closed ? "]" : ")");
    }
    case K::kList: {
      std::string s = "{";
      for (const Value& x : v.list()) s += (s.size() > 1 ? ", " : "") + ToDebugString(x);
      return s + "}";
    }
    case K::kTuple: {
      std::string s = "Tuple{";
      for (const auto& [n, x] : v.tuple().elements) s += n + ": " + ToDebugString(x) + "; ";
      return s + "}";
    }
    case K::kRatio:
      return "Ratio";
    case K::kFhir:
      return "FHIR." + std::string(v.fhir().type);
    case K::kValueSet:
      return "ValueSet(" + v.valueset_url() + ")";
  }
  return "?";
}

}  // namespace vesta::cql
