// The FHIRPath functions: http://hl7.org/fhirpath/N1/#functions, the FHIR R4 additions
// (https://hl7.org/fhir/R4/fhirpath.html#functions) and the later additions the official test
// suite uses (sort, lowBoundary/highBoundary, precision, comparable, string helpers:
// http://hl7.org/fhirpath/2.0.0/).
#include "fhir/fhirpath/functions.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <regex>
#include <set>

#include "fhir/fhirpath/eval.h"
#include "fhir/model/model.h"
#include "json/parse.h"

namespace vesta::fhirpath::internal {

const FunctionInfo* FindFunction(std::string_view name) {
  static const FunctionInfo kTable[] = {
#define VESTA_FN_ROW(id, nm, lo, hi) {Fn::id, nm, lo, hi},
      VESTA_FHIRPATH_FUNCTIONS(VESTA_FN_ROW)
#undef VESTA_FN_ROW
  };
  for (const FunctionInfo& f : kTable) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Result<int> BoolOf(const Evaluator& ev, const Node& n, Items c);

namespace {

using B = Collection;
Collection Bool(bool b) { return Collection{Item::Boolean(b)}; }

bool IsNumber(const Item& i) {
  return i.kind == ItemKind::kInteger || i.kind == ItemKind::kDecimal;
}
Decimal AsDecimal(const Item& i) {
  return i.kind == ItemKind::kInteger ? Decimal::FromInt(i.as_int()) : i.as_decimal();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A process-wide table of TypeInfo objects ({"namespace":..,"name":..}) for type(); bounded by
// the number of types in the model.
const json::Value* TypeInfoNode(std::string_view ns, std::string_view name) {
  static std::mutex mu;
  static std::map<std::string, json::Document, std::less<>> table;
  std::string key = std::string(ns) + "." + std::string(name);
  std::lock_guard<std::mutex> lock(mu);
  auto it = table.find(key);
  if (it == table.end()) {
    std::string text =
        "{\"namespace\":\"" + std::string(ns) + "\",\"name\":\"" + std::string(name) + "\"}";
    Result<json::Document> doc = json::Parse(text);
    if (!doc.ok()) return nullptr;
    it = table.emplace(key, std::move(doc).value()).first;
  }
  return &it->second.root();
}

// --- Conversions: http://hl7.org/fhirpath/N1/#conversion ---

std::optional<bool> ToBooleanValue(const Item& x) {
  switch (x.kind) {
    case ItemKind::kBoolean:
      return x.as_bool();
    case ItemKind::kInteger:
      if (x.as_int() == 1) return true;
      if (x.as_int() == 0) return false;
      return std::nullopt;
    case ItemKind::kDecimal: {
      Decimal d = x.as_decimal();
      if (Compare(d, Decimal::FromInt(1)) == 0) return true;
      if (Compare(d, Decimal::FromInt(0)) == 0) return false;
      return std::nullopt;
    }
    case ItemKind::kString: {
      std::string s = Lower(x.as_string());
      if (s == "true" || s == "t" || s == "yes" || s == "y" || s == "1" || s == "1.0") return true;
      if (s == "false" || s == "f" || s == "no" || s == "n" || s == "0" || s == "0.0") {
        return false;
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

bool IsIntegerText(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

bool IsDecimalText(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (digits == 0) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t frac = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++frac;
    if (frac == 0) return false;
  }
  return i == s.size();
}

std::optional<Item> ToIntegerValue(const Item& x) {
  if (x.kind == ItemKind::kInteger) return x;
  if (x.kind == ItemKind::kBoolean) return Item::Integer(x.as_bool() ? 1 : 0);
  if (x.kind == ItemKind::kString && IsIntegerText(x.as_string())) {
    Decimal d;
    if (Decimal::Parse(x.as_string(), &d) && d.mantissa <= INT64_MAX && d.mantissa >= INT64_MIN) {
      return Item::Integer(static_cast<int64_t>(d.mantissa));
    }
  }
  return std::nullopt;
}

std::optional<Item> ToDecimalValue(const Item& x) {
  if (x.kind == ItemKind::kDecimal) return x;
  if (x.kind == ItemKind::kInteger) return Item::Dec(Decimal::FromInt(x.as_int()));
  if (x.kind == ItemKind::kBoolean) return Item::Dec(Decimal{x.as_bool() ? 10 : 0, 1});
  if (x.kind == ItemKind::kString && IsDecimalText(x.as_string())) {
    Decimal d;
    if (Decimal::Parse(x.as_string(), &d)) return Item::Dec(d);
  }
  return std::nullopt;
}

std::string QuantityText(const Quantity& q) {
  if (IsCalendarKeyword(q.unit)) return q.value.ToString() + " " + q.unit;
  return q.value.ToString() + " '" + q.unit + "'";
}

std::optional<Item> ToStringValue(const Item& x) {
  switch (x.kind) {
    case ItemKind::kString:
      return x;
    case ItemKind::kBoolean:
    case ItemKind::kInteger:
    case ItemKind::kDecimal:
      return Item::String(ItemToString(x));
    case ItemKind::kDate:
    case ItemKind::kDateTime:
    case ItemKind::kTime:
      return Item::String(x.as_temporal().ToString());
    case ItemKind::kQuantity:
      return Item::String(QuantityText(x.as_quantity()));
    default:
      return std::nullopt;
  }
}

std::optional<Item> ToQuantityValue(const Item& x) {
  switch (x.kind) {
    case ItemKind::kQuantity:
      return x;
    case ItemKind::kInteger:
    case ItemKind::kDecimal: {
      Quantity q;
      q.value = AsDecimal(x);
      return Item::Qty(q);
    }
    case ItemKind::kBoolean: {
      Quantity q;
      q.value = Decimal{x.as_bool() ? 10 : 0, 1};
      return Item::Qty(q);
    }
    case ItemKind::kString: {
      // number, optional space, then 'unit' or a calendar keyword
      // (http://hl7.org/fhirpath/N1/#toquantityunit-string-quantity).
      const std::string& s = x.as_string();
      size_t i = 0;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      std::string num = s.substr(0, i);
      if (!IsDecimalText(num)) return std::nullopt;
      Quantity q;
      if (!Decimal::Parse(num, &q.value)) return std::nullopt;
      std::string rest = s.substr(i);
      size_t a = rest.find_first_not_of(' ');
      if (a == std::string::npos) return Item::Qty(q);
      rest = rest.substr(a);
      if (rest.size() >= 2 && rest.front() == '\'' && rest.back() == '\'') {
        q.unit = rest.substr(1, rest.size() - 2);
      } else if (IsCalendarKeyword(rest)) {
        q.unit = rest;
      } else {
        return std::nullopt;
      }
      return Item::Qty(q);
    }
    default:
      return std::nullopt;
  }
}

std::optional<Item> ToDateValue(const Item& x) {
  Temporal t;
  if (x.kind == ItemKind::kDate) return x;
  if (x.kind == ItemKind::kDateTime) {
    t = x.as_temporal();
    t.kind = TemporalKind::kDate;
    t.precision = std::min(t.precision, Precision::kDay);
    t.has_timezone = false;
    return Item::Time(t);
  }
  if (x.kind == ItemKind::kString) {
    if (Temporal::ParseDate(x.as_string(), &t)) return Item::Time(t);
    if (Temporal::ParseDateTime(x.as_string(), &t)) {
      t.kind = TemporalKind::kDate;
      t.precision = std::min(t.precision, Precision::kDay);
      return Item::Time(t);
    }
  }
  return std::nullopt;
}

std::optional<Item> ToDateTimeValue(const Item& x) {
  Temporal t;
  if (x.kind == ItemKind::kDateTime) return x;
  if (x.kind == ItemKind::kDate) {
    t = x.as_temporal();
    t.kind = TemporalKind::kDateTime;
    return Item::Time(t);
  }
  if (x.kind == ItemKind::kString && Temporal::ParseDateTime(x.as_string(), &t)) {
    return Item::Time(t);
  }
  return std::nullopt;
}

std::optional<Item> ToTimeValue(const Item& x) {
  Temporal t;
  if (x.kind == ItemKind::kTime) return x;
  if (x.kind == ItemKind::kString && Temporal::ParseTime(x.as_string(), &t)) return Item::Time(t);
  return std::nullopt;
}

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

// --- String encodings ---

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(std::string_view in, bool url) {
  std::string out;
  size_t i = 0;
  while (i + 2 < in.size() + 2 && i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kB64[v & 63] : '=';
    i += 3;
  }
  if (url) {
    for (char& c : out) {
      if (c == '+') c = '-';
      if (c == '/') c = '_';
    }
  }
  return out;
}

std::optional<std::string> Unbase64(std::string_view in) {
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    int d;
    if (c >= 'A' && c <= 'Z')
      d = c - 'A';
    else if (c >= 'a' && c <= 'z')
      d = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      d = c - '0' + 52;
    else if (c == '+' || c == '-')
      d = 62;
    else if (c == '/' || c == '_')
      d = 63;
    else if (c == '=')
      break;
    else
      return std::nullopt;
    v = (v << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xFF);
    }
  }
  return out;
}

std::string Hex(std::string_view in) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : in) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view in) {
  if (in.size() % 2) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < in.size(); i += 2) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = static_cast<char>(std::tolower(static_cast<unsigned char>(in[i + k])));
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    out += static_cast<char>(v);
  }
  return out;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string HtmlUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      size_t semi = s.find(';', i);
      if (semi != std::string_view::npos) {
        std::string_view ent = s.substr(i + 1, semi - i - 1);
        const char* rep = ent == "lt"                     ? "<"
                          : ent == "gt"                   ? ">"
                          : ent == "amp"                  ? "&"
                          : ent == "quot"                 ? "\""
                          : ent == "#39" || ent == "apos" ? "'"
                                                          : nullptr;
        if (rep != nullptr) {
          out += rep;
          i = semi;
          continue;
        }
      }
    }
    out += s[i];
  }
  return out;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string JsonUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char e = s[++i];
      out += e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
    } else {
      out += s[i];
    }
  }
  return out;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
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

