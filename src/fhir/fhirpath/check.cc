#include "fhir/fhirpath/check.h"

#include <cctype>
#include <string>
#include <vector>

#include "fhir/fhirpath/eval.h"
#include "fhir/fhirpath/functions.h"
#include "fhir/model/model.h"

namespace vesta::fhirpath::internal {
namespace {

// The possible FHIR types of a collection, when known.
struct StaticType {
  bool known = false;
  std::vector<std::pair<std::string_view, const fhir::StructInfo*>> types;
  bool unordered = false;

  static StaticType Unknown() { return StaticType{}; }
  static StaticType Of(std::string_view code, const fhir::StructInfo* st) {
    StaticType t;
    t.known = true;
    t.types.emplace_back(code, st);
    return t;
  }
};

StaticType Union(const StaticType& a, const StaticType& b) {
  if (!a.known || !b.known) return StaticType::Unknown();
  StaticType r = a;
  r.types.insert(r.types.end(), b.types.begin(), b.types.end());
  r.unordered = a.unordered || b.unordered;
  return r;
}

StaticType FromTypeRef(const fhir::TypeRef& t) {
  if (t.code == "Resource" || t.code == "DomainResource" || t.code.empty()) {
    return StaticType::Unknown();
  }
  const fhir::StructInfo* st = t.structure;
  if (st == nullptr) st = R4().FindStruct(t.code);
  return StaticType::Of(t.code, st);
}

StaticType FromTypeSpec(const TypeSpec& ts) {
  if (ts.ns == "System") return StaticType::Unknown();
  const fhir::StructInfo* st = R4().FindStruct(ts.name);
  if (st == nullptr || st->kind == fhir::TypeKind::kPrimitive || ts.name == "Resource" ||
      ts.name == "DomainResource") {
    return StaticType::Unknown();
  }
  return StaticType::Of(st->name, st);
}

class Checker {
 public:
  explicit Checker(const CompileOptions& o) : options_(o) {}

  Result<StaticType> Visit(const Node& n, const StaticType& focus) {
    switch (n.kind) {
      case NodeKind::kEmpty:
      case NodeKind::kLiteral:
      case NodeKind::kIndex:
      case NodeKind::kTotal:
      case NodeKind::kVariable:
        return StaticType::Unknown();
      case NodeKind::kThis:
        return focus;
      case NodeKind::kMember: {
        StaticType in = focus;
        if (n.target) {
          ASSIGN_OR_RETURN(in, Visit(*n.target, focus));
        } else if (!n.name.empty() && std::isupper(static_cast<unsigned char>(n.name[0]))) {
          const fhir::StructInfo* st = R4().FindStruct(n.name);
          if (st != nullptr) {
            if (in.known && st->kind == fhir::TypeKind::kResource) {
              bool match = false;
              for (auto& [code, s] : in.types) {
                if (R4().IsA(code, n.name)) match = true;
              }
              if (!match && options_.mode == Mode::kStrict) {
                return Error(n, "the context is not a " + n.name);
              }
            }
            return StaticType::Of(st->name, st);
          }
        }
        return Member(n, in);
      }
      case NodeKind::kIndexer: {
        ASSIGN_OR_RETURN(StaticType in, Visit(*n.target, focus));
        RETURN_IF_ERROR(Visit(*n.args[0], focus).status());
        if (in.unordered && options_.check_ordered_functions) {
          return Error(n, "indexing an unordered collection");
        }
        return in;
      }
      case NodeKind::kNegate:
        RETURN_IF_ERROR(Visit(*n.target, focus).status());
        return StaticType::Unknown();
      case NodeKind::kTypeOp: {
        RETURN_IF_ERROR(Visit(*n.target, focus).status());
        if (!KnownType(n.type)) return Error(n, "unknown type '" + n.type.name + "'");
        if (n.op == Op::kAs) return FromTypeSpec(n.type);
        return StaticType::Unknown();
      }
      case NodeKind::kBinary: {
        ASSIGN_OR_RETURN(StaticType a, Visit(*n.target, focus));
        ASSIGN_OR_RETURN(StaticType b, Visit(*n.args[0], focus));
        if (n.op == Op::kUnion) return Union(a, b);
        return StaticType::Unknown();
      }
      case NodeKind::kFunction:
        return Function(n, focus);
    }
    return StaticType::Unknown();
  }

 private:
  Status Error(const Node& n, const std::string& what) {
    return Invalid("FHIRPath: " + what + " at position " + std::to_string(n.pos));
  }

