// The ELM nodes with more to them than an operator: literals and constructors, references to
// parameters and codes, function calls with overload resolution, value set membership,
// retrieves and queries (https://cql.hl7.org/elm.html#query).
#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "cql/evaluator_internal.h"
#include "json/value.h"

namespace vesta::cql {

Value Evaluator::Impl::Literal(const json::Value& node) {
  std::string_view type = StripNamespace(node.FindString("valueType"));
  std::string_view text = node.FindString("value");
  if (type == "String") return Value::String(std::string(text));
  if (type == "Boolean") return Value::Boolean(text == "true");
  if (type == "Integer" || type == "Long") {
    int64_t i = 0;
    std::from_chars(text.data(), text.data() + text.size(), i);
    return type == "Long" ? Value::LongInt(i) : Value::Int(i);
  }
  if (type == "Decimal") return Value::Dec(std::strtod(std::string(text).c_str(), nullptr));
  Fail("literal of type " + std::string(type));
}

Value Evaluator::Impl::DateTimeCtor(const json::Value& node, Value::Kind kind) {
  static constexpr std::string_view kParts[] = {"year",   "month",  "day",        "hour",
                                                "minute", "second", "millisecond"};
  Temporal t;
  t.offset_minutes = settings_.default_offset_minutes;
  int* fields[] = {&t.year, &t.month, &t.day, &t.hour, &t.minute, &t.second, &t.millisecond};
  int first = kind == Value::Kind::kTime ? 3 : 0;
  int last = kind == Value::Kind::kDate ? 2 : 6;
  bool any = false;
  for (int p = first; p <= last; ++p) {
    const json::Value* part = node.Find(kParts[p]);
    if (!part) break;
    Value v = Eval(*part);
    if (v.is_null()) break;
    *fields[p] = static_cast<int>(v.integer());
    t.precision = Precision(p);
    any = true;
  }
  if (!any) return Value::Null();
  if (const json::Value* tz = node.Find("timezoneOffset")) {
    Value v = Eval(*tz);
    if (!v.is_null()) t.offset_minutes = static_cast<int>(v.number() * 60);
  }
  if (kind == Value::Kind::kDate) return Value::FromDate(Date{t});
  if (kind == Value::Kind::kTime) return Value::FromTime(Time{t});
  return Value::FromDateTime(DateTime{t});
}

Value Evaluator::Impl::Parameter(const json::Value& node) {
  std::string_view name = node.FindString("name");
  for (const auto& [n, v] : settings_.parameters) {
    if (n == name) return v;
  }
  const Library& lib = LibraryOf(node);
  const json::Value* def = lib.FindParameter(name);
  if (!def) Fail("unknown parameter " + std::string(name));
  auto it = cache_.find(def);
  if (it != cache_.end()) return it->second;
  Value v;
  if (const json::Value* d = def->Find("default")) {
    Frame f(this, &lib);
    v = Eval(*d);
  }
  cache_.emplace(def, v);
  return v;
}

Value Evaluator::Impl::CodeFromDef(const Library& lib, const json::Value& def) {
  Code c;
  c.code = std::string(def.FindString("id"));
  c.display = std::string(def.FindString("display"));
  if (const json::Value* cs = def.Find("codeSystem")) {
    const Library* cs_lib = &lib;
    if (std::string_view alias = cs->FindString("libraryName"); !alias.empty()) {
      cs_lib = lib.FindInclude(alias);
    }
    const json::Value* sys = cs_lib ? cs_lib->FindCodeSystem(cs->FindString("name")) : nullptr;
    if (!sys) Fail("unknown code system " + std::string(cs->FindString("name")));
    c.system = std::string(sys->FindString("id"));
    c.version = std::string(sys->FindString("version"));
  }
  return Value::FromCode(std::move(c));
}

// Overloads are told apart by the operands' run-time types
// (https://cql.hl7.org/03-developersguide.html#function-resolution): the first definition whose
// operand types all accept the arguments; FHIR code subtypes the R4 model does not name
// (AccountStatus, ...) accept any code. A single definition of the arity is taken as the
// translator resolved it; among several, arguments none accepts are an error.
Value Evaluator::Impl::CallFunction(const json::Value& node) {
  const Library& lib = LibraryOf(node);
  std::string_view name = node.FindString("name");
  const auto& overloads = lib.FindFunctions(name);
  std::vector<Value> args = Operands(node);
  const json::Value* chosen = nullptr;
  int candidates = 0;
  const json::Value* only = nullptr;
  for (const json::Value* def : overloads) {
    const json::Value* ops = def->Find("operand");
    size_t arity = ops && ops->is_array() ? ops->size() : 0;
    if (arity != args.size()) continue;
    ++candidates;
    only = def;
    bool all = true;
    for (size_t i = 0; i < arity && all; ++i) {
      const json::Value* spec = ops->items()[i].Find("operandTypeSpecifier");
      if (spec && !args[i].is_null() && !IsOfTypeSpecifier(args[i], *spec)) all = false;
    }
    if (all) {
      chosen = def;
      break;
    }
  }
  if (!chosen && candidates == 1) chosen = only;
  if (!chosen) {
    std::string types;
    for (const Value& a : args)
      types += std::string(types.empty() ? "" : ", ") + std::string(TypeName(a));
    Fail("no function " + std::string(name) + "(" + types + ") in library " + lib.name());
  }
  if (chosen->FindString("external") == "true") Fail("external function " + std::string(name));
  Frame f(this, &lib);
  const json::Value* ops = chosen->Find("operand");
  for (size_t i = 0; i < args.size(); ++i) {
    scope_.push_back({ops->items()[i].FindString("name"), std::move(args[i])});
  }
  return Eval(Child(*chosen, "expression"));
}

bool Evaluator::Impl::InValueSet(const Value& code, const std::string& url) {
  if (code.is_null()) return false;
  if (!terminology_.Known(url)) Fail("value set " + url + " is not loaded");
  if (code.kind() == Value::Kind::kString) return terminology_.ContainsCode(url, code.string());
  for (const Code& c : CodesOf(code)) {
    if (terminology_.Contains(url, c.system, c.code)) return true;
  }
  return false;
}

// https://cql.hl7.org/elm.html#retrieve: the patient's resources of `dataType`, filtered by
// `codeProperty` against `codes` (a value set with `in`, codes with `in` or `~`).
Value Evaluator::Impl::Retrieve(const json::Value& node) {
  std::string_view type = StripNamespace(node.FindString("dataType"));
  auto it = retrieved_.find(std::string(type));
  if (it == retrieved_.end()) {
    List all;
    for (const json::Value* r : data_.Retrieve(type)) all.push_back(FhirResource(*r));
    it = retrieved_.emplace(std::string(type), std::move(all)).first;
  }
  const json::Value* codes_node = node.Find("codes");
  const json::Value* range_node = node.Find("dateRange");
  if (node.Find("dateLowProperty") || node.Find("dateHighProperty")) {
    Fail("Retrieve with dateLowProperty / dateHighProperty");
  }
  if (!codes_node && !range_node) return Value::FromList(it->second);
  const int tz = settings_.default_offset_minutes;
  Value codes = codes_node ? Eval(*codes_node) : Value::Null();
  std::string_view property = node.FindString("codeProperty");
  if (codes_node && property.empty()) Fail("Retrieve with codes and no codeProperty");
  Value range = range_node ? Eval(*range_node) : Value::Null();
  std::string_view date_property = node.FindString("dateProperty");
  if (range_node && date_property.empty()) Fail("Retrieve with a date range and no dateProperty");
  List out;
  for (const Value& r : it->second) {
    if (codes_node) {
      Value v = PropertyOf(r, property, tz);
      if (v.is_null()) continue;
      bool match = false;
      if (codes.kind() == Value::Kind::kValueSet) {
        match = InValueSet(v, codes.valueset_url());
      } else {
        std::vector<Code> wanted = CodesOf(codes);
        for (const Code& have : CodesOf(v)) {
          for (const Code& w : wanted) {
            match = match || (have.code == w.code && have.system == w.system);
          }
        }
      }
      if (!match) continue;
    }
    if (range_node) {
      // https://cql.hl7.org/elm.html#retrieve: the date property (a date, dateTime, instant or
      // Period) during the range; a resource without one is not retrieved.
      Value d = PropertyOf(r, date_property, tz);
      if (d.kind() == Value::Kind::kFhir && d.fhir().type == "Period") {
        d = Value::FromInterval(PropertyOf(d, "start.value", tz), PropertyOf(d, "end.value", tz),
                                true, true);
      } else if (d.kind() == Value::Kind::kFhir) {
        d = PropertyOf(d, "value", tz);
      }
      if (d.is_null() || range.is_null() ||
          !AsBool(IncludedIn(d, range, std::nullopt)).value_or(false)) {
        continue;
      }
    }
    out.push_back(r);
  }
  return Value::FromList(std::move(out));
}

Value Evaluator::Impl::Sorted(const json::Value& sort, List rows) {
  const json::Value* by = sort.Find("by");
  if (!by || !by->is_array()) return Value::FromList(std::move(rows));
  for (size_t k = by->size(); k-- > 0;) {
    const json::Value& item = by->items()[k];
    std::string_view dir = item.FindString("direction");
    bool desc = dir == "desc" || dir == "descending";
    std::string_view kind = item.FindString("type");
    std::vector<std::pair<Value, Value>> keyed;
    for (Value& r : rows) {
      Value key;
      if (kind == "ByColumn") {
        key = PropertyOf(r, item.FindString("path"), settings_.default_offset_minutes);
      } else if (kind == "ByExpression") {
        sort_target_ = &r;
        key = Eval(Child(item, "expression"));
        sort_target_ = nullptr;
      } else {
        key = r;
      }
      keyed.emplace_back(std::move(key), std::move(r));
    }
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
      if (a.first.is_null() || b.first.is_null()) {
        return desc ? b.first.is_null() && !a.first.is_null()
                    : a.first.is_null() && !b.first.is_null();
      }
      std::optional<int> c = Compare(a.first, b.first);
      return c && (desc ? *c > 0 : *c < 0);
    });
    rows.clear();
    for (auto& [key, r] : keyed) rows.push_back(std::move(r));
  }
  return Value::FromList(std::move(rows));
}

