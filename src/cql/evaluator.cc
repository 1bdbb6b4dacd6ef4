// The ELM tree walk (https://cql.hl7.org/elm.html): each node's `type` picks its evaluation;
// references, function calls with overload resolution, queries and retrieves live here, the
// operators on values in operators.cc.
#include "cql/evaluator.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <unordered_map>

#include "cql/elm_nodes.h"
#include "cql/evaluator_internal.h"
#include "json/value.h"

namespace vesta::cql {

void Fail(std::string message) { throw EvalError{std::move(message)}; }

namespace {

std::optional<Precision> PrecisionOf(const json::Value& node) {
  std::string_view p = node.FindString("precision");
  if (p.empty()) return std::nullopt;
  std::optional<Precision> r = ParsePrecision(p);
  if (!r) Fail("unknown precision " + std::string(p));
  return r;
}

}  // namespace

bool IsSupportedElmType(std::string_view type) { return FindOp(type).has_value(); }

Value Evaluator::Impl::Eval(const json::Value& node) {
  std::string_view type = node.FindString("type");
  const std::optional<Op> op = FindOp(type);
  if (!op) Fail("unsupported ELM node " + std::string(type));
  const int tz = settings_.default_offset_minutes;
  switch (*op) {
    case Op::kLiteral:
      return Literal(node);
    case Op::kNull:
      return Value::Null();
    case Op::kQuantity: {
      const json::Value* v = node.Find("value");
      double d =
          v && v->is_number() ? std::strtod(std::string(v->number_text()).c_str(), nullptr) : 0;
      std::string unit(node.FindString("unit"));
      return Value::FromQuantity({d, unit.empty() ? "1" : unit});
    }
    case Op::kDateTime:
      return DateTimeCtor(node, Value::Kind::kDateTime);
    case Op::kDate:
      return DateTimeCtor(node, Value::Kind::kDate);
    case Op::kTime:
      return DateTimeCtor(node, Value::Kind::kTime);
    case Op::kInterval: {
      Value low = node.Find("low") ? Eval(*node.Find("low")) : Value::Null();
      Value high = node.Find("high") ? Eval(*node.Find("high")) : Value::Null();
      auto closed = [&](std::string_view attr, std::string_view expr_attr) {
        if (const json::Value* e = node.Find(expr_attr)) return AsBool(Eval(*e)).value_or(false);
        const json::Value* a = node.Find(attr);
        return a && ((a->is_bool() && a->bool_value()) ||
                     (a->is_string() && a->string_value() == "true"));
      };
      return Value::FromInterval(std::move(low), std::move(high),
                                 closed("lowClosed", "lowClosedExpression"),
                                 closed("highClosed", "highClosedExpression"));
    }
    case Op::kList: {
      List items;
      if (const json::Value* e = node.Find("element"); e && e->is_array()) {
        for (const json::Value& x : e->items()) items.push_back(Eval(x));
      }
      return Value::FromList(std::move(items));
    }
    case Op::kTuple:
    case Op::kInstance: {
      std::vector<std::pair<std::string, Value>> elements;
      if (const json::Value* e = node.Find("element"); e && e->is_array()) {
        for (const json::Value& x : e->items()) {
          elements.emplace_back(std::string(x.FindString("name")), Eval(Child(x, "value")));
        }
      }
      if (*op == Op::kInstance) {
        std::string_view cls = StripNamespace(node.FindString("classType"));
        auto get = [&](std::string_view n) {
          for (auto& [k, v] : elements)
            if (k == n) return v;
          return Value::Null();
        };
        if (cls == "Code") {
          auto str = [&](std::string_view n) {
            Value v = get(n);
            return v.is_null() ? std::string() : v.string();
          };
          return Value::FromCode({str("system"), str("code"), str("version"), str("display")});
        }
        if (cls == "Quantity") {
          Value v = get("value"), u = get("unit");
          if (v.is_null()) return Value::Null();
          return Value::FromQuantity({v.number(), u.is_null() ? "1" : u.string()});
        }
        if (cls == "Concept") {
          Concept c;
          c.codes = CodesOf(get("codes"));
          Value d = get("display");
          if (!d.is_null()) c.display = d.string();
          return Value::FromConcept(std::move(c));
        }
        if (cls == "Ratio") {
          Value n = get("numerator"), d = get("denominator");
          if (n.is_null() || d.is_null()) return Value::Null();
          return Value::FromRatio(n.quantity(), d.quantity());
        }
      }
      return Value::FromTuple(std::move(elements));
    }
    case Op::kMinValue:
      return MinValueOf(KindOfTypeName(StripNamespace(node.FindString("valueType"))));
    case Op::kMaxValue:
      return MaxValueOf(KindOfTypeName(StripNamespace(node.FindString("valueType"))));
    case Op::kExpressionRef: {
      const Library& lib = LibraryOf(node);
      const json::Value* def = lib.FindExpression(node.FindString("name"));
      if (!def) Fail("unknown expression " + std::string(node.FindString("name")));
      return EvalDef(lib, *def);
    }
    case Op::kFunctionRef:
      return CallFunction(node);
    case Op::kParameterRef:
      return Parameter(node);
    case Op::kValueSetRef: {
      const Library& lib = LibraryOf(node);
      const json::Value* def = lib.FindValueSet(node.FindString("name"));
      if (!def) Fail("unknown value set " + std::string(node.FindString("name")));
      return Value::ValueSet(std::string(def->FindString("id")));
    }
    case Op::kCodeRef: {
      const Library& lib = LibraryOf(node);
      const json::Value* def = lib.FindCode(node.FindString("name"));
      if (!def) Fail("unknown code " + std::string(node.FindString("name")));
      return CodeFromDef(lib, *def);
    }
    case Op::kAliasRef:
    case Op::kQueryLetRef:
    case Op::kOperandRef:
      return Lookup(node.FindString("name"));
    case Op::kIdentifierRef: {
      if (sort_target_) return PropertyOf(*sort_target_, node.FindString("name"), tz);
      return Lookup(node.FindString("name"));
    }
    case Op::kProperty: {
      Value src = node.Find("source") ? Source(node) : Lookup(node.FindString("scope"));
      return PropertyOf(src, node.FindString("path"), tz);
    }
    case Op::kAnd:
    case Op::kOr: {
      bool is_and = *op == Op::kAnd;
      bool unknown = false;
      for (const Value& v : Operands(node)) {
        std::optional<bool> b = AsBool(v);
        if (!b)
          unknown = true;
        else if (*b != is_and)
          return Value::Boolean(!is_and);
      }
      return unknown ? Value::Null() : Value::Boolean(is_and);
    }
    case Op::kXor:
    case Op::kImplies: {
      auto v = Operands(node);
      std::optional<bool> a = AsBool(v[0]), b = AsBool(v[1]);
      if (*op == Op::kImplies) {
        if (a == false || b == true) return Value::Boolean(true);
        if (a == true && b == false) return Value::Boolean(false);
        return Value::Null();
      }
      if (!a || !b) return Value::Null();
      return Value::Boolean(*a != *b);
    }
    case Op::kNot: {
      std::optional<bool> b = AsBool(Operand(node));
      return b ? Value::Boolean(!*b) : Value::Null();
    }
    case Op::kIsNull:
      return Value::Boolean(Operand(node).is_null());
    case Op::kIsTrue:
      return Value::Boolean(AsBool(Operand(node)) == true);
    case Op::kIsFalse:
      return Value::Boolean(AsBool(Operand(node)) == false);
    case Op::kIf: {
      bool c = AsBool(Eval(Child(node, "condition"))).value_or(false);
      return Eval(Child(node, c ? "then" : "else"));
    }
    case Op::kCase: {
      const json::Value* comparand = node.Find("comparand");
      Value cmp = comparand ? Eval(*comparand) : Value::Null();
      if (const json::Value* items = node.Find("caseItem"); items && items->is_array()) {
        for (const json::Value& item : items->items()) {
          Value when = Eval(Child(item, "when"));
          bool hit = comparand ? Equal(cmp, when).value_or(false) : AsBool(when).value_or(false);
          if (hit) return Eval(Child(item, "then"));
        }
      }
      return Eval(Child(node, "else"));
    }
    case Op::kCoalesce: {
      std::vector<Value> v = Operands(node);
      if (v.size() == 1 && v[0].is_list()) {
        for (const Value& x : v[0].list())
          if (!x.is_null()) return x;
        return Value::Null();
      }
      for (const Value& x : v)
        if (!x.is_null()) return x;
      return Value::Null();
    }
    case Op::kEqual:
    case Op::kNotEqual: {
      auto v = Operands(node);
      std::optional<bool> e = Equal(v[0], v[1]);
      if (!e) return Value::Null();
      return Value::Boolean(*op == Op::kEqual ? *e : !*e);
    }
    case Op::kEquivalent: {
      auto v = Operands(node);
      return Value::Boolean(Equivalent(v[0], v[1]));
    }
    case Op::kGreater:
    case Op::kGreaterOrEqual:
    case Op::kLess:
    case Op::kLessOrEqual: {
      auto v = Operands(node);
      const Op cmp = *op;
      auto holds = [cmp](const Value& a, const Value& b) -> std::optional<bool> {
        std::optional<int> c = Compare(a, b);
        if (!c) return std::nullopt;
        return cmp == Op::kGreater          ? *c > 0
               : cmp == Op::kGreaterOrEqual ? *c >= 0
               : cmp == Op::kLess           ? *c < 0
                                            : *c <= 0;
      };
      // An uncertain Integer (an interval of the possible values): the comparison is known when
      // it comes out the same at both ends
      // (https://cql.hl7.org/05-languagesemantics.html#uncertainty).
      for (int side = 0; side < 2; ++side) {
        const Value& u = v[side];
        if (u.kind() != Value::Kind::kInterval || !v[1 - side].is_numeric()) continue;
        std::optional<bool> at_low =
            side == 0 ? holds(u.interval().low, v[1]) : holds(v[0], u.interval().low);
        std::optional<bool> at_high =
            side == 0 ? holds(u.interval().high, v[1]) : holds(v[0], u.interval().high);
        return at_low == at_high ? Value::Bool3(at_low) : Value::Null();
      }
      return Value::Bool3(holds(v[0], v[1]));
    }
    case Op::kAdd:
    case Op::kSubtract:
    case Op::kMultiply:
    case Op::kDivide:
    case Op::kTruncatedDivide:
    case Op::kModulo: {
      auto v = Operands(node);
      return Arithmetic(type, v[0], v[1]);
    }
    case Op::kNegate:
      return Negate(Operand(node));
    case Op::kAbs: {
      Value v = Operand(node);
      if (v.is_null()) return v;
      std::optional<int> c = Compare(v, Negate(v));
      return c && *c < 0 ? Negate(v) : v;
    }
    case Op::kConcatenate: {
      std::string s;
      for (const Value& v : Operands(node)) {
        if (v.is_null()) return Value::Null();
        s += v.string();
      }
      return Value::String(std::move(s));
    }
    case Op::kSplit: {
      Value s = Eval(Child(node, "stringToSplit"));
      Value sep = Eval(Child(node, "separator"));
      if (s.is_null()) return Value::Null();
      if (sep.is_null() || sep.string().empty()) return Value::FromList({s});
      List parts;
      std::string_view rest = s.string();
      for (size_t at; (at = rest.find(sep.string())) != std::string_view::npos;) {
        parts.push_back(Value::String(std::string(rest.substr(0, at))));
        rest.remove_prefix(at + sep.string().size());
      }
      parts.push_back(Value::String(std::string(rest)));
      return Value::FromList(std::move(parts));
    }
    case Op::kIndexer: {
      auto v = Operands(node);
      if (v[0].is_null() || v[1].is_null()) return Value::Null();
      int64_t i = v[1].integer();
      if (v[0].kind() == Value::Kind::kString) {
        const std::string& s = v[0].string();
        if (i < 0 || size_t(i) >= s.size()) return Value::Null();
        return Value::String(s.substr(size_t(i), 1));
      }
      const List& l = v[0].list();
      if (i < 0 || size_t(i) >= l.size()) return Value::Null();
      return l[size_t(i)];
    }
    case Op::kLength: {
      Value v = Operand(node);
      if (v.is_null()) return v;
      return Value::Int(int64_t(v.is_list() ? v.list().size() : v.string().size()));
    }
    case Op::kUpper:
    case Op::kLower: {
      Value v = Operand(node);
      if (v.is_null()) return v;
      std::string s = v.string();
      for (char& c : s)
        c = *op == Op::kUpper ? char(std::toupper((unsigned char)c))
                              : char(std::tolower((unsigned char)c));
      return Value::String(std::move(s));
    }
    case Op::kStartsWith:
    case Op::kEndsWith: {
      auto v = Operands(node);
      if (v[0].is_null() || v[1].is_null()) return Value::Null();
      std::string_view s = v[0].string(), x = v[1].string();
      return Value::Boolean(*op == Op::kStartsWith ? s.starts_with(x) : s.ends_with(x));
    }
    case Op::kToConcept:
    case Op::kToDate:
    case Op::kToDateTime:
    case Op::kToDecimal:
    case Op::kToInteger:
    case Op::kToQuantity:
    case Op::kToString:
    case Op::kToBoolean:
    case Op::kDateFrom:
    case Op::kTimezoneOffsetFrom:
      return ConvertTo(type, Operand(node), tz);
    case Op::kToList: {
      Value v = Operand(node);
      if (v.is_null()) return Value::FromList({});
      return v.is_list() ? v : Value::FromList({v});
    }
    case Op::kAs: {
      Value v = Operand(node);
      if (v.is_null()) return v;
      const json::Value* spec = node.Find("asTypeSpecifier");
      bool ok = spec ? IsOfTypeSpecifier(v, *spec) : IsOfType(v, node.FindString("asType"));
      if (ok) return v;
      if (node.FindString("strict") == "true") Fail("cannot cast " + std::string(TypeName(v)));
      return Value::Null();
    }
    case Op::kIs: {
      Value v = Operand(node);
      if (v.is_null()) return Value::Boolean(false);
      const json::Value* spec = node.Find("isTypeSpecifier");
      return Value::Boolean(spec ? IsOfTypeSpecifier(v, *spec)
                                 : IsOfType(v, node.FindString("isType")));
    }
    case Op::kDateTimeComponentFrom: {
      Value v = Operand(node);
      std::optional<Precision> p = PrecisionOf(node);
      if (v.is_null() || !p || v.temporal().precision < *p) return Value::Null();
      const Temporal& t = v.temporal();
      const int parts[] = {t.year, t.month, t.day, t.hour, t.minute, t.second, t.millisecond};
      return Value::Int(parts[int(*p)]);
    }
    case Op::kCalculateAgeAt:
    case Op::kDurationBetween:
    case Op::kDifferenceBetween: {
      auto v = Operands(node);
      std::optional<Precision> p = PrecisionOf(node);
      if (!p) Fail(std::string(type) + " without a precision");
      if (*op == Op::kDifferenceBetween) return DifferenceBetween(v[0], v[1], *p);
      return DurationBetween(v[0], v[1], *p);
    }
    case Op::kSameAs:
    case Op::kSameOrAfter:
    case Op::kSameOrBefore:
    case Op::kBefore:
    case Op::kAfter: {
      auto v = Operands(node);
      return TimingCompare(type, v[0], v[1], PrecisionOf(node));
    }
    case Op::kStart:
      return StartOf(Operand(node));
    case Op::kEnd:
      return EndOf(Operand(node));
    case Op::kIn: {
      auto v = Operands(node);
      return InOperator(v[0], v[1], PrecisionOf(node));
    }
    case Op::kContains: {
      auto v = Operands(node);
      return InOperator(v[1], v[0], PrecisionOf(node));
    }
    case Op::kIncludedIn: {
      auto v = Operands(node);
      return IncludedIn(v[0], v[1], PrecisionOf(node));
    }
    case Op::kIncludes: {
      auto v = Operands(node);
      return IncludedIn(v[1], v[0], PrecisionOf(node));
    }
    case Op::kOverlaps: {
      auto v = Operands(node);
      return Overlaps(v[0], v[1], PrecisionOf(node));
    }
    case Op::kMeets:
    case Op::kMeetsBefore:
    case Op::kMeetsAfter:
    case Op::kOverlapsBefore:
    case Op::kOverlapsAfter:
    case Op::kStarts:
    case Op::kEnds:
    case Op::kProperIncludedIn:
    case Op::kProperIncludes: {
      auto v = Operands(node);
      return IntervalRelation(type, v[0], v[1], PrecisionOf(node));
    }
    case Op::kRound:
    case Op::kFloor:
    case Op::kCeiling:
    case Op::kTruncate:
    case Op::kLn:
    case Op::kExp:
    case Op::kPower: {
      auto v = Operands(node);
      if (*op == Op::kRound && node.Find("precision") && v.size() == 1) {
        v.push_back(Eval(*node.Find("precision")));
      }
      return MathFunction(type, v);
    }
    case Op::kSubstring: {
      Value s = Eval(Child(node, "stringToSub")), start = Eval(Child(node, "startIndex"));
      Value length = node.Find("length") ? Eval(*node.Find("length")) : Value::Null();
      if (s.is_null() || start.is_null()) return Value::Null();
      int64_t from = start.integer();
      if (from < 0 || size_t(from) >= s.string().size()) return Value::Null();
      size_t n =
          length.is_null() ? std::string::npos : size_t(std::max<int64_t>(0, length.integer()));
      return Value::String(s.string().substr(size_t(from), n));
    }
    case Op::kPositionOf: {
      Value pattern = Eval(Child(node, "pattern")), s = Eval(Child(node, "string"));
      if (pattern.is_null() || s.is_null()) return Value::Null();
      size_t at = s.string().find(pattern.string());
      return Value::Int(at == std::string::npos ? -1 : int64_t(at));
    }
    case Op::kWidth:
      return Width(Operand(node));
    case Op::kCollapse:
    case Op::kExpand: {
      auto v = Operands(node);
      Value per = v.size() > 1 ? v[1] : Value::Null();
      return *op == Op::kCollapse ? Collapse(v[0], per) : Expand(v[0], per);
    }
    case Op::kUnion:
    case Op::kIntersect:
    case Op::kExcept: {
      auto v = Operands(node);
      Value acc = v[0];
      for (size_t i = 1; i < v.size(); ++i) {
        acc = *op == Op::kUnion       ? UnionOf(acc, v[i])
              : *op == Op::kIntersect ? IntersectOf(acc, v[i])
                                      : ExceptOf(acc, v[i]);
      }
      return acc;
    }
    case Op::kDistinct: {
      Value v = Operand(node);
      return v.is_null() ? v : Value::FromList(Distinct(v.list()));
    }
    case Op::kExists: {
      Value v = Operand(node);
      if (!v.is_list()) return Value::Boolean(!v.is_null());
      for (const Value& x : v.list())
        if (!x.is_null()) return Value::Boolean(true);
      return Value::Boolean(false);
    }
    case Op::kFirst:
    case Op::kLast: {
      Value v = Source(node);
      if (v.is_null() || v.list().empty()) return Value::Null();
      return *op == Op::kFirst ? v.list().front() : v.list().back();
    }
    case Op::kCount:
    case Op::kSum:
    case Op::kMin:
    case Op::kMax:
    case Op::kAvg:
    case Op::kAllTrue:
    case Op::kAnyTrue:
      return Aggregate(type, Source(node));
    case Op::kFlatten: {
      Value v = Operand(node);
      if (v.is_null()) return v;
      List out;
      for (const Value& x : v.list()) {
        if (x.is_list())
          out.insert(out.end(), x.list().begin(), x.list().end());
        else
          out.push_back(x);
      }
      return Value::FromList(std::move(out));
    }
    case Op::kSingletonFrom: {
      Value v = Operand(node);
      if (v.is_null() || !v.is_list()) return v;
      if (v.list().size() > 1)
        Fail("singleton from a list of " + std::to_string(v.list().size()) + " items");
      return v.list().empty() ? Value::Null() : v.list()[0];
    }
    case Op::kIndexOf: {
      Value l = Eval(Child(node, "source")), x = Eval(Child(node, "element"));
      if (l.is_null() || x.is_null()) return Value::Null();
      for (size_t i = 0; i < l.list().size(); ++i) {
        if (Equal(l.list()[i], x).value_or(false)) return Value::Int(int64_t(i));
      }
      return Value::Int(-1);
    }
    case Op::kInValueSet: {
      Value code = Eval(Child(node, "code"));
      const json::Value& vs = Child(node, "valueset");
      const Library& lib = LibraryOf(vs);
      const json::Value* def = lib.FindValueSet(vs.FindString("name"));
      if (!def) Fail("unknown value set " + std::string(vs.FindString("name")));
      return Value::Boolean(InValueSet(code, std::string(def->FindString("id"))));
    }
    case Op::kAnyInValueSet: {
      Value codes = Eval(Child(node, "codes"));
      const json::Value& vs = Child(node, "valueset");
      const Library& lib = LibraryOf(vs);
      const json::Value* def = lib.FindValueSet(vs.FindString("name"));
      if (!def) Fail("unknown value set " + std::string(vs.FindString("name")));
      if (codes.is_null()) return Value::Boolean(false);
      for (const Value& c : codes.list()) {
        if (InValueSet(c, std::string(def->FindString("id")))) return Value::Boolean(true);
      }
      return Value::Boolean(false);
    }
    case Op::kQuery:
      return Query(node);
    case Op::kRetrieve:
      return Retrieve(node);
    case Op::kMessage: {
      Value source = Source(node);
      bool cond = AsBool(Eval(Child(node, "condition"))).value_or(false);
      Value severity = Eval(Child(node, "severity"));
      if (cond && !severity.is_null() && severity.kind() == Value::Kind::kString &&
          (severity.string() == "Error" || severity.string() == "error")) {
        Value msg = Eval(Child(node, "message"));
        Fail("Message: " + (msg.is_null() ? std::string() : msg.string()));
      }
      return source;
    }
    case Op::kNow:
      return Value::FromDateTime(settings_.now);
    case Op::kToday:
      return ConvertTo("DateFrom", Value::FromDateTime(settings_.now), tz);
    case Op::kSuccessor:
      return Successor(Operand(node));
    case Op::kPredecessor:
      return Predecessor(Operand(node));
    case Op::kTypeSpecifier:
      break;
  }
  Fail("ELM node " + std::string(type) + " is not an expression");
}

Evaluator::Evaluator(const LibrarySet& libraries, const Terminology& terminology,
                     DataProvider& data, EvaluationSettings settings)
    : impl_(std::make_unique<Impl>(libraries, terminology, data, std::move(settings))) {}

Evaluator::~Evaluator() = default;

Result<Value> Evaluator::Evaluate(const Library& library, std::string_view name) {
  const json::Value* def = library.FindExpression(name);
  if (!def) {
    return Status(StatusCode::kNotFound,
                  "library " + library.name() + " has no definition \"" + std::string(name) + "\"");
  }
  try {
    return impl_->EvalDef(library, *def);
  } catch (const EvalError& e) {
    return Status(StatusCode::kInvalid, "evaluating \"" + std::string(name) + "\" of " +
                                            library.name() + ": " + e.message);
  }
}

}  // namespace vesta::cql
