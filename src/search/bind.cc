// Binding a search parameter to its condition: https://hl7.org/fhir/R4/search.html
#include "search/bind.h"

#include "base/strings.h"
#include "search/parse.h"
#include "search/text.h"

namespace vesta::search {
namespace {

// Which condition drives the search: the likely most selective one (0 = most).
int PriorityOf(ParamType type, std::string_view modifier, bool negated) {
  if (negated) return 9;
  switch (type) {
    case ParamType::kReference:
      return 0;
    case ParamType::kComposite:  // a token (or reference) and a value: usually narrow
      return 1;
    case ParamType::kToken:
      return modifier.empty() ? 1 : 4;
    case ParamType::kUri:
      return 2;
    case ParamType::kString:
      return modifier == "exact" ? 2 : 3;
    default:
      return 5;
  }
}

bool Indexable(ParamType t) {
  switch (t) {
    case ParamType::kToken:
    case ParamType::kString:
    case ParamType::kDate:
    case ParamType::kNumber:
    case ParamType::kQuantity:
    case ParamType::kReference:
    case ParamType::kUri:
    case ParamType::kComposite:
      return true;
    default:
      return false;
  }
}

// The value test of one value of a plain parameter; :identifier and :of-type read other rows
// (their params and table are set on `c`).
Result<params::ValueTest> ValueTestOf(const Param& p, std::string_view name,
                                      std::string_view modifier, const std::string& v, int64_t now,
                                      IndexCondition* c) {
  if (modifier == "identifier" && p.type == ParamType::kReference) {
    c->table = ParamType::kToken;
    c->params = {p.code + ":identifier"};
    return params::Token(name, "", v, 0);
  }
  if (modifier == "of-type" && p.type == ParamType::kToken) {
    c->params.clear();
    for (const std::string& r :
         (p.rows_of.empty() ? std::vector<std::string>{p.code} : p.rows_of)) {
      c->params.push_back(r + ":of-type");
    }
    return params::OfType(name, v);
  }
  if (p.type == ParamType::kComposite) return params::Composite(p, name, v, now);
  return params::ValueOf(p.type, p.targets, name, modifier, v, 0, now);
}

}  // namespace

Result<std::optional<params::Bound>> Binder::Bind(const std::string& type, std::string_view name,
                                                  std::string_view value, const CodeSet* codes,
                                                  int depth) {
  using R = std::optional<params::Bound>;
  if (depth > 4) return Bad(name, "chains and _has nest at most 4 levels");
  if (name.substr(0, 5) == "_has:") {
    ASSIGN_OR_RETURN(params::Bound b, params::Has(*this, type, name, value, codes, depth));
    return R(std::move(b));
  }
  size_t dot = name.find('.');
  if (dot != std::string_view::npos) {
    return params::Chain(*this, type, name.substr(0, dot), name.substr(dot + 1), value, codes,
                         depth);
  }
  std::string_view code = name, modifier;
  size_t colon = name.find(':');
  if (colon != std::string_view::npos) {
    code = name.substr(0, colon);
    modifier = name.substr(colon + 1);
  }
  Result<params::Bound> bound = Status::Ok();
  if (code == "_id") {
    bound = params::Id(type, name, modifier, value);
  } else if (code == "_lastUpdated") {
    bound = params::LastUpdated(type, name, modifier, value, spec_.now_micros);
  } else if (code == "_list") {
    bound = params::List(type, name, modifier, value);
  } else if (IsTextSearchParam(code)) {
    if (!type.empty() && registry_.Find(type, code) == nullptr) return R();
    bound = params::Text(name, code, modifier, value);
  } else {
    const Param* p = registry_.Find(type, code);
    if (p == nullptr) return R();
    if (IsNearParam(type, *p)) {
      bound = params::Near(type, name, modifier, value);
    } else {
      bound = Indexed(*p, type, name, modifier, value, codes);
    }
  }
  if (!bound.ok()) return bound.status();
  return R(std::move(bound).value());
}

// A parameter read from its type's index rows.
Result<params::Bound> Binder::Indexed(const Param& p, const std::string& type,
                                      std::string_view name, std::string_view modifier,
                                      std::string_view value, const CodeSet* codes) {
  if (!Indexable(p.type) || !p.compiled) {
    return Bad(name, std::string(ParamTypeName(p.type)) + " parameters are not supported yet");
  }
  IndexCondition c;
  c.table = p.type;
  c.type = type;
  // The rows' param keys: the parameter's own, or those of the composites it is read from.
  c.params = p.rows_of.empty() ? std::vector<std::string>{p.code} : p.rows_of;
  if (modifier == "missing") {
    if (value != "true" && value != "false") return Bad(name, "use :missing=true or false");
    return params::Bound{{MissingCondition{p.type, type, c.params, value == "true"}}, 8};
  }
  if (p.type == ParamType::kComposite && !modifier.empty()) {
    // https://hl7.org/fhir/R4/search.html#composite: the parts take their types' syntax and
    // prefixes, not modifiers.
    return Bad(name, "composite parameters take no modifier but :missing");
  }
  // https://hl7.org/fhir/R4/search.html#token: :in, :not-in, :below, :above stand for the codes
  // the terminology gave (search/spec.h, CodeSet), matched as a set.
  bool pinned = false;
  if (codes != nullptr && p.type == ParamType::kToken) {
    c.negated = modifier == "not-in";
    modifier = "";  // from here on a plain token condition over the codes
    if (codes->codes.empty()) {
      // No member: :in matches nothing and :not-in everything.
      return params::Bound{{ConstantCondition{c.negated}}, c.negated ? 9 : 1};
    }
    if (codes->codes.size() > params::kTokenListAbove) {
      c.alternatives = params::CodeSetTests(*codes);
    } else {
      for (const auto& [system, code] : codes->codes) {
        const std::string v = EscapeSearchValue(system) + "|" + EscapeSearchValue(code);
        ASSIGN_OR_RETURN(params::ValueTest t, params::Token(name, "", v, 0));
        c.alternatives.push_back(std::move(t.test));
        pinned = t.pinned;
      }
    }
  } else {
    if (modifier == "not" && p.type == ParamType::kToken) {
      c.negated = true;  // https://hl7.org/fhir/R4/search.html#modifiers
      modifier = "";
    }
    std::vector<std::string> values = SplitEscaped(value, ',');
    for (const std::string& v : values) {
      if (v.empty()) return Bad(name, "empty value");
    }
    if (p.type == ParamType::kToken && modifier.empty() &&
        values.size() > params::kTokenListAbove) {
      c.alternatives = params::TokenList(values);
    } else {
      for (const std::string& v : values) {
        ASSIGN_OR_RETURN(params::ValueTest t,
                         ValueTestOf(p, name, modifier, v, spec_.now_micros, &c));
        pinned = t.pinned;
        c.alternatives.push_back(std::move(t.test));
      }
    }
  }
  // One equality on a value index, with one param key (rows read from two, as combo-* are, are
  // two ranges, not one in row order): its rows can be walked in order.
  c.pinned = pinned && !c.negated && c.alternatives.size() == 1 && c.params.size() == 1 &&
             (p.type == ParamType::kToken || p.type == ParamType::kReference);
  c.name_index = p.type == ParamType::kString && modifier != "contains";
  // Strings (names) and references (a patient) are the usual narrow conditions: they are not
  // counted before a page (Plan::CountThenWalk).
  c.usually_narrow = p.type == ParamType::kString || p.type == ParamType::kReference;
  const int priority = PriorityOf(p.type, modifier, c.negated);
  return params::Bound{{std::move(c)}, priority};
}

}  // namespace vesta::search
