// Conversion functions: http://hl7.org/fhirpath/N1/#conversion.
#include <algorithm>
#include <cctype>

#include "fhir/fhirpath/functions/call.h"

namespace vesta::fhirpath::internal {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

namespace {

// --- Conversions: http://hl7.org/fhirpath/N1/#conversion ---

std::optional<bool> ToBooleanValue(const Item& x) {
  switch (x.kind) {
    case ItemKind::kBoolean:
      return x.as_bool();
    case ItemKind::kInteger:
    case ItemKind::kLong:
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
  if (x.kind == ItemKind::kLong) return Item::Integer(x.as_int());
  if (x.kind == ItemKind::kBoolean) return Item::Integer(x.as_bool() ? 1 : 0);
  if (x.kind == ItemKind::kString && IsIntegerText(x.as_string())) {
    Decimal d;
    if (Decimal::Parse(x.as_string(), &d) && d.mantissa <= INT64_MAX && d.mantissa >= INT64_MIN) {
      return Item::Integer(static_cast<int64_t>(d.mantissa));
    }
  }
  return std::nullopt;
}

// https://hl7.org/fhirpath/#tolong--long (STU): from Integer, Long, Boolean and integer text.
std::optional<Item> ToLongValue(const Item& x) {
  std::optional<Item> i = ToIntegerValue(x);
  if (!i) return std::nullopt;
  return Item::Long(i->as_int());
}

std::optional<Item> ToDecimalValue(const Item& x) {
  if (x.kind == ItemKind::kDecimal) return x;
  if (IsWhole(x)) return Item::Dec(Decimal::FromInt(x.as_int()));
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

std::optional<Item> ToStringValueImpl(const Item& x) {
  switch (x.kind) {
    case ItemKind::kString:
      return x;
    case ItemKind::kBoolean:
    case ItemKind::kInteger:
    case ItemKind::kDecimal:
      return Item::String(ItemToString(x));
    case ItemKind::kLong:  // 42L.toString() is '42'
      return Item::String(std::to_string(x.as_int()));
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
    case ItemKind::kLong:
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

}  // namespace

std::optional<Item> ToStringValue(const Item& x) { return ToStringValueImpl(x); }

// toX() and convertsToX().
namespace {
// Applies a conversion to a single input: empty → empty; `test` gives whether it converts.
template <typename Fn>
Result<Collection> Convert(FunctionCall& c, Fn fn, bool test) {
  Item x;
  ASSIGN_OR_RETURN(bool has, c.Single(&x));
  if (!has) return Collection{};
  std::optional<Item> r = fn(x);
  if (test) return Bool(r.has_value());
  if (!r) return Collection{};
  return Collection{*r};
}
}  // namespace

Result<Collection> CallConversion(FunctionCall& c) {
  const Node& n = c.n;
  Items input = c.input;
  (void)input;
  switch (n.fn) {
    // Applies a conversion to a single input: empty → empty.
    case Fn::kToBoolean:
    case Fn::kConvertsToBoolean:
      return Convert(
          c,
          [](const Item& x) -> std::optional<Item> {
            std::optional<bool> b = ToBooleanValue(x);
            if (!b) return std::nullopt;
            return Item::Boolean(*b);
          },
          n.fn == Fn::kConvertsToBoolean);
    case Fn::kToInteger:
    case Fn::kConvertsToInteger:
      return Convert(c, ToIntegerValue, n.fn == Fn::kConvertsToInteger);
    case Fn::kToLong:
    case Fn::kConvertsToLong:
      return Convert(c, ToLongValue, n.fn == Fn::kConvertsToLong);
    case Fn::kToDecimal:
    case Fn::kConvertsToDecimal:
      return Convert(c, ToDecimalValue, n.fn == Fn::kConvertsToDecimal);
    case Fn::kToString:
    case Fn::kConvertsToString:
      return Convert(c, ToStringValue, n.fn == Fn::kConvertsToString);
    case Fn::kToDate:
    case Fn::kConvertsToDate:
      return Convert(c, ToDateValue, n.fn == Fn::kConvertsToDate);
    case Fn::kToDateTime:
    case Fn::kConvertsToDateTime:
      return Convert(c, ToDateTimeValue, n.fn == Fn::kConvertsToDateTime);
    case Fn::kToTime:
    case Fn::kConvertsToTime:
      return Convert(c, ToTimeValue, n.fn == Fn::kConvertsToTime);
    case Fn::kToQuantity:
    case Fn::kConvertsToQuantity: {
      Item x;
      ASSIGN_OR_RETURN(bool has, c.Single(&x));
      if (!has) return Collection{};
      std::optional<Item> q = ToQuantityValue(x);
      if (q && !n.args.empty()) {
        std::string unit;
        ASSIGN_OR_RETURN(bool has_unit, c.StringArg(0, &unit));
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

    default:
      break;
  }
  return c.Error(n.name + "() is not supported");
}

}  // namespace vesta::fhirpath::internal
