// FHIR data as CQL values: navigation by the R4 model (https://hl7.org/fhir/R4/formats.html#choice
// for choice elements), primitives' `value` as system values (the FHIR model info's mapping:
// https://hl7.org/fhir/R4/fhirpath.html#types), and `is` / `as` on FHIR and system types.
#include <cstdlib>

#include "cql/evaluator_internal.h"
#include "fhir/model/model.h"
#include "json/value.h"

namespace vesta::cql {
namespace {

using K = Value::Kind;

const fhir::Model& M() { return fhir::Model::R4(); }

Value Typed(const json::Value& node, std::string_view type, const fhir::StructInfo* s,
            const json::Value* ext) {
  if (node.is_null() && !ext) return Value::Null();
  return Value::Fhir(FhirNode{&node, type, s, ext});
}

// A primitive's value as a system value (date -> Date, dateTime/instant -> DateTime, ...).
Value PrimitiveValue(const FhirNode& n, int tz) {
  const json::Value& v = *n.node;
  if (v.is_null()) return Value::Null();
  std::string_view t = n.type;
  if (v.is_bool()) return Value::Boolean(v.bool_value());
  if (v.is_number()) {
    std::string text(v.number_text());
    if (t == "decimal") return Value::Dec(std::strtod(text.c_str(), nullptr));
    return Value::Int(std::strtoll(text.c_str(), nullptr, 10));
  }
  if (!v.is_string()) return Value::Null();
  std::string_view s = v.string_value();
  if (t == "date" || t == "dateTime" || t == "instant" || t == "time") {
    K kind = t == "date" ? K::kDate : t == "time" ? K::kTime : K::kDateTime;
    std::optional<Temporal> parsed = ParseTemporal(s, kind, tz);
    if (!parsed) return Value::Null();
    if (kind == K::kDate) return Value::FromDate(Date{*parsed});
    if (kind == K::kTime) return Value::FromTime(Time{*parsed});
    return Value::FromDateTime(DateTime{*parsed});
  }
  return Value::String(std::string(s));
}

Value Element(const FhirNode& n, std::string_view name) {
  const json::Value& obj = *n.node;
  if (!n.structure) {
    // A primitive: `id` and `extension` live in the `_name` object.
    if (n.primitive_extension && (name == "id" || name == "extension")) {
      const json::Value* x = n.primitive_extension->Find(name);
      if (!x) return Value::Null();
      if (name == "id") return Typed(*x, "string", nullptr, nullptr);
      List items;
      for (const json::Value& e : x->items()) {
        items.push_back(Typed(e, "Extension", M().FindStruct("Extension"), nullptr));
      }
      return Value::FromList(std::move(items));
    }
    return Value::Null();
  }
  if (!obj.is_object()) return Value::Null();
  const fhir::ElementInfo* el = n.structure->FindElement(name);
  // An element the value's run-time type lacks is null: the translator checked the path against
  // the declared type, which may be a choice of several (Procedure | ServiceRequest).
  if (!el) return Value::Null();
  std::string json_name(name);
  const fhir::TypeRef* type = el->types.empty() ? nullptr : &el->types[0];
  const json::Value* found = nullptr;
  if (el->is_choice) {
    for (const fhir::TypeRef& t : el->types) {
      std::string candidate(name);
      candidate += static_cast<char>(std::toupper(static_cast<unsigned char>(t.code[0])));
      candidate += t.code.substr(1);
      if (const json::Value* v = obj.Find(candidate)) {
        found = v;
        json_name = candidate;
        type = &t;
        break;
      }
      if (obj.Find("_" + candidate)) {
        json_name = candidate;
        type = &t;
        break;
      }
    }
  } else {
    found = obj.Find(json_name);
  }
  const json::Value* ext = obj.Find("_" + json_name);
  if (!found && !ext) return el->is_array() ? Value::FromList({}) : Value::Null();
  if (!type) return Value::Null();
  auto make = [&](const json::Value& v, const json::Value* e) -> Value {
    if (type->code == "Resource" ||
        (!type->structure && v.is_object() && !v.FindString("resourceType").empty())) {
      return FhirResource(v);
    }
    std::string_view tname =
        type->structure ? std::string_view(type->structure->name) : std::string_view(type->code);
    return Typed(v, tname, type->structure, e);
  };
  static const json::Value kNullValue = json::Value();
  if (el->is_array()) {
    List items;
    size_t n_items =
        found && found->is_array() ? found->size() : (ext && ext->is_array() ? ext->size() : 0);
    for (size_t i = 0; i < n_items; ++i) {
      const json::Value& v = found && found->is_array() ? found->items()[i] : kNullValue;
      const json::Value* e = ext && ext->is_array() && i < ext->size() ? &ext->items()[i] : nullptr;
      if (e && e->is_null()) e = nullptr;
      Value x = make(v, e);
      if (!x.is_null()) items.push_back(std::move(x));
    }
    return Value::FromList(std::move(items));
  }
  return make(found ? *found : kNullValue, ext);
}

Value SystemField(const Value& v, std::string_view name) {
  switch (v.kind()) {
    case K::kCode: {
      const Code& c = v.code();
      const std::string* s = name == "code"      ? &c.code
                             : name == "system"  ? &c.system
                             : name == "version" ? &c.version
                             : name == "display" ? &c.display
                                                 : nullptr;
      if (!s) break;
      return s->empty() ? Value::Null() : Value::String(*s);
    }
    case K::kConcept:
      if (name == "codes") {
        List l;
        for (const Code& c : v.concept_value().codes) l.push_back(Value::FromCode(c));
        return Value::FromList(std::move(l));
      }
      if (name == "display") {
        return v.concept_value().display.empty() ? Value::Null()
                                                 : Value::String(v.concept_value().display);
      }
      break;
    case K::kQuantity:
      if (name == "value") return Value::Dec(v.quantity().value);
      if (name == "unit") return Value::String(v.quantity().unit);
      break;
    case K::kRatio:
      if (name == "numerator") return Value::FromQuantity(v.ratio().numerator);
      if (name == "denominator") return Value::FromQuantity(v.ratio().denominator);
      break;
    case K::kInterval:
      if (name == "low") return v.interval().low;
      if (name == "high") return v.interval().high;
      if (name == "lowClosed") return Value::Boolean(v.interval().low_closed);
      if (name == "highClosed") return Value::Boolean(v.interval().high_closed);
      break;
    case K::kTuple: {
      const Value* x = v.tuple().Find(name);
      return x ? *x : Value::Null();
    }
    default:
      break;
  }
  Fail("no property " + std::string(name) + " on " + std::string(TypeName(v)));
}

Value Step(const Value& v, std::string_view name, int tz) {
  if (v.is_null()) return v;
  if (v.is_list()) {
    List out;
    for (const Value& x : v.list()) {
      Value y = Step(x, name, tz);
      if (y.is_list())
        out.insert(out.end(), y.list().begin(), y.list().end());
      else if (!y.is_null())
        out.push_back(std::move(y));
    }
    return Value::FromList(std::move(out));
  }
  if (v.kind() == K::kFhir) {
    const FhirNode& n = v.fhir();
    if (!n.structure && name == "value") return PrimitiveValue(n, tz);
    return Element(n, name);
  }
  return SystemField(v, name);
}

}  // namespace

Value FhirResource(const json::Value& resource) {
  std::string_view rt = resource.FindString("resourceType");
  const fhir::StructInfo* s = M().FindStruct(rt);
  return Value::Fhir(FhirNode{&resource, s ? std::string_view(s->name) : rt, s, nullptr});
}

Value PropertyOf(const Value& v, std::string_view path, int tz) {
  Value cur = v;
  while (!path.empty()) {
    size_t dot = path.find('.');
    cur = Step(cur, path.substr(0, dot), tz);
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return cur;
}

bool IsOfType(const Value& v, std::string_view qualified) {
  if (v.is_null()) return false;
  std::string_view ns = qualified.substr(0, qualified.find('}') + 1);
  std::string_view name = StripNamespace(qualified);
  if (ns == "{http://hl7.org/fhir}") {
    if (v.kind() != K::kFhir) return false;
    std::string_view have = v.fhir().type;
    if (have == name || M().IsA(have, name)) return true;
    // Value-set-bound code types of the FHIR model info (EncounterStatus, ...) are codes.
    if (!M().FindStruct(name) && (have == "code" || have == "string")) return true;
    return false;
  }
  if (v.kind() == K::kFhir) return false;
  if (name == "Any") return true;
  return TypeName(v) == name;
}

bool IsOfTypeSpecifier(const Value& v, const json::Value& spec) {
  std::string_view t = spec.FindString("type");
  if (t == "NamedTypeSpecifier") return IsOfType(v, spec.FindString("name"));
  if (t == "ListTypeSpecifier") {
    if (!v.is_list()) return false;
    const json::Value* e = spec.Find("elementType");
    for (const Value& x : v.list()) {
      if (e && !x.is_null() && !IsOfTypeSpecifier(x, *e)) return false;
    }
    return true;
  }
  if (t == "IntervalTypeSpecifier") return v.kind() == K::kInterval;
  if (t == "TupleTypeSpecifier") return v.kind() == K::kTuple;
  if (t == "ChoiceTypeSpecifier") {
    const json::Value* choices = spec.Find("choice");
    if (!choices) choices = spec.Find("type");
    if (!choices || !choices->is_array()) return false;
    for (const json::Value& c : choices->items()) {
      if (IsOfTypeSpecifier(v, c)) return true;
    }
    return false;
  }
  return false;
}

std::vector<Code> CodesOf(const Value& v) {
  std::vector<Code> out;
  switch (v.kind()) {
    case K::kCode:
      out.push_back(v.code());
      break;
    case K::kConcept:
      out = v.concept_value().codes;
      break;
    case K::kList:
      for (const Value& x : v.list()) {
        std::vector<Code> c = CodesOf(x);
        out.insert(out.end(), c.begin(), c.end());
      }
      break;
    case K::kFhir: {
      const FhirNode& n = v.fhir();
      auto coding = [&](const json::Value& c) {
        out.push_back({std::string(c.FindString("system")), std::string(c.FindString("code")),
                       std::string(c.FindString("version")), std::string(c.FindString("display"))});
      };
      if (n.type == "Coding") {
        coding(*n.node);
      } else if (n.type == "CodeableConcept") {
        if (const json::Value* cs = n.node->Find("coding"); cs && cs->is_array()) {
          for (const json::Value& c : cs->items()) coding(c);
        }
      } else if (!n.structure && n.node->is_string()) {
        out.push_back({"", std::string(n.node->string_value()), "", ""});
      }
      break;
    }
    default:
      break;
  }
  return out;
}

}  // namespace vesta::cql
