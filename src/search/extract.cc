// Value extraction per parameter type: https://hl7.org/fhir/R4/search.html#ptypes and the table
// of which data types each search parameter type matches
// (https://hl7.org/fhir/R4/search.html#table).
#include "search/extract.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <map>
#include <span>

#include "fhir/datetime.h"
#include "fhir/ucum.h"
#include "search/normalize.h"

namespace vesta::search {
namespace {

using fhirpath::Item;

// Answers resolve() with a stub {"resourceType": T} taken from the reference text, which is all
// `resolve() is Patient` in a search expression needs; the referenced resource is not read.
class StubResolver : public fhirpath::ReferenceResolver {
 public:
  const json::Value* Resolve(std::string_view reference) const override {
    std::string type, id;
    if (!SplitReference(reference, &type, &id)) return nullptr;
    auto it = stubs_.find(type);
    if (it != stubs_.end()) return &it->second;
    json::Member m{arena_.CopyString("resourceType"), json::Value::String(arena_, type)};
    json::Value obj = json::Value::Object(arena_, std::span<const json::Member>(&m, 1));
    return &stubs_.emplace(type, obj).first->second;
  }

 private:
  mutable json::Arena arena_;
  mutable std::map<std::string, json::Value, std::less<>> stubs_;
};

std::string_view Str(const json::Value* v) {
  return v != nullptr && v->is_string() ? v->string_value() : std::string_view();
}

bool ToDouble(std::string_view text, double* out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

void AddToken(const std::string& param, std::string_view system, std::string_view code,
              std::string_view text, IndexRows* rows) {
  if (code.empty() && text.empty()) return;
  rows->tokens.push_back(
      TokenRow{param, std::string(system), std::string(code), NormalizeString(text)});
}

void AddString(const std::string& param, std::string_view s, IndexRows* rows) {
  if (s.empty()) return;
  rows->strings.push_back(StringRow{param, NormalizeString(s), std::string(s)});
}

void AddDateValue(const std::string& param, std::string_view value, IndexRows* rows) {
  Result<fhir::TimeRange> r = fhir::ParseTimeRange(value);
  if (r.ok()) rows->dates.push_back(DateRow{param, r->low, r->high});
}

void AddStringsOf(const std::string& param, const json::Value& v, IndexRows* rows) {
  if (v.is_string()) {
    AddString(param, v.string_value(), rows);
  } else if (v.is_array()) {
    for (const json::Value& i : v.items()) AddStringsOf(param, i, rows);
  }
}

void AddReference(const std::string& param, std::string_view ref, IndexRows* rows) {
  if (ref.empty() || ref.front() == '#') return;
  ReferenceRow row{param, "", "", std::string(ref)};
  if (ref.find("://") == std::string_view::npos && ref.rfind("urn:", 0) != 0) {
    SplitReference(ref, &row.target_type, &row.target_id);
  }
  rows->references.push_back(std::move(row));
}

// https://hl7.org/fhir/R4/search.html#quantity: "the server SHOULD ... canonical units". A value
// with the UCUM system and a code ucum::Canonicalize knows also gets its canonical form.
void Canonicalize(std::string_view system, std::string_view unit_code, double value,
                  QuantityRow* row) {
  if (system != kUcumSystem || unit_code.empty()) return;
  std::optional<ucum::Canonical> c = ucum::Canonicalize(value, unit_code);
  if (!c) return;
  row->canonical_code = std::move(c->code);
  row->canonical_value = c->value;
}

// The rows of one value `item` of a parameter (or composite component) of type `type` named
// `code`.
void ExtractItem(ParamType type, const std::string& code, const Item& item, IndexRows* rows) {
  if (!item.is_node()) {
    // A System value computed by the expression.
    std::string text = fhirpath::ItemToString(item);
    switch (type) {
      case ParamType::kString:
        AddString(code, text, rows);
        break;
      case ParamType::kToken:
        AddToken(code, "", text, "", rows);
        break;
      case ParamType::kUri:
        rows->uris.push_back(UriRow{code, text});
        break;
      case ParamType::kDate:
        AddDateValue(code, text, rows);
        break;
      case ParamType::kNumber: {
        double d = 0;
        if (ToDouble(text, &d)) rows->numbers.push_back(NumberRow{code, d});
        break;
      }
      default:
        break;
    }
    return;
  }
  if (item.node == nullptr) return;
  const json::Value& v = *item.node;
  std::string_view t = item.fhir_type;
  switch (type) {
    case ParamType::kToken:
      if (t == "CodeableConcept") {
        if (const json::Value* codings = v.Find("coding")) {
          for (const json::Value& c : codings->items()) {
            AddToken(code, Str(c.Find("system")), Str(c.Find("code")), Str(c.Find("display")),
                     rows);
          }
        }
        if (!Str(v.Find("text")).empty()) AddToken(code, "", "", Str(v.Find("text")), rows);
      } else if (t == "Coding") {
        AddToken(code, Str(v.Find("system")), Str(v.Find("code")), Str(v.Find("display")), rows);
      } else if (t == "Identifier") {
        const json::Value* type = v.Find("type");
        std::string_view value = Str(v.Find("value"));
        AddToken(code, Str(v.Find("system")), value, type != nullptr ? Str(type->Find("text")) : "",
                 rows);
        const json::Value* codings = type != nullptr ? type->Find("coding") : nullptr;
        if (codings != nullptr && !value.empty()) {
          for (const json::Value& c : codings->items()) {
            std::string_view type_code = Str(c.Find("code"));
            if (type_code.empty()) continue;
            std::string pair(type_code);
            pair.push_back(kOfTypeSeparator);
            pair += value;
            AddToken(code + ":of-type", Str(c.Find("system")), pair, "", rows);
          }
        }
      } else if (t == "ContactPoint") {
        AddToken(code, Str(v.Find("system")), Str(v.Find("value")), "", rows);
      } else if (v.is_string()) {
        AddToken(code, "", v.string_value(), "", rows);
      } else if (v.is_bool()) {
        AddToken(code, "", v.bool_value() ? "true" : "false", "", rows);
      } else if (v.is_number()) {
        AddToken(code, "", v.number_text(), "", rows);
      }
      break;
    case ParamType::kString:
      if (t == "HumanName") {
        for (const char* k : {"family", "given", "prefix", "suffix", "text"}) {
          if (const json::Value* p = v.Find(k)) AddStringsOf(code, *p, rows);
        }
      } else if (t == "Address") {
        for (const char* k :
             {"line", "city", "district", "state", "postalCode", "country", "text"}) {
          if (const json::Value* p = v.Find(k)) AddStringsOf(code, *p, rows);
        }
      } else if (v.is_string()) {
        AddString(code, v.string_value(), rows);
      } else if (v.is_object()) {
        for (const json::Member& m : v.members()) {
          if (m.value.is_string() && m.key != "id") AddString(code, m.value.string_value(), rows);
        }
      }
      break;
    case ParamType::kDate:
      if (t == "Period") {
        std::string_view start = Str(v.Find("start")), end = Str(v.Find("end"));
        if (start.empty() && end.empty()) break;
        DateRow row{code, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
        if (!start.empty()) {
          Result<fhir::TimeRange> r = fhir::ParseTimeRange(start);
          if (!r.ok()) break;
          row.low = r->low;
        }
        if (!end.empty()) {
          Result<fhir::TimeRange> r = fhir::ParseTimeRange(end);
          if (!r.ok()) break;
          row.high = r->high;
        }
        rows->dates.push_back(row);
      } else if (t == "Timing") {
        if (const json::Value* events = v.Find("event")) {
          for (const json::Value& e : events->items()) AddDateValue(code, Str(&e), rows);
        }
        if (const json::Value* rep = v.Find("repeat")) {
          if (const json::Value* b = rep->Find("boundsPeriod")) {
            fhirpath::Item p;
            p.node = b;
            p.fhir_type = "Period";
            ExtractItem(type, code, p, rows);
          }
        }
      } else if (v.is_string()) {
        AddDateValue(code, v.string_value(), rows);
      }
      break;
    case ParamType::kNumber: {
      double d = 0;
      if (v.is_number() && ToDouble(v.number_text(), &d)) rows->numbers.push_back({code, d});
      break;
    }
    case ParamType::kQuantity: {
      double d = 0;
      const json::Value* value = v.Find("value");
      if (value == nullptr || !value->is_number() || !ToDouble(value->number_text(), &d)) break;
      std::string_view unit_code = Str(v.Find("code"));
      if (t == "Money") unit_code = Str(v.Find("currency"));
      if (unit_code.empty()) unit_code = Str(v.Find("unit"));
      QuantityRow row{code, d, std::string(Str(v.Find("system"))), std::string(unit_code), "", 0};
      if (t != "Money") Canonicalize(row.system, Str(v.Find("code")), d, &row);
      rows->quantities.push_back(std::move(row));
      break;
    }
    case ParamType::kReference:
      if (t == "Reference" || (v.is_object() && v.Find("reference") != nullptr)) {
        AddReference(code, Str(v.Find("reference")), rows);
        if (const json::Value* ident = v.Find("identifier")) {
          AddToken(code + ":identifier", Str(ident->Find("system")), Str(ident->Find("value")), "",
                   rows);
        }
      } else if (v.is_string()) {
        AddReference(code, v.string_value(), rows);  // canonical, uri
      }
      break;
    case ParamType::kUri:
      if (v.is_string()) rows->uris.push_back(UriRow{code, std::string(v.string_value())});
      break;
    default:
      break;
  }
}

CompositePart TextPart(std::string code, std::string system) {
  CompositePart p;
  p.code = std::move(code);
  p.system = std::move(system);
  return p;
}

template <typename T>
CompositePart RangePart(T low, T high) {
  CompositePart p;
  p.low = low;
  p.high = high;
  return p;
}

// The parts a composite component gets from one `item` of its expression: the component
// parameter's own rows for that item, as composite columns.
void ComponentParts(const Component& c, const Item& item, std::vector<CompositePart>* out) {
  if (c.type == ParamType::kQuantity && item.is_node() && item.node != nullptr &&
      item.fhir_type == "Range") {
    // A Range ([low, high], either end open) where the component expects a quantity
    // (context-type-quantity's `value.as(Range)`); its ends share one unit.
    const json::Value* ends[2] = {item.node->Find("low"), item.node->Find("high")};
    constexpr double kMax = std::numeric_limits<double>::max();
    double value[2] = {-kMax, kMax};
    std::string_view system, unit_code;
    bool any = false;
    for (int i = 0; i < 2; ++i) {
      const json::Value* e = ends[i];
      const json::Value* v = e != nullptr ? e->Find("value") : nullptr;
      if (v == nullptr || !v->is_number() || !ToDouble(v->number_text(), &value[i])) continue;
      any = true;
      system = Str(e->Find("system"));
      unit_code = Str(e->Find("code"));
      if (unit_code.empty()) unit_code = Str(e->Find("unit"));
    }
    if (!any) return;
    CompositePart part{std::string(unit_code), std::string(system), value[0], value[1], "", 0, 0};
    // Each end that is present in canonical units (an open end stays open); both must agree.
    QuantityRow ends_canonical[2];
    std::string_view canonical_code;
    bool canonical = true;
    for (int i = 0; i < 2 && canonical; ++i) {
      if (value[i] == (i == 0 ? -kMax : kMax)) continue;
      Canonicalize(system, unit_code, value[i], &ends_canonical[i]);
      canonical = !ends_canonical[i].canonical_code.empty() &&
                  (canonical_code.empty() || canonical_code == ends_canonical[i].canonical_code);
      canonical_code = ends_canonical[i].canonical_code;
    }
    if (canonical) {
      part.canonical_code = std::string(canonical_code);
      part.canonical_low = value[0] == -kMax ? -kMax : ends_canonical[0].canonical_value;
      part.canonical_high = value[1] == kMax ? kMax : ends_canonical[1].canonical_value;
    }
    out->push_back(std::move(part));
    return;
  }
  IndexRows rows;
  ExtractItem(c.type, c.code, item, &rows);
  for (TokenRow& r : rows.tokens) {
    // Text-only rows (a CodeableConcept.text) have no code to pair; :of-type and :identifier
    // rows belong to other parameters.
    if (r.param == c.code && !r.code.empty()) {
      out->push_back(TextPart(std::move(r.code), std::move(r.system)));
    }
  }
  for (StringRow& r : rows.strings) {
    out->push_back(TextPart(std::move(r.norm), std::move(r.exact)));
  }
  for (const DateRow& r : rows.dates) {
    out->push_back(RangePart(r.low, r.high));
  }
  for (const NumberRow& r : rows.numbers) {
    out->push_back(RangePart(r.value, r.value));
  }
  for (QuantityRow& r : rows.quantities) {
    out->push_back(CompositePart{std::move(r.code), std::move(r.system), r.value, r.value,
                                 std::move(r.canonical_code), r.canonical_value,
                                 r.canonical_value});
  }
  for (ReferenceRow& r : rows.references) {
    if (r.param != c.code) continue;
    out->push_back(
        TextPart(r.target_type.empty() ? std::move(r.url) : r.target_type + "/" + r.target_id, ""));
  }
  for (UriRow& r : rows.uris) out->push_back(TextPart(std::move(r.uri), ""));
}

// https://hl7.org/fhir/R4/search.html#composite and SearchParameter.component
// (https://hl7.org/fhir/R4/searchparameter-definitions.html#SearchParameter.component): each
// component's expression is evaluated relative to each item of the composite's expression, and
// every combination of their values within that item is one tuple.
void ExtractComposite(const Param& param, const json::Value& resource,
                      const fhirpath::Environment& env, IndexRows* rows) {
  Result<fhirpath::Collection> matches = param.compiled->Evaluate(resource, env);
  if (!matches.ok()) {
    ++rows->errors;
    return;
  }
  const size_t n = param.components.size();
  std::vector<std::vector<CompositePart>> values(n);
  for (const Item& match : *matches) {
    const fhirpath::Collection context{match};
    size_t tuples = 1;
    // Last component first: it is the value (value.ofType(Quantity)...), the part most often
    // absent, and an empty component means no tuple.
    for (size_t i = n; i-- > 0 && tuples > 0;) {
      values[i].clear();
      Result<fhirpath::Collection> v =
          param.components[i].compiled->Evaluate(context, &resource, env);
      if (!v.ok()) {
        ++rows->errors;
        tuples = 0;
        break;
      }
      for (const Item& item : *v) ComponentParts(param.components[i], item, &values[i]);
      tuples = std::min(tuples * values[i].size(), kMaxTuplesPerItem + 1);
    }
    if (tuples == 0) continue;
    if (tuples > kMaxTuplesPerItem) {
      ++rows->errors;
      continue;
    }
    // Every combination, the last component varying fastest.
    std::vector<size_t> at(n, 0);
    for (size_t k = 0; k < tuples; ++k) {
      CompositeRow row{param.code, {}};
      row.parts.reserve(n);
      for (size_t i = 0; i < n; ++i) row.parts.push_back(values[i][at[i]]);
      rows->composites.push_back(std::move(row));
      for (size_t i = n; i-- > 0;) {
        if (++at[i] < values[i].size()) break;
        at[i] = 0;
      }
    }
  }
}

}  // namespace

bool SplitReference(std::string_view ref, std::string* type, std::string* id) {
  size_t hist = ref.find("/_history/");
  if (hist != std::string_view::npos) ref = ref.substr(0, hist);
  size_t slash = ref.rfind('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == ref.size()) return false;
  std::string_view i = ref.substr(slash + 1);
  std::string_view before = ref.substr(0, slash);
  size_t prev = before.rfind('/');
  std::string_view t = prev == std::string_view::npos ? before : before.substr(prev + 1);
  if (t.empty() || !(t[0] >= 'A' && t[0] <= 'Z')) return false;
  for (char c : t) {
    if (!std::isalpha(static_cast<unsigned char>(c))) return false;
  }
  *type = std::string(t);
  *id = std::string(i);
  return true;
}

IndexRows ExtractIndexRows(const Registry& registry, const json::Value& resource) {
  IndexRows rows;
  std::string_view type = resource.FindString("resourceType");
  StubResolver resolver;
  fhirpath::Environment env;
  env.resolver = &resolver;
  for (const Param& param : registry.ForType(type)) {
    // A parameter answered by other parameters' rows (Param::rows_of) writes none.
    if (!param.compiled || !param.rows_of.empty()) continue;
    if (param.type == ParamType::kComposite) {
      ExtractComposite(param, resource, env, &rows);
      continue;
    }
    Result<fhirpath::Collection> values = param.compiled->Evaluate(resource, env);
    if (!values.ok()) {
      ++rows.errors;
      continue;
    }
    for (const Item& item : *values) ExtractItem(param.type, param.code, item, &rows);
  }
  // Location `near` (special, Location.position): the WGS84 latitude and longitude as two number
  // rows of the same resource (kNearLatitude, kNearLongitude), read by the planner's distance
  // test. Only a position with both is indexed.
  if (type == "Location") {
    if (const json::Value* position = resource.Find("position")) {
      const json::Value* lat = position->Find("latitude");
      const json::Value* lon = position->Find("longitude");
      double la = 0, lo = 0;
      if (lat != nullptr && lon != nullptr && lat->is_number() && lon->is_number() &&
          ToDouble(lat->number_text(), &la) && ToDouble(lon->number_text(), &lo)) {
        rows.numbers.push_back(NumberRow{std::string(kNearLatitude), la});
        rows.numbers.push_back(NumberRow{std::string(kNearLongitude), lo});
      }
    }
  }
  // https://hl7.org/fhir/R4/compartmentdefinition-patient.html; a patient is in its own.
  if (type == "Patient") rows.patients.emplace_back(resource.FindString("id"));
  for (const std::string& p : registry.PatientCompartmentParams(type)) {
    for (const ReferenceRow& r : rows.references) {
      if (r.param == p && r.target_type == "Patient") rows.patients.push_back(r.target_id);
    }
  }
  std::sort(rows.patients.begin(), rows.patients.end());
  rows.patients.erase(std::unique(rows.patients.begin(), rows.patients.end()), rows.patients.end());
  rows.text = ExtractText(resource);
  return rows;
}

}  // namespace vesta::search
