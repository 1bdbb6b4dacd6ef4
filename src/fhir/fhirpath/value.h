// The values a FHIRPath expression works on: collections of items.
//
// http://hl7.org/fhirpath/N1/#data-model — an item is either a node of the FHIR resource being
// evaluated (held as pointers into the caller's json::Document: nothing is copied) or a System
// value computed by the expression (Boolean, Integer, Decimal, String, Date, DateTime, Time,
// Quantity). A FHIR primitive node converts to the matching System value on demand
// (https://hl7.org/fhir/R4/fhirpath.html#types).
//
// Lifetimes: node items point into the json::Document that was evaluated (and into the R4 model,
// which lives for the whole process); they stay valid as long as that Document lives.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "json/value.h"

namespace vesta::fhir {
struct StructInfo;
}

namespace vesta::fhirpath {

// An exact decimal: mantissa × 10^-scale. The scale is the number of digits written after the
// point, so 1.50 (mantissa 150, scale 2) keeps its precision (http://hl7.org/fhirpath/N1/#decimal).
struct Decimal {
  __int128 mantissa = 0;
  int scale = 0;

  static Decimal FromInt(int64_t v) { return Decimal{v, 0}; }
  // Parses "-12.50", "1e3", "0.1E-2". Returns false on bad text or overflow.
  static bool Parse(std::string_view text, Decimal* out);
  // Nearest decimal with at most `max_scale` digits after the point (trailing zeros dropped).
  static bool FromDouble(double v, int max_scale, Decimal* out);
  double ToDouble() const;
  std::string ToString() const;
  // The same value with `scale` digits after the point, rounding half away from zero.
  // Returns false on overflow.
  bool Rescale(int new_scale, Decimal* out) const;
  // Drops trailing zeros after the point.
  Decimal Normalized() const;
  bool IsInteger() const;
};

// Three-way comparison of the decimal values (ignores precision).
int Compare(const Decimal& a, const Decimal& b);

// Date, DateTime and Time with partial precision (http://hl7.org/fhirpath/N1/#datetime).
enum class TemporalKind : uint8_t { kDate, kDateTime, kTime };
enum class Precision : uint8_t { kYear, kMonth, kDay, kHour, kMinute, kSecond, kMillisecond };

struct Temporal {
  TemporalKind kind = TemporalKind::kDate;
  Precision precision = Precision::kYear;
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, millisecond = 0;
  bool has_timezone = false;
  int tz_minutes = 0;  // offset east of UTC

  // Parses the FHIR/ISO text of a date, dateTime/instant ("2015-02-07T13:28:17.239+02:00") or
  // time ("13:28:17"). Partial dates/times are allowed. Returns false when malformed.
  static bool ParseDate(std::string_view s, Temporal* out);
  static bool ParseDateTime(std::string_view s, Temporal* out);
  static bool ParseTime(std::string_view s, Temporal* out);
  // The text without the leading '@' / '@T' of a literal.
  std::string ToString() const;
};

// A quantity: a decimal value and a unit, either a UCUM code or a calendar duration keyword
// ("year", "months", ...: http://hl7.org/fhirpath/N1/#time-valued-quantities).
struct Quantity {
  Decimal value;
  std::string unit = "1";
};

enum class ItemKind : uint8_t {
  kNode,  // an element or resource of the input
  kBoolean,
  kInteger,
  kLong,  // FHIRPath 2.0 Long (https://hl7.org/fhirpath/#long, STU): 64 bits, written 2L
  kDecimal,
  kString,
  kDate,
  kDateTime,
  kTime,
  kQuantity,
};

// The payload of a Decimal, String, Date/DateTime/Time or Quantity item, shared by the copies
// of an item (it is immutable once built).
using SystemPayload = std::variant<Decimal, std::string, Temporal, Quantity>;

// One item of a collection. Cheap to copy: node items are a few pointers, Boolean and Integer
// values are inline, the other System values share one immutable payload.
struct Item {
  ItemKind kind = ItemKind::kNode;

  // For kNode: the element's JSON value (nullptr for a primitive that only has a `_name`
  // extension part), the `_name` object of a primitive (or nullptr), its FHIR type code
  // ("string", "HumanName", "Patient", "BackboneElement") and its structure in the R4 model
  // (nullptr when the type is unknown; a primitive's is its primitive type's, or nullptr).
  const json::Value* node = nullptr;
  const json::Value* extension_part = nullptr;
  std::string_view fhir_type;
  const fhir::StructInfo* structure = nullptr;

  // For System values.
  int64_t scalar = 0;  // Boolean (0/1), Integer and Long
  std::shared_ptr<const SystemPayload> payload;

  static Item Boolean(bool b) { return Scalar(ItemKind::kBoolean, b ? 1 : 0); }
  static Item Integer(int64_t i) { return Scalar(ItemKind::kInteger, i); }
  static Item Long(int64_t i) { return Scalar(ItemKind::kLong, i); }
  static Item Dec(Decimal d) { return Boxed(ItemKind::kDecimal, SystemPayload(d)); }
  static Item String(std::string s) {
    return Boxed(ItemKind::kString, SystemPayload(std::move(s)));
  }
  static Item Time(Temporal t);  // kind chosen from t.kind
  static Item Qty(Quantity q) { return Boxed(ItemKind::kQuantity, SystemPayload(std::move(q))); }

  bool is_node() const { return kind == ItemKind::kNode; }
  // REQUIRES: the matching kind.
  bool as_bool() const { return scalar != 0; }
  int64_t as_int() const { return scalar; }  // Integer and Long
  const Decimal& as_decimal() const { return std::get<Decimal>(*payload); }
  const std::string& as_string() const { return std::get<std::string>(*payload); }
  const Temporal& as_temporal() const { return std::get<Temporal>(*payload); }
  const Quantity& as_quantity() const { return std::get<Quantity>(*payload); }

 private:
  static Item Scalar(ItemKind k, int64_t v) {
    Item it;
    it.kind = k;
    it.scalar = v;
    return it;
  }
  static Item Boxed(ItemKind k, SystemPayload p) {
    Item it;
    it.kind = k;
    it.payload = std::make_shared<const SystemPayload>(std::move(p));
    return it;
  }
};

using Collection = std::vector<Item>;

// The System value of an item: a System item is returned as is; a FHIR primitive node is
// converted by its type (boolean → Boolean, integer/positiveInt/unsignedInt → Integer, decimal →
// Decimal, date → Date, dateTime/instant → DateTime, time → Time, other primitives → String) and
// a Quantity node becomes a Quantity. Returns false for other nodes (and primitives without a
// value).
bool ToSystem(const Item& item, Item* out);

// Writes a collection as a JSON array: nodes as their JSON, System values as JSON strings,
// numbers and booleans (Quantity as {"value":..,"unit":..}).
std::string CollectionToJson(const Collection& c);
// A text form of one item for messages and tests: "1.50", "@2014-01", "4 'g'", "true", or the
// JSON of a node.
std::string ItemToString(const Item& item);

}  // namespace vesta::fhirpath