  Result<StaticType> Member(const Node& n, const StaticType& in) {
    if (!in.known) return StaticType::Unknown();
    StaticType out;
    out.known = true;
    out.unordered = in.unordered;
    bool found = false;
    for (auto& [code, st] : in.types) {
      if (st == nullptr || st->kind == fhir::TypeKind::kPrimitive) {
        if (n.name == "extension") {
          out.types.emplace_back("Extension", R4().FindStruct("Extension"));
          found = true;
        } else if (n.name == "id" || n.name == "value") {
          return StaticType::Unknown();
        } else if (st == nullptr && !code.empty() &&
                   !std::islower(static_cast<unsigned char>(code[0]))) {
          return StaticType::Unknown();  // a complex type the model does not describe
        }
        continue;
      }
      const fhir::ElementInfo* e = st->FindElement(n.name);
      if (e == nullptr) continue;
      found = true;
      for (const fhir::TypeRef& t : e->types) {
        StaticType s = FromTypeRef(t);
        if (!s.known) return StaticType::Unknown();
        out.types.insert(out.types.end(), s.types.begin(), s.types.end());
      }
    }
    if (!found) {
      std::string names;
      for (auto& [code, st] : in.types) {
        if (!names.empty()) names += "|";
        names += st ? st->name : std::string(code);
      }
      std::string hint;
      for (auto& [code, st] : in.types) {
        if (st == nullptr) continue;
        fhir::ElementMatch m = st->Match(n.name);
        if (m.element != nullptr && m.element->is_choice) {
          hint = " (a choice element is named '" + m.element->name + "')";
        }
      }
      // Non-strict: the name selects nothing at run time, except a choice element's JSON name,
      // which FHIRPath never selects (https://hl7.org/fhir/R4/fhirpath.html#polymorphism).
      if (options_.mode != Mode::kStrict && hint.empty()) return StaticType::Unknown();
      return Error(n, "'" + n.name + "' is not an element of " + names + hint);
    }
    return out;
  }

  Result<StaticType> Function(const Node& n, const StaticType& focus) {
    StaticType in = focus;
    if (n.target) {
      ASSIGN_OR_RETURN(in, Visit(*n.target, focus));
    }
    bool iterates = false;
    switch (n.fn) {
      case Fn::kWhere:
      case Fn::kSelect:
      case Fn::kAll:
      case Fn::kExists:
      case Fn::kRepeat:
      case Fn::kSort:
      case Fn::kAggregate:
        iterates = true;
        break;
      default:
        break;
    }
    StaticType item_focus = in;
    if (n.fn == Fn::kAggregate || n.fn == Fn::kRepeat) item_focus = StaticType::Unknown();
    std::vector<StaticType> arg_types;
    if (n.fn == Fn::kIs || n.fn == Fn::kAs || n.fn == Fn::kOfType ||
        (n.extension != nullptr && n.extension->type_argument)) {
      if (!n.args.empty() && !KnownType(n.type)) {
        return Error(n, "unknown type '" + n.type.name + "'");
      }
    } else if (n.fn == Fn::kTrace) {
      // The projection argument iterates.
      for (size_t i = 0; i < n.args.size(); ++i) {
        ASSIGN_OR_RETURN(StaticType t, Visit(*n.args[i], i == 1 ? in : focus));
        arg_types.push_back(t);
      }
    } else {
      for (const auto& a : n.args) {
        ASSIGN_OR_RETURN(StaticType t, Visit(*a, iterates ? item_focus : focus));
        arg_types.push_back(t);
      }
    }
    if (n.fn == Fn::kIif && n.args[0]->kind == NodeKind::kLiteral &&
        n.args[0]->literal.kind != ItemKind::kBoolean) {
      return Error(*n.args[0], "the iif() criterion must be a Boolean");
    }
    switch (n.fn) {
      case Fn::kFirst:
      case Fn::kLast:
      case Fn::kTail:
      case Fn::kSkip:
      case Fn::kTake:
        if (in.unordered && options_.check_ordered_functions) {
          return Error(n, n.name + "() on an unordered collection");
        }
        return in;
      case Fn::kWhere:
      case Fn::kSingle:
      case Fn::kDistinct:
      case Fn::kTrace:
      case Fn::kIntersect:
      case Fn::kExclude:
      case Fn::kSort:
        return in;
      case Fn::kSelect:
        return arg_types.empty() ? StaticType::Unknown() : arg_types[0];
      case Fn::kAs:
      case Fn::kOfType:
        return FromTypeSpec(n.type);
      case Fn::kUnion:
      case Fn::kCombine:
        return Union(in, arg_types[0]);
      case Fn::kIif:
        return arg_types.size() == 3 ? Union(arg_types[1], arg_types[2]) : arg_types[1];
      case Fn::kChildren:
      case Fn::kDescendants: {
        StaticType t;
        t.unordered = true;
        return t;
      }
      case Fn::kExtension:
        return StaticType::Of("Extension", R4().FindStruct("Extension"));
      default:
        return StaticType::Unknown();
    }
  }

  const CompileOptions& options_;
};

}  // namespace

Status Check(const Node& root, const CompileOptions& options) {
  Checker c(options);
  StaticType focus;
  if (!options.context_type.empty()) {
    const fhir::StructInfo* st = R4().FindStruct(options.context_type);
    if (st != nullptr) focus = StaticType::Of(st->name, st);
  }
  return c.Visit(root, focus).status();
}

}  // namespace vesta::fhirpath::internal
