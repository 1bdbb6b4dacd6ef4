// CQL values (https://cql.hl7.org/09-b-cqlreference.html, "Types"): the system types an ELM
// expression evaluates to, plus FHIR resources and elements as nodes of their JSON documents.
//
//   Value a = Value::Integer(3);
//   Value q = Value::Quantity({5.4, "mg"});
//   std::optional<bool> eq = Equal(a, Value::Null());   // nullopt: `3 = null` is null
//
// Null is a value of every type (https://cql.hl7.org/03-developersguide.html#missing-information):
// operators return std::optional<bool> where CQL's three-valued logic gives null.
//
// Lifetimes: compound values (lists, tuples, intervals, codes) are shared and immutable; copying
// a Value is cheap. A FHIR value points into the json::Document it was read from, which must
// outlive it (the DataProvider owns the patient's documents for the whole evaluation).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace vesta::json {
class Value;
}
namespace vesta::fhir {
struct StructInfo;
}

namespace vesta::cql {

// The precisions of Date, DateTime and Time values, coarsest first. A Time uses
// kHour..kMillisecond.
enum class Precision : int8_t { kYear, kMonth, kDay, kHour, kMinute, kSecond, kMillisecond };

// A Date, DateTime or Time: the components down to `precision` are meaningful, the others are 0
// (month and day 1). `offset_minutes` is the time-zone offset of a DateTime (https://cql.hl7.org/
// 02-authorsguide.html#datetime-operators: values without an offset take the evaluation's).
struct Temporal {
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, millisecond = 0;
  Precision precision = Precision::kYear;
  int offset_minutes = 0;
};
struct Date : Temporal {};
struct DateTime : Temporal {};
struct Time : Temporal {};

struct Quantity {
  double value = 0;
  std::string unit = "1";  // a UCUM code or a calendar duration word ("year", "days")
};

struct Code {
  std::string system, code, version, display;
};

struct Concept {
  std::vector<Code> codes;
  std::string display;
};

class Value;
using List = std::vector<Value>;

struct Ratio;
struct Interval;
struct Tuple;

// A FHIR resource, element or primitive: its JSON node, its FHIR type and, for a primitive, the
// `_name` object holding its id and extensions.
struct FhirNode {
  const json::Value* node = nullptr;
  std::string_view type;                        // "Patient", "CodeableConcept", "dateTime"
  const fhir::StructInfo* structure = nullptr;  // nullptr for primitives
  const json::Value* primitive_extension = nullptr;
};

// A reference to a value set by its canonical URL, evaluated lazily against the terminology.
struct ValueSetRef {
  std::string url;
};

struct Integer {
  int64_t v;
};
struct Long {
  int64_t v;
};
struct Decimal {
  double v;
};

class Value {
 public:
  using Rep = std::variant<std::monostate, bool, Integer, Long, Decimal, std::string, Date,
                           DateTime, Time, Quantity, std::shared_ptr<const Ratio>,
                           std::shared_ptr<const Code>, std::shared_ptr<const Concept>,
                           std::shared_ptr<const Interval>, std::shared_ptr<const List>,
                           std::shared_ptr<const Tuple>, FhirNode, ValueSetRef>;
  enum class Kind {
    kNull,
    kBoolean,
    kInteger,
    kLong,
    kDecimal,
    kString,
    kDate,
    kDateTime,
    kTime,
    kQuantity,
    kRatio,
    kCode,
    kConcept,
    kInterval,
    kList,
    kTuple,
    kFhir,
    kValueSet
  };

  Value() = default;
  static Value Null() { return Value(); }
  static Value Boolean(bool b) { return Value(Rep(b)); }
  static Value Bool3(std::optional<bool> b) { return b ? Boolean(*b) : Null(); }
  static Value Int(int64_t i) { return Value(Rep(Integer{i})); }
  static Value LongInt(int64_t i) { return Value(Rep(Long{i})); }
  static Value Dec(double d) { return Value(Rep(Decimal{d})); }
  static Value String(std::string s) { return Value(Rep(std::move(s))); }
  static Value FromDate(Date d) { return Value(Rep(d)); }
  static Value FromDateTime(DateTime d) { return Value(Rep(d)); }
  static Value FromTime(Time t) { return Value(Rep(t)); }
  static Value FromQuantity(Quantity q) { return Value(Rep(std::move(q))); }
  static Value FromRatio(Quantity n, Quantity d);
  static Value FromCode(Code c) { return Value(Rep(std::make_shared<const Code>(std::move(c)))); }
  static Value FromConcept(Concept c) {
    return Value(Rep(std::make_shared<const Concept>(std::move(c))));
  }
  static Value FromInterval(Value low, Value high, bool low_closed, bool high_closed);
  static Value FromList(List items) {
    return Value(Rep(std::make_shared<const List>(std::move(items))));
  }
  static Value FromTuple(std::vector<std::pair<std::string, Value>> elements);
  static Value Fhir(FhirNode n) { return Value(Rep(n)); }
  static Value ValueSet(std::string url) { return Value(Rep(ValueSetRef{std::move(url)})); }