// https://cql.hl7.org/elm.html#query: sources (a cartesian product), let, with/without, where,
// return (distinct unless `all`), aggregate, sort. A query whose single source is not a list
// returns a single value.
Value Evaluator::Impl::Query(const json::Value& node) {
  const json::Value& sources = Child(node, "source");
  std::vector<std::string_view> aliases;
  std::vector<List> lists;
  bool singleton = false;
  for (const json::Value& s : sources.items()) {
    aliases.push_back(s.FindString("alias"));
    Value v = Eval(Child(s, "expression"));
    if (v.is_list()) {
      lists.push_back(v.list());
    } else {
      singleton = sources.size() == 1;
      lists.push_back(v.is_null() ? List{} : List{v});
    }
  }
  const json::Value* lets = node.Find("let");
  const json::Value* rels = node.Find("relationship");
  const json::Value* where = node.Find("where");
  const json::Value* ret = node.Find("return");
  const json::Value* agg = node.Find("aggregate");
  Value accumulator;
  if (agg) {
    if (const json::Value* start = agg->Find("starting")) accumulator = Eval(*start);
  }
  List out;
  std::vector<size_t> idx(lists.size(), 0);
  for (const List& l : lists) {
    if (l.empty()) return singleton ? Value::Null() : (agg ? accumulator : Value::FromList({}));
  }
  const size_t base = scope_.size();
  bool done = false;
  while (!done) {
    scope_.resize(base);
    for (size_t i = 0; i < lists.size(); ++i) scope_.push_back({aliases[i], lists[i][idx[i]]});
    if (lets && lets->is_array()) {
      for (const json::Value& l : lets->items()) {
        Value v = Eval(Child(l, "expression"));
        scope_.push_back({l.FindString("identifier"), std::move(v)});
      }
    }
    bool keep = true;
    if (rels && rels->is_array()) {
      for (const json::Value& rel : rels->items()) {
        if (!keep) break;
        Value related = Eval(Child(rel, "expression"));
        List items =
            related.is_list() ? related.list() : (related.is_null() ? List{} : List{related});
        bool any = false;
        for (const Value& item : items) {
          scope_.push_back({rel.FindString("alias"), item});
          any = AsBool(Eval(Child(rel, "suchThat"))).value_or(false);
          scope_.pop_back();
          if (any) break;
        }
        keep = rel.FindString("type") == "With" ? any : !any;
      }
    }
    if (keep && where) keep = AsBool(Eval(*where)).value_or(false);
    if (keep) {
      if (agg) {
        scope_.push_back({agg->FindString("identifier"), accumulator});
        accumulator = Eval(Child(*agg, "expression"));
      } else if (ret) {
        out.push_back(Eval(Child(*ret, "expression")));
      } else if (lists.size() == 1) {
        out.push_back(lists[0][idx[0]]);
      } else {
        std::vector<std::pair<std::string, Value>> row;
        for (size_t i = 0; i < lists.size(); ++i) {
          row.emplace_back(std::string(aliases[i]), lists[i][idx[i]]);
        }
        out.push_back(Value::FromTuple(std::move(row)));
      }
    }
    size_t k = lists.size();
    while (true) {
      if (k == 0) {
        done = true;
        break;
      }
      --k;
      if (++idx[k] < lists[k].size()) break;
      idx[k] = 0;
    }
  }
  scope_.resize(base);
  if (agg) return accumulator;
  if (ret && ret->FindString("distinct") != "false") {
    const json::Value* d = ret->Find("distinct");
    if (!d || !d->is_bool() || d->bool_value()) out = Distinct(out);
  }
  if (singleton) return out.empty() ? Value::Null() : out[0];
  if (const json::Value* sort = node.Find("sort")) return Sorted(*sort, std::move(out));
  return Value::FromList(std::move(out));
}

}  // namespace vesta::cql
