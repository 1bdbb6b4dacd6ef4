// Navigation, types, equality, ordering, date and quantity arithmetic for the evaluator.
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>

#include "fhir/fhirpath/eval.h"
#include "fhir/fhirpath/model_index.h"
#include "fhir/model/model.h"
#include "fhir/ucum.h"
#include "json/writer.h"

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

// The `_name` member of `obj` (a primitive's id/extension part), found without building "_name".
const json::Value* FindExtensionPart(const json::Value* obj, std::string_view name) {
  for (const json::Member& m : obj->members()) {
    if (m.key.size() == name.size() + 1 && m.key[0] == '_' && m.key.substr(1) == name) {
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
      if (m.key == name) *value = &m.value;
    } else if (m.key.size() == name.size() + 1 && m.key[0] == '_' && m.key.substr(1) == name) {
      *ext = &m.value;
    }
  }
}

}  // namespace

void Member(const Item& item, std::string_view name, Collection* out) {
  if (!item.is_node()) return;
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
    for (const json::Member& m : obj->members()) {
      if (m.key.size() <= name.size() || m.key.substr(0, name.size()) != name) continue;
      MemberType mt = names.MatchMember(m.key);
      if (mt.element != e.element) continue;
      AddValues(&m.value, FindExtensionPart(obj, m.key), mt.type_name, mt.structure, out);
    }
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

const char* const kSystemTypes[] = {"Boolean",  "Integer", "Decimal",  "String", "Date",
                                    "DateTime", "Time",    "Quantity", "Any"};

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

// ---------------------------------------------------------------------------------------------
// Decimal arithmetic.

namespace {
constexpr __int128 kLimit = static_cast<__int128>(1) << 122;

bool Align(const Decimal& a, const Decimal& b, Decimal* x, Decimal* y) {
  int s = std::max(a.scale, b.scale);
  return a.Rescale(s, x) && b.Rescale(s, y);
}
}  // namespace

bool DecimalAdd(const Decimal& a, const Decimal& b, Decimal* out) {
  Decimal x, y;
  if (!Align(a, b, &x, &y)) return false;
  out->mantissa = x.mantissa + y.mantissa;
  out->scale = x.scale;
  return out->mantissa < kLimit && out->mantissa > -kLimit;
}

bool DecimalSub(const Decimal& a, const Decimal& b, Decimal* out) {
  Decimal nb = b;
  nb.mantissa = -nb.mantissa;
  return DecimalAdd(a, nb, out);
}

bool DecimalMul(const Decimal& a, const Decimal& b, Decimal* out) {
  Decimal x = a.Normalized(), y = b.Normalized();
  __int128 r;
  if (__builtin_mul_overflow(x.mantissa, y.mantissa, &r)) return false;
  Decimal d{r, x.scale + y.scale};
  if (d.scale > 30) {
    if (!d.Rescale(30, &d)) return false;
  }
  *out = d;
  return true;
}

// Division to 8 decimal places beyond the operands, trailing zeros dropped
// (http://hl7.org/fhirpath/N1/#division: the result is a Decimal).
bool DecimalDiv(const Decimal& a, const Decimal& b, Decimal* out) {
  if (b.mantissa == 0) return false;
  Decimal x = a.Normalized(), y = b.Normalized();
  // result = x.m / y.m * 10^(y.s - x.s); compute with 8 extra digits.
  const int kDigits = 8;
  int shift = kDigits + std::max(0, x.scale - y.scale);
  __int128 num = x.mantissa;
  for (int i = 0; i < shift + (y.scale - x.scale) && i < 60; ++i) {
    if (num > kLimit / 10 || num < -kLimit / 10) return false;
    num *= 10;
  }
  int scale = shift;
  // Handle y.scale - x.scale possibly negative (shift includes it).
  if (shift + (y.scale - x.scale) < 0) return false;
  __int128 q = num / y.mantissa, r = num % y.mantissa;
  if (r < 0) r = -r;
  __int128 ay = y.mantissa < 0 ? -y.mantissa : y.mantissa;
  if (2 * r >= ay) q += ((num < 0) != (y.mantissa < 0)) ? -1 : 1;
  *out = Decimal{q, scale}.Normalized();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Dates and times: http://hl7.org/fhirpath/N1/#datetime-arithmetic and #comparison.

namespace {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yy + (*m <= 2));
}

int MonthDays(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[(m - 1 + 12) % 12];
}

int64_t ToMillis(const Temporal& t) {
  int64_t days = t.kind == TemporalKind::kTime ? 0 : DaysFromCivil(t.year, t.month, t.day);
  return ((days * 24 + t.hour) * 60 + t.minute) * 60000 + t.second * 1000 + t.millisecond;
}

void FromMillis(int64_t ms, Temporal* t) {
  int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  int64_t rem = ms - days * 86400000;
  if (t->kind != TemporalKind::kTime) CivilFromDays(days, &t->year, &t->month, &t->day);
  t->hour = static_cast<int>(rem / 3600000);
  t->minute = static_cast<int>(rem / 60000 % 60);
  t->second = static_cast<int>(rem / 1000 % 60);
  t->millisecond = static_cast<int>(rem % 1000);
}

// Fields compared in order; seconds and milliseconds are one precision
// (http://hl7.org/fhirpath/N1/#comparison).
void Fields(const Temporal& t, int64_t f[6]) {
  Temporal u = t;
  if (t.has_timezone && t.tz_minutes != 0 && t.kind != TemporalKind::kTime &&
      t.precision >= Precision::kHour) {
    FromMillis(ToMillis(t) - static_cast<int64_t>(t.tz_minutes) * 60000, &u);
  }
  f[0] = u.year;
  f[1] = u.month;
  f[2] = u.day;
  f[3] = u.hour;
  f[4] = u.minute;
  f[5] = u.second * 1000 + u.millisecond;
}

int Level(const Temporal& t) {
  int p = static_cast<int>(t.precision);
  return std::min(p, static_cast<int>(Precision::kSecond));
}

}  // namespace

