// The evaluator's internals, shared by evaluator.cc (dispatch, references, queries, retrieves),
// operators.cc (the CQL operators on values) and fhir_node.cc (FHIR navigation and types).
//
// Errors raised deep in an evaluation (a singleton from several items, a Message of severity
// Error, an ELM shape the loader let through) are thrown as EvalError and caught at
// Evaluator::Evaluate, which returns them as a Status: nothing is thrown past this module.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cql/evaluator.h"
#include "cql/value.h"
#include "json/value.h"

namespace vesta::cql {

struct EvalError {
  std::string message;
};
[[noreturn]] void Fail(std::string message);

// --- FHIR (fhir_node.cc) ---

// A resource as a FHIR value typed by its resourceType.
Value FhirResource(const json::Value& resource);
// The property `name` of a value: a FHIR element (by the R4 model, choice types resolved by the
// JSON name present), a primitive's `value` as a system value, a tuple's element, or a field of a
// system structure (Code.code, Quantity.unit, Interval.low, ...). Lists map over their items.
Value PropertyOf(const Value& v, std::string_view name, int default_offset_minutes);
// Whether `v` is of the type a qualified ELM name gives ("{http://hl7.org/fhir}Period",
// "{urn:hl7-org:elm-types:r1}Integer"); null is of no type.
bool IsOfType(const Value& v, std::string_view qualified_name);
// The same for an ELM type specifier (named, list, interval, choice, tuple).
bool IsOfTypeSpecifier(const Value& v, const json::Value& specifier);
// The codes of a Code, Concept, FHIR Coding / CodeableConcept, or a list of them.
std::vector<Code> CodesOf(const Value& v);

// --- operators (operators.cc) ---

std::optional<bool> AsBool(const Value& v);
Value Arithmetic(std::string_view op, const Value& a, const Value& b);
Value Negate(const Value& a);
// The closed bounds of an interval: an open bound is replaced by its successor or predecessor, a
// closed null bound by the point type's minimum or maximum, an open null bound stays null
// (unknown). https://cql.hl7.org/09-b-cqlreference.html#start, #end.
Value StartOf(const Value& interval);
Value EndOf(const Value& interval);
Value Successor(const Value& v);
Value Predecessor(const Value& v);
Value MinValueOf(Value::Kind kind);
Value MaxValueOf(Value::Kind kind);
// Interval and point comparisons with an optional precision: before, after, same as, same or
// before, same or after (https://cql.hl7.org/09-b-cqlreference.html#before-1 ...).
Value TimingCompare(std::string_view op, const Value& a, const Value& b,
                    std::optional<Precision> precision);
Value InOperator(const Value& a, const Value& b, std::optional<Precision> precision);
Value IncludedIn(const Value& a, const Value& b, std::optional<Precision> precision);
Value Overlaps(const Value& a, const Value& b, std::optional<Precision> precision);
Value Meets(const Value& a, const Value& b);
// meets before / after, overlaps before / after, starts, ends, properly included in / includes
// (https://cql.hl7.org/09-b-cqlreference.html#interval-operators-3), by the ELM node type.
Value IntervalRelation(std::string_view op, const Value& a, const Value& b,
                       std::optional<Precision> precision);
// Round (with an optional precision), Floor, Ceiling, Truncate, Ln, Exp, Power.
Value MathFunction(std::string_view op, const std::vector<Value>& args);
Value UnionOf(const Value& a, const Value& b);
Value IntersectOf(const Value& a, const Value& b);
Value ExceptOf(const Value& a, const Value& b);
Value Collapse(const Value& list, const Value& per);
Value Expand(const Value& list, const Value& per);
Value Width(const Value& interval);
List Distinct(const List& items);
Value Aggregate(std::string_view op, const Value& list);
Value DurationBetween(const Value& a, const Value& b, Precision precision);
Value DifferenceBetween(const Value& a, const Value& b, Precision precision);
Value ConvertTo(std::string_view op, const Value& v, int default_offset_minutes);
std::string_view StripNamespace(std::string_view qualified_name);
// The kind of a system type name ("DateTime", "Integer"); kNull for others.
Value::Kind KindOfTypeName(std::string_view name);

// The evaluation state of one Evaluator: the current library, the scope of aliases, operands
// and let bindings, and the caches of definitions and retrieves.
class Evaluator::Impl {
 public:
  Impl(const LibrarySet& libs, const Terminology& terminology, DataProvider& data,
       EvaluationSettings settings)
      : terminology_(terminology), data_(data), settings_(std::move(settings)) {
    (void)libs;  // reached through each Library's resolved includes
  }

