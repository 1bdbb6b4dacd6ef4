#include "fhir/fhirpath/value.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "base/strings.h"
#include "json/writer.h"

namespace vesta::fhirpath {
namespace {

constexpr __int128 kMaxMantissa = static_cast<__int128>(1) << 120;

__int128 Pow10(int n) {
  __int128 r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  if (neg) v = -v;
  std::string s;
  while (v > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  if (neg) s.push_back('-');
  return {s.rbegin(), s.rend()};
}

int DaysInMonth(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return kDays[(month - 1) % 12];
}

// hh(:mm(:ss(.fff)?)?)? starting at *i. `min_precision` hour or minute.
bool ParseTimePart(std::string_view s, size_t* i, Temporal* t) {
  if (!ConsumeDigits(s, i, 2, &t->hour) || t->hour > 23) return false;
  t->precision = Precision::kHour;
  if (*i < s.size() && s[*i] == ':') {
    ++*i;
    if (!ConsumeDigits(s, i, 2, &t->minute) || t->minute > 59) return false;
    t->precision = Precision::kMinute;
    if (*i < s.size() && s[*i] == ':') {
      ++*i;
      if (!ConsumeDigits(s, i, 2, &t->second) || t->second > 59) return false;
      t->precision = Precision::kSecond;
      if (*i < s.size() && s[*i] == '.') {
        ++*i;
        size_t start = *i;
        int ms = 0, digits = 0;
        while (*i < s.size() && s[*i] >= '0' && s[*i] <= '9') {
          if (digits < 3) ms = ms * 10 + (s[*i] - '0');
          ++digits;
          ++*i;
        }
        if (*i == start) return false;
        while (digits < 3) {
          ms *= 10;
          ++digits;
        }
        t->millisecond = ms;
        t->precision = Precision::kMillisecond;
      }
    }
  }
  return true;
}

bool ParseTimezone(std::string_view s, size_t* i, Temporal* t) {
  if (*i >= s.size()) return true;
  if (s[*i] == 'Z') {
    ++*i;
    t->has_timezone = true;
    t->tz_minutes = 0;
    return true;
  }
  if (s[*i] == '+' || s[*i] == '-') {
    int sign = s[*i] == '-' ? -1 : 1;
    ++*i;
    int h, m;
    if (!ConsumeDigits(s, i, 2, &h) || *i >= s.size() || s[*i] != ':') return false;
    ++*i;
    if (!ConsumeDigits(s, i, 2, &m) || h > 14 || m > 59) return false;
    t->has_timezone = true;
    t->tz_minutes = sign * (h * 60 + m);
    return true;
  }
  return false;
}

bool ParseDatePart(std::string_view s, size_t* i, Temporal* t) {
  if (!ConsumeDigits(s, i, 4, &t->year)) return false;
  t->precision = Precision::kYear;
  if (*i < s.size() && s[*i] == '-') {
    ++*i;
    if (!ConsumeDigits(s, i, 2, &t->month) || t->month < 1 || t->month > 12) return false;
    t->precision = Precision::kMonth;
    if (*i < s.size() && s[*i] == '-') {
      ++*i;
      if (!ConsumeDigits(s, i, 2, &t->day) || t->day < 1 || t->day > DaysInMonth(t->year, t->month))
        return false;
      t->precision = Precision::kDay;
    }
  }
  return true;
}

void Append2(std::string* out, int v) {
  out->push_back(static_cast<char>('0' + v / 10 % 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

}  // namespace

bool Decimal::Parse(std::string_view text, Decimal* out) {
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  __int128 m = 0;
  int scale = 0, digits = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      if (m > kMaxMantissa) return false;
      m = m * 10 + (c - '0');
      ++digits;
      if (point) ++scale;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) eneg = text[i++] == '-';
    int e = 0;
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      e = e * 10 + (text[i++] - '0');
      if (e > 60) return false;
    }
    if (i == start) return false;
    scale += eneg ? e : -e;
  }
  if (i != text.size()) return false;
  while (scale < 0) {
    if (m > kMaxMantissa / 10) return false;
    m *= 10;
    ++scale;
  }
  if (scale > 36) return false;
  out->mantissa = neg ? -m : m;
  out->scale = scale;
  return true;
}

bool Decimal::FromDouble(double v, int max_scale, Decimal* out) {
  if (!std::isfinite(v) || std::fabs(v) > 1e30) return false;
  char buf[80];
  std::snprintf(buf, sizeof buf, "%.*f", max_scale, v);
  Decimal d;
  if (!Parse(buf, &d)) return false;
  *out = d.Normalized();
  return true;
}

double Decimal::ToDouble() const { return static_cast<double>(mantissa) / std::pow(10.0, scale); }

std::string Decimal::ToString() const {
  std::string digits = Int128ToString(mantissa < 0 ? -mantissa : mantissa);
  std::string out = mantissa < 0 ? "-" : "";
  if (scale <= 0) return out + digits;
  if (static_cast<int>(digits.size()) <= scale) {
    digits = std::string(scale - digits.size() + 1, '0') + digits;
  }
  out += digits.substr(0, digits.size() - scale);
  out += '.';
  out += digits.substr(digits.size() - scale);
  return out;
}

bool Decimal::Rescale(int new_scale, Decimal* out) const {
  if (new_scale > 36) return false;
  if (new_scale >= scale) {
    __int128 m = mantissa;
    for (int i = scale; i < new_scale; ++i) {
      if (m > kMaxMantissa || m < -kMaxMantissa) return false;
      m *= 10;
    }
    *out = Decimal{m, new_scale};
    return true;
  }
  if (scale - new_scale > 38) {  // every digit is dropped (|mantissa| < 10^38)
    *out = Decimal{0, new_scale};
    return true;
  }
  __int128 div = Pow10(scale - new_scale);
  __int128 q = mantissa / div, r = mantissa % div;
  if (r < 0) r = -r;
  if (2 * r >= div) q += mantissa < 0 ? -1 : 1;
  *out = Decimal{q, new_scale};
  return true;
}

Decimal Decimal::Normalized() const {
  Decimal d = *this;
  while (d.scale > 0 && d.mantissa % 10 == 0) {
    d.mantissa /= 10;
    --d.scale;
  }
  return d;
}

bool Decimal::IsInteger() const { return Normalized().scale <= 0; }

int Compare(const Decimal& a, const Decimal& b) {
  int s = std::max(a.scale, b.scale);
  Decimal x, y;
  if (!a.Rescale(s, &x) || !b.Rescale(s, &y)) {
    double da = a.ToDouble(), db = b.ToDouble();
    return da < db ? -1 : da > db ? 1 : 0;
  }
  return x.mantissa < y.mantissa ? -1 : x.mantissa > y.mantissa ? 1 : 0;
}

bool Temporal::ParseDate(std::string_view s, Temporal* out) {
  Temporal t;
  t.kind = TemporalKind::kDate;
  size_t i = 0;
  if (!ParseDatePart(s, &i, &t) || i != s.size()) return false;
  *out = t;
  return true;
}

bool Temporal::ParseDateTime(std::string_view s, Temporal* out) {
  Temporal t;
  t.kind = TemporalKind::kDateTime;
  size_t i = 0;
  if (!ParseDatePart(s, &i, &t)) return false;
  if (i < s.size() && s[i] == 'T') {
    ++i;
    if (i < s.size()) {
      if (t.precision != Precision::kDay) return false;
      if (!ParseTimePart(s, &i, &t)) return false;
      if (!ParseTimezone(s, &i, &t)) return false;
    }
  } else if (i < s.size()) {
    // A dateTime without a time part may still carry a timezone in some inputs: refuse.
    return false;
  }
  if (i != s.size()) return false;
  *out = t;
  return true;
}

bool Temporal::ParseTime(std::string_view s, Temporal* out) {
  Temporal t;
  t.kind = TemporalKind::kTime;
  size_t i = 0;
  if (!ParseTimePart(s, &i, &t) || i != s.size()) return false;
  *out = t;
  return true;
}

std::string Temporal::ToString() const {
  std::string out;
  auto time = [&] {
    Append2(&out, hour);
    if (precision >= Precision::kMinute) {
      out += ':';
      Append2(&out, minute);
    }
    if (precision >= Precision::kSecond) {
      out += ':';
      Append2(&out, second);
    }
    if (precision >= Precision::kMillisecond) {
      out += '.';
      out.push_back(static_cast<char>('0' + millisecond / 100));
      Append2(&out, millisecond % 100);
    }
  };
  if (kind == TemporalKind::kTime) {
    time();
    return out;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", year);
  out = buf;
  if (precision >= Precision::kMonth) {
    out += '-';
    Append2(&out, month);
  }
  if (precision >= Precision::kDay) {
    out += '-';
    Append2(&out, day);
  }
  if (kind == TemporalKind::kDateTime && precision >= Precision::kHour) {
    out += 'T';
    time();
    if (has_timezone) {
      if (tz_minutes == 0) {
        out += 'Z';
      } else {
        int m = tz_minutes < 0 ? -tz_minutes : tz_minutes;
        out += tz_minutes < 0 ? '-' : '+';
        Append2(&out, m / 60);
        out += ':';
        Append2(&out, m % 60);
      }
    }
  } else if (kind == TemporalKind::kDateTime && precision < Precision::kHour) {
    // A partial dateTime literal keeps its 'T' marker only in FHIRPath syntax; plain text omits it.
  }
  return out;
}

Item Item::Time(Temporal t) {
  ItemKind k = t.kind == TemporalKind::kDate       ? ItemKind::kDate
               : t.kind == TemporalKind::kDateTime ? ItemKind::kDateTime
                                                   : ItemKind::kTime;
  Item it = Boxed(k, SystemPayload(t));
  return it;
}

bool ToSystem(const Item& item, Item* out) {
  if (!item.is_node()) {
    *out = item;
    return true;
  }
  const json::Value* v = item.node;
  if (v == nullptr) return false;
  std::string_view t = item.fhir_type;
  switch (v->kind()) {
    case json::Kind::kBool:
      *out = Item::Boolean(v->bool_value());
      return true;
    case json::Kind::kNumber: {
      Decimal d;
      if (!Decimal::Parse(v->number_text(), &d)) return false;
      if (t == "decimal" || !d.IsInteger() || d.scale > 0) {
        if (t == "integer" || t == "positiveInt" || t == "unsignedInt") {
          *out = Item::Integer(static_cast<int64_t>(d.Normalized().mantissa));
        } else {
          *out = Item::Dec(d);
        }
      } else {
        Decimal n = d.Normalized();
        for (int s = n.scale; s < 0; ++s) n.mantissa *= 10;
        *out = Item::Integer(static_cast<int64_t>(n.mantissa));
      }
      return true;
    }
    case json::Kind::kString: {
      std::string_view s = v->string_value();
      Temporal tm;
      if (t == "date") {
        if (Temporal::ParseDate(s, &tm)) {
          *out = Item::Time(tm);
          return true;
        }
      } else if (t == "dateTime" || t == "instant") {
        if (Temporal::ParseDateTime(s, &tm)) {
          *out = Item::Time(tm);
          return true;
        }
      } else if (t == "time") {
        if (Temporal::ParseTime(s, &tm)) {
          *out = Item::Time(tm);
          return true;
        }
      } else if (t == "decimal") {
        Decimal d;
        if (Decimal::Parse(s, &d)) {
          *out = Item::Dec(d);
          return true;
        }
      }
      *out = Item::String(std::string(s));
      return true;
    }
    case json::Kind::kObject: {
      if (t == "Quantity" || t == "Age" || t == "Duration" || t == "Distance" || t == "Count" ||
          t == "SimpleQuantity" || t == "MoneyQuantity") {
        const json::Value* val = v->Find("value");
        if (val == nullptr || !val->is_number()) return false;
        Quantity q;
        if (!Decimal::Parse(val->number_text(), &q.value)) return false;
        std::string_view code = v->FindString("code");
        std::string_view unit = v->FindString("unit");
        std::string_view system = v->FindString("system");
        if (!code.empty() && (system.empty() || system == "http://unitsofmeasure.org")) {
          q.unit = std::string(code);
        } else if (!unit.empty()) {
          q.unit = std::string(unit);
        } else {
          q.unit = "1";
        }
        *out = Item::Qty(std::move(q));
        return true;
      }
      return false;
    }
    default:
      return false;
  }
}

std::string ItemToString(const Item& item) {
  switch (item.kind) {
    case ItemKind::kNode:
      if (item.node == nullptr) return "null";
      if (item.node->is_string()) return std::string(item.node->string_value());
      if (item.node->is_number()) return std::string(item.node->number_text());
      if (item.node->is_bool()) return item.node->bool_value() ? "true" : "false";
      return json::ToString(*item.node);
    case ItemKind::kBoolean:
      return item.as_bool() ? "true" : "false";
    case ItemKind::kInteger:
      return std::to_string(item.as_int());
    case ItemKind::kLong:
      return std::to_string(item.as_int()) + "L";
    case ItemKind::kDecimal:
      return item.as_decimal().ToString();
    case ItemKind::kString:
      return item.as_string();
    case ItemKind::kDate:
    case ItemKind::kDateTime:
      return "@" + item.as_temporal().ToString() +
             (item.kind == ItemKind::kDateTime && item.as_temporal().precision < Precision::kHour
                  ? "T"
                  : "");
    case ItemKind::kTime:
      return "@T" + item.as_temporal().ToString();
    case ItemKind::kQuantity: {
      const Quantity& q = item.as_quantity();
      return q.value.ToString() + " '" + q.unit + "'";
    }
  }
  return "";
}

std::string CollectionToJson(const Collection& c) {
  std::string out = "[";
  bool first = true;
  for (const Item& item : c) {
    if (!first) out += ',';
    first = false;
    switch (item.kind) {
      case ItemKind::kNode:
        if (item.node == nullptr) {
          out += item.extension_part ? json::ToString(*item.extension_part) : "null";
        } else {
          json::Write(*item.node, json::Style::kCompact, &out);
        }
        break;
      case ItemKind::kBoolean:
        out += item.as_bool() ? "true" : "false";
        break;
      case ItemKind::kInteger:
      case ItemKind::kLong:
        out += std::to_string(item.as_int());
        break;
      case ItemKind::kDecimal:
        out += item.as_decimal().ToString();
        break;
      case ItemKind::kString:
        json::WriteString(item.as_string(), &out);
        break;
      case ItemKind::kDate:
      case ItemKind::kDateTime:
      case ItemKind::kTime:
        json::WriteString(item.as_temporal().ToString(), &out);
        break;
      case ItemKind::kQuantity: {
        const Quantity& q = item.as_quantity();
        out += "{\"value\":" + q.value.ToString() + ",\"unit\":";
        json::WriteString(q.unit, &out);
        out += '}';
        break;
      }
    }
  }
  out += ']';
  return out;
}

}  // namespace vesta::fhirpath