std::optional<int> CompareTemporal(const Temporal& a, const Temporal& b) {
  int64_t fa[6], fb[6];
  Fields(a, fa);
  Fields(b, fb);
  int la = Level(a), lb = Level(b);
  int start = 0;
  if (a.kind == TemporalKind::kTime) {
    start = 3;
  }
  int common = std::min(la, lb);
  // One side with a timezone and the other without: the order is unknown past the date
  // (http://hl7.org/fhirpath/N1/#comparison).
  if (a.kind != TemporalKind::kTime && common >= 3 && a.has_timezone != b.has_timezone) {
    for (int i = 0; i < 3; ++i) {
      if (fa[i] != fb[i]) return fa[i] < fb[i] ? -1 : 1;
    }
    return std::nullopt;
  }
  for (int i = start; i <= common; ++i) {
    if (fa[i] != fb[i]) return fa[i] < fb[i] ? -1 : 1;
  }
  if (la != lb) return std::nullopt;
  return 0;
}

bool IsCalendarKeyword(std::string_view u) {
  static const char* kUnits[] = {
      "year", "years", "month",  "months",  "week",   "weeks",   "day",         "days",
      "hour", "hours", "minute", "minutes", "second", "seconds", "millisecond", "milliseconds"};
  for (const char* k : kUnits) {
    if (u == k) return true;
  }
  return false;
}

std::string_view CalendarToUcum(std::string_view u) {
  if (u == "year" || u == "years") return "a";
  if (u == "month" || u == "months") return "mo";
  if (u == "week" || u == "weeks") return "wk";
  if (u == "day" || u == "days") return "d";
  if (u == "hour" || u == "hours") return "h";
  if (u == "minute" || u == "minutes") return "min";
  if (u == "second" || u == "seconds") return "s";
  if (u == "millisecond" || u == "milliseconds") return "ms";
  return u;
}