  Value EvalDef(const Library& lib, const json::Value& def) {
    auto it = cache_.find(&def);
    if (it != cache_.end()) return it->second;
    const json::Value* expr = def.Find("expression");
    Value v;
    if (expr) {
      Frame f(this, &lib);
      v = Eval(*expr);
    }
    cache_.emplace(&def, v);
    return v;
  }

 private:
  struct Binding {
    std::string_view name;
    Value value;
  };
  // A new scope for a definition or function body: aliases of the caller are not visible.
  struct Frame {
    Frame(Impl* impl, const Library* lib)
        : impl_(impl), lib_(impl->lib_), base_(impl->base_), size_(impl->scope_.size()) {
      impl->lib_ = lib;
      impl->base_ = size_;
    }
    ~Frame() {
      impl_->scope_.resize(size_);
      impl_->lib_ = lib_;
      impl_->base_ = base_;
    }
    Impl* impl_;
    const Library* lib_;
    size_t base_, size_;
  };

  const Value& Lookup(std::string_view name) {
    for (size_t i = scope_.size(); i > base_; --i) {
      if (scope_[i - 1].name == name) return scope_[i - 1].value;
    }
    Fail("unknown alias or operand " + std::string(name));
  }

  const Library& LibraryOf(const json::Value& node) {
    std::string_view alias = node.FindString("libraryName");
    if (alias.empty()) return *lib_;
    const Library* l = lib_->FindInclude(alias);
    if (!l) Fail("unknown library alias " + std::string(alias));
    return *l;
  }

  const json::Value& Child(const json::Value& node, std::string_view key) {
    const json::Value* c = node.Find(key);
    if (!c) Fail(std::string(node.FindString("type")) + " without " + std::string(key));
    return *c;
  }

  Value Eval(const json::Value& node);
  Value Operand(const json::Value& node) {
    const json::Value& o = Child(node, "operand");
    return Eval(o.is_array() ? o.items()[0] : o);
  }
  std::vector<Value> Operands(const json::Value& node) {
    std::vector<Value> out;
    const json::Value* o = node.Find("operand");
    if (!o) return out;
    if (o->is_array()) {
      for (const json::Value& x : o->items()) out.push_back(Eval(x));
    } else {
      out.push_back(Eval(*o));
    }
    return out;
  }
  Value Source(const json::Value& node) { return Eval(Child(node, "source")); }

  Value Literal(const json::Value& node);
  Value DateTimeCtor(const json::Value& node, Value::Kind kind);
  Value CallFunction(const json::Value& node);
  Value Parameter(const json::Value& node);
  Value CodeFromDef(const Library& lib, const json::Value& def);
  Value Query(const json::Value& node);
  Value Retrieve(const json::Value& node);
  bool InValueSet(const Value& code, const std::string& url);
  Value Sorted(const json::Value& sort, List rows);

  const Terminology& terminology_;
  DataProvider& data_;
  EvaluationSettings settings_;
  const Library* lib_ = nullptr;
  std::vector<Binding> scope_;
  size_t base_ = 0;
  const Value* sort_target_ = nullptr;
  std::unordered_map<const json::Value*, Value> cache_;
  std::unordered_map<std::string, List> retrieved_;
};

}  // namespace vesta::cql