// std::regex backtracks and has no step limit, so some patterns take exponential time. Refuse the
// usual culprits: a quantifier applied to a quantifier (a*+), and an unbounded quantifier (*, +,
// {n,}) applied to a group that itself holds one, like (a+)+. Bounded forms such as ([0-9]{3})?
// stay allowed. (A linear-time engine such as RE2 would lift this limit.) Returns false when `re`
// is refused.
bool SafePattern(std::string_view re) {
  struct Group {
    bool unbounded = false;
  };
  std::vector<Group> groups(1);
  bool prev_quantifier = false;   // the previous token was a quantifier
  bool prev_risky_group = false;  // it closed a group holding an unbounded quantifier
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    char c = re[i];
    if (c == '\\') {
      ++i;
      prev_quantifier = prev_risky_group = false;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '?' && prev_quantifier) {  // a lazy modifier
      prev_quantifier = false;
      continue;
    }
    if (c == '*' || c == '+' || c == '{' || c == '?') {
      if (prev_quantifier) return false;
      bool unbounded = c == '*' || c == '+';
      if (c == '{') {
        size_t end = re.find('}', i);
        if (end == std::string_view::npos) return false;
        std::string_view body = re.substr(i + 1, end - i - 1);
        unbounded = !body.empty() && body.back() == ',';
        i = end;
      }
      if (unbounded && prev_risky_group) return false;
      if (unbounded) groups.back().unbounded = true;
      prev_quantifier = true;
      prev_risky_group = false;
      continue;
    }
    prev_quantifier = prev_risky_group = false;
    if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      groups.emplace_back();
    } else if (c == ')' && groups.size() > 1) {
      Group g = groups.back();
      groups.pop_back();
      prev_risky_group = g.unbounded;
      groups.back().unbounded = groups.back().unbounded || g.unbounded;
    }
  }
  return true;
}