bool AddDuration(const Temporal& t, const Quantity& q, int sign, Temporal* out) {
  std::string_view u = q.unit;
  // Years and months only as calendar durations; UCUM 'a' and 'mo' are not calendar-exact.
  // Only whole calendar units are added (http://hl7.org/fhirpath/N1/#datetime-arithmetic).
  double dv = std::trunc(q.value.ToDouble()) * sign;
  if (!(std::fabs(dv) < 1e9)) return false;  // far outside the years a date can hold
  Temporal r = t;
  if (u == "year" || u == "years" || u == "month" || u == "months") {
    int64_t n = static_cast<int64_t>(std::trunc(dv));
    bool years = u[0] == 'y';
    if (t.kind == TemporalKind::kTime) return false;
    int64_t total = static_cast<int64_t>(r.year) * 12 + (r.month - 1) + (years ? n * 12 : n);
    if (!years && t.precision < Precision::kMonth) {
      // A year-precision date: whole years only.
      total = static_cast<int64_t>(r.year) * 12 + (r.month - 1) + (n / 12) * 12;
    }
    r.year = static_cast<int>(total >= 0 ? total / 12 : (total - 11) / 12);
    r.month = static_cast<int>(total - static_cast<int64_t>(r.year) * 12) + 1;
    if (r.year < 1 || r.year > 9999) return false;
    r.day = std::min(r.day, MonthDays(r.year, r.month));
    *out = r;
    return true;
  }
  int64_t unit_ms;
  std::string_view c = CalendarToUcum(u);
  if (c == "wk")
    unit_ms = 7 * 86400000LL;
  else if (c == "d")
    unit_ms = 86400000LL;
  else if (c == "h")
    unit_ms = 3600000LL;
  else if (c == "min")
    unit_ms = 60000LL;
  else if (c == "s")
    unit_ms = 1000LL;
  else if (c == "ms")
    unit_ms = 1LL;
  else
    return false;
  int64_t prec_ms;
  switch (t.precision) {
    case Precision::kYear:
    case Precision::kMonth:
      prec_ms = -1;
      break;
    case Precision::kDay:
      prec_ms = 86400000LL;
      break;
    case Precision::kHour:
      prec_ms = 3600000LL;
      break;
    case Precision::kMinute:
      prec_ms = 60000LL;
      break;
    case Precision::kSecond:
      prec_ms = 1000LL;
      break;
    default:
      prec_ms = 1;
      break;
  }
  if (t.kind == TemporalKind::kTime && unit_ms >= 86400000LL) return false;
  double delta = dv * static_cast<double>(unit_ms);
  if (std::fabs(delta) > 1e15) return false;
  if (prec_ms < 0) {
    // Year/month precision: only whole years (as days / 365) could apply; leave unchanged for
    // smaller spans.
    *out = r;
    return true;
  }
  int64_t d = static_cast<int64_t>(std::trunc(delta / static_cast<double>(prec_ms))) * prec_ms;
  int64_t ms = ToMillis(t) + d;
  if (t.kind == TemporalKind::kTime) ms = ((ms % 86400000LL) + 86400000LL) % 86400000LL;
  FromMillis(ms, &r);
  if (t.kind != TemporalKind::kTime && (r.year < 1 || r.year > 9999)) return false;
  *out = r;
  return true;
}

// ---------------------------------------------------------------------------------------------
// UCUM units (fhir/ucum.h, shared with search). Calendar keywords map to their UCUM definite
// durations for comparisons.

namespace {

std::optional<ucum::Unit> ParseUnit(std::string_view unit) {
  return ucum::ParseUnit(CalendarToUcum(unit));
}

}  // namespace

bool QuantitiesComparable(const Quantity& a, const Quantity& b) {
  std::optional<ucum::Unit> x = ParseUnit(a.unit), y = ParseUnit(b.unit);
  return x && y && ucum::Commensurable(*x, *y);
}

bool ConvertQuantity(const Quantity& q, std::string_view unit, Quantity* out) {
  if (q.unit == unit) {
    *out = q;
    return true;
  }
  std::optional<ucum::Unit> from = ParseUnit(q.unit), to = ParseUnit(unit);
  if (!from || !to || !ucum::Commensurable(*from, *to)) return false;
  // Temperatures with offsets are not converted.
  if (from->dim(ucum::Dim::kKelvin) != 0 && q.unit != unit) return false;
  double ratio = from->factor / to->factor;
  Decimal r;
  // Exact when the ratio is a power of ten.
  double lg = std::log10(ratio);
  if (std::fabs(lg - std::round(lg)) < 1e-12 && std::fabs(lg) < 30) {
    int p = static_cast<int>(std::round(lg));
    r = q.value;
    if (p >= 0) {
      for (int i = 0; i < p; ++i) r.mantissa *= 10;
    } else {
      r.scale -= p;
    }
  } else if (!Decimal::FromDouble(q.value.ToDouble() * ratio, 12, &r)) {
    return false;
  }
  out->value = r;
  out->unit = std::string(unit);
  return true;
}

