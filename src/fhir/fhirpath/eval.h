// The evaluator (internal to the engine): walks the AST over collections of items.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "fhir/fhirpath/ast.h"
#include "fhir/fhirpath/fhirpath.h"
#include "fhir/fhirpath/functions.h"

namespace vesta::fhir {
class Model;
}

namespace vesta::fhirpath::internal {

const fhir::Model& R4();

// The iteration state visible to an expression: $this (the focus), $index and $total.
// The focus is a view: iterating functions point it at one item of their input, without a copy.
using Items = std::span<const Item>;

class DistinctAppender;

// Collections that keep their capacity, lent for intermediate results (a where()'s input, an
// operand, the steps of a path) so that evaluating an expression over many resources does not
// allocate them afresh. One pool per thread (ScratchPool::ForThisThread), used by one evaluation at
// a time and by the evaluations nested in it.
class ScratchPool {
 public:
  static ScratchPool& ForThisThread();

  // An empty collection, lent until Give.
  Collection* Take() {
    if (free_.empty()) {
      owned_.push_back(std::make_unique<Collection>());
      return owned_.back().get();
    }
    Collection* c = free_.back();
    free_.pop_back();
    return c;
  }
  // Takes back a collection lent by Take, emptied (and freed when very large).
  void Give(Collection* c) {
    if (c->capacity() > kKeep) {
      Collection().swap(*c);
    } else {
      c->clear();
    }
    free_.push_back(c);
  }

