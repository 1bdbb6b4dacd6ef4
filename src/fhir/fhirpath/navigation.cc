// Navigation and types for the evaluator: http://hl7.org/fhirpath/N1/#path-selection,
// http://hl7.org/fhirpath/N1/#types-and-reflection.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "fhir/fhirpath/eval.h"
#include "fhir/fhirpath/model_index.h"
#include "fhir/model/model.h"

namespace vesta::fhirpath::internal {

const fhir::Model& R4() { return fhir::Model::R4(); }

namespace {

const ModelIndex& Index() { return ModelIndex::R4(); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Navigation: http://hl7.org/fhirpath/N1/#path-selection and
// https://hl7.org/fhir/R4/fhirpath.html#polymorphism (choice elements),
// https://hl7.org/fhir/R4/json.html#primitive (the `_name` part of primitives).

namespace {

bool IsObject(const json::Value* v) { return v != nullptr && v->is_object(); }

// Settles the type of a node as MakeNode does: a resource names its own in resourceType (an
// element of type Resource, a Bundle's entry, a contained resource), and a complex type's
// structure is looked up when the caller does not have it.
void SettleType(const json::Value* v, std::string_view* type, const fhir::StructInfo** structure) {
  if (!IsObject(v)) return;
  if (type->empty() || *type == "Resource" || *type == "DomainResource") {
    std::string_view rt = v->FindString("resourceType");
    if (!rt.empty()) {
      if (const fhir::StructInfo* s = Index().FindStruct(rt)) {
        *structure = s;
        *type = s->name;
      }
    }
  }
  if (*structure == nullptr && !type->empty()) *structure = Index().FindStruct(*type);
}

// Appends a node item, built in place (a walk appends many).
void AppendNode(const json::Value* v, const json::Value* ext, std::string_view type,
                const fhir::StructInfo* structure, Collection* out) {
  Item& it = out->emplace_back();
  it.node = v;
  it.extension_part = ext;
  it.fhir_type = type;
  it.structure = structure;
}

const fhir::StructInfo* ExtensionStruct() {
  static const fhir::StructInfo* const extension = Index().FindStruct("Extension");
  return extension;
}

}  // namespace

Item MakeNode(const json::Value* v, const json::Value* ext, std::string_view type,
              const fhir::StructInfo* structure) {
  SettleType(v, &type, &structure);
  Item it;
  it.node = v;
  it.extension_part = ext;
  it.fhir_type = type;
  it.structure = structure;
  return it;
}

namespace {

// Passes the nodes of JSON value `v` and of its `_name` part `ext` (arrays give one node per
// entry) to `sink(node, ext, type, structure)`, their types settled as by MakeNode.
template <typename Sink>
void ForEachValue(const json::Value* v, const json::Value* ext, std::string_view type,
                  const fhir::StructInfo* st, Sink&& sink) {
  auto emit = [&](const json::Value* vi, const json::Value* ei) {
    std::string_view t = type;
    const fhir::StructInfo* s = st;
    SettleType(vi, &t, &s);
    sink(vi, ei, t, s);
  };
  if (v != nullptr && v->is_null()) v = nullptr;
  if (ext != nullptr && ext->is_null()) ext = nullptr;
  if (v == nullptr && ext == nullptr) return;
  if ((v && v->is_array()) || (ext && ext->is_array())) {
    size_t n =
        std::max(v && v->is_array() ? v->size() : 0, ext && ext->is_array() ? ext->size() : 0);
    for (size_t i = 0; i < n; ++i) {
      const json::Value* vi = v && v->is_array() && i < v->size() ? &v->items()[i] : nullptr;
      const json::Value* ei =
          ext && ext->is_array() && i < ext->size() ? &ext->items()[i] : nullptr;
      if (vi && vi->is_null()) vi = nullptr;
      if (ei && ei->is_null()) ei = nullptr;
      if (vi == nullptr && ei == nullptr) continue;
      emit(vi, ei);
    }
    return;
  }
  emit(v, ext);
}

void AddValues(const json::Value* v, const json::Value* ext, std::string_view type,
               const fhir::StructInfo* st, Collection* out) {
  ForEachValue(v, ext, type, st,
               [out](const json::Value* vi, const json::Value* ei, std::string_view t,
                     const fhir::StructInfo* s) { AppendNode(vi, ei, t, s, out); });
}

// Whether `key` is `name` (the first bytes compared before the call to compare the rest: most
// keys of an object differ from the name in their first byte).
bool SameName(std::string_view key, std::string_view name) {
  return key.size() == name.size() && (key.empty() || key[0] == name[0]) && key == name;
}

// Whether some member of `obj` is a primitive's `_name` part.
bool HasExtensionParts(const json::Value* obj) {
  for (const json::Member& m : obj->members()) {
    if (!m.key.empty() && m.key[0] == '_') return true;
  }
  return false;
}

// The `_name` member of `obj` (a primitive's id/extension part), found without building "_name".
const json::Value* FindExtensionPart(const json::Value* obj, std::string_view name) {
  for (const json::Member& m : obj->members()) {
    if (m.key.size() == name.size() + 1 && m.key[0] == '_' && SameName(m.key.substr(1), name)) {
      return &m.value;
    }
  }
  return nullptr;
}

// The members `name` and `_name` of `obj`, in one pass.
void FindWithExtensionPart(const json::Value* obj, std::string_view name, const json::Value** value,
                           const json::Value** ext) {
  *value = *ext = nullptr;
  for (const json::Member& m : obj->members()) {
    if (m.key.size() == name.size()) {
      if (SameName(m.key, name)) *value = &m.value;
    } else if (m.key.size() == name.size() + 1 && m.key[0] == '_' &&
               SameName(m.key.substr(1), name)) {
      *ext = &m.value;
    }
  }
}

}  // namespace

void Member(const Item& item, std::string_view name, Collection* out) {
  if (!item.is_node()) {
    // A System Quantity has the elements value and unit
    // (https://build.fhir.org/ig/HL7/FHIRPath/#quantity: "a value ... and a unit"), as a FHIR
    // Quantity does: (9.16 'g' * 8.22).value.
    if (item.kind == ItemKind::kQuantity) {
      if (name == "value") out->push_back(Item::Dec(item.as_quantity().value));
      if (name == "unit") out->push_back(Item::String(item.as_quantity().unit));
    }
    return;
  }
  const json::Value* obj = item.node;
  if (!IsObject(obj)) {
    // A primitive: only its `_name` part has children (id, extension).
    if (IsObject(item.extension_part)) {
      if (name == "extension") {
        AddValues(item.extension_part->Find(name), nullptr, ExtensionStruct()->name,
                  ExtensionStruct(), out);
      } else if (name == "id") {
        AddValues(item.extension_part->Find(name), nullptr, "string", nullptr, out);
      }
    }
    return;
  }
  const json::Value* value;
  const json::Value* ext;
  const fhir::StructInfo* st = item.structure;
  if (st == nullptr) {
    FindWithExtensionPart(obj, name, &value, &ext);
    AddValues(value, ext, "", nullptr, out);
    return;
  }
  const ModelIndex::Names names = Index().NamesOf(st);
  const ElementName e = names.FindElement(name);
  if (e.element == nullptr) {
    // Not in the model: fall back to the raw JSON (untyped).
    FindWithExtensionPart(obj, name, &value, &ext);
    AddValues(value, ext, "", nullptr, out);
    return;
  }
  if (e.is_choice) {
    const bool has_parts = HasExtensionParts(obj);
    for (const json::Member& m : obj->members()) {
      if (m.key.size() <= name.size() || (!name.empty() && m.key[0] != name[0]) ||
          m.key.substr(0, name.size()) != name) {
        continue;
      }
      MemberType mt = names.MatchMember(m.key);
      if (mt.element != e.element) continue;
      AddValues(&m.value, has_parts ? FindExtensionPart(obj, m.key) : nullptr, mt.type_name,
                mt.structure, out);
    }
    if (!has_parts) return;
    // A primitive choice that only has its `_name` part.
    for (const json::Member& m : obj->members()) {
      if (m.key.size() <= name.size() + 1 || m.key[0] != '_' ||
          m.key.substr(1, name.size()) != name) {
        continue;
      }
      if (obj->Find(m.key.substr(1)) != nullptr) continue;
      MemberType mt = names.MatchMember(m.key.substr(1));
      if (mt.element != e.element) continue;
      AddValues(nullptr, &m.value, mt.type_name, nullptr, out);
    }
    return;
  }
  if (e.is_primitive) {
    FindWithExtensionPart(obj, name, &value, &ext);
  } else {
    value = obj->Find(name);
    ext = nullptr;
  }
  AddValues(value, ext, e.member.type_name, e.member.structure, out);
}

namespace {

// Passes each child node of a node (its JSON, `_name` part and structure) to
// `sink(node, ext, type, structure)` (children()).
template <typename Sink>
void ForEachChild(const json::Value* obj, const json::Value* ext, const fhir::StructInfo* st,
                  Sink&& sink) {
  if (!IsObject(obj)) {
    if (IsObject(ext)) {
      ForEachValue(ext->Find("id"), nullptr, "string", nullptr, sink);
      ForEachValue(ext->Find("extension"), nullptr, ExtensionStruct()->name, ExtensionStruct(),
                   sink);
    }
    return;
  }
  const ModelIndex::Names names = Index().NamesOf(st);
  bool has_underscore = false;
  for (const json::Member& m : obj->members()) {
    if (!m.key.empty() && m.key[0] == '_') has_underscore = true;
  }
  for (const json::Member& m : obj->members()) {
    if (m.key == "resourceType") continue;
    if (!m.key.empty() && m.key[0] == '_') {
      // Only a `_name` without its value: the value-less primitive.
      if (obj->Find(m.key.substr(1)) != nullptr) continue;
      const MemberType mt = names.MatchMember(m.key.substr(1));
      ForEachValue(nullptr, &m.value, mt.type_name, nullptr, sink);
      continue;
    }
    const json::Value* part = has_underscore ? FindExtensionPart(obj, m.key) : nullptr;
    const MemberType mt = names.MatchMember(m.key);  // empty: untyped JSON
    ForEachValue(&m.value, part, mt.type_name, mt.structure, sink);
  }
}

// ofType() over the many nodes of a walk. IsType's answer for a node depends only on its structure
// when its type name is the structure's own name string (the walk names every node that has a
// structure so: MemberType::type_name) or the structure is a backbone (TypeOf calls every backbone
// BackboneElement). Those answers are kept per structure for the type asked, per thread: the
// model's structures live for the whole process, and one expression is typically evaluated on
// many resources in a row.
class TypeFilter {
 public:
  explicit TypeFilter(const TypeSpec& type) : type_(type), cache_(CacheFor(type)) {}

  bool Matches(const json::Value* v, const json::Value* ext, std::string_view type,
               const fhir::StructInfo* st) {
    const bool by_structure = st != nullptr && !type.empty() &&
                              ((type.data() == st->name.data() && type.size() == st->name.size()) ||
                               st->kind == fhir::TypeKind::kBackbone);
    if (!by_structure) return Compute(v, ext, type, st);
    Seen& seen = cache_.seen[(reinterpret_cast<uintptr_t>(st) >> 4) % kSize];
    if (seen.structure != st) seen = Seen{st, Compute(v, ext, type, st)};
    return seen.match;
  }

 private:
  static constexpr size_t kSize = 64;
  struct Seen {
    const fhir::StructInfo* structure = nullptr;
    bool match = false;
  };
  struct Cache {
    std::string ns, name;  // the type the answers are for
    std::array<Seen, kSize> seen{};
  };

  // The answers for `type`: a few types are kept (an expression may ask for several in turn,
  // `descendants().ofType(code) | descendants().ofType(uri)`), the oldest replaced first.
  static Cache& CacheFor(const TypeSpec& type) {
    static thread_local std::array<Cache, 4> caches;
    static thread_local size_t oldest = 0;
    for (Cache& c : caches) {
      if (c.name == type.name && c.ns == type.ns) return c;
    }
    Cache& c = caches[oldest];
    oldest = (oldest + 1) % caches.size();
    c.ns = type.ns;
    c.name = type.name;
    c.seen.fill(Seen{});
    return c;
  }

  bool Compute(const json::Value* v, const json::Value* ext, std::string_view type,
               const fhir::StructInfo* st) const {
    Item item;
    item.node = v;
    item.extension_part = ext;
    item.fhir_type = type;
    item.structure = st;
    return IsType(item, type_, TypeMatch::kExactPrimitive);
  }

  const TypeSpec& type_;
  Cache& cache_;
};

}  // namespace

void Children(const Item& item, Collection* out) {
  if (!item.is_node()) return;
  ForEachChild(item.node, item.extension_part, item.structure,
               [out](const json::Value* v, const json::Value* ext, std::string_view type,
                     const fhir::StructInfo* st) { AppendNode(v, ext, type, st, out); });
}

bool Descendants(Items input, const TypeSpec* of_type, size_t limit, Collection* out) {
  // Breadth first: the output gets every node in the order the walk meets it, which is the order
  // of a breadth-first listing of all descendants. Only objects, and primitives with an
  // id/extension part, have children.
  if (of_type == nullptr) {
    // Every node is output: the output is the queue. It is built in a buffer that keeps its
    // capacity (the walk never re-enters itself), then copied once.
    static thread_local Collection walk;
    struct Clear {
      ~Clear() { walk.clear(); }
    } clear_on_exit;
    walk.clear();
    auto visit = [](const json::Value* v, const json::Value* ext, std::string_view type,
                    const fhir::StructInfo* st) { AppendNode(v, ext, type, st, &walk); };
    for (const Item& i : input) {
      if (i.is_node()) ForEachChild(i.node, i.extension_part, i.structure, visit);
    }
    for (size_t k = 0; k < walk.size(); ++k) {
      if (walk.size() > limit) return false;
      const Item& cur = walk[k];  // copied into the call: `walk` grows during it
      if (IsObject(cur.node) || IsObject(cur.extension_part)) {
        ForEachChild(cur.node, cur.extension_part, cur.structure, visit);
      }
    }
    if (walk.size() > limit) return false;
    out->insert(out->end(), walk.begin(), walk.end());
    return true;
  }
  struct Pending {
    const json::Value* node;
    const json::Value* ext;
    const fhir::StructInfo* structure;
  };
  static thread_local std::vector<Pending> queue;  // keeps its capacity; the walk never re-enters
  struct Clear {
    ~Clear() { queue.clear(); }
  } clear_on_exit;
  queue.clear();
  TypeFilter filter(*of_type);
  size_t produced = 0;
  auto visit = [&](const json::Value* v, const json::Value* ext, std::string_view type,
                   const fhir::StructInfo* st) {
    ++produced;
    if (IsObject(v) || IsObject(ext)) queue.push_back(Pending{v, ext, st});
    if (filter.Matches(v, ext, type, st)) AppendNode(v, ext, type, st, out);
  };
  for (const Item& i : input) {
    if (i.is_node()) ForEachChild(i.node, i.extension_part, i.structure, visit);
  }
  for (size_t k = 0; k < queue.size(); ++k) {
    const Pending p = queue[k];
    ForEachChild(p.node, p.ext, p.structure, visit);
    if (produced > limit) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Types: http://hl7.org/fhirpath/N1/#types-and-reflection,
// https://hl7.org/fhir/R4/fhirpath.html#types.

namespace {

const char* const kSystemTypes[] = {"Boolean", "Integer",  "Long", "Decimal",  "String",
                                    "Date",    "DateTime", "Time", "Quantity", "Any"};

bool IsSystemType(std::string_view n) {
  for (const char* s : kSystemTypes) {
    if (n == s) return true;
  }
  return false;
}

bool IsFhirType(std::string_view n) {
  return R4().FindStruct(n) != nullptr || R4().IsPrimitiveType(n) || n == "Resource" ||
         n == "DomainResource" || n == "Element" || n == "BackboneElement";
}

std::string_view SystemName(ItemKind k) {
  switch (k) {
    case ItemKind::kBoolean:
      return "Boolean";
    case ItemKind::kInteger:
      return "Integer";
    case ItemKind::kLong:
      return "Long";
    case ItemKind::kDecimal:
      return "Decimal";
    case ItemKind::kString:
      return "String";
    case ItemKind::kDate:
      return "Date";
    case ItemKind::kDateTime:
      return "DateTime";
    case ItemKind::kTime:
      return "Time";
    case ItemKind::kQuantity:
      return "Quantity";
    case ItemKind::kNode:
      return "";
  }
  return "";
}

}  // namespace

bool KnownType(const TypeSpec& t) {
  if (t.ns == "System") return true;  // an unknown System type simply matches nothing
  if (t.ns == "FHIR") return IsFhirType(t.name);
  if (!t.ns.empty()) return false;
  return IsSystemType(t.name) || IsFhirType(t.name);
}

std::pair<std::string_view, std::string_view> TypeOf(const Item& item) {
  if (item.is_node()) {
    std::string_view t = item.fhir_type;
    if (t.empty()) {
      if (item.structure) return {"FHIR", item.structure->name};
      if (item.node && item.node->is_object()) return {"FHIR", "Element"};
      Item s;
      if (ToSystem(item, &s)) return {"System", SystemName(s.kind)};
      return {"FHIR", "Element"};
    }
    if (item.structure && item.structure->kind == fhir::TypeKind::kBackbone) {
      return {"FHIR", "BackboneElement"};
    }
    return {"FHIR", t};
  }
  return {"System", SystemName(item.kind)};
}

bool IsType(const Item& item, const TypeSpec& t, TypeMatch match) {
  auto [ns, name] = TypeOf(item);
  if (!t.ns.empty() && t.ns != ns) return false;
  if (name == t.name) return true;
  if (ns == "FHIR") {
    // as() and ofType() match primitive types exactly (a code is not cast to string), while
    // is() follows the type hierarchy; this is what the official R4 suite expects.
    if (match == TypeMatch::kExactPrimitive && IsPrimitiveTypeName(name)) return false;
    if (t.name == "Any") return true;
    // A complex type or resource never derives from a primitive type (code, uri, string, ...).
    if (!name.empty() && !IsPrimitiveTypeName(name) && IsPrimitiveTypeName(t.name)) return false;
    if (item.structure && item.structure->kind == fhir::TypeKind::kBackbone &&
        (t.name == "Element")) {
      return true;
    }
    return Index().IsA(name, t.name);
  }
  return t.name == "Any";
}

}  // namespace vesta::fhirpath::internal