bool MultiplyQuantities(const Quantity& a, const Quantity& b, bool divide, Quantity* out) {
  std::optional<ucum::Unit> x = ParseUnit(a.unit), y = ParseUnit(b.unit);
  if (!x || !y) return false;
  ucum::Unit r;
  for (int d = 0; d < ucum::kDims; ++d) {
    r.dims[d] = x->dims[d] + (divide ? -y->dims[d] : y->dims[d]);
  }
  Decimal xa, yb;
  // Values in base units.
  if (!Decimal::FromDouble(a.value.ToDouble() * x->factor, 12, &xa) ||
      !Decimal::FromDouble(b.value.ToDouble() * y->factor, 12, &yb)) {
    return false;
  }
  Decimal v;
  if (divide ? !DecimalDiv(xa, yb, &v) : !DecimalMul(xa, yb, &v)) return false;
  out->value = v;
  out->unit = ucum::CanonicalCode(r);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Equality, equivalence, ordering: http://hl7.org/fhirpath/N1/#equality,
// http://hl7.org/fhirpath/N1/#comparison.

namespace {

bool IsNumber(const Item& i) {
  return i.kind == ItemKind::kInteger || i.kind == ItemKind::kDecimal;
}

bool ObjectNode(const Item& i) { return i.is_node() && i.node && i.node->is_object(); }

Decimal AsDecimal(const Item& i) {
  return i.kind == ItemKind::kInteger ? Decimal::FromInt(i.as_int()) : i.as_decimal();
}

bool IsTemporal(const Item& i) {
  return i.kind == ItemKind::kDate || i.kind == ItemKind::kDateTime || i.kind == ItemKind::kTime;
}

std::string NormalizeSpace(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Comparison of quantities after unit conversion: nullopt when not comparable.
std::optional<int> CompareQuantity(const Quantity& a, const Quantity& b) {
  Quantity bb;
  Quantity aa = a;
  aa.unit = std::string(CalendarToUcum(a.unit));
  Quantity bn = b;
  bn.unit = std::string(CalendarToUcum(b.unit));
  if (!ConvertQuantity(bn, aa.unit, &bb)) return std::nullopt;
  return Compare(aa.value, bb.value);
}

}  // namespace

// FHIR primitive types whose System value is a String: their JSON text compares directly.
bool StringLikeNode(const Item& i) {
  if (!i.is_node() || i.node == nullptr || !i.node->is_string()) return false;
  std::string_view t = i.fhir_type;
  if (t.empty()) return true;
  switch (t[0]) {  // the primitive types whose JSON strings are not String values
    case 'd':
      return t != "date" && t != "dateTime" && t != "decimal";
    case 'i':
      return t != "instant";
    case 't':
      return t != "time";
    default:
      return IsPrimitiveTypeName(t);
  }
}

size_t ItemHash(const Item& i) {
  std::hash<std::string_view> h;
  if (StringLikeNode(i)) return h(i.node->string_value());
  if (i.kind == ItemKind::kString) return h(i.as_string());
  if (ObjectNode(i)) {
    if (i.fhir_type == "Quantity") return 7;
    size_t r = i.node->size();
    for (const json::Member& m : i.node->members()) r += h(m.key);
    return r;
  }
  Item x;
  if (!ToSystem(i, &x)) return 0;
  switch (x.kind) {
    case ItemKind::kBoolean:
      return x.as_bool() ? 11 : 13;
    case ItemKind::kInteger:
      return std::hash<int64_t>()(x.as_int());
    case ItemKind::kDecimal: {
      Decimal d = x.as_decimal().Normalized();
      if (d.scale == 0 && d.mantissa < INT64_MAX && d.mantissa > INT64_MIN) {
        return std::hash<int64_t>()(static_cast<int64_t>(d.mantissa));
      }
      return std::hash<double>()(d.ToDouble());
    }
    case ItemKind::kString:
      return h(x.as_string());
    default:
      return 7;
  }
}

UniqueCollector::UniqueCollector(Collection* out) : out_(out) {
  slots_.assign(16, 0);
  hashes_.reserve(out->size());
  for (const Item& i : *out) hashes_.push_back(ItemHash(i));
  while (slots_.size() < 2 * hashes_.size()) slots_.resize(slots_.size() * 2);
  Grow();  // places the existing items
}

size_t UniqueCollector::Find(const Item& item, size_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t k = hash & mask;; k = (k + 1) & mask) {
    const uint32_t s = slots_[k];
    if (s == 0) return k;
    if (hashes_[s - 1] == hash && ItemEquals((*out_)[s - 1], item) == 1) return k;
  }
}

void UniqueCollector::Grow() {
  if (2 * (hashes_.size() + 1) > slots_.size()) slots_.resize(slots_.size() * 2);
  std::fill(slots_.begin(), slots_.end(), 0);
  const size_t mask = slots_.size() - 1;
  for (size_t i = 0; i < hashes_.size(); ++i) {
    size_t k = hashes_[i] & mask;
    while (slots_[k] != 0) k = (k + 1) & mask;
    slots_[k] = static_cast<uint32_t>(i + 1);
  }
}

bool UniqueCollector::Add(const Item& item) {
  const size_t h = ItemHash(item);
  size_t k = Find(item, h);
  if (slots_[k] != 0) return false;
  out_->push_back(item);
  hashes_.push_back(h);
  if (2 * hashes_.size() > slots_.size()) {
    Grow();
  } else {
    slots_[k] = static_cast<uint32_t>(hashes_.size());
  }
  return true;
}

bool UniqueCollector::Contains(const Item& item) const {
  return slots_[Find(item, ItemHash(item))] != 0;
}

void DistinctAppender::Add(const Item& item) {
  if (set_) {
    set_->Add(item);
    return;
  }
  for (const Item& x : *out_) {
    if (ItemEquals(x, item) == 1) return;
  }
  out_->push_back(item);
  if (out_->size() > kScanLimit) set_.emplace(out_);
}

Collection Union(Collection a, std::span<const Item> b) {
  if (b.empty() && a.size() <= 1) return a;
  Collection out;
  out.reserve(a.size() + b.size());
  DistinctAppender distinct(&out);
  for (const Item& x : a) distinct.Add(x);
  for (const Item& x : b) distinct.Add(x);
  return out;
}

int ItemEquals(const Item& a, const Item& b) {
  if (StringLikeNode(a)) {
    if (StringLikeNode(b)) return a.node->string_value() == b.node->string_value() ? 1 : 0;
    if (b.kind == ItemKind::kString) return a.node->string_value() == b.as_string() ? 1 : 0;
  } else if (a.kind == ItemKind::kString && StringLikeNode(b)) {
    return b.node->string_value() == a.as_string() ? 1 : 0;
  }
  if (ObjectNode(a) && ObjectNode(b)) {
    bool qa = a.fhir_type == "Quantity", qb = b.fhir_type == "Quantity";
    if (!(qa && qb)) return json::Equal(*a.node, *b.node) ? 1 : 0;
  }
  Item x, y;
  if (!ToSystem(a, &x) || !ToSystem(b, &y)) {
    if (a.is_node() && b.is_node() && a.node && b.node) return json::Equal(*a.node, *b.node);
    return 0;
  }
  if (IsNumber(x) && IsNumber(y)) return Compare(AsDecimal(x), AsDecimal(y)) == 0 ? 1 : 0;
  if (x.kind == ItemKind::kString && y.kind == ItemKind::kString) {
    return x.as_string() == y.as_string() ? 1 : 0;
  }
  if (x.kind == ItemKind::kBoolean && y.kind == ItemKind::kBoolean) {
    return x.as_bool() == y.as_bool() ? 1 : 0;
  }
  if (IsTemporal(x) && IsTemporal(y)) {
    if ((x.kind == ItemKind::kTime) != (y.kind == ItemKind::kTime)) return 0;
    std::optional<int> c = CompareTemporal(x.as_temporal(), y.as_temporal());
    if (!c) return -1;
    return *c == 0 ? 1 : 0;
  }
  if (x.kind == ItemKind::kQuantity && y.kind == ItemKind::kQuantity) {
    const Quantity& qa = x.as_quantity();
    const Quantity& qb = y.as_quantity();
    // Calendar durations above weeks are not equal to UCUM definite durations
    // (http://hl7.org/fhirpath/N1/#time-valued-quantities).
    bool ca = IsCalendarKeyword(qa.unit), cb = IsCalendarKeyword(qb.unit);
    if (ca != cb) {
      std::string_view u = ca ? CalendarToUcum(qa.unit) : CalendarToUcum(qb.unit);
      if (u == "a" || u == "mo") return -1;
    }
    std::optional<int> c = CompareQuantity(qa, qb);
    if (!c) return -1;
    return *c == 0 ? 1 : 0;
  }
  return 0;
}

bool ItemEquivalent(const Item& a, const Item& b) {
  if (ObjectNode(a) && ObjectNode(b) && !(a.fhir_type == "Quantity" && b.fhir_type == "Quantity")) {
    return json::Equal(*a.node, *b.node);
  }
  Item x, y;
  if (!ToSystem(a, &x) || !ToSystem(b, &y)) return false;
  if (IsNumber(x) && IsNumber(y)) {
    Decimal da = AsDecimal(x), db = AsDecimal(y);
    int s = std::min(da.scale, db.scale);
    s = std::max(s, 0);
    Decimal ra, rb;
    if (!da.Rescale(s, &ra) || !db.Rescale(s, &rb)) return false;
    return Compare(ra, rb) == 0;
  }
  if (x.kind == ItemKind::kString && y.kind == ItemKind::kString) {
    return NormalizeSpace(x.as_string()) == NormalizeSpace(y.as_string());
  }
  if (x.kind == ItemKind::kBoolean && y.kind == ItemKind::kBoolean) {
    return x.as_bool() == y.as_bool();
  }
  if (IsTemporal(x) && IsTemporal(y)) {
    if ((x.kind == ItemKind::kTime) != (y.kind == ItemKind::kTime)) return false;
    std::optional<int> c = CompareTemporal(x.as_temporal(), y.as_temporal());
    return c && *c == 0;
  }
  if (x.kind == ItemKind::kQuantity && y.kind == ItemKind::kQuantity) {
    Quantity qa = x.as_quantity(), qb = y.as_quantity();
    qa.unit = std::string(CalendarToUcum(qa.unit));
    qb.unit = std::string(CalendarToUcum(qb.unit));
    Quantity cb;
    if (!ConvertQuantity(qb, qa.unit, &cb)) return false;
    int s = std::min(qa.value.scale, qb.value.scale);
    s = std::max(s, 0);
    Decimal ra, rb;
    if (!qa.value.Rescale(s, &ra) || !cb.value.Rescale(s, &rb)) return false;
    return Compare(ra, rb) == 0;
  }
  return false;
}

bool ItemCompare(const Item& a, const Item& b, int* cmp, bool* empty) {
  *empty = false;
  if (a.kind == ItemKind::kInteger && b.kind == ItemKind::kInteger) {  // `length() > 20`
    *cmp = a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    return true;
  }
  Item x, y;
  if (!ToSystem(a, &x) || !ToSystem(b, &y)) return false;
  if (IsNumber(x) && IsNumber(y)) {
    *cmp = Compare(AsDecimal(x), AsDecimal(y));
    return true;
  }
  if (x.kind == ItemKind::kString && y.kind == ItemKind::kString) {
    int c = x.as_string().compare(y.as_string());
    *cmp = c < 0 ? -1 : c > 0 ? 1 : 0;
    return true;
  }
  if (IsTemporal(x) && IsTemporal(y)) {
    if ((x.kind == ItemKind::kTime) != (y.kind == ItemKind::kTime)) return false;
    std::optional<int> c = CompareTemporal(x.as_temporal(), y.as_temporal());
    if (!c) {
      *empty = true;
      return true;
    }
    *cmp = *c;
    return true;
  }
  if (x.kind == ItemKind::kQuantity && y.kind == ItemKind::kQuantity) {
    std::optional<int> c = CompareQuantity(x.as_quantity(), y.as_quantity());
    if (!c) {
      *empty = true;
      return true;
    }
    *cmp = *c;
    return true;
  }
  return false;
}

std::optional<bool> CollectionEquals(Items a, Items b) {
  if (a.empty() || b.empty()) return std::nullopt;
  if (a.size() != b.size()) return false;
  bool unknown = false;
  for (size_t i = 0; i < a.size(); ++i) {
    int e = ItemEquals(a[i], b[i]);
    if (e == 0) return false;
    if (e < 0) unknown = true;
  }
  if (unknown) return std::nullopt;
  return true;
}

bool CollectionEquivalent(Items a, Items b) {
  if (a.size() != b.size()) return false;
  std::vector<bool> used(b.size(), false);
  for (const Item& x : a) {
    bool found = false;
    for (size_t j = 0; j < b.size(); ++j) {
      if (!used[j] && ItemEquivalent(x, b[j])) {
        used[j] = true;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

bool StringOf(const Item& item, std::string_view* out) {
  if (item.kind == ItemKind::kString) {
    *out = item.as_string();
    return true;
  }
  if (item.is_node() && item.node && item.node->is_string()) {
    std::string_view t = item.fhir_type;
    if (!t.empty() && !std::islower(static_cast<unsigned char>(t[0]))) return false;
    *out = item.node->string_value();
    return true;
  }
  return false;
}

}  // namespace vesta::fhirpath::internal
