// Equality, equivalence and ordering of items for the evaluator:
// http://hl7.org/fhirpath/N1/#equality, http://hl7.org/fhirpath/N1/#comparison.
#include <algorithm>
#include <cctype>

#include "fhir/fhirpath/eval.h"
#include "fhir/fhirpath/model_index.h"
#include "json/writer.h"

namespace vesta::fhirpath::internal {

// ---------------------------------------------------------------------------------------------
// Equality, equivalence, ordering: http://hl7.org/fhirpath/N1/#equality,
// http://hl7.org/fhirpath/N1/#comparison.

namespace {

bool ObjectNode(const Item& i) { return i.is_node() && i.node && i.node->is_object(); }

// https://build.fhir.org/ig/HL7/FHIRPath/#string-equivalence: "Normalizing whitespace means
// treating as equivalent all characters in the Unicode White_Space character class ... Multiple
// whitespace characters in sequence are not collapsed to a single character" ('a     b' ~ 'a b'
// is false), and nothing is trimmed ('  ab c' ~ 'ab c' is false). Case is ignored (ASCII).
std::string NormalizeSpace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) {
      out += ' ';
      continue;
    }
    if (c >= 0xC2 && i + 1 < s.size()) {  // the White_Space code points above U+007F
      const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if (c == 0xC2 && (c1 == 0x85 || c1 == 0xA0)) {  // U+0085, U+00A0
        out += ' ';
        ++i;
        continue;
      }
      if (i + 2 < s.size()) {
        const unsigned char c2 = static_cast<unsigned char>(s[i + 2]);
        const unsigned cp = ((c & 0x0Fu) << 12) | ((c1 & 0x3Fu) << 6) | (c2 & 0x3Fu);
        if ((c & 0xF0) == 0xE0 && (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
                                   cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000)) {
          out += ' ';
          i += 2;
          continue;
        }
      }
    }
    out += static_cast<char>(std::tolower(c));
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
    case ItemKind::kLong:
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

namespace {

// https://build.fhir.org/ig/HL7/FHIRPath/#conversion: a number compared with a Quantity converts
// implicitly to a Quantity with unit '1' (9 = 9 '1', 23 ~ 23 '1').
void NumberToQuantity(Item* x, const Item& other) {
  if (IsNumber(*x) && other.kind == ItemKind::kQuantity) {
    *x = Item::Qty(Quantity{AsDecimal(*x), "1"});
  }
}

}  // namespace

int ItemEquals(const Item& a, const Item& b) {
  if (ValueLess(a) || ValueLess(b)) return -1;  // no value to compare: empty
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
  NumberToQuantity(&x, y);
  NumberToQuantity(&y, x);
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
  NumberToQuantity(&x, y);
  NumberToQuantity(&y, x);
  if (IsNumber(x) && IsNumber(y)) {
    // https://build.fhir.org/ig/HL7/FHIRPath/#equivalent: "comparison is done on values rounded
    // to the precision of the least precise operand. Trailing zeroes after the decimal are
    // ignored in determining precision" (1.1 ~ 1.0 is true: 1.0 has precision 0).
    Decimal da = AsDecimal(x).Normalized(), db = AsDecimal(y).Normalized();
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
    int s = std::min(qa.value.Normalized().scale, qb.value.Normalized().scale);
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
  NumberToQuantity(&x, y);
  NumberToQuantity(&y, x);
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