  Kind kind() const { return static_cast<Kind>(rep_.index()); }
  bool is_null() const { return rep_.index() == 0; }
  bool is_list() const { return kind() == Kind::kList; }

  // REQUIRES: the matching kind.
  bool boolean() const { return std::get<bool>(rep_); }
  int64_t integer() const {
    return kind() == Kind::kLong ? std::get<Long>(rep_).v : std::get<Integer>(rep_).v;
  }
  double decimal() const { return std::get<Decimal>(rep_).v; }
  const std::string& string() const { return std::get<std::string>(rep_); }
  const Temporal& temporal() const;
  const Quantity& quantity() const { return std::get<Quantity>(rep_); }
  const Ratio& ratio() const { return *std::get<std::shared_ptr<const Ratio>>(rep_); }
  const Code& code() const { return *std::get<std::shared_ptr<const Code>>(rep_); }
  const Concept& concept_value() const { return *std::get<std::shared_ptr<const Concept>>(rep_); }
  const Interval& interval() const { return *std::get<std::shared_ptr<const Interval>>(rep_); }
  const List& list() const { return *std::get<std::shared_ptr<const List>>(rep_); }
  const Tuple& tuple() const { return *std::get<std::shared_ptr<const Tuple>>(rep_); }
  const FhirNode& fhir() const { return std::get<FhirNode>(rep_); }
  const std::string& valueset_url() const { return std::get<ValueSetRef>(rep_).url; }

  bool is_temporal() const {
    return kind() == Kind::kDate || kind() == Kind::kDateTime || kind() == Kind::kTime;
  }
  bool is_numeric() const {
    return kind() == Kind::kInteger || kind() == Kind::kLong || kind() == Kind::kDecimal;
  }
  // The value as a double. REQUIRES: is_numeric().
  double number() const { return kind() == Kind::kDecimal ? decimal() : double(integer()); }

  const Rep& rep() const { return rep_; }

 private:
  explicit Value(Rep r) : rep_(std::move(r)) {}
  Rep rep_;
};

struct Ratio {
  Quantity numerator, denominator;
};
struct Interval {
  Value low, high;
  bool low_closed = true, high_closed = true;
};
struct Tuple {
  std::vector<std::pair<std::string, Value>> elements;
  const Value* Find(std::string_view name) const;
};

// The CQL name of a value's type, for messages and for `is`/`as` on system types ("Integer",
// "DateTime", "List", or the FHIR type for FHIR values).
std::string_view TypeName(const Value& v);

// https://cql.hl7.org/09-b-cqlreference.html#equal: null when either side is null (or, for
// temporals, when the precisions differ where the values agree); lists and tuples element-wise.
std::optional<bool> Equal(const Value& a, const Value& b);
// https://cql.hl7.org/09-b-cqlreference.html#equivalent: never null; strings ignore case and
// whitespace differences; codes compare system and code; a concept is equivalent to a code or
// concept sharing a code.
bool Equivalent(const Value& a, const Value& b);
// The order of comparable values: <0, 0, >0, or nullopt when either is null or the comparison is
// uncertain (temporals of different precisions that agree as far as both go).
std::optional<int> Compare(const Value& a, const Value& b);
// The order at a precision (https://cql.hl7.org/09-b-cqlreference.html#before: "before day of"):
// only components down to `precision` count.
std::optional<int> CompareAt(const Value& a, const Value& b, Precision precision);

// Debug text of a value, e.g. `Interval[@2019-01-01T00:00:00.000, null)`.
std::string ToDebugString(const Value& v);

// --- temporal helpers (value.cc) ---

// Parses an ISO 8601 date, dateTime or time as FHIR and CQL write them ("2019", "2019-05-01",
// "2019-05-01T10:00:00.000-07:00", "10:30"); a DateTime without a zone takes
// `default_offset_minutes`. nullopt when malformed.
std::optional<Temporal> ParseTemporal(std::string_view text, Value::Kind kind,
                                      int default_offset_minutes);
// Adds `amount` units at `unit` (a calendar precision) with CQL's calendar arithmetic
// (https://cql.hl7.org/09-b-cqlreference.html#add-1): months and years keep the day, clamped to the
// month's end; finer units than the value's precision are truncated to it.
Temporal AddTemporal(const Temporal& t, int64_t amount, Precision unit, Value::Kind kind);
// The calendar precision a duration unit names ("year", "years", "a", "mo", "wk", "d", "h",
// "min", "s", "ms"); weeks are returned as days with `*weeks` set. nullopt for other units.
std::optional<Precision> DurationUnit(std::string_view unit, bool* weeks = nullptr);
// Milliseconds since the epoch, UTC, of the components (missing ones at their minimum).
int64_t EpochMillis(const Temporal& t);
// The temporal of `epoch_ms` in the zone of `offset_minutes`, at `precision`.
Temporal FromEpochMillis(int64_t epoch_ms, int offset_minutes, Precision precision);
// The precision name used by ELM ("Year", "Month", ..., "Millisecond"); nullopt otherwise.
std::optional<Precision> ParsePrecision(std::string_view name);

}  // namespace vesta::cql