 private:
  static constexpr size_t kKeep = 4096;  // items a returned collection may keep room for
  std::vector<std::unique_ptr<Collection>> owned_;
  std::vector<Collection*> free_;
};

// A collection of the pool, taken on first use and given back when the Scratch goes.
class Scratch {
 public:
  explicit Scratch(ScratchPool& pool) : pool_(pool) {}
  ~Scratch() {
    if (c_ != nullptr) pool_.Give(c_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  Collection* get() {
    if (c_ == nullptr) c_ = pool_.Take();
    return c_;
  }

 private:
  ScratchPool& pool_;
  Collection* c_ = nullptr;
};

struct Frame {
  Items focus;
  int64_t index = -1;
  const Collection* total = nullptr;
};

class Evaluator {
 public:
  Evaluator(const Environment& env, Items context, const json::Value* root)
      : env_(env), context_(context), root_(root), pool_(ScratchPool::ForThisThread()) {}

  // Evaluates `n`. Every result counts against a budget of items per evaluation, so that a
  // hostile expression (nested select() over unions, ...) ends with an error instead of
  // exhausting memory.
  Result<Collection> Eval(const Node& n, const Frame& f);
  // The same, appending the result to *out: paths, where(), ofType(), first() and the Boolean
  // operators build no collection of their own (their inputs are Scratches), so a caller that
  // keeps *out's capacity evaluates without allocating. On an error *out may hold part of the
  // result.
  Status EvalInto(const Node& n, const Frame& f, Collection* out);
  Result<Collection> CallFunction(const Node& n, Items input, const Frame& f);
  // descendants() of `input`; with `of_type`, only the items of that type (the shape
  // descendants().ofType(T), walked without building every descendant's collection first).
  Result<Collection> Descendants(const Node& n, Items input, const TypeSpec* of_type);
  Status Error(const Node& n, const std::string& what) const;

 private:
  friend class FunctionCall;
  Result<Collection> EvalNode(const Node& n, const Frame& f);
  Result<Collection> Path(const Node& n, const Frame& f);  // `n` is a kMember node
  Status PathInto(const Node& n, const Frame& f, Collection* out);
  Status EvalNodeInto(const Node& n, const Frame& f, Collection* out);
  Result<Collection> Binary(const Node& n, const Frame& f);
  // and, or, xor, implies; and the comparison operators (= != ~ !~ in contains < <= > >=):
  // -1 empty, 0 false, 1 true.
  Result<int> Logical(const Node& n, const Frame& f);
  Result<int> Comparison(const Node& n, const Frame& f);
  Result<int> TypeTest(const Node& n, const Frame& f);  // `is`
  // The singleton Boolean value of `criteria` (-1 empty, 0 false, 1 true) for where(), exists()
  // and all(): comparisons, boolean operators, `is` and exists()/empty() without the one-item
  // collection Eval would build. Errors about the value name `caller`.
  Result<int> Condition(const Node& criteria, const Frame& f, const Node& caller);
  // Condition with `item` as $this (and $index).
  Result<int> ConditionOn(const Node& criteria, const Item& item, int64_t index, const Frame& outer,
                          const Node& caller);
  // Appends the distinct items of the union chain `n` (a | b | c ...) to *out. Returns false, with
  // *error set, when evaluating an operand fails: a Status per operand costs on long chains.
  bool AddUnionTerms(const Node& n, const Frame& f, DistinctAppender* out, Status* error);
  // The value of an operand: a view of a literal's value, of the focus ($this) or of a caller's
  // variable without a copy, else the result of evaluating `n`, kept in *storage (empty on
  // entry).
  Result<Items> Operand(const Node& n, const Frame& f, Collection* storage);
  Result<Collection> Variable(const Node& n);
  // Evaluates `arg` with `item` as $this (and $index).
  Result<Collection> EvalOn(const Node& arg, const Item& item, int64_t index, const Frame& outer);

  const Environment& env_;
  Items context_;
  const json::Value* root_;
  ScratchPool& pool_;
  int depth_ = 0;
  int64_t budget_ = 20'000'000;  // items produced per evaluation
};

// --- Shared helpers (navigation.cc, equality.cc, arithmetic.cc) ---

// Whether `item` is a FHIR primitive node without a value: only its `_name` part (an id or
// extensions), as `"given": [null, "James"], "_given": [{"id": "a1"}, null]` gives for the first
// name (https://hl7.org/fhir/R4/json.html#primitive). It is a node (navigable: .id, .extension;
// counted by exists() and count()) but has no value: operators and functions that need a value
// treat it as empty.
inline bool ValueLess(const Item& item) { return item.is_node() && item.node == nullptr; }

// Integer, Long or Decimal (System values).
inline bool IsNumber(const Item& i) {
  return i.kind == ItemKind::kInteger || i.kind == ItemKind::kLong || i.kind == ItemKind::kDecimal;
}
// Integer or Long.
inline bool IsWhole(const Item& i) {
  return i.kind == ItemKind::kInteger || i.kind == ItemKind::kLong;
}
// REQUIRES: IsNumber(i).
inline Decimal AsDecimal(const Item& i) {
  return IsWhole(i) ? Decimal::FromInt(i.as_int()) : i.as_decimal();
}
inline bool IsTemporal(const Item& i) {
  return i.kind == ItemKind::kDate || i.kind == ItemKind::kDateTime || i.kind == ItemKind::kTime;
}

// Appends the children named `name` of `item` (http://hl7.org/fhirpath/N1/#path-selection):
// choice elements, primitive `_name` parts and arrays are handled via the model.
void Member(const Item& item, std::string_view name, Collection* out);
// All child nodes of `item` (children()).
void Children(const Item& item, Collection* out);
// Appends the descendants of `input` (descendants()), or with `of_type` only those of that type
// (ofType() matching), in breadth-first order. Returns false when the walk meets more than
// `limit` nodes.
bool Descendants(Items input, const TypeSpec* of_type, size_t limit, Collection* out);
// A node item for JSON `v` of FHIR type `type` (structure looked up in the model).
Item MakeNode(const json::Value* v, const json::Value* ext, std::string_view type,
              const fhir::StructInfo* structure);

// Whether the type specifier names a known type.
bool KnownType(const TypeSpec& t);
// Whether `item` is of type `t` (or a subtype).
enum class TypeMatch { kHierarchy, kExactPrimitive };
bool IsType(const Item& item, const TypeSpec& t, TypeMatch match = TypeMatch::kHierarchy);
// The (namespace, name) of an item's type.
std::pair<std::string_view, std::string_view> TypeOf(const Item& item);

// Equality (=) of two items: 1 true, 0 false, -1 empty (http://hl7.org/fhirpath/N1/#equals).
int ItemEquals(const Item& a, const Item& b);
// Collects items without duplicates (by =) in O(1) expected per item, keeping order.
class UniqueCollector {
 public:
  // Starts from the items already in *out (which must not repeat).
  explicit UniqueCollector(Collection* out);
  // Appends `item` unless an equal one is there; returns whether it was appended.
  bool Add(const Item& item);
  bool Contains(const Item& item) const;

 private:
  // Open addressing with linear probing: slots_ holds 1 + an index into *out_ (0 is free),
  // hashes_ the hash of each item of *out_.
  size_t Find(const Item& item, size_t hash) const;  // the slot of an equal item or a free one
  void Grow();

  Collection* out_;
  std::vector<uint32_t> slots_;
  std::vector<size_t> hashes_;
};
// Appends items to a collection unless an equal one (=) is there: a scan while the collection is
// small, a UniqueCollector beyond.
class DistinctAppender {
 public:
  // Starts from the items already in *out (which must not repeat).
  explicit DistinctAppender(Collection* out) : out_(out) {
    if (out_->size() > kScanLimit) set_.emplace(out_);
  }
  void Add(const Item& item);

 private:
  static constexpr size_t kScanLimit = 4;
  Collection* out_;
  std::optional<UniqueCollector> set_;
};
// The union of two collections without duplicates (http://hl7.org/fhirpath/N1/#union-collections).
Collection Union(Collection a, std::span<const Item> b);
// Equivalence (~) (http://hl7.org/fhirpath/N1/#equivalent).
bool ItemEquivalent(const Item& a, const Item& b);
// Ordering: sets *cmp; returns false when not comparable (error), and *empty when the result is
// empty (different date precisions).
bool ItemCompare(const Item& a, const Item& b, int* cmp, bool* empty);
// Collection equality (=): nullopt for empty.
std::optional<bool> CollectionEquals(Items a, Items b);
bool CollectionEquivalent(Items a, Items b);

// Temporal arithmetic: t + q (sign ±1). Returns false when the unit is not a time unit allowed
// for t.
bool AddDuration(const Temporal& t, const Quantity& q, int sign, Temporal* out);
// Days since 1970-01-01 of a civil date, and milliseconds since then of a date/time's fields
// (ignoring its timezone; a Time counts from midnight).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
int64_t ToMillis(const Temporal& t);
// Temporal ordering; nullopt when precisions differ and the common part is equal.
std::optional<int> CompareTemporal(const Temporal& a, const Temporal& b);

// UCUM (http://unitsofmeasure.org/ucum.html) and calendar units.
// Converts `q` to `unit`; false when the units are not commensurable or unknown.
bool ConvertQuantity(const Quantity& q, std::string_view unit, Quantity* out);
// Multiplies or divides two quantities, producing a canonical unit.
bool MultiplyQuantities(const Quantity& a, const Quantity& b, bool divide, Quantity* out);
bool QuantitiesComparable(const Quantity& a, const Quantity& b);
// Calendar keyword → the UCUM code for comparisons ("week" → "wk"), or the unit itself.
std::string_view CalendarToUcum(std::string_view unit);
bool IsCalendarKeyword(std::string_view unit);

// Decimal arithmetic with overflow checks.
bool DecimalAdd(const Decimal& a, const Decimal& b, Decimal* out);
bool DecimalSub(const Decimal& a, const Decimal& b, Decimal* out);
bool DecimalMul(const Decimal& a, const Decimal& b, Decimal* out);
bool DecimalDiv(const Decimal& a, const Decimal& b, Decimal* out);

// String content of a string-like item (a view into the item or its JSON); false when not a
// string.
bool StringOf(const Item& item, std::string_view* out);

}  // namespace vesta::fhirpath::internal
