// Evaluation of the AST: http://hl7.org/fhirpath/N1/#operations (operators) and
// http://hl7.org/fhirpath/N1/#environment-variables.
#include "fhir/fhirpath/eval.h"

#include <cctype>

#include "fhir/fhirpath/check.h"
#include "fhir/model/model.h"

namespace vesta::fhirpath {
namespace internal {
namespace {

constexpr int kMaxDepth = 400;

// Whether node `i` is of the type named at the start of the path `n` (`Patient` in
// `Patient.name`). Search parameter expressions are long unions of such paths, one per resource
// type, so most checks are a resource against another concrete resource type: no concrete
// resource type derives from another, so that needs no walk of the type hierarchy.
bool IsNamedType(const Item& i, const Node& n) {
  const fhir::StructInfo* want = n.named_type;
  if (i.structure == want) return true;
  if (i.structure != nullptr && i.structure->kind == fhir::TypeKind::kResource &&
      want->kind == fhir::TypeKind::kResource && !want->is_abstract) {
    return false;
  }
  return IsType(i, n.type);
}

bool IsLogical(Op op) {
  return op == Op::kAnd || op == Op::kOr || op == Op::kXor || op == Op::kImplies;
}

bool IsComparison(Op op) {
  switch (op) {
    case Op::kEq:
    case Op::kNe:
    case Op::kEquiv:
    case Op::kNotEquiv:
    case Op::kIn:
    case Op::kContains:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe:
      return true;
    default:
      return false;
  }
}

// Whether `n` maps an empty input (its target's result) to an empty result without evaluating
// anything else: its arguments, if any, are evaluated per input item.
bool KeepsEmpty(const Node& n) {
  switch (n.kind) {
    case NodeKind::kMember:
    case NodeKind::kTypeOp:
      return true;
    case NodeKind::kFunction:
      switch (n.fn) {
        case Fn::kWhere:
        case Fn::kSelect:
        case Fn::kOfType:
        case Fn::kAs:
        case Fn::kFirst:
        case Fn::kLast:
        case Fn::kTail:
        case Fn::kResolve:
          return true;
        default:
          return false;
      }
    default:
      return false;
  }
}

// Whether `n` is a path from a type name that no item of `focus` is of (`Observation.code` on a
// Patient): the type name selects nothing, and nothing after it adds anything. Search parameter
// expressions are unions of dozens of such paths, one per resource type.
bool PathOfOtherType(const Node& n, Items focus) {
  const Node* root = &n;
  while (root->target != nullptr && KeepsEmpty(*root)) root = root->target.get();
  if (root->kind != NodeKind::kMember || root->target != nullptr || root->named_type == nullptr) {
    return false;
  }
  for (const Item& i : focus) {
    if (i.is_node() && IsNamedType(i, *root)) return false;
  }
  return true;
}

}  // namespace

Status Evaluator::Error(const Node& n, const std::string& what) const {
  return Invalid("FHIRPath: " + what + " at position " + std::to_string(n.pos));
}

ScratchPool& ScratchPool::ForThisThread() {
  thread_local ScratchPool pool;
  return pool;
}

Status Evaluator::EvalInto(const Node& n, const Frame& f, Collection* out) {
  switch (n.kind) {
    case NodeKind::kMember:
    case NodeKind::kFunction:
    case NodeKind::kBinary:
      break;
    default: {
      ASSIGN_OR_RETURN(Collection r, Eval(n, f));
      out->insert(out->end(), std::make_move_iterator(r.begin()), std::make_move_iterator(r.end()));
      return Status::Ok();
    }
  }
  if (++depth_ > kMaxDepth) {
    --depth_;
    return Error(n, "evaluation nested too deeply");
  }
  const size_t before = out->size();
  Status st = EvalNodeInto(n, f, out);
  --depth_;
  if (!st.ok()) return st;
  budget_ -= static_cast<int64_t>(out->size() - before);
  if (budget_ < 0) return Error(n, "the evaluation produces too many items");
  return Status::Ok();
}

// What EvalNode does for paths, functions and binary operators, appending to *out: the input of
// a function is built in a Scratch, and where(), ofType(), first() and last() append the items
// they keep.
Status Evaluator::EvalNodeInto(const Node& n, const Frame& f, Collection* out) {
  auto append = [out](Result<Collection> r) -> Status {
    if (!r.ok()) return r.status();
    out->insert(out->end(), std::make_move_iterator(r->begin()), std::make_move_iterator(r->end()));
    return Status::Ok();
  };
  if (n.kind == NodeKind::kMember) return PathInto(n, f, out);
  if (n.kind == NodeKind::kBinary) {
    if (!IsLogical(n.op) && !IsComparison(n.op)) return append(Binary(n, f));
    ASSIGN_OR_RETURN(int r, IsLogical(n.op) ? Logical(n, f) : Comparison(n, f));
    if (r >= 0) out->push_back(Item::Boolean(r == 1));
    return Status::Ok();
  }
  // A function.
  if (n.fn == Fn::kOfType && n.target != nullptr && n.target->kind == NodeKind::kFunction &&
      n.target->fn == Fn::kDescendants) {
    return append(EvalNode(n, f));
  }
  Scratch storage(pool_);
  Items in = f.focus;
  if (n.target != nullptr && n.target->kind != NodeKind::kThis) {
    RETURN_IF_ERROR(EvalInto(*n.target, f, storage.get()));
    in = *storage.get();
  }
  switch (n.fn) {
    case Fn::kWhere:
      for (size_t i = 0; i < in.size(); ++i) {
        ASSIGN_OR_RETURN(int b, ConditionOn(*n.args[0], in[i], static_cast<int64_t>(i), f, n));
        if (b == 1) out->push_back(in[i]);
      }
      return Status::Ok();
    case Fn::kOfType:
      for (const Item& i : in) {
        if (IsType(i, n.type, TypeMatch::kExactPrimitive)) out->push_back(i);
      }
      return Status::Ok();
    case Fn::kFirst:
      if (!in.empty()) out->push_back(in.front());
      return Status::Ok();
    case Fn::kLast:
      if (!in.empty()) out->push_back(in.back());
      return Status::Ok();
    default:
      return append(CallFunction(n, in, f));
  }
}

// Singleton evaluation of collections for Boolean operands
// (http://hl7.org/fhirpath/N1/#singleton-evaluation-of-collections): -1 empty, 0 false, 1 true.
Result<int> BoolOf(const Evaluator& ev, const Node& n, Items c) {
  if (c.empty()) return -1;
  if (c.size() > 1)
    return ev.Error(n,
                    "expected a single Boolean but found " + std::to_string(c.size()) + " items");
  const Item& i = c[0];
  if (i.kind == ItemKind::kBoolean) return i.as_bool() ? 1 : 0;
  if (i.is_node() && i.node && i.node->is_bool()) return i.node->bool_value() ? 1 : 0;
  return 1;
}

Result<Collection> Evaluator::EvalOn(const Node& arg, const Item& item, int64_t index,
                                     const Frame& outer) {
  Frame f{Items(&item, 1), index, outer.total};
  return Eval(arg, f);
}

Result<Collection> Evaluator::Variable(const Node& n) {
  const std::string& name = n.name;
  auto it = env_.variables.find(name);
  if (it != env_.variables.end()) return it->second;
  if (name == "context") return Collection(context_.begin(), context_.end());
  if (name == "resource" || name == "rootResource") {
    if (root_ == nullptr) return Collection{};
    return Collection{ResourceItem(*root_)};
  }
  if (name == "ucum") return Collection{Item::String("http://unitsofmeasure.org")};
  if (name == "sct") return Collection{Item::String("http://snomed.info/sct")};
  if (name == "loinc") return Collection{Item::String("http://loinc.org")};
  // https://hl7.org/fhir/R4/fhirpath.html#vars
  if (name.rfind("vs-", 0) == 0) {
    return Collection{Item::String("http://hl7.org/fhir/ValueSet/" + name.substr(3))};
  }
  if (name.rfind("ext-", 0) == 0) {
    return Collection{Item::String("http://hl7.org/fhir/StructureDefinition/" + name.substr(4))};
  }
  return Error(n, "unknown variable %" + name);
}

Result<Collection> Evaluator::Eval(const Node& n, const Frame& f) {
  Result<Collection> r = EvalNode(n, f);
  if (r.ok()) {
    budget_ -= static_cast<int64_t>(r->size());
    if (budget_ < 0) return Error(n, "the evaluation produces too many items");
  }
  return r;
}

Result<Collection> Evaluator::EvalNode(const Node& n, const Frame& f) {
  if (++depth_ > kMaxDepth) {
    --depth_;
    return Error(n, "evaluation nested too deeply");
  }
  struct DepthGuard {
    int* d;
    ~DepthGuard() { --*d; }
  } guard{&depth_};
  switch (n.kind) {
    case NodeKind::kEmpty:
      return Collection{};
    case NodeKind::kLiteral:
      return Collection{n.literal};
    case NodeKind::kThis:
      return Collection(f.focus.begin(), f.focus.end());
    case NodeKind::kIndex:
      if (f.index < 0) return Collection{};
      return Collection{Item::Integer(f.index)};
    case NodeKind::kTotal:
      if (f.total == nullptr) return Collection{};
      return *f.total;
    case NodeKind::kVariable:
      return Variable(n);
    case NodeKind::kMember:
      return Path(n, f);
    case NodeKind::kFunction: {
      if (n.fn == Fn::kOfType && n.target != nullptr && n.target->kind == NodeKind::kFunction &&
          n.target->fn == Fn::kDescendants) {
        const Node& d = *n.target;
        if (d.target == nullptr || d.target->kind == NodeKind::kThis) {
          return Descendants(d, f.focus, &n.type);
        }
        ASSIGN_OR_RETURN(Collection in, Eval(*d.target, f));
        return Descendants(d, in, &n.type);
      }
      if (n.target == nullptr || n.target->kind == NodeKind::kThis) {
        return CallFunction(n, f.focus, f);
      }
      Scratch in(pool_);
      RETURN_IF_ERROR(EvalInto(*n.target, f, in.get()));
      return CallFunction(n, *in.get(), f);
    }
    case NodeKind::kIndexer: {
      ASSIGN_OR_RETURN(Collection in, Eval(*n.target, f));
      ASSIGN_OR_RETURN(Collection idx, Eval(*n.args[0], f));
      if (idx.empty()) return Collection{};
      Item i;
      if (idx.size() != 1 || !ToSystem(idx[0], &i) || i.kind != ItemKind::kInteger) {
        return Error(n, "an index must be a single Integer");
      }
      int64_t k = i.as_int();
      if (k < 0 || k >= static_cast<int64_t>(in.size())) return Collection{};
      return Collection{in[static_cast<size_t>(k)]};
    }
    case NodeKind::kNegate: {
      ASSIGN_OR_RETURN(Collection in, Eval(*n.target, f));
      if (in.empty()) return Collection{};
      if (in.size() > 1)
        return Error(n,
                     "unary " + std::string(n.op == Op::kSub ? "-" : "+") + " needs a single item");
      Item v;
      if (!ToSystem(in[0], &v)) return Error(n, "unary minus needs a number or quantity");
      if (n.op == Op::kAdd) {
        if (!IsNumber(v) && v.kind != ItemKind::kQuantity) {
          return Error(n, "unary plus needs a number or quantity");
        }
        return Collection{v};
      }
      if (IsWhole(v)) {
        if (v.as_int() == INT64_MIN) return Collection{};  // overflow: empty, as for + - *
        return Collection{v.kind == ItemKind::kLong ? Item::Long(-v.as_int())
                                                    : Item::Integer(-v.as_int())};
      }
      if (v.kind == ItemKind::kDecimal) {
        Decimal d = v.as_decimal();
        d.mantissa = -d.mantissa;
        return Collection{Item::Dec(d)};
      }
      if (v.kind == ItemKind::kQuantity) {
        Quantity q = v.as_quantity();
        q.value.mantissa = -q.value.mantissa;
        return Collection{Item::Qty(q)};
      }
      return Error(n, "unary minus needs a number or quantity");
    }
    case NodeKind::kTypeOp: {
      if (n.op == Op::kIs) {
        ASSIGN_OR_RETURN(int is, TypeTest(n, f));
        if (is < 0) return Collection{};
        return Collection{Item::Boolean(is == 1)};
      }
      ASSIGN_OR_RETURN(Collection in, Eval(*n.target, f));
      if (in.empty()) return Collection{};
      if (in.size() > 1) {
        if (!n.as_filters) {
          return Error(n, "'as' needs a single item, found " + std::to_string(in.size()));
        }
        Collection out;
        for (const Item& i : in) {
          if (IsType(i, n.type)) out.push_back(i);
        }
        return out;
      }
      if (IsType(in[0], n.type)) return in;
      return Collection{};
    }
    case NodeKind::kBinary:
      return Binary(n, f);
  }
  return Error(n, "unknown expression");
}

namespace {

// Arithmetic on two System values (http://hl7.org/fhirpath/N1/#math-1).
// Returns false with *err set on a type error; true with an empty *out for empty results.
bool Arith(Op op, const Item& x, const Item& y, Collection* out, std::string* err) {
  if (IsWhole(x) && IsWhole(y) && op != Op::kDiv) {
    // Integer with Integer gives an Integer; with a Long, a Long
    // (https://hl7.org/fhirpath/#long: Integer converts implicitly to Long).
    const bool long_result = x.kind == ItemKind::kLong || y.kind == ItemKind::kLong;
    int64_t a = x.as_int(), b = y.as_int(), r = 0;
    switch (op) {
      case Op::kAdd:
        if (__builtin_add_overflow(a, b, &r)) return true;
        break;
      case Op::kSub:
        if (__builtin_sub_overflow(a, b, &r)) return true;
        break;
      case Op::kMul:
        if (__builtin_mul_overflow(a, b, &r)) return true;
        break;
      case Op::kDivInt:
        if (b == 0 || (a == INT64_MIN && b == -1)) return true;
        r = a / b;
        break;
      case Op::kMod:
        if (b == 0 || (a == INT64_MIN && b == -1)) return true;
        r = a % b;
        break;
      default:
        *err = "bad operator";
        return false;
    }
    out->push_back(long_result ? Item::Long(r) : Item::Integer(r));
    return true;
  }
  if (IsNumber(x) && IsNumber(y)) {
    Decimal a = AsDecimal(x), b = AsDecimal(y), r;
    bool ok = true;
    switch (op) {
      case Op::kAdd:
        ok = DecimalAdd(a, b, &r);
        break;
      case Op::kSub:
        ok = DecimalSub(a, b, &r);
        break;
      case Op::kMul:
        ok = DecimalMul(a, b, &r);
        break;
      case Op::kDiv:
        ok = DecimalDiv(a, b, &r);
        break;
      case Op::kDivInt: {
        Decimal q;
        if (!DecimalDiv(a, b, &q)) return true;
        // Truncate toward zero.
        Decimal t = q;
        while (t.scale > 0) {
          t.mantissa /= 10;
          --t.scale;
        }
        out->push_back(Item::Integer(static_cast<int64_t>(t.mantissa)));
        return true;
      }
      case Op::kMod: {
        if (b.mantissa == 0) return true;
        Decimal q;
        if (!DecimalDiv(a, b, &q)) return true;
        while (q.scale > 0) {
          q.mantissa /= 10;
          --q.scale;
        }
        Decimal m;
        ok = DecimalMul(q, b, &m) && DecimalSub(a, m, &r);
        break;
      }
      default:
        *err = "bad operator";
        return false;
    }
    if (ok) out->push_back(Item::Dec(r));
    return true;
  }
  if (op == Op::kAdd && x.kind == ItemKind::kString && y.kind == ItemKind::kString) {
    out->push_back(Item::String(x.as_string() + y.as_string()));
    return true;
  }
  if ((op == Op::kAdd || op == Op::kSub) && IsTemporal(x) && y.kind == ItemKind::kQuantity) {
    Temporal t;
    if (!AddDuration(x.as_temporal(), y.as_quantity(), op == Op::kAdd ? 1 : -1, &t)) {
      *err = "cannot add '" + y.as_quantity().unit + "' to a date/time";
      return false;
    }
    out->push_back(Item::Time(t));
    return true;
  }
  if (x.kind == ItemKind::kQuantity && y.kind == ItemKind::kQuantity) {
    const Quantity& a = x.as_quantity();
    const Quantity& b = y.as_quantity();
    if (op == Op::kAdd || op == Op::kSub) {
      Quantity bb;
      if (!ConvertQuantity(b, a.unit, &bb)) {
        *err = "incompatible units '" + a.unit + "' and '" + b.unit + "'";
        return false;
      }
      Quantity r;
      r.unit = a.unit;
      if (!(op == Op::kAdd ? DecimalAdd(a.value, bb.value, &r.value)
                           : DecimalSub(a.value, bb.value, &r.value))) {
        return true;
      }
      out->push_back(Item::Qty(r));
      return true;
    }
    if (op == Op::kMul || op == Op::kDiv) {
      Quantity r;
      if (op == Op::kDiv && b.value.mantissa == 0) return true;
      if (!MultiplyQuantities(a, b, op == Op::kDiv, &r)) {
        *err = "cannot combine units '" + a.unit + "' and '" + b.unit + "'";
        return false;
      }
      out->push_back(Item::Qty(r));
      return true;
    }
  }
  if ((op == Op::kMul || op == Op::kDiv) && x.kind == ItemKind::kQuantity && IsNumber(y)) {
    Quantity r = x.as_quantity();
    if (!(op == Op::kMul ? DecimalMul(r.value, AsDecimal(y), &r.value)
                         : DecimalDiv(r.value, AsDecimal(y), &r.value))) {
      return true;
    }
    out->push_back(Item::Qty(r));
    return true;
  }
  if (op == Op::kMul && IsNumber(x) && y.kind == ItemKind::kQuantity) {
    Quantity r = y.as_quantity();
    if (!DecimalMul(r.value, AsDecimal(x), &r.value)) return true;
    out->push_back(Item::Qty(r));
    return true;
  }
  // https://build.fhir.org/ig/HL7/FHIRPath/#conversion: Integer, Long and Decimal convert
  // implicitly to Quantity (unit '1'): 3 '1' + 2, 20 / 5 'kg'.
  if ((op == Op::kAdd || op == Op::kSub || op == Op::kDiv) &&
      ((IsNumber(x) && y.kind == ItemKind::kQuantity) ||
       (x.kind == ItemKind::kQuantity && IsNumber(y)))) {
    const Item qx = IsNumber(x) ? Item::Qty(Quantity{AsDecimal(x), "1"}) : x;
    const Item qy = IsNumber(y) ? Item::Qty(Quantity{AsDecimal(y), "1"}) : y;
    return Arith(op, qx, qy, out, err);
  }
  *err = "operands of incompatible types";
  return false;
}

}  // namespace

Result<Items> Evaluator::Operand(const Node& n, const Frame& f, Collection* storage) {
  if (n.kind == NodeKind::kLiteral) return Items(&n.literal, 1);
  if (n.kind == NodeKind::kThis) return f.focus;
  if (n.kind == NodeKind::kVariable) {
    auto it = env_.variables.find(n.name);
    if (it != env_.variables.end()) return Items(it->second);
  }
  RETURN_IF_ERROR(EvalInto(n, f, storage));
  return Items(*storage);
}

// A path `a.b.c` is a chain of member nodes, each the target of the next. The steps are walked
// from the first one's input through two Scratches, the last step appending to *out. Search
// parameter expressions are mostly such paths.
Status Evaluator::PathInto(const Node& n, const Frame& f, Collection* out) {
  constexpr int kMaxSteps = 32;  // a longer chain evaluates its start as the input
  const Node* steps[kMaxSteps];  // the last step first
  int count = 0;
  const Node* step = &n;
  while (true) {
    steps[count++] = step;
    const Node* target = step->target.get();
    if (target == nullptr || target->kind != NodeKind::kMember || count == kMaxSteps) break;
    step = target;
  }
  const Node& first = *steps[count - 1];
  Scratch evaluated(pool_);
  Items in = f.focus;
  if (first.target != nullptr && first.target->kind != NodeKind::kThis) {
    RETURN_IF_ERROR(EvalInto(*first.target, f, evaluated.get()));
    in = *evaluated.get();
  }
  Scratch scratch[2] = {Scratch(pool_), Scratch(pool_)};
  int next = 0;
  if (first.target == nullptr && first.named_type != nullptr) {
    // A type name at the start of a path selects the context when it is of that type
    // (http://hl7.org/fhirpath/N1/#path-selection).
    Collection& step_out = *scratch[next].get();
    for (const Item& i : in) {
      if (i.is_node() && IsNamedType(i, first)) step_out.push_back(i);
    }
    in = step_out;
    next = 1 - next;
    --count;
  } else if (first.target == nullptr && !first.type.name.empty()) {
    // A capitalised name that the model does not know: the type of a resource outside the model
    // (plain JSON with a `resourceType`, http://hl7.org/fhirpath/N1/#models) selects the context
    // items of that resourceType; other items are navigated by the name as an element.
    Collection& step_out = *scratch[next].get();
    for (const Item& i : in) {
      if (i.is_node() && i.node != nullptr && i.node->is_object() &&
          i.node->FindString("resourceType") == first.name) {
        step_out.push_back(i);
      } else {
        Member(i, first.name, &step_out);
      }
    }
    in = step_out;
    next = 1 - next;
    --count;
  }
  if (count == 0) {
    out->insert(out->end(), in.begin(), in.end());
    return Status::Ok();
  }
  for (int k = count - 1; k > 0; --k) {
    Collection& step_out = *scratch[next].get();
    step_out.clear();
    for (const Item& i : in) Member(i, steps[k]->name, &step_out);
    budget_ -= static_cast<int64_t>(step_out.size());
    if (budget_ < 0) return Error(*steps[k], "the evaluation produces too many items");
    in = step_out;
    next = 1 - next;
  }
  for (const Item& i : in) Member(i, steps[0]->name, out);
  return Status::Ok();
}

Result<Collection> Evaluator::Path(const Node& n, const Frame& f) {
  Collection out;
  RETURN_IF_ERROR(PathInto(n, f, &out));
  return out;
}

// a | b | c parses as (a | b) | c. The operands of such a chain are evaluated left to right
// straight into one collection: the union of all of them is the union of the nested unions.
bool Evaluator::AddUnionTerms(const Node& n, const Frame& f, DistinctAppender* out, Status* error) {
  if (n.kind == NodeKind::kBinary && n.op == Op::kUnion) {
    if (++depth_ > kMaxDepth) {
      --depth_;
      *error = Error(n, "evaluation nested too deeply");
      return false;
    }
    const bool ok =
        AddUnionTerms(*n.target, f, out, error) && AddUnionTerms(*n.args[0], f, out, error);
    --depth_;
    return ok;
  }
  if (PathOfOtherType(n, f.focus)) return true;
  Scratch storage(pool_);
  Result<Items> items = Operand(n, f, storage.get());
  if (!items.ok()) {
    *error = items.status();
    return false;
  }
  for (const Item& i : *items) out->Add(i);
  return true;
}

Result<Collection> Evaluator::Binary(const Node& n, const Frame& f) {
  const Op op = n.op;
  if (IsLogical(op) || IsComparison(op)) {
    ASSIGN_OR_RETURN(int r, IsLogical(op) ? Logical(n, f) : Comparison(n, f));
    if (r < 0) return Collection{};
    return Collection{Item::Boolean(r == 1)};
  }
  if (op == Op::kUnion) {
    Collection out;
    DistinctAppender distinct(&out);
    Status error;
    if (!AddUnionTerms(n, f, &distinct, &error)) return error;
    return out;
  }
  Scratch lstore(pool_), rstore(pool_);
  ASSIGN_OR_RETURN(Items lc, Operand(*n.target, f, lstore.get()));
  ASSIGN_OR_RETURN(Items rc, Operand(*n.args[0], f, rstore.get()));
  if (op == Op::kConcat) {
    if (lc.size() > 1 || rc.size() > 1) return Error(n, "'&' needs single strings");
    // A primitive without a value counts as empty, like an empty operand.
    std::string_view a, b;
    if (!lc.empty() && !ValueLess(lc[0]) && !StringOf(lc[0], &a)) {
      return Error(n, "'&' needs strings");
    }
    if (!rc.empty() && !ValueLess(rc[0]) && !StringOf(rc[0], &b)) {
      return Error(n, "'&' needs strings");
    }
    return Collection{Item::String(std::string(a) + std::string(b))};
  }
  if (lc.empty() || rc.empty()) return Collection{};
  if (lc.size() > 1 || rc.size() > 1) return Error(n, "arithmetic needs single items");
  if (ValueLess(lc[0]) || ValueLess(rc[0])) return Collection{};  // no value: empty
  Item x, y;
  if (!ToSystem(lc[0], &x) || !ToSystem(rc[0], &y)) {
    return Error(n, "arithmetic needs primitive values");
  }
  Collection out;
  std::string err;
  if (!Arith(op, x, y, &out, &err)) return Error(n, err);
  return out;
}

// Boolean operators evaluate lazily where the left side decides
// (http://hl7.org/fhirpath/N1/#boolean-logic).
Result<int> Evaluator::Logical(const Node& n, const Frame& f) {
  const Op op = n.op;
  Scratch lstore(pool_), rstore(pool_);
  ASSIGN_OR_RETURN(Items lc, Operand(*n.target, f, lstore.get()));
  ASSIGN_OR_RETURN(int l, BoolOf(*this, n, lc));
  if (op == Op::kAnd && l == 0) return 0;
  if (op == Op::kOr && l == 1) return 1;
  if (op == Op::kImplies && l == 0) return 1;
  ASSIGN_OR_RETURN(Items rc, Operand(*n.args[0], f, rstore.get()));
  ASSIGN_OR_RETURN(int r, BoolOf(*this, n, rc));
  switch (op) {
    case Op::kAnd:
      if (r == 0) return 0;
      return l == 1 && r == 1 ? 1 : -1;
    case Op::kOr:
      if (r == 1) return 1;
      return l == 0 && r == 0 ? 0 : -1;
    case Op::kXor:
      if (l < 0 || r < 0) return -1;
      return l != r ? 1 : 0;
    default:  // implies, l is true or empty
      if (r == 1) return 1;
      return l == 1 && r == 0 ? 0 : -1;
  }
}

// Equality, equivalence, membership and ordering
// (http://hl7.org/fhirpath/N1/#equality, #comparison, #collections-2).
Result<int> Evaluator::Comparison(const Node& n, const Frame& f) {
  const Op op = n.op;
  Scratch lstore(pool_), rstore(pool_);
  ASSIGN_OR_RETURN(Items lc, Operand(*n.target, f, lstore.get()));
  ASSIGN_OR_RETURN(Items rc, Operand(*n.args[0], f, rstore.get()));
  switch (op) {
    case Op::kEq:
    case Op::kNe: {
      std::optional<bool> e = CollectionEquals(lc, rc);
      if (!e) return -1;
      return (op == Op::kEq) == *e ? 1 : 0;
    }
    case Op::kEquiv:
    case Op::kNotEquiv:
      return (op == Op::kEquiv) == CollectionEquivalent(lc, rc) ? 1 : 0;
    case Op::kIn:
    case Op::kContains: {
      Items one = op == Op::kIn ? lc : rc;
      Items many = op == Op::kIn ? rc : lc;
      if (one.empty()) return -1;
      if (one.size() > 1) return Error(n, "membership test needs a single item");
      for (const Item& i : many) {
        if (ItemEquals(one[0], i) == 1) return 1;
      }
      return 0;
    }
    default: {  // < <= > >=
      if (lc.empty() || rc.empty()) return -1;
      if (lc.size() > 1 || rc.size() > 1) return Error(n, "comparison needs single items");
      if (ValueLess(lc[0]) || ValueLess(rc[0])) return -1;  // no value: empty
      int c;
      bool empty;
      if (!ItemCompare(lc[0], rc[0], &c, &empty)) {
        return Error(n, "cannot compare " + ItemToString(lc[0]) + " with " + ItemToString(rc[0]));
      }
      if (empty) return -1;
      return (op == Op::kLt   ? c < 0
              : op == Op::kLe ? c <= 0
              : op == Op::kGt ? c > 0
                              : c >= 0)
                 ? 1
                 : 0;
    }
  }
}

// `is` (http://hl7.org/fhirpath/N1/#is-type-specifier).
Result<int> Evaluator::TypeTest(const Node& n, const Frame& f) {
  Scratch storage(pool_);
  ASSIGN_OR_RETURN(Items in, Operand(*n.target, f, storage.get()));
  if (in.empty()) return -1;
  if (in.size() > 1)
    return Error(n, "'is' needs a single item, found " + std::to_string(in.size()));
  return IsType(in[0], n.type) ? 1 : 0;
}

Result<int> Evaluator::Condition(const Node& criteria, const Frame& f, const Node& caller) {
  if (criteria.kind == NodeKind::kBinary && IsLogical(criteria.op)) return Logical(criteria, f);
  if (criteria.kind == NodeKind::kBinary && IsComparison(criteria.op)) {
    return Comparison(criteria, f);
  }
  if (criteria.kind == NodeKind::kTypeOp && criteria.op == Op::kIs) return TypeTest(criteria, f);
  if (criteria.kind == NodeKind::kFunction && criteria.args.empty() &&
      (criteria.fn == Fn::kExists || criteria.fn == Fn::kEmpty)) {
    Scratch storage(pool_);
    Items in = f.focus;
    if (criteria.target != nullptr) {
      ASSIGN_OR_RETURN(in, Operand(*criteria.target, f, storage.get()));
    }
    return (criteria.fn == Fn::kExists) != in.empty() ? 1 : 0;
  }
  ASSIGN_OR_RETURN(Collection c, Eval(criteria, f));
  return BoolOf(*this, caller, c);
}

Result<int> Evaluator::ConditionOn(const Node& criteria, const Item& item, int64_t index,
                                   const Frame& outer, const Node& caller) {
  Frame f{Items(&item, 1), index, outer.total};
  return Condition(criteria, f, caller);
}

}  // namespace internal

namespace {

// Sets what non-strict evaluation changes in the tree (Node::as_filters).
void MarkNonStrict(internal::Node* n) {
  if (n->kind == internal::NodeKind::kTypeOp && n->op == internal::Op::kAs) n->as_filters = true;
  if (n->target != nullptr) MarkNonStrict(n->target.get());
  for (auto& a : n->args) MarkNonStrict(a.get());
}

}  // namespace

Item ResourceItem(const json::Value& resource) {
  return internal::MakeNode(&resource, nullptr, "", nullptr);
}

Result<Expression> Expression::Compile(std::string_view text, const CompileOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<internal::Node> root,
                   internal::Parse(text, options.extensions.get()));
  RETURN_IF_ERROR(internal::Check(*root, options));
  if (options.mode == Mode::kNonStrict) MarkNonStrict(root.get());
  Expression e;
  e.text_ = std::string(text);
  e.root_ = std::shared_ptr<const internal::Node>(std::move(root));
  e.extensions_ = options.extensions;
  return e;
}

namespace {

Result<Collection> EvaluateOn(const internal::Node& root, internal::Items context,
                              const json::Value* root_resource, const Environment& env) {
  internal::Evaluator ev(env, context, root_resource);
  internal::Frame f{context, -1, nullptr};
  Collection out;
  RETURN_IF_ERROR(ev.EvalInto(root, f, &out));
  return out;
}

}  // namespace

Result<Collection> Expression::Evaluate(const json::Value& resource, const Environment& env) const {
  const Item context = ResourceItem(resource);  // on the stack: no collection to allocate
  return EvaluateOn(*root_, internal::Items(&context, 1), &resource, env);
}

Result<Collection> Expression::Evaluate(const Collection& context, const json::Value* root_resource,
                                        const Environment& env) const {
  return EvaluateOn(*root_, context, root_resource, env);
}

Status Expression::EvaluateInto(std::span<const Item> context, const json::Value* root_resource,
                                const Environment& env, Collection* out) const {
  internal::Evaluator ev(env, context, root_resource);
  internal::Frame f{context, -1, nullptr};
  return ev.EvalInto(*root_, f, out);
}

}  // namespace vesta::fhirpath