// FHIRPath regular expressions run in single-line mode: '.' also matches newlines
// (http://hl7.org/fhirpath/N1/#matchesregex-string-boolean).
std::string DotAll(std::string_view re) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < re.size(); ++i) {
    char c = re[i];
    if (c == '\\' && i + 1 < re.size()) {
      out += c;
      out += re[++i];
      continue;
    }
    if (c == '[') in_class = true;
    if (c == ']') in_class = false;
    if (c == '.' && !in_class) {
      out += "[\\s\\S]";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

Result<Collection> Evaluator::Descendants(const Node& n, Items input, const TypeSpec* of_type) {
  Collection out;
  if (!internal::Descendants(input, of_type, 1000000, &out)) {
    return Error(n, "descendants() produced too many items");
  }
  return out;
}

Result<Collection> Evaluator::CallFunction(const Node& n, Items input, const Frame& f) {
  auto all_input = [&] { return Collection(input.begin(), input.end()); };
  auto arg = [&](size_t i) -> Result<Collection> { return Eval(*n.args[i], f); };
  auto single = [&](Item* out) -> Result<bool> {
    if (input.empty()) return false;
    if (input.size() > 1) {
      return Error(n, n.name + "() needs a single item, found " + std::to_string(input.size()));
    }
    if (!ToSystem(input[0], out)) {
      return Error(n, n.name + "() cannot use a " + std::string(input[0].fhir_type));
    }
    return true;
  };
  auto string_input = [&](std::string_view* out) -> Result<bool> {
    if (input.empty()) return false;
    if (input.size() > 1) return Error(n, n.name + "() needs a single string");
    if (!StringOf(input[0], out)) return Error(n, n.name + "() needs a string input");
    return true;
  };
  auto string_arg = [&](size_t i, std::string* out) -> Result<bool> {
    ASSIGN_OR_RETURN(Collection c, arg(i));
    if (c.empty()) return false;
    std::string_view v;
    if (c.size() > 1 || !StringOf(c[0], &v)) return Error(n, n.name + "() needs a string argument");
    *out = std::string(v);
    return true;
  };
  auto int_arg = [&](size_t i, int64_t* out) -> Result<bool> {
    ASSIGN_OR_RETURN(Collection c, arg(i));
    if (c.empty()) return false;
    Item v;
    if (c.size() > 1 || !ToSystem(c[0], &v) || v.kind != ItemKind::kInteger) {
      return Error(n, n.name + "() needs an integer argument");
    }
    *out = v.as_int();
    return true;
  };
  // Applies a conversion to a single input: empty → empty.
  auto convert = [&](auto fn, bool test) -> Result<Collection> {
    Item x;
    ASSIGN_OR_RETURN(bool has, single(&x));
    if (!has) return Collection{};
    std::optional<Item> r = fn(x);
    if (test) return Bool(r.has_value());
    if (!r) return Collection{};
    return Collection{*r};
  };

  switch (n.fn) {
    // --- Existence: http://hl7.org/fhirpath/N1/#existence ---
    case Fn::kEmpty:
      return Bool(input.empty());
    case Fn::kExists:
    case Fn::kWhere: {
      if (n.args.empty()) return Bool(!input.empty());
      Collection out;
      for (size_t i = 0; i < input.size(); ++i) {
        ASSIGN_OR_RETURN(int b, ConditionOn(*n.args[0], input[i], static_cast<int64_t>(i), f, n));
        if (b == 1) {
          if (n.fn == Fn::kExists) return Bool(true);
          out.push_back(input[i]);
        }
      }
      if (n.fn == Fn::kExists) return Bool(false);
      return out;
    }
    case Fn::kAll: {
      for (size_t i = 0; i < input.size(); ++i) {
        ASSIGN_OR_RETURN(int b, ConditionOn(*n.args[0], input[i], static_cast<int64_t>(i), f, n));
        if (b != 1) return Bool(false);
      }
      return Bool(true);
    }
    case Fn::kAllTrue:
    case Fn::kAnyTrue:
    case Fn::kAllFalse:
    case Fn::kAnyFalse: {
      bool want = n.fn == Fn::kAllTrue || n.fn == Fn::kAnyTrue;
      bool all = n.fn == Fn::kAllTrue || n.fn == Fn::kAllFalse;
      for (const Item& i : input) {
        Item v;
        if (!ToSystem(i, &v) || v.kind != ItemKind::kBoolean) {
          return Error(n, n.name + "() needs Boolean items");
        }
        if (all && v.as_bool() != want) return Bool(false);
        if (!all && v.as_bool() == want) return Bool(true);
      }
      return Bool(all);
    }
    case Fn::kSubsetOf:
    case Fn::kSupersetOf: {
      ASSIGN_OR_RETURN(Collection other, arg(0));
      Items sub = n.fn == Fn::kSubsetOf ? input : Items(other);
      Items super = n.fn == Fn::kSubsetOf ? Items(other) : input;
      for (const Item& i : sub) {
        bool found = false;
        for (const Item& j : super) {
          if (ItemEquals(i, j) == 1) {
            found = true;
            break;
          }
        }
        if (!found) return Bool(false);
      }
      return Bool(true);
    }
    case Fn::kCount:
      return Collection{Item::Integer(static_cast<int64_t>(input.size()))};
    case Fn::kDistinct:
    case Fn::kIsDistinct: {
      Collection out = Union(Collection{}, input);
      if (n.fn == Fn::kIsDistinct) return Bool(out.size() == input.size());
      return out;
    }

    // --- Filtering and projection: http://hl7.org/fhirpath/N1/#filtering-and-projection ---
    case Fn::kSelect: {
      Collection out;
      for (size_t i = 0; i < input.size(); ++i) {
        ASSIGN_OR_RETURN(Collection c, EvalOn(*n.args[0], input[i], static_cast<int64_t>(i), f));
        out.insert(out.end(), c.begin(), c.end());
      }
      return out;
    }
    case Fn::kRepeat: {
      Collection out, values;
      std::set<std::pair<const json::Value*, const json::Value*>> seen_nodes;
      UniqueCollector unique_values(&values);
      Collection work = all_input();
      const size_t kLimit = 100000;
      while (!work.empty()) {
        Collection next;
        for (size_t i = 0; i < work.size(); ++i) {
          ASSIGN_OR_RETURN(Collection c, EvalOn(*n.args[0], work[i], static_cast<int64_t>(i), f));
          for (Item& x : c) {
            if (x.is_node()) {
              // Nodes are told apart by identity: the input is a tree, so this ends.
              if (!seen_nodes.insert({x.node, x.extension_part}).second) continue;
            } else if (!unique_values.Add(x)) {
              continue;
            }
            out.push_back(x);
            next.push_back(std::move(x));
          }
          if (out.size() > kLimit) return Error(n, "repeat() produced too many items");
        }
        work = std::move(next);
      }
      return out;
    }
    case Fn::kOfType: {
      Collection out;
      for (const Item& i : input) {
        if (IsType(i, n.type, TypeMatch::kExactPrimitive)) out.push_back(i);
      }
      return out;
    }

    // --- Subsetting: http://hl7.org/fhirpath/N1/#subsetting ---
    case Fn::kSingle:
      if (input.size() > 1)
        return Error(n, "single() on " + std::to_string(input.size()) + " items");
      return all_input();
    case Fn::kFirst:
      if (input.empty()) return Collection{};
      return Collection{input.front()};
    case Fn::kLast:
      if (input.empty()) return Collection{};
      return Collection{input.back()};
    case Fn::kTail:
      if (input.size() <= 1) return Collection{};
      return Collection(input.begin() + 1, input.end());
    case Fn::kSkip:
    case Fn::kTake: {
      int64_t k;
      ASSIGN_OR_RETURN(bool has, int_arg(0, &k));
      if (!has) return Collection{};
      int64_t size = static_cast<int64_t>(input.size());
      if (n.fn == Fn::kSkip) {
        if (k <= 0) return all_input();
        if (k >= size) return Collection{};
        return Collection(input.begin() + k, input.end());
      }
      if (k <= 0) return Collection{};
      return Collection(input.begin(), input.begin() + std::min(k, size));
    }
    case Fn::kIntersect:
    case Fn::kExclude: {
      ASSIGN_OR_RETURN(Collection other, arg(0));
      Collection out;
      for (const Item& i : input) {
        bool in_other = false;
        for (const Item& j : other) {
          if (ItemEquals(i, j) == 1) {
            in_other = true;
            break;
          }
        }
        if (n.fn == Fn::kExclude) {
          if (!in_other) out.push_back(i);
        } else if (in_other) {
          bool dup = false;
          for (const Item& j : out) dup = dup || ItemEquals(i, j) == 1;
          if (!dup) out.push_back(i);
        }
      }
      return out;
    }

    // --- Combining ---
    case Fn::kUnion:
    case Fn::kCombine: {
      ASSIGN_OR_RETURN(Collection other, arg(0));
      if (n.fn == Fn::kCombine) {
        Collection out = all_input();
        out.insert(out.end(), other.begin(), other.end());
        return out;
      }
      return Union(all_input(), other);
    }

    // --- Conversion ---
    case Fn::kIif: {
      if (input.size() > 1) return Error(n, "iif() on more than one item");
      Frame inner = f;
      if (n.target != nullptr) inner.focus = input;
      ASSIGN_OR_RETURN(Collection c, Eval(*n.args[0], inner));
      ASSIGN_OR_RETURN(int b, BoolOf(*this, n, c));
      if (b == 1) return Eval(*n.args[1], inner);
      if (n.args.size() > 2) return Eval(*n.args[2], inner);
      return Collection{};
    }
    case Fn::kToBoolean:
    case Fn::kConvertsToBoolean:
      return convert(
          [](const Item& x) -> std::optional<Item> {
            std::optional<bool> b = ToBooleanValue(x);
            if (!b) return std::nullopt;
            return Item::Boolean(*b);
          },
          n.fn == Fn::kConvertsToBoolean);
    case Fn::kToInteger:
    case Fn::kConvertsToInteger:
      return convert(ToIntegerValue, n.fn == Fn::kConvertsToInteger);
    case Fn::kToDecimal:
    case Fn::kConvertsToDecimal:
      return convert(ToDecimalValue, n.fn == Fn::kConvertsToDecimal);
    case Fn::kToString:
    case Fn::kConvertsToString:
      return convert(ToStringValue, n.fn == Fn::kConvertsToString);
    case Fn::kToDate:
    case Fn::kConvertsToDate:
      return convert(ToDateValue, n.fn == Fn::kConvertsToDate);
    case Fn::kToDateTime:
    case Fn::kConvertsToDateTime:
      return convert(ToDateTimeValue, n.fn == Fn::kConvertsToDateTime);
    case Fn::kToTime:
    case Fn::kConvertsToTime:
      return convert(ToTimeValue, n.fn == Fn::kConvertsToTime);
    case Fn::kToQuantity:
    case Fn::kConvertsToQuantity: {
      Item x;
      ASSIGN_OR_RETURN(bool has, single(&x));
      if (!has) return Collection{};
      std::optional<Item> q = ToQuantityValue(x);
      if (q && !n.args.empty()) {
        std::string unit;
        ASSIGN_OR_RETURN(bool has_unit, string_arg(0, &unit));
        if (has_unit) {
          Quantity c;
          if (ConvertQuantity(q->as_quantity(), unit, &c)) {
            q = Item::Qty(c);
          } else {
            q.reset();
          }
        }
      }
      if (n.fn == Fn::kConvertsToQuantity) return Bool(q.has_value());
      if (!q) return Collection{};
      return Collection{*q};
    }

    // --- Strings: http://hl7.org/fhirpath/N1/#string-manipulation ---
    case Fn::kIndexOf:
    case Fn::kStartsWith:
    case Fn::kEndsWith:
    case Fn::kContainsFn:
    case Fn::kSubstring:
    case Fn::kUpper:
    case Fn::kLower:
    case Fn::kReplace:
    case Fn::kMatches:
    case Fn::kMatchesFull:
    case Fn::kReplaceMatches:
    case Fn::kLength:
    case Fn::kToChars:
    case Fn::kTrim:
    case Fn::kSplit:
    case Fn::kEncode:
    case Fn::kDecode:
    case Fn::kEscape:
    case Fn::kUnescape: {
      std::string_view s;
      ASSIGN_OR_RETURN(bool has, string_input(&s));
      if (!has) return Collection{};
      std::string a, b;
      switch (n.fn) {
        case Fn::kIndexOf: {
          ASSIGN_OR_RETURN(bool ha, string_arg(0, &a));
          if (!ha) return Collection{};
          size_t p = s.find(a);
          return Collection{Item::Integer(p == std::string::npos ? -1 : static_cast<int64_t>(p))};
        }
        case Fn::kStartsWith:
        case Fn::kEndsWith:
        case Fn::kContainsFn: {
          ASSIGN_OR_RETURN(bool ha, string_arg(0, &a));
          if (!ha) return Collection{};
          if (n.fn == Fn::kStartsWith) return Bool(s.compare(0, a.size(), a) == 0);
          if (n.fn == Fn::kEndsWith) {
            return Bool(s.size() >= a.size() && s.compare(s.size() - a.size(), a.size(), a) == 0);
          }
          return Bool(s.find(a) != std::string::npos);
        }
        case Fn::kSubstring: {
          int64_t start, len = INT64_MAX;
          ASSIGN_OR_RETURN(bool hs, int_arg(0, &start));
          if (!hs) return Collection{};
          if (n.args.size() > 1) {
            ASSIGN_OR_RETURN(bool hl, int_arg(1, &len));
            if (!hl) len = INT64_MAX;
          }
          int64_t size = static_cast<int64_t>(s.size());
          if (start < 0 || start >= size) return Collection{};
          if (len < 0) len = 0;
          return Collection{Item::String(std::string(
              s.substr(static_cast<size_t>(start), static_cast<size_t>(std::min(len, size)))))};
        }
        case Fn::kUpper:
        case Fn::kLower: {
          std::string out(s);
          for (char& c : out) {
            c = static_cast<char>(n.fn == Fn::kUpper ? std::toupper(static_cast<unsigned char>(c))
                                                     : std::tolower(static_cast<unsigned char>(c)));
          }
          return Collection{Item::String(out)};
        }
        case Fn::kReplace: {
          ASSIGN_OR_RETURN(bool ha, string_arg(0, &a));
          ASSIGN_OR_RETURN(bool hb, string_arg(1, &b));
          if (!ha || !hb) return Collection{};
          std::string out;
          if (a.empty()) {
            // Inserts the substitution around every character.
            out = b;
            for (char c : s) {
              out += c;
              out += b;
            }
            return Collection{Item::String(out)};
          }
          size_t pos = 0;
          while (true) {
            size_t k = s.find(a, pos);
            if (k == std::string::npos) break;
            out += s.substr(pos, k - pos);
            out += b;
            pos = k + a.size();
          }
          out += s.substr(pos);
          return Collection{Item::String(out)};
        }
        case Fn::kMatches:
        case Fn::kMatchesFull:
        case Fn::kReplaceMatches: {
          ASSIGN_OR_RETURN(bool ha, string_arg(0, &a));
          if (!ha) return Collection{};
          if (n.fn == Fn::kReplaceMatches) {
            ASSIGN_OR_RETURN(bool hb, string_arg(1, &b));
            if (!hb) return Collection{};
          }
          // std::regex matches recursively: bound the work an expression can ask for.
          if (a.size() > 1000 || s.size() > 5000) {
            return Error(n, n.name + "(): pattern or string too long for a regular expression");
          }
          if (!SafePattern(a)) {
            return Error(
                n, n.name + "(): nested or stacked quantifiers are not supported in '" + a + "'");
          }
          if (n.fn == Fn::kReplaceMatches && a.empty()) {
            return Collection{Item::String(std::string(s))};
          }
          // std::regex reports bad patterns by exception: it stops here.
          try {
            std::regex re(DotAll(a), std::regex::ECMAScript);
            if (n.fn == Fn::kMatches) return Bool(std::regex_search(s.begin(), s.end(), re));
            if (n.fn == Fn::kMatchesFull) return Bool(std::regex_match(s.begin(), s.end(), re));
            return Collection{Item::String(std::regex_replace(std::string(s), re, b))};
          } catch (const std::exception&) {
            return Error(n, "bad regular expression '" + a + "'");
          }
        }
        case Fn::kLength:
          return Collection{Item::Integer(static_cast<int64_t>(Utf8Length(s)))};
        case Fn::kToChars: {
          Collection out;
          for (size_t i = 0; i < s.size();) {
            size_t len = 1;
            unsigned char c = static_cast<unsigned char>(s[i]);
            if (c >= 0xF0)
              len = 4;
            else if (c >= 0xE0)
              len = 3;
            else if (c >= 0xC0)
              len = 2;
            out.push_back(Item::String(std::string(s.substr(i, len))));
            i += len;
          }
          return out;
        }
        case Fn::kTrim: {
          size_t st = s.find_first_not_of(" \t\r\n");
          if (st == std::string::npos) return Collection{Item::String("")};
          size_t en = s.find_last_not_of(" \t\r\n");
          return Collection{Item::String(std::string(s.substr(st, en - st + 1)))};
        }
        case Fn::kSplit: {
          ASSIGN_OR_RETURN(bool ha, string_arg(0, &a));
          if (!ha) return Collection{};
          Collection out;
          if (a.empty()) {
            for (char c : s) out.push_back(Item::String(std::string(1, c)));
            return out;
          }
          size_t pos = 0;
          while (true) {
            size_t k = s.find(a, pos);
            out.push_back(
                Item::String(std::string(s.substr(pos, k == std::string::npos ? k : k - pos))));
            if (k == std::string::npos) break;
            pos = k + a.size();
          }
          return out;
        }
        case Fn::kEncode:
        case Fn::kDecode: {
          ASSIGN_OR_RETURN(bool ha, string_arg(0, &a));
          if (!ha) return Collection{};
          if (n.fn == Fn::kEncode) {
            if (a == "base64") return Collection{Item::String(Base64(s, false))};
            if (a == "urlbase64") return Collection{Item::String(Base64(s, true))};
            if (a == "hex") return Collection{Item::String(Hex(s))};
            return Collection{};
          }
          std::optional<std::string> r;
          if (a == "base64" || a == "urlbase64") r = Unbase64(s);
          if (a == "hex") r = Unhex(s);
          if (!r) return Collection{};
          return Collection{Item::String(*r)};
        }
        case Fn::kEscape:
        case Fn::kUnescape: {
          ASSIGN_OR_RETURN(bool ha, string_arg(0, &a));
          if (!ha) return Collection{};
          if (a == "html") {
            return Collection{Item::String(n.fn == Fn::kEscape ? HtmlEscape(s) : HtmlUnescape(s))};
          }
          if (a == "json") {
            return Collection{Item::String(n.fn == Fn::kEscape ? JsonEscape(s) : JsonUnescape(s))};
          }
          return Collection{};
        }
        default:
          break;
      }
      return Collection{};
    }
    case Fn::kJoin: {
      std::string sep;
      if (!n.args.empty()) {
        ASSIGN_OR_RETURN(bool hs, string_arg(0, &sep));
        (void)hs;
      }
      std::string out;
      for (size_t i = 0; i < input.size(); ++i) {
        std::string_view s;
        if (!StringOf(input[i], &s)) return Error(n, "join() needs strings");
        if (i > 0) out += sep;
        out += s;
      }
      return Collection{Item::String(out)};
    }

    // --- Math: http://hl7.org/fhirpath/N1/#math ---
    case Fn::kAbs:
    case Fn::kCeiling:
    case Fn::kExp:
    case Fn::kFloor:
    case Fn::kLn:
    case Fn::kLog:
    case Fn::kPower:
    case Fn::kRound:
    case Fn::kSqrt:
    case Fn::kTruncate: {
      Item x;
      ASSIGN_OR_RETURN(bool has, single(&x));
      if (!has) return Collection{};
      if (n.fn == Fn::kAbs && x.kind == ItemKind::kQuantity) {
        Quantity q = x.as_quantity();
        if (q.value.mantissa < 0) q.value.mantissa = -q.value.mantissa;
        return Collection{Item::Qty(q)};
      }
      if (!IsNumber(x)) return Error(n, n.name + "() needs a number");
      Decimal d = AsDecimal(x);
      double v = d.ToDouble();
      auto dec = [](double r) -> Collection {
        Decimal out;
        if (!Decimal::FromDouble(r, 8, &out)) return Collection{};
        return Collection{Item::Dec(out)};
      };
      switch (n.fn) {
        case Fn::kAbs:
          if (x.kind == ItemKind::kInteger) {
            if (x.as_int() == INT64_MIN) return Collection{};  // overflow: empty
            return Collection{Item::Integer(std::llabs(x.as_int()))};
          }
          if (d.mantissa < 0) d.mantissa = -d.mantissa;
          return Collection{Item::Dec(d)};
        case Fn::kCeiling:
        case Fn::kFloor:
        case Fn::kTruncate: {
          if (x.kind == ItemKind::kInteger) return Collection{x};
          double r = n.fn == Fn::kCeiling ? std::ceil(v)
                     : n.fn == Fn::kFloor ? std::floor(v)
                                          : std::trunc(v);
          if (!(std::fabs(r) < 9.2e18)) return Collection{};  // out of Integer range
          return Collection{Item::Integer(static_cast<int64_t>(r))};
        }
        case Fn::kExp:
          return dec(std::exp(v));
        case Fn::kLn:
          if (v <= 0) return Collection{};
          return dec(std::log(v));
        case Fn::kLog: {
          ASSIGN_OR_RETURN(Collection bc, arg(0));
          Item bv;
          if (bc.empty()) return Collection{};
          if (bc.size() > 1 || !ToSystem(bc[0], &bv) || !IsNumber(bv)) {
            return Error(n, "log() needs a number base");
          }
          double base = AsDecimal(bv).ToDouble();
          if (v <= 0 || base <= 0 || base == 1) return Collection{};
          return dec(std::log(v) / std::log(base));
        }
        case Fn::kPower: {
          ASSIGN_OR_RETURN(Collection ec, arg(0));
          Item ev;
          if (ec.empty()) return Collection{};
          if (ec.size() > 1 || !ToSystem(ec[0], &ev) || !IsNumber(ev)) {
            return Error(n, "power() needs a number exponent");
          }
          double e = AsDecimal(ev).ToDouble();
          double r = std::pow(v, e);
          if (std::isnan(r) || std::isinf(r)) return Collection{};
          if (x.kind == ItemKind::kInteger && ev.kind == ItemKind::kInteger && e >= 0 &&
              std::fabs(r) < 9.2e18) {
            return Collection{Item::Integer(static_cast<int64_t>(std::llround(r)))};
          }
          return dec(r);
        }
        case Fn::kRound: {
          int64_t p = 0;
          if (!n.args.empty()) {
            ASSIGN_OR_RETURN(bool hp, int_arg(0, &p));
            if (!hp) p = 0;
          }
          if (p < 0 || p > 28) return Error(n, "round() precision out of range");
          Decimal r;
          if (!d.Rescale(static_cast<int>(p), &r)) return Collection{};
          return Collection{Item::Dec(r)};
        }
        case Fn::kSqrt:
          if (v < 0) return Collection{};
          return dec(std::sqrt(v));
        default:
          return Collection{};
      }
    }

    // --- Tree navigation ---
    case Fn::kChildren: {
      Collection out;
      for (const Item& i : input) Children(i, &out);
      return out;
    }
    case Fn::kDescendants:
      return Descendants(n, input, nullptr);

    // --- Utility ---
    case Fn::kTrace: {
      if (env_.trace) {
        std::string name;
        ASSIGN_OR_RETURN(bool hn, string_arg(0, &name));
        (void)hn;
        if (n.args.size() > 1) {
          Collection projected;
          for (size_t i = 0; i < input.size(); ++i) {
            ASSIGN_OR_RETURN(Collection c,
                             EvalOn(*n.args[1], input[i], static_cast<int64_t>(i), f));
            projected.insert(projected.end(), c.begin(), c.end());
          }
          env_.trace(name, projected);
        } else {
          env_.trace(name, all_input());
        }
      }
      return all_input();
    }
    case Fn::kNow:
    case Fn::kToday:
    case Fn::kTimeOfDay: {
      Temporal t = FromMicros(NowMicros(env_));
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
    case Fn::kNot: {
      ASSIGN_OR_RETURN(int b, BoolOf(*this, n, input));
      if (b < 0) return Collection{};
      return Bool(b == 0);
    }
    case Fn::kAggregate: {
      Collection total;
      if (n.args.size() > 1) {
        ASSIGN_OR_RETURN(total, arg(1));
      }
      for (size_t i = 0; i < input.size(); ++i) {
        Frame inner{Items(&input[i], 1), static_cast<int64_t>(i), &total};
        ASSIGN_OR_RETURN(Collection next, Eval(*n.args[0], inner));
        total = std::move(next);
      }
      return total;
    }

    // --- Types ---
    case Fn::kIs:
    case Fn::kAs: {
      if (input.empty()) return Collection{};
      if (input.size() > 1) {
        return Error(n, n.name + "() needs a single item, found " + std::to_string(input.size()));
      }
      bool is = IsType(input[0], n.type,
                       n.fn == Fn::kIs ? TypeMatch::kHierarchy : TypeMatch::kExactPrimitive);
      if (n.fn == Fn::kIs) return Bool(is);
      if (is) return all_input();
      return Collection{};
    }
    case Fn::kType: {
      Collection out;
      for (const Item& i : input) {
        auto [ns, name] = TypeOf(i);
        const json::Value* v = TypeInfoNode(ns, name);
        if (v != nullptr) out.push_back(MakeNode(v, nullptr, "", nullptr));
      }
      return out;
    }
    case Fn::kSort: {
      struct Key {
        const Node* expr;
        bool descending;
      };
      std::vector<Key> keys;
      for (const auto& a : n.args) {
        if (a->kind == NodeKind::kNegate && a->op == Op::kSub) {
          keys.push_back({a->target.get(), true});
        } else {
          keys.push_back({a.get(), false});
        }
      }
      std::vector<std::vector<Collection>> values(input.size());
      for (size_t i = 0; i < input.size(); ++i) {
        if (keys.empty()) {
          values[i].push_back(Collection{input[i]});
          continue;
        }
        for (const Key& k : keys) {
          ASSIGN_OR_RETURN(Collection c, EvalOn(*k.expr, input[i], static_cast<int64_t>(i), f));
          if (c.size() > 1) return Error(n, "sort() key must be a single item");
          values[i].push_back(std::move(c));
        }
      }
      std::vector<size_t> order(input.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      bool failed = false;
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        for (size_t k = 0; k < values[a].size(); ++k) {
          const Collection& x = values[a][k];
          const Collection& y = values[b][k];
          bool desc = !keys.empty() && keys[k].descending;
          int c = 0;
          if (x.empty() || y.empty()) {
            // Empty keys sort first in either direction.
            if (x.empty() != y.empty()) return x.empty();
            continue;
          } else {
            bool empty;
            if (!ItemCompare(x[0], y[0], &c, &empty)) {
              failed = true;
              return false;
            }
            if (empty) c = 0;
          }
          if (c != 0) return desc ? c > 0 : c < 0;
        }
        return false;
      });
      if (failed) return Error(n, "sort() keys are not comparable");
      Collection out;
      for (size_t i : order) out.push_back(input[i]);
      return out;
    }
    case Fn::kPrecision: {
      Item x;
      ASSIGN_OR_RETURN(bool has, single(&x));
      if (!has) return Collection{};
      if (x.kind == ItemKind::kDecimal) return Collection{Item::Integer(x.as_decimal().scale)};
      if (x.kind == ItemKind::kInteger) return Collection{Item::Integer(0)};
      if (x.kind == ItemKind::kDate || x.kind == ItemKind::kDateTime || x.kind == ItemKind::kTime) {
        return Collection{Item::Integer(TemporalPrecisionDigits(x.as_temporal()))};
      }
      return Error(n, "precision() needs a decimal or date/time");
    }
    case Fn::kLowBoundary:
    case Fn::kHighBoundary: {
      Item x;
      ASSIGN_OR_RETURN(bool has, single(&x));
      if (!has) return Collection{};
      bool high = n.fn == Fn::kHighBoundary;
      int64_t p = -1;
      bool has_p = false;
      if (!n.args.empty()) {
        ASSIGN_OR_RETURN(has_p, int_arg(0, &p));
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
      return Error(n, n.name + "() needs a number, quantity or date/time");
    }
    case Fn::kComparable: {
      Item x;
      ASSIGN_OR_RETURN(bool has, single(&x));
      if (!has) return Collection{};
      ASSIGN_OR_RETURN(Collection oc, arg(0));
      Item o;
      if (oc.empty()) return Collection{};
      if (x.kind != ItemKind::kQuantity || oc.size() > 1 || !ToSystem(oc[0], &o) ||
          o.kind != ItemKind::kQuantity) {
        return Error(n, "comparable() needs quantities");
      }
      return Bool(QuantitiesComparable(x.as_quantity(), o.as_quantity()));
    }

    // --- FHIR additions: https://hl7.org/fhir/R4/fhirpath.html#functions ---
    case Fn::kExtension: {
      std::string url;
      ASSIGN_OR_RETURN(bool hu, string_arg(0, &url));
      if (!hu) return Collection{};
      Collection exts, out;
      for (const Item& i : input) Member(i, "extension", &exts);
      for (const Item& e : exts) {
        if (e.node && e.node->is_object() && e.node->FindString("url") == url) out.push_back(e);
      }
      return out;
    }
    case Fn::kHasValue:
      return Bool(input.size() == 1 && input[0].is_node() && input[0].node != nullptr &&
                  !input[0].node->is_object() && !input[0].node->is_array());
    case Fn::kGetValue: {
      if (input.size() != 1 || !input[0].is_node() || input[0].node == nullptr ||
          input[0].node->is_object()) {
        return Collection{};
      }
      Item v;
      if (!ToSystem(input[0], &v)) return Collection{};
      return Collection{v};
    }
    case Fn::kResolve: {
      Collection out;
      for (const Item& i : input) {
        std::string ref;
        std::string_view ref_view;
        if (StringOf(i, &ref_view)) {
          ref = std::string(ref_view);
        } else {
          if (i.is_node() && i.node && i.node->is_object()) {
            ref = std::string(i.node->FindString("reference"));
          }
        }
        if (ref.empty()) continue;
        const json::Value* found = nullptr;
        if (root_ != nullptr && ref[0] == '#') {
          if (const json::Value* contained = root_->Find("contained")) {
            for (const json::Value& c : contained->items()) {
              if (c.FindString("id") == std::string_view(ref).substr(1)) found = &c;
            }
          }
        }
        if (found == nullptr && root_ != nullptr && root_->FindString("resourceType") == "Bundle") {
          if (const json::Value* entries = root_->Find("entry")) {
            for (const json::Value& e : entries->items()) {
              const json::Value* r = e.Find("resource");
              if (r == nullptr) continue;
              std::string_view full = e.FindString("fullUrl");
              std::string tail = std::string(r->FindString("resourceType")) + "/" +
                                 std::string(r->FindString("id"));
              if (full == ref || tail == ref ||
                  (ref.size() > tail.size() &&
                   ref.compare(ref.size() - tail.size(), tail.size(), tail) == 0 &&
                   ref[ref.size() - tail.size() - 1] == '/')) {
                found = r;
                break;
              }
            }
          }
        }
        if (found == nullptr && env_.resolver != nullptr) found = env_.resolver->Resolve(ref);
        if (found != nullptr) out.push_back(MakeNode(found, nullptr, "", nullptr));
      }
      return out;
    }
    case Fn::kHtmlChecks: {
      // https://hl7.org/fhir/R4/narrative.html#rules: no scripts, forms, event handlers.
      std::string_view s;
      if (input.size() != 1) return Bool(false);
      if (!StringOf(input[0], &s)) {
        if (!(input[0].is_node() && input[0].node && input[0].node->is_string())) {
          return Bool(false);
        }
        s = input[0].node->string_value();
      }
      std::string low = Lower(std::string(s));
      for (const char* bad :
           {"<script", "<form", "<iframe", "<object", "<embed", "<applet", "<base", "<link",
            "<meta", "javascript:", " onclick", " onload", " onerror", " onmouse"}) {
        if (low.find(bad) != std::string::npos) return Bool(false);
      }
      return Bool(low.find("<div") != std::string::npos);
    }
    case Fn::kMemberOf: {
      std::string url;
      ASSIGN_OR_RETURN(bool hu, string_arg(0, &url));
      if (!hu || input.size() != 1 || env_.terminology == nullptr) return Collection{};
      Result<bool> r = env_.terminology->MemberOf(input[0], url);
      if (!r.ok()) return Error(n, "memberOf(): " + r.status().message());
      return Bool(*r);
    }
    case Fn::kConformsTo: {
      std::string url;
      ASSIGN_OR_RETURN(bool hu, string_arg(0, &url));
      if (!hu || input.empty()) return Collection{};
      if (input.size() > 1) return Error(n, "conformsTo() needs a single resource");
      if (env_.validator != nullptr) {
        Result<bool> r = env_.validator->ConformsTo(input[0], url);
        if (!r.ok()) return Error(n, "conformsTo(): " + r.status().message());
        return Bool(*r);
      }
      const std::string kBase = "http://hl7.org/fhir/StructureDefinition/";
      if (url.rfind(kBase, 0) == 0) {
        std::string type = url.substr(kBase.size());
        if (R4().FindStruct(type) != nullptr) {
          return Bool(IsType(input[0], TypeSpec{"FHIR", type}));
        }
      }
      return Error(n, "conformsTo(): unknown profile '" + url + "'");
    }
    case Fn::kSubsumes:
    case Fn::kSubsumedBy:
      return Collection{};  // needs the terminology service (not yet available)
    case Fn::kElementDefinition:
    case Fn::kSlice:
    case Fn::kCheckModifiers:
    case Fn::kDefineVariable:
    case Fn::kUnknown:
      return Error(n, n.name + "() is not supported");
  }
  return Error(n, n.name + "() is not supported");
}

}  // namespace vesta::fhirpath::internal
