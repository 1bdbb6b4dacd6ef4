// Parsing and planning of search requests: https://hl7.org/fhir/R4/search.html
#include "search/query.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <utility>

#include "fhir/datetime.h"
#include "fhir/ucum.h"
#include "json/writer.h"
#include "search/extract.h"
#include "search/normalize.h"
#include "search/text.h"

namespace vesta::search {
namespace {

constexpr int64_t kMaxI64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinI64 = std::numeric_limits<int64_t>::min();

Status Bad(std::string_view name, const std::string& why) {
  return Status(StatusCode::kInvalid, "search parameter '" + std::string(name) + "': " + why,
                {Issue{Severity::kError, "invalid",
                       "search parameter '" + std::string(name) + "': " + why, ""}});
}

// https://hl7.org/fhir/R4/search.html#escaping: `\,` `\|` `\$` `\\`.
std::vector<std::string> SplitUnescaped(std::string_view s, char sep) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      if (s[i + 1] == sep || s[i + 1] == '\\' || s[i + 1] == ',' || s[i + 1] == '|' ||
          s[i + 1] == '$') {
        if (s[i + 1] == sep) {
          out.back().push_back(s[i + 1]);
        } else {
          out.back() += s.substr(i, 2);
        }
        ++i;
        continue;
      }
    }
    if (s[i] == sep) {
      out.emplace_back();
    } else {
      out.back().push_back(s[i]);
    }
  }
  return out;
}

// A _text / _content value split at its commas (https://hl7.org/fhir/R4/search.html#escaping),
// except those inside a quoted phrase, which cannot separate alternatives:
// `"heart failure, chronic"` is one phrase. Escapes are kept for Unescape.
std::vector<std::string> SplitOutsideQuotes(std::string_view s) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.back() += s.substr(i, 2);
      ++i;
      continue;
    }
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back().push_back(s[i]);
    }
  }
  return out;
}

// Removes the remaining escapes of one value.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out.push_back(s[i]);
  }
  return out;
}

// Splits "system|code" at the first unescaped '|'. nullopt when there is none.
std::optional<std::pair<std::string, std::string>> SplitBar(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '|') {
      return std::make_pair(Unescape(s.substr(0, i)), std::string(s.substr(i + 1)));
    }
  }
  return std::nullopt;
}

// A token OR list longer than this (a :below or :in expansion rewritten by the REST layer into
// code=sys|c1,sys|c2,...) is looked up per system with its codes bound as one JSON array,
// `code IN (SELECT value FROM json_each(?))`, instead of one UNION ALL branch per value: SQLite
// refuses more than 500 branches, and preparing a long union costs more than running it.
// (json_each is SQLite's; PostgreSQL would say `code = ANY(?)`.)
constexpr size_t kTokenListAbove = 16;

// The tests of a long token OR list: one per system (and one for codes with any system), each
// with its codes as a JSON array; `system|` values keep a test of their own.
std::vector<Sql> GroupedTokenTests(const std::vector<std::string>& values) {
  std::vector<std::pair<std::optional<std::string>, std::string>> groups;  // system, JSON array
  std::vector<Sql> out;
  for (const std::string& v : values) {
    std::optional<std::pair<std::string, std::string>> sc = SplitBar(v);
    std::optional<std::string> system;
    std::string code = Unescape(v);
    if (sc) {
      system = sc->first;
      code = Unescape(sc->second);
      if (code.empty()) {
        Sql t;
        t << " AND system = ";
        t.Arg(*system);
        out.push_back(std::move(t));
        continue;
      }
    }
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const auto& x) { return x.first == system; });
    if (g == groups.end()) g = groups.insert(groups.end(), {system, "["});
    if (g->second.size() > 1) g->second += ',';
    json::WriteString(code, &g->second);
  }
  for (auto& [system, codes] : groups) {
    Sql t;
    if (system) {
      t << " AND system = ";
      t.Arg(*system);
    }
    t << " AND code IN (SELECT value FROM json_each(";
    t.Arg(codes + "]") << "))";
    out.push_back(std::move(t));
  }
  return out;
}

// https://hl7.org/fhir/R4/search.html#prefix
enum class Prefix { kEq, kNe, kGt, kLt, kGe, kLe, kSa, kEb, kAp };

Prefix TakePrefix(std::string_view* v) {
  static const std::pair<std::string_view, Prefix> kPrefixes[] = {
      {"eq", Prefix::kEq}, {"ne", Prefix::kNe}, {"gt", Prefix::kGt},
      {"lt", Prefix::kLt}, {"ge", Prefix::kGe}, {"le", Prefix::kLe},
      {"sa", Prefix::kSa}, {"eb", Prefix::kEb}, {"ap", Prefix::kAp}};
  if (v->size() > 2) {
    for (const auto& [text, p] : kPrefixes) {
      if (v->substr(0, 2) == text) {
        v->remove_prefix(2);
        return p;
      }
    }
  }
  return Prefix::kEq;
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

// The range implied by a number's precision (https://hl7.org/fhir/R4/search.html#number:
// "100" means [99.5, 100.5)).
void ImplicitRange(std::string_view text, double v, double* lo, double* hi) {
  size_t dot = text.find('.');
  size_t exp = text.find_first_of("eE");
  int decimals = 0;
  if (exp == std::string_view::npos && dot != std::string_view::npos) {
    decimals = static_cast<int>(text.size() - dot - 1);
  }
  double half = 0.5 * std::pow(10.0, -decimals);
  *lo = v - half;
  *hi = v + half;
}

std::string_view TableFor(ParamType t) {
  switch (t) {
    case ParamType::kToken:
      return "search_token";
    case ParamType::kString:
      return "search_string";
    case ParamType::kDate:
      return "search_date";
    case ParamType::kNumber:
      return "search_number";
    case ParamType::kQuantity:
      return "search_quantity";
    case ParamType::kReference:
      return "search_reference";
    case ParamType::kUri:
      return "search_uri";
    case ParamType::kComposite:
      return "search_composite";
    default:
      return "";
  }
}

// `param = ?`, or `param IN (?, ...)` for several (a composite read from others' rows);
// `+param` when `plus` (do not use an index for it).
void ParamTerm(const std::vector<std::string>& params, bool plus, Sql* s) {
  *s << (plus ? "+param" : "param");
  if (params.size() == 1) {
    *s << " = ";
    s->Arg(params.front());
    return;
  }
  *s << " IN (";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i > 0) *s << ", ";
    s->Arg(params[i]);
  }
  *s << ")";
}

// `SELECT seq FROM <table> WHERE type = ? AND param = ?`
Sql SelectSeq(std::string_view table, const std::string& type,
              const std::vector<std::string>& params) {
  Sql s;
  s << "SELECT seq FROM " << table << " WHERE type = ";
  s.Arg(type) << " AND ";
  ParamTerm(params, /*plus=*/false, &s);
  return s;
}

// The columns a value test reads: those of the parameter type's own index table, or those of
// one component of a search_composite row (`code2`, `low2`, ...; docs/storage.md).
struct Columns {
  std::string code = "code", system = "system";      // token, quantity unit
  std::string norm = "norm", exact = "exact";        // string
  std::string date_low = "low", date_high = "high";  // date
  std::string low = "value", high = "value";         // number, quantity: a point
  std::string canonical_code = "canonical_code";     // quantity, UCUM canonical form
  std::string canonical_low = "canonical_value", canonical_high = "canonical_value";
  // A composite component: a reference is the one text "Type/id" (or the URL) and a uri, in
  // `code`.
  bool component = false;

  static Columns Component(size_t index) {
    const std::string n = std::to_string(index + 1);
    Columns c;
    c.code = c.norm = "code" + n;
    c.system = c.exact = "system" + n;
    c.date_low = c.low = "low" + n;
    c.date_high = c.high = "high" + n;
    c.canonical_code = "canonical_code" + n;
    c.canonical_low = "canonical_low" + n;
    c.canonical_high = "canonical_high" + n;
    c.component = true;
    return c;
  }
};

// Whether the chain keys ("Type/id") of target type `a` all sort before those of type `b`: the
// order of Plan::ChainOrder::targets and of a chain-ordered page's arms.
bool ChainKeyBefore(std::string_view a, std::string_view b) {
  return std::string(a) + "/" < std::string(b) + "/";
}

class Planner {
 public:
  Planner(const Registry& registry, const SearchSpec& spec) : reg_(registry), spec_(spec) {}

  // The condition for `name=value` on `type`; nullopt when the parameter is unknown.
  Result<std::optional<Sql>> Condition(const std::string& type, std::string_view name,
                                       std::string_view value, int depth) {
    if (depth > 4) return Bad(name, "chains and _has nest at most 4 levels");
    if (name.substr(0, 5) == "_has:") return Has(type, name, value, depth);
    size_t dot = name.find('.');
    if (dot != std::string_view::npos) {
      return Chain(type, name.substr(0, dot), name.substr(dot + 1), value, depth);
    }
    std::string_view code = name, modifier;
    size_t colon = name.find(':');
    if (colon != std::string_view::npos) {
      code = name.substr(0, colon);
      modifier = name.substr(colon + 1);
    }
    if (code == "_id") return IdCondition(type, name, modifier, value);
    if (code == "_lastUpdated") return LastUpdatedCondition(type, name, modifier, value);
    if (code == "_list") return ListCondition(type, name, modifier, value);
    if (IsTextSearchParam(code)) return TextCondition(type, name, code, modifier, value);
    const Param* p = reg_.Find(type, code);
    if (p == nullptr) return std::optional<Sql>();
    if (IsNearParam(type, *p)) return NearCondition(type, name, modifier, value);
    std::string_view table = TableFor(p->type);
    if (table.empty() || !p->compiled) {
      return Bad(name, std::string(ParamTypeName(p->type)) + " parameters are not supported yet");
    }
    // The rows' param keys: the parameter's own, or those of the composites it is read from.
    const std::vector<std::string> row_params =
        p->rows_of.empty() ? std::vector<std::string>{p->code} : p->rows_of;
    if (modifier == "missing") return Missing(name, value, table, type, row_params);
    if (p->type == ParamType::kComposite && !modifier.empty()) {
      // https://hl7.org/fhir/R4/search.html#composite: the parts take their types' syntax and
      // prefixes, not modifiers.
      return Bad(name, "composite parameters take no modifier but :missing");
    }
    bool negate = false;
    if (modifier == "not" && p->type == ParamType::kToken) {
      negate = true;  // https://hl7.org/fhir/R4/search.html#modifiers
      modifier = "";
    }
    std::vector<std::string> values = SplitUnescaped(value, ',');
    std::string_view probe_table = table;
    std::vector<std::string> probe_params = row_params;
    for (const std::string& v : values) {
      if (v.empty()) return Bad(name, "empty value");
    }
    const bool grouped =
        p->type == ParamType::kToken && modifier.empty() && values.size() > kTokenListAbove;
    pinned_ = false;
    // The tests of each OR-ed value, or of each group of values.
    std::vector<Sql> alternatives;
    if (grouped) alternatives = GroupedTokenTests(values);
    for (size_t i = 0; !grouped && i < values.size(); ++i) {
      Sql tests;
      if (modifier == "identifier" && p->type == ParamType::kReference) {
        probe_table = "search_token";
        probe_params = {p->code + ":identifier"};
        RETURN_IF_ERROR(TokenTest(name, "", values[i], Columns(), &tests));
      } else if (modifier == "of-type" && p->type == ParamType::kToken) {
        probe_params.clear();
        for (const std::string& r : row_params) probe_params.push_back(r + ":of-type");
        RETURN_IF_ERROR(OfTypeTest(name, values[i], &tests));
      } else if (p->type == ParamType::kComposite) {
        RETURN_IF_ERROR(CompositeTest(*p, name, values[i], &tests));
      } else {
        RETURN_IF_ERROR(
            ValueTest(p->type, p->targets, name, modifier, values[i], Columns(), &tests));
      }
      alternatives.push_back(std::move(tests));
    }
    Sql any;
    // The probe form of the same condition, for a row already found by another condition:
    // EXISTS (SELECT 1 FROM t WHERE seq = r.seq AND +type = ? AND +param = ? AND (tests OR ...)),
    // a lookup of the (seq, type, param) index instead of a materialised list.
    Sql probe;
    for (size_t i = 0; i < alternatives.size(); ++i) {
      const Sql& tests = alternatives[i];
      if (i > 0) any << " UNION ALL ";
      any.Append(SelectSeq(probe_table, type, probe_params)).Append(tests);
      probe << (i > 0 ? " OR " : "") << "(1 = 1";
      probe.Append(tests) << ")";
    }
    Sql s;
    s << (negate ? "seq NOT IN (" : "seq IN (");
    s.Append(any) << ")";
    if (depth == 0 || want_probe_) {
      Sql e;
      e << (negate ? "NOT EXISTS (SELECT 1 FROM " : "EXISTS (SELECT 1 FROM ") << probe_table
        << " WHERE seq = " << row_ << " AND +type = ";
      e.Arg(type) << " AND ";
      ParamTerm(probe_params, /*plus=*/true, &e);
      e << " AND (";
      e.Append(probe) << "))";
      probe_ = std::move(e);
      // Strings (names) and references (a patient) are the usual narrow conditions: they are
      // not counted first, which would cost a statement on the most frequent searches.
      if (!negate && p->type != ParamType::kString && p->type != ParamType::kReference) {
        list_ = any;
      }
      // (One param key: rows read from two (combo-*) are two ranges, not one in seq order.)
      if (pinned_ && !negate && alternatives.size() == 1 && probe_params.size() == 1 &&
          (p->type == ParamType::kToken || p->type == ParamType::kReference)) {
        Sql d;
        d << "SELECT seq AS dseq FROM " << probe_table << " WHERE type = ";
        d.Arg(type) << " AND param = ";
        d.Arg(probe_params.front());
        d.Append(alternatives[0]);
        driver_ = std::move(d);
      }
      // Which condition drives the search: the likely most selective one.
      switch (p->type) {
        case ParamType::kReference:
          priority_ = 0;
          break;
        case ParamType::kComposite:  // a token (or reference) and a value: usually narrow
          priority_ = 1;
          break;
        case ParamType::kToken:
          priority_ = modifier.empty() ? 1 : 4;
          break;
        case ParamType::kUri:
          priority_ = 2;
          break;
        case ParamType::kString:
          priority_ = modifier == "exact" ? 2 : 3;
          name_list_ = modifier != "contains" && !negate;
          break;
        default:
          priority_ = 5;
          break;
      }
      if (negate) priority_ = 9;
    }
    return std::optional<Sql>(std::move(s));
  }

  // After Condition() at depth 0: the probe form of a plain parameter or chain condition (none
  // for _id, _lastUpdated, :missing and _has) and how selective it is likely to be (0 = most).
  std::optional<Sql> TakeProbe() { return std::exchange(probe_, std::nullopt); }
  // After Condition() at depth 0: the condition as an index walk in seq order (Plan::driver),
  // when it is one equality on a value index.
  std::optional<Sql> TakeDriver() { return std::exchange(driver_, std::nullopt); }
  // After Condition() at depth 0: the plain condition's list as a SELECT of seqs.
  std::optional<Sql> TakeList() { return std::exchange(list_, std::nullopt); }
  // After Condition() at depth 0: a chain, as Plan::chain.
  std::optional<Plan::ChainOrder> TakeChain() { return std::exchange(chain_, std::nullopt); }
  // After Condition() at depth 0: a string prefix or :exact condition, whose list is read from
  // the covering (type, param, norm, seq) index.
  bool name_list() const { return name_list_; }
  int priority() const { return priority_; }
  void ResetProbe() {
    probe_.reset();
    driver_.reset();
    list_.reset();
    chain_.reset();
    name_list_ = false;
    priority_ = 3;
  }

 private:
  // https://hl7.org/fhir/R4/search.html#has: _has:Observation:patient:code=1234-5
  Result<std::optional<Sql>> Has(const std::string& type, std::string_view name,
                                 std::string_view value, int depth) {
    std::string_view rest = name.substr(5);
    size_t c1 = rest.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : rest.find(':', c1 + 1);
    if (c2 == std::string_view::npos) {
      return Bad(name, "expected _has:[type]:[reference parameter]:[parameter]");
    }
    std::string source(rest.substr(0, c1));
    std::string_view ref = rest.substr(c1 + 1, c2 - c1 - 1);
    const Param* rp = reg_.Find(source, ref);
    if (rp == nullptr || rp->type != ParamType::kReference) {
      return Bad(name,
                 "'" + std::string(ref) + "' is not a reference parameter of '" + source + "'");
    }
    std::string_view inner_name = rest.substr(c2 + 1);
    // A plain inner parameter (not a chain or another _has) also gets its probe form, on the
    // referring row `hx` instead of `r`; the planner's own state is kept around the call.
    const bool plain =
        inner_name.find('.') == std::string_view::npos && inner_name.substr(0, 5) != "_has:";
    auto saved_probe = std::exchange(probe_, std::nullopt);
    auto saved_driver = std::exchange(driver_, std::nullopt);
    auto saved_list = std::exchange(list_, std::nullopt);
    int saved_priority = priority_;
    std::string saved_row = std::exchange(row_, "hx.seq");
    bool saved_want = std::exchange(want_probe_, plain);
    auto inner_or = Condition(source, inner_name, value, depth + 1);
    std::optional<Sql> inner_probe = std::exchange(probe_, std::move(saved_probe));
    std::optional<Sql> inner_list = std::exchange(list_, std::move(saved_list));
    driver_ = std::move(saved_driver);
    priority_ = saved_priority;
    row_ = std::move(saved_row);
    want_probe_ = saved_want;
    ASSIGN_OR_RETURN(std::optional<Sql> inner, std::move(inner_or));
    if (!inner) return Bad(name, "unknown parameter '" + std::string(inner_name) + "'");
    if (depth == 0 && plain && inner_probe) {
      // The probe form: does a row of the source type refer to this row and match the inner
      // condition? Through the (type, param, target_type, target_id, seq) index, then the inner
      // condition's probe of each referring row. With it a page can walk the type's rows when
      // the inner list is long (Plan::walk_where), which it counts (list_).
      Sql e;
      e << "EXISTS (SELECT 1 FROM search_reference hx WHERE hx.type = ";
      e.Arg(source) << " AND hx.param = ";
      e.Arg(rp->code) << " AND hx.target_type = ";
      e.Arg(type) << " AND hx.target_id = r.id AND ";
      e.Append(*inner_probe) << ")";
      probe_ = std::move(e);
      list_ = std::move(inner_list);
    }
    Sql s;
    s << "seq IN (SELECT seq FROM search_resource WHERE type = ";
    s.Arg(type) << " AND id IN (SELECT target_id FROM search_reference WHERE type = ";
    s.Arg(source) << " AND param = ";
    // `+target_type`: drive from the inner matches' seqs (index on seq, type, param).
    s.Arg(rp->code) << " AND +target_type = ";
    s.Arg(type) << " AND ";
    s.Append(*inner) << "))";
    return std::optional<Sql>(std::move(s));
  }

  // https://hl7.org/fhir/R4/search.html#chaining: subject:Patient.name=peter
  Result<std::optional<Sql>> Chain(const std::string& type, std::string_view head,
                                   std::string_view rest, std::string_view value, int depth) {
    std::string_view code = head, target;
    size_t colon = head.find(':');
    if (colon != std::string_view::npos) {
      code = head.substr(0, colon);
      target = head.substr(colon + 1);
    }
    const Param* p = reg_.Find(type, code);
    if (p == nullptr) return std::optional<Sql>();
    if (p->type != ParamType::kReference) {
      return Bad(head, "only reference parameters can be chained");
    }
    if (depth == 0) priority_ = 1;  // usually narrow: a name, an identifier
    std::vector<std::string> targets;
    if (!target.empty()) {
      targets.emplace_back(target);
    } else {
      for (const std::string& t : p->targets) {
        std::string_view first = rest.substr(0, rest.find_first_of(".:"));
        if (first == "_id" || first == "_lastUpdated" || first.substr(0, 4) == "_has" ||
            reg_.Find(t, first) != nullptr) {
          targets.push_back(t);
        }
      }
    }
    if (targets.empty()) {
      return Bad(head, "no target type of '" + std::string(code) + "' has a parameter '" +
                           std::string(rest) + "'");
    }
    Sql any;
    std::vector<Sql> inners;
    for (size_t i = 0; i < targets.size(); ++i) {
      ASSIGN_OR_RETURN(std::optional<Sql> inner, Condition(targets[i], rest, value, depth + 1));
      if (!inner) {
        return Bad(head, "'" + targets[i] + "' has no parameter '" + std::string(rest) + "'");
      }
      inners.push_back(*inner);
      if (i > 0) any << " UNION ALL ";
      any << "SELECT seq FROM search_reference WHERE type = ";
      any.Arg(type) << " AND param = ";
      any.Arg(p->code) << " AND target_type = ";
      // `+type`: look the inner matches up by seq (rowid), not by scanning the type's ids.
      any.Arg(targets[i]) << " AND target_id IN (SELECT id FROM search_resource WHERE +type = ";
      any.Arg(targets[i]) << " AND ";
      any.Append(*inner) << ")";
    }
    Sql s;
    s << "seq IN (";
    s.Append(any) << ")";
    if (depth == 0) {
      // The probe form, for a row found by another condition: does its reference point into the
      // inner matches? The inner list (usually narrow: a name, an identifier) is collected once
      // per search; the row's references are found through the (seq, type, param) index.
      Sql e;
      e << "EXISTS (SELECT 1 FROM search_reference WHERE seq = r.seq AND +type = ";
      e.Arg(type) << " AND +param = ";
      e.Arg(p->code) << " AND (";
      for (size_t i = 0; i < targets.size(); ++i) {
        if (i > 0) e << " OR ";
        e << "(target_type = ";
        e.Arg(targets[i]) << " AND target_id IN (SELECT id FROM search_resource WHERE +type = ";
        e.Arg(targets[i]) << " AND ";
        e.Append(inners[i]) << "))";
      }
      e << "))";
      probe_ = std::move(e);
      Plan::ChainOrder order{type, p->code, {}};
      for (size_t i = 0; i < targets.size(); ++i) {
        order.targets.push_back(Plan::ChainTarget{targets[i], std::move(inners[i])});
      }
      std::sort(order.targets.begin(), order.targets.end(),
                [](const Plan::ChainTarget& a, const Plan::ChainTarget& b) {
                  return ChainKeyBefore(a.type, b.type);
                });
      chain_ = std::move(order);
    }
    return std::optional<Sql>(std::move(s));
  }

  // https://hl7.org/fhir/R4/search.html#text: "_text: ... a search against the narrative of the
  // resource"; "_content: ... searches the entire content of the resource". The value is a text
  // search expression (search/text.h); comma-separated values are alternatives (OR). The set is
  // the full-text index's rows (rowid = seq), the same for every type: for a type without the
  // parameter (_text on Bundle, Binary, Parameters) the parameter is unknown.
  Result<std::optional<Sql>> TextCondition(const std::string& type, std::string_view name,
                                           std::string_view code, std::string_view modifier,
                                           std::string_view value) {
    if (!type.empty() && reg_.Find(type, code) == nullptr) return std::optional<Sql>();
    if (!modifier.empty()) {
      return Bad(name, "modifiers (:missing included) do not apply to " + std::string(code));
    }
    const TextScope scope = code == "_text" ? TextScope::kNarrative : TextScope::kContent;
    std::string match;
    for (const std::string& alternative : SplitOutsideQuotes(value)) {
      std::string text = Unescape(alternative);
      Result<std::string> expr = TextMatchExpression(text, scope);
      if (!expr.ok()) return Bad(name, expr.status().message());
      match += (match.empty() ? "(" : " OR (") + *expr + ")";
    }
    priority_ = 3;
    Sql s;
    s << "seq IN (SELECT rowid FROM search_text WHERE search_text MATCH ";
    s.Arg(match) << ")";
    return std::optional<Sql>(std::move(s));
  }

  // https://hl7.org/fhir/R4/search.html#missing: `:missing=true` is the type's rows without a row
  // of `params` in `table`, `:missing=false` those with one.
  Result<std::optional<Sql>> Missing(std::string_view name, std::string_view value,
                                     std::string_view table, const std::string& type,
                                     const std::vector<std::string>& params) {
    if (value != "true" && value != "false") return Bad(name, "use :missing=true or false");
    priority_ = 8;
    Sql s;
    s << (value == "true" ? "seq NOT IN (" : "seq IN (");
    s.Append(SelectSeq(table, type, params)) << ")";
    return std::optional<Sql>(std::move(s));
  }

  // Location `near` (http://hl7.org/fhir/SearchParameter/Location-near): `[latitude]|[longitude]|
  // [distance]|[units]` in WGS84 degrees; units a UCUM length (km when omitted); without a
  // distance, kNearDefaultMeters. Matches a Location whose position lies within the distance on
  // the great circle (haversine, mean Earth radius). The latitude rows are found by a range on
  // the (type, param, value) index, each joined to its longitude row by seq, then tested.
  Result<std::optional<Sql>> NearCondition(const std::string& type, std::string_view name,
                                           std::string_view modifier, std::string_view value) {
    if (modifier == "missing") {
      return Missing(name, value, "search_number", type, {std::string(kNearLatitude)});
    }
    if (!modifier.empty()) return Bad(name, "modifiers other than :missing do not apply to near");
    constexpr double kEarthRadiusMeters = 6371008.8;  // the mean radius of the WGS84 ellipsoid
    constexpr double kPi = std::numbers::pi;
    Sql any;
    std::vector<std::string> alternatives = SplitUnescaped(value, ',');
    if (alternatives.empty()) return Bad(name, "expected latitude|longitude|distance|units");
    for (size_t i = 0; i < alternatives.size(); ++i) {
      std::vector<std::string> parts = SplitUnescaped(alternatives[i], '|');
      if (parts.size() < 2 || parts.size() > 4) {
        return Bad(name, "expected latitude|longitude|distance|units, e.g. 42.25|-83.69|10|km");
      }
      double lat = 0, lon = 0, distance = 0;
      // Written as ranges that NaN fails ("nan" parses as a double).
      if (!ParseDouble(Unescape(parts[0]), &lat) || !(lat >= -90 && lat <= 90)) {
        return Bad(name, "the latitude must be a number of degrees from -90 to 90");
      }
      if (!ParseDouble(Unescape(parts[1]), &lon) || !(lon >= -180 && lon <= 180)) {
        return Bad(name, "the longitude must be a number of degrees from -180 to 180");
      }
      const bool has_distance = parts.size() >= 3 && !parts[2].empty();
      if (has_distance && (!ParseDouble(Unescape(parts[2]), &distance) || !(distance >= 0) ||
                           !std::isfinite(distance))) {
        return Bad(name, "the distance must be a finite number, 0 or more");
      }
      std::string units = parts.size() == 4 && !parts[3].empty() ? Unescape(parts[3]) : "km";
      std::optional<ucum::Canonical> meters = ucum::Canonicalize(distance, units);
      if (!meters || meters->code != "m") {
        return Bad(name, "'" + units + "' is not a UCUM unit of length (km, m, [mi_i], ...)");
      }
      // Without a distance the units are irrelevant (the SearchParameter's description).
      const double d = has_distance ? meters->value : kNearDefaultMeters;
      const double lat_r = lat * kPi / 180;
      const double reach = d / kEarthRadiusMeters * 180 / kPi;  // degrees of latitude
      if (i > 0) any << " UNION ALL ";
      any << "SELECT a.seq FROM search_number a JOIN search_number b ON b.seq = a.seq AND"
             " b.type = a.type AND b.param = ";
      any.Arg(std::string(kNearLongitude)) << " WHERE a.type = ";
      any.Arg(type) << " AND a.param = ";
      any.Arg(std::string(kNearLatitude)) << " AND a.value >= ";
      any.Arg(std::max(-90.0, lat - reach)) << " AND a.value <= ";
      any.Arg(std::min(90.0, lat + reach)) << " AND 2 * ";
      any.Arg(kEarthRadiusMeters) << " * asin(min(1, sqrt(pow(sin((radians(a.value) - ";
      any.Arg(lat_r) << ") / 2), 2) + ";
      any.Arg(std::cos(lat_r)) << " * cos(radians(a.value)) * pow(sin(radians(b.value - ";
      any.Arg(lon) << ") / 2), 2)))) <= ";
      any.Arg(d);
    }
    priority_ = 2;
    Sql s;
    s << "seq IN (";
    s.Append(any) << ")";
    return std::optional<Sql>(std::move(s));
  }

  // https://hl7.org/fhir/R4/search.html#list: `_list=42` matches the resources that List/42 refers
  // to in its entries (List.entry.item, the List's `item` parameter); several ids are OR-ed. The
  // functional lists (`$current-problems`, ...) are not supported. An entry matches by its
  // relative reference (type and id), as the reference index holds it.
  Result<std::optional<Sql>> ListCondition(const std::string& type, std::string_view name,
                                           std::string_view modifier, std::string_view value) {
    if (!modifier.empty()) {
      return Bad(name, "modifiers (:missing included) do not apply to _list");
    }
    std::vector<std::string> ids = SplitUnescaped(value, ',');
    if (ids.empty()) return Bad(name, "expected the id of a List resource");
    for (std::string& id : ids) {
      id = Unescape(id);
      if (!id.empty() && id.front() == '$') {
        return Bad(name, "functional lists such as '" + id +
                             "' are not supported; give the id of a List resource");
      }
      if (id.empty()) return Bad(name, "expected the id of a List resource");
    }
    priority_ = 0;  // a list names its items: usually a few
    Sql s;
    s << "seq IN (SELECT m.seq FROM search_reference li JOIN search_resource m ON m.type ="
         " li.target_type AND m.id = li.target_id WHERE li.seq IN (SELECT seq FROM"
         " search_resource WHERE type = ";
    s.Arg(std::string("List")) << " AND id IN (";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) s << ", ";
      s.Arg(ids[i]);
    }
    s << ")) AND +li.type = ";
    s.Arg(std::string("List")) << " AND +li.param = ";
    s.Arg(std::string("item"));
    if (!type.empty()) {
      s << " AND li.target_type = ";
      s.Arg(type);
    }
    s << ")";
    return std::optional<Sql>(std::move(s));
  }

  // https://hl7.org/fhir/R4/search.html#id
  Result<std::optional<Sql>> IdCondition(const std::string& type, std::string_view name,
                                         std::string_view modifier, std::string_view value) {
    Sql s;
    if (modifier == "missing") {
      s << (value == "true" ? "0 = 1" : "1 = 1");
      return std::optional<Sql>(std::move(s));
    }
    bool negate = modifier == "not";
    if (!modifier.empty() && !negate) return Bad(name, "modifier not supported on _id");
    priority_ = negate ? 9 : 0;
    s << (negate ? "seq NOT IN (" : "seq IN (") << "SELECT seq FROM search_resource WHERE ";
    if (!type.empty()) {
      s << "type = ";
      s.Arg(type) << " AND ";
    }
    s << "id IN (";
    std::vector<std::string> ids = SplitUnescaped(value, ',');
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) s << ", ";
      s.Arg(Unescape(ids[i]));
    }
    s << "))";
    return std::optional<Sql>(std::move(s));
  }

  Result<std::optional<Sql>> LastUpdatedCondition(const std::string& type, std::string_view name,
                                                  std::string_view modifier,
                                                  std::string_view value) {
    if (modifier == "missing") {
      Sql s;
      s << (value == "true" ? "0 = 1" : "1 = 1");
      return std::optional<Sql>(std::move(s));
    }
    if (!modifier.empty()) return Bad(name, "modifier not supported on _lastUpdated");
    priority_ = 5;
    std::vector<std::string> values = SplitUnescaped(value, ',');
    Sql s;
    s << "seq IN (";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) s << " UNION ALL ";
      s << "SELECT seq FROM search_resource WHERE ";
      if (!type.empty()) {
        s << "type = ";
        s.Arg(type) << " AND ";
      }
      // A point in time: the same tests as a date range whose low and high are equal.
      Sql test;
      RETURN_IF_ERROR(DateTest(name, values[i], "last_updated", "last_updated", &test));
      s.Append(test);
    }
    s << ")";
    return std::optional<Sql>(std::move(s));
  }

  // The tests of one value `v` of a parameter (or composite component) of type `type` over the
  // columns `c`. `targets`: a reference's allowed target types.
  Status ValueTest(ParamType type, const std::vector<std::string>& targets, std::string_view name,
                   std::string_view modifier, const std::string& v, const Columns& c, Sql* s) {
    switch (type) {
      case ParamType::kToken:
        return TokenTest(name, modifier, v, c, s);
      case ParamType::kString:
        return StringTest(name, modifier, v, c, s);
      case ParamType::kDate:
        if (!modifier.empty())
          return Bad(name, "modifier :" + std::string(modifier) + " is not supported on dates");
        *s << " AND ";
        return DateTest(name, v, c.date_low, c.date_high, s);
      case ParamType::kNumber:
      case ParamType::kQuantity:
        return NumberTest(type, name, modifier, v, c, s);
      case ParamType::kReference:
        return ReferenceTest(targets, name, modifier, v, c, s);
      case ParamType::kUri:
        return UriTest(name, modifier, v, c, s);
      default:
        return Bad(name, "not supported");
    }
  }

  // https://hl7.org/fhir/R4/search.html#composite: "[value]$[value]..." with one part per
  // component, each in the syntax of the component's type (its prefixes included), all matching
  // the same tuple (one search_composite row).
  Status CompositeTest(const Param& p, std::string_view name, const std::string& value, Sql* s) {
    std::vector<std::string> parts = SplitUnescaped(value, '$');
    if (parts.size() != p.components.size()) {
      std::string form;
      for (const Component& c : p.components) form += (form.empty() ? "[" : "$[") + c.code + "]";
      return Bad(name, "expected " + std::to_string(p.components.size()) +
                           " values separated by $: " + form);
    }
    for (size_t i = 0; i < parts.size(); ++i) {
      const Component& c = p.components[i];
      if (parts[i].empty())
        return Bad(name, "the " + c.code + " part ($" + std::to_string(i + 1) + ") is empty");
      RETURN_IF_ERROR(ValueTest(c.type, c.targets, name, "", parts[i], Columns::Component(i), s));
    }
    return Status::Ok();
  }

  // https://hl7.org/fhir/R4/search.html#token
  Status TokenTest(std::string_view name, std::string_view modifier, const std::string& v,
                   const Columns& c, Sql* s) {
    if (modifier == "text") {
      std::string norm = NormalizeString(Unescape(v));
      // `text <> ''` repeats the partial index's condition, so that SQLite may use it.
      *s << " AND text <> '' AND text >= ";
      s->Arg(norm) << " AND text < ";
      s->Arg(PrefixEnd(norm));
      return Status::Ok();
    }
    if (!modifier.empty()) {
      return Bad(name, "modifier :" + std::string(modifier) +
                           " is not supported on tokens "
                           "(supported: :text, :not, :of-type, :missing)");
    }
    std::optional<std::pair<std::string, std::string>> sc = SplitBar(v);
    if (!sc) {
      *s << " AND " << c.code << " = ";
      s->Arg(Unescape(v));
      return Status::Ok();
    }
    std::string code = Unescape(sc->second);
    if (!code.empty()) {
      *s << " AND " << c.code << " = ";
      s->Arg(code);
      pinned_ = true;  // code and system: one key of the (type, param, code, system, seq) index
    } else if (!sc->first.empty()) {
      // `system|`: the partial index on system holds these rows
      *s << " AND " << c.system << " <> ''";
    }
    *s << " AND " << c.system << " = ";
    s->Arg(sc->first);
    return Status::Ok();
  }

  // https://hl7.org/fhir/R4/search.html#token, :of-type: "the search parameter has the format
  // system|code|value, where the system and code refer to an Identifier.type.coding.system and
  // .code, and match if any of the type codes match. All 3 parts must be present."
  Status OfTypeTest(std::string_view name, const std::string& v, Sql* s) {
    std::vector<std::string> parts = SplitUnescaped(v, '|');
    if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
      return Bad(name,
                 "use :of-type=[type system]|[type code]|[identifier value], all three "
                 "present");
    }
    std::string pair = Unescape(parts[1]);
    pair.push_back(kOfTypeSeparator);
    pair += Unescape(parts[2]);
    *s << " AND code = ";
    s->Arg(pair) << " AND system = ";
    s->Arg(Unescape(parts[0]));
    pinned_ = true;
    return Status::Ok();
  }

  // https://hl7.org/fhir/R4/search.html#string
  Status StringTest(std::string_view name, std::string_view modifier, const std::string& v,
                    const Columns& c, Sql* s) {
    std::string exact = Unescape(v);
    std::string norm = NormalizeString(exact);
    if (modifier.empty()) {
      *s << " AND " << c.norm << " >= ";
      s->Arg(norm) << " AND " << c.norm << " < ";
      s->Arg(PrefixEnd(norm));
    } else if (modifier == "exact") {
      *s << " AND " << c.norm << " = ";
      s->Arg(norm) << " AND " << c.exact << " = ";
      s->Arg(exact);
    } else if (modifier == "contains") {
      std::string pattern = "%";
      for (char c : norm) {
        if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
        pattern.push_back(c);
      }
      pattern.push_back('%');
      *s << " AND norm LIKE ";
      s->Arg(pattern) << " ESCAPE '\\'";
    } else {
      return Bad(name, "modifier :" + std::string(modifier) +
                           " is not supported on strings "
                           "(supported: :exact, :contains, :missing)");
    }
    return Status::Ok();
  }

  // https://hl7.org/fhir/R4/search.html#date, #prefix. The parameter's value is a range
  // [pl, ph] (its precision); the resource's value a range [low, high].
  Status DateTest(std::string_view name, std::string_view value, std::string_view low,
                  std::string_view high, Sql* s) {
    std::string_view v = value;
    Prefix prefix = TakePrefix(&v);
    Result<fhir::TimeRange> r = fhir::ParseTimeRange(v);
    if (!r.ok())
      return Bad(name, "'" + std::string(value) + "' is not a date: " + r.status().message());
    const int64_t pl = r->low, ph = r->high;
    std::string L(low), H(high);
    switch (prefix) {
      case Prefix::kEq:
        *s << "(" << L << " >= ";
        s->Arg(pl) << " AND " << H << " <= ";
        s->Arg(ph) << ")";
        break;
      case Prefix::kNe:
        *s << "NOT (" << L << " >= ";
        s->Arg(pl) << " AND " << H << " <= ";
        s->Arg(ph) << ")";
        break;
      case Prefix::kGt:
        *s << H << " > ";
        s->Arg(ph);
        break;
      case Prefix::kLt:
        *s << L << " < ";
        s->Arg(pl);
        break;
      case Prefix::kGe:
        *s << "(" << H << " > ";
        s->Arg(ph) << " OR (" << L << " >= ";
        s->Arg(pl) << " AND " << H << " <= ";
        s->Arg(ph) << "))";
        break;
      case Prefix::kLe:
        *s << "(" << L << " < ";
        s->Arg(pl) << " OR (" << L << " >= ";
        s->Arg(pl) << " AND " << H << " <= ";
        s->Arg(ph) << "))";
        break;
      case Prefix::kSa:
        *s << L << " > ";
        s->Arg(ph);
        break;
      case Prefix::kEb:
        *s << H << " < ";
        s->Arg(pl);
        break;
      case Prefix::kAp: {
        // "approximately": within 10% of the distance from now, at least a day.
        int64_t now = spec_.now_micros;
        int64_t d =
            std::max<int64_t>(86400000000LL, static_cast<int64_t>(std::llabs(now - pl) / 10));
        *s << "(" << L << " <= ";
        s->Arg(ph > kMaxI64 - d ? kMaxI64 : ph + d) << " AND " << H << " >= ";
        s->Arg(pl < kMinI64 + d ? kMinI64 : pl - d) << ")";
        break;
      }
    }
    return Status::Ok();
  }

  // https://hl7.org/fhir/R4/search.html#number, #quantity. The stored value is the range
  // [low, high] of the columns `c` (a point when they are one column; a Range otherwise); the
  // searched value has the precision it is written with ("100" is [99.5, 100.5)).
  //
  // https://hl7.org/fhir/R4/search.html#quantity: with the UCUM system and a unit that
  // ucum::Canonicalize knows, the comparison is made in canonical units against the rows'
  // canonical form (5.4 mg, 0.0054 g and 5400 ug are one value); every bound (the precision
  // range, the ap margin) is computed in the unit given and then converted. Other systems, and
  // UCUM codes that are not known, match the unit as written.
  Status NumberTest(ParamType type, std::string_view name, std::string_view modifier,
                    const std::string& value, const Columns& c, Sql* s) {
    if (!modifier.empty()) {
      return Bad(name, "modifier :" + std::string(modifier) + " is not supported here");
    }
    std::string_view v = value;
    Prefix prefix = TakePrefix(&v);
    std::string system, unit;
    std::string_view number = v;
    if (type == ParamType::kQuantity) {
      std::vector<std::string> parts = SplitUnescaped(v, '|');
      if (parts.size() == 3) {
        system = Unescape(parts[1]);
        unit = Unescape(parts[2]);
        number = std::string_view(v).substr(0, v.find('|'));
      } else if (parts.size() != 1) {
        return Bad(name, "expected [prefix]number|system|code");
      }
    }
    double d = 0;
    if (!ParseDouble(number, &d)) {
      return Bad(name, "'" + std::string(number) + "' is not a number");
    }
    // The bounds the prefix compares with, in the unit given.
    double lo = 0, hi = 0;
    ImplicitRange(number, d, &lo, &hi);
    if (prefix == Prefix::kAp) {
      double margin = std::fabs(d) * 0.1;
      lo = d - margin;
      hi = d + margin;
    }
    std::string_view low = c.low, high = c.high;
    bool canonical = false;
    if (system == kUcumSystem && !unit.empty()) {
      std::optional<ucum::Canonical> cd = ucum::Canonicalize(d, unit);
      std::optional<ucum::Canonical> clo = ucum::Canonicalize(lo, unit);
      std::optional<ucum::Canonical> chi = ucum::Canonicalize(hi, unit);
      if (cd && clo && chi) {
        canonical = true;
        d = cd->value;
        lo = clo->value;
        hi = chi->value;
        low = c.canonical_low;
        high = c.canonical_high;
        // `<> ''` repeats the partial index's condition (schema 008), so that SQLite may use it.
        *s << " AND " << c.canonical_code << " <> '' AND " << c.canonical_code << " = ";
        s->Arg(cd->code);
      }
    }
    switch (prefix) {
      case Prefix::kEq:
        *s << " AND " << low << " >= ";
        s->Arg(lo) << " AND " << high << " < ";
        s->Arg(hi);
        break;
      case Prefix::kNe:
        *s << " AND NOT (" << low << " >= ";
        s->Arg(lo) << " AND " << high << " < ";
        s->Arg(hi) << ")";
        break;
      case Prefix::kGt:
        *s << " AND " << high << " > ";
        s->Arg(d);
        break;
      case Prefix::kLt:
        *s << " AND " << low << " < ";
        s->Arg(d);
        break;
      case Prefix::kGe:
        *s << " AND " << high << " >= ";
        s->Arg(d);
        break;
      case Prefix::kLe:
        *s << " AND " << low << " <= ";
        s->Arg(d);
        break;
      case Prefix::kSa:  // starts after: the whole range is above
        *s << " AND " << low << " > ";
        s->Arg(d);
        break;
      case Prefix::kEb:  // ends before: the whole range is below
        *s << " AND " << high << " < ";
        s->Arg(d);
        break;
      case Prefix::kAp:  // overlaps [d - 10%, d + 10%]
        *s << " AND " << low << " <= ";
        s->Arg(hi) << " AND " << high << " >= ";
        s->Arg(lo);
        break;
    }
    if (canonical) return Status::Ok();
    if (!system.empty()) {
      *s << " AND " << c.system << " = ";
      s->Arg(system);
    }
    if (!unit.empty()) {
      *s << " AND " << c.code << " = ";
      s->Arg(unit);
    }
    return Status::Ok();
  }

  // https://hl7.org/fhir/R4/search.html#reference
  Status ReferenceTest(const std::vector<std::string>& targets, std::string_view name,
                       std::string_view modifier, const std::string& value, const Columns& c,
                       Sql* s) {
    std::string v = Unescape(value);
    std::string type(modifier), id = v;
    if (!modifier.empty() && std::find(targets.begin(), targets.end(), type) == targets.end()) {
      return Bad(name, "':" + type +
                           "' is not a target type of this parameter (supported "
                           "modifiers: :[type], :identifier, :missing)");
    }
    if (v.find("://") != std::string::npos || v.rfind("urn:", 0) == 0) {
      if (c.component) {
        *s << " AND " << c.code << " = ";
      } else {
        // Such references have no target id (extract.cc); the term lets the partial url index
        // (migration 006) serve the lookup.
        *s << " AND target_id = '' AND url = ";
      }
      s->Arg(v);
      return Status::Ok();
    }
    size_t slash = v.find('/');
    if (slash != std::string::npos) {
      std::string t = v.substr(0, slash);
      if (!type.empty() && t != type) {
        return Bad(name, "the type in the value contradicts :" + type);
      }
      type = t;
      id = v.substr(slash + 1);
      size_t hist = id.find("/_history/");
      if (hist != std::string::npos) id.resize(hist);
    }
    if (c.component) {
      // A component holds a relative reference as one text, "Type/id".
      if (!type.empty()) {
        *s << " AND " << c.code << " = ";
        s->Arg(type + "/" + id);
        return Status::Ok();
      }
      if (targets.empty()) return Bad(name, "give the reference as [type]/[id]");
      *s << " AND " << c.code << " IN (";
      for (size_t i = 0; i < targets.size(); ++i) {
        if (i > 0) *s << ", ";
        s->Arg(targets[i] + "/" + id);
      }
      *s << ")";
      return Status::Ok();
    }
    if (!type.empty()) {
      *s << " AND target_type = ";
      s->Arg(type);
      *s << " AND target_id = ";
      s->Arg(id);
      pinned_ = true;  // one key of the (type, param, target_type, target_id, seq) index
      return Status::Ok();
    }
    // An id alone: any of the parameter's target types (each one an index lookup).
    pinned_ = targets.size() == 1;
    if (!targets.empty()) {
      *s << " AND target_type IN (";
      for (size_t i = 0; i < targets.size(); ++i) {
        if (i > 0) *s << ", ";
        s->Arg(targets[i]);
      }
      *s << ")";
    }
    *s << " AND target_id = ";
    s->Arg(id);
    return Status::Ok();
  }

  // https://hl7.org/fhir/R4/search.html#uri
  Status UriTest(std::string_view name, std::string_view modifier, const std::string& value,
                 const Columns& c, Sql* s) {
    std::string v = Unescape(value);
    if (modifier.empty()) {
      *s << " AND " << (c.component ? c.code : "uri") << " = ";
      s->Arg(v);
    } else if (modifier == "below") {
      *s << " AND uri >= ";
      s->Arg(v) << " AND uri < ";
      s->Arg(PrefixEnd(v));
    } else if (modifier == "above") {
      // Every prefix of the value that ends at a path segment, and the value itself.
      *s << " AND uri IN (";
      bool first = true;
      size_t scheme = v.find("://");
      size_t from = scheme == std::string::npos ? 0 : scheme + 3;
      for (size_t i = v.find('/', from); i != std::string::npos; i = v.find('/', i + 1)) {
        if (!first) *s << ", ";
        first = false;
        s->Arg(v.substr(0, i));
      }
      if (!first) *s << ", ";
      s->Arg(v) << ")";
    } else {
      return Bad(name, "modifier :" + std::string(modifier) +
                           " is not supported on uris "
                           "(supported: :below, :above, :missing)");
    }
    return Status::Ok();
  }

  const Registry& reg_;
  const SearchSpec& spec_;
  std::optional<Sql> probe_;
  std::optional<Sql> driver_;
  std::optional<Sql> list_;
  std::optional<Plan::ChainOrder> chain_;
  bool name_list_ = false;
  std::string row_ = "r.seq";  // the row a probe tests: the page's, or a _has referrer's
  bool want_probe_ = false;    // build the probe form below depth 0 (an inner _has parameter)
  bool pinned_ = false;        // the last value test pinned every column of its value index but seq
  int priority_ = 3;
};

// One AND-ed condition of the search: its list form (`seq IN (...)`) and, when it has one, its
// probe form (`EXISTS (... seq = r.seq ...)`).
struct Cond {
  Sql in;
  std::optional<Sql> probe;
  std::optional<Sql> driver;
  std::optional<Sql> list;
  std::optional<Plan::ChainOrder> chain;
  int priority = 3;
  bool name_list = false;
};

// The set of a condition written `seq IN (<set>)` (optionally in parentheses), or nullopt for
// any other form (NOT IN, an OR of several types' sets, `1 = 1`). The planner's SQL binds every
// value, so its text holds no literal parentheses and they can be matched by counting.
std::optional<Sql> SetOf(const Sql& condition) {
  std::string_view t = condition.text;
  while (t.size() >= 2 && t.front() == '(' && t.back() == ')') {
    // Strip one pair of enclosing parentheses only when they match each other.
    int depth = 0;
    size_t i = 0;
    for (; i < t.size(); ++i) {
      depth += t[i] == '(' ? 1 : t[i] == ')' ? -1 : 0;
      if (depth == 0) break;
    }
    if (i != t.size() - 1) break;
    t = t.substr(1, t.size() - 2);
  }
  constexpr std::string_view kPrefix = "seq IN (";
  if (t.substr(0, kPrefix.size()) != kPrefix || t.back() != ')') return std::nullopt;
  int depth = 0;
  for (size_t i = kPrefix.size() - 1; i < t.size(); ++i) {
    depth += t[i] == '(' ? 1 : t[i] == ')' ? -1 : 0;
    if (depth == 0 && i != t.size() - 1) return std::nullopt;  // `seq IN (...) OR ...`
  }
  Sql set;
  set.text = std::string(t.substr(kPrefix.size(), t.size() - kPrefix.size() - 1));
  set.args = condition.args;  // the prefix and the closing parenthesis bind nothing
  return set;
}

std::string Hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool Unhex(std::string_view s, std::string* out) {
  if (s.size() % 2) return false;
  auto nib = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  for (size_t i = 0; i < s.size(); i += 2) {
    int a = nib(s[i]), b = nib(s[i + 1]);
    if (a < 0 || b < 0) return false;
    out->push_back(static_cast<char>(a * 16 + b));
  }
  return true;
}

bool ParseI64(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

Status DecodeCursor(std::string_view text, Plan* plan) {
  std::vector<std::string> parts = SplitUnescaped(text, '~');
  Status bad(StatusCode::kInvalid, "_cursor is not one this server made for this search");
  if (parts.empty()) return bad;  // the number of keys is checked once the search is planned
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (p.empty()) return bad;
    std::string_view body = p.substr(1);
    if (p[0] == 'i') {
      int64_t v = 0;
      if (!ParseI64(body, &v)) return bad;
      plan->cursor_keys.emplace_back(v);
    } else if (p[0] == 'd') {
      double v = 0;
      if (!ParseDouble(body, &v) && body != "inf" && body != "-inf") return bad;
      plan->cursor_keys.emplace_back(v);
    } else if (p[0] == 's') {
      std::string v;
      if (!Unhex(body, &v)) return bad;
      plan->cursor_keys.emplace_back(std::move(v));
    } else {
      return bad;
    }
  }
  if (!ParseI64(parts.back(), &plan->cursor_seq)) return bad;
  plan->has_cursor = true;
  return Status::Ok();
}

// The sort key of `code` on `type` (https://hl7.org/fhir/R4/search.html#sort): for a parameter
// with several values, the lowest when ascending and the highest when descending. Resources
// without a value sort last either way.
Result<SortKey> SortKeyFor(const Registry& reg, const std::string& type, std::string_view code,
                           bool descending) {
  SortKey key;
  key.descending = descending;
  if (code == "_id") {
    key.expr << "r.id";
    return key;
  }
  if (code == "_lastUpdated") {
    key.expr << "r.last_updated";
    return key;
  }
  const Param* p = type.empty() ? nullptr : reg.Find(type, code);
  if (p == nullptr) return Bad("_sort", "unknown parameter '" + std::string(code) + "'");
  std::string_view column;
  bool text = false;
  switch (p->type) {
    case ParamType::kDate:
      column = descending ? "high" : "low";
      break;
    case ParamType::kString:
      column = "norm";
      text = true;
      break;
    case ParamType::kToken:
      column = "code";
      text = true;
      break;
    case ParamType::kNumber:
    case ParamType::kQuantity:
      column = "value";
      break;
    case ParamType::kReference:
      column = "url";
      text = true;
      break;
    case ParamType::kUri:
      column = "uri";
      text = true;
      break;
    default:
      return Bad("_sort", "cannot sort by '" + std::string(code) + "'");
  }
  key.expr << "COALESCE((SELECT " << (descending ? "MAX(" : "MIN(") << column << ") FROM "
           << TableFor(p->type) << " WHERE seq = r.seq AND +type = ";
  // `+`: SQLite must use the (seq, ...) index here, not a min/max walk of (type, param, value).
  key.expr.Arg(type) << " AND ";
  ParamTerm(p->rows_of.empty() ? std::vector<std::string>{p->code} : p->rows_of, /*plus=*/true,
            &key.expr);
  key.expr << "), ";
  if (text) {
    key.expr << (descending ? "''" : "char(1114111)");
  } else if (p->type == ParamType::kDate) {
    key.expr << (descending ? "-9223372036854775807" : "9223372036854775807");
  } else {
    key.expr << (descending ? "-1e308" : "1e308");
  }
  key.expr << ")";
  return key;
}

Status ParseInclude(const Registry& reg, std::string_view name, std::string_view value,
                    bool reverse, Plan* plan) {
  IncludeSpec inc;
  inc.iterate = name.find(":iterate") != std::string_view::npos ||
                name.find(":recurse") != std::string_view::npos;
  std::vector<std::string> parts = SplitUnescaped(value, ':');
  if (value == "*") {
    inc.source_type = "*";
  } else if (parts.size() < 2 || parts.size() > 3) {
    return Bad(name, "expected [type]:[parameter] or [type]:[parameter]:[target type]");
  } else {
    inc.source_type = parts[0];
    if (parts[1] != "*") {
      const Param* p = reg.Find(parts[0], parts[1]);
      if (p == nullptr || p->type != ParamType::kReference) {
        return Bad(name, "'" + parts[1] + "' is not a reference parameter of '" + parts[0] + "'");
      }
      inc.param = parts[1];
    }
    if (parts.size() == 3) inc.target_type = parts[2];
  }
  (reverse ? plan->revincludes : plan->includes).push_back(std::move(inc));
  return Status::Ok();
}

bool ParseCount(std::string_view s, int64_t* n) { return ParseI64(s, n) && *n >= 0; }

}  // namespace

Result<Plan> PlanSearch(const Registry& registry, const SearchSpec& spec) {
  Plan plan;
  plan.types = spec.types;
  plan.count = spec.default_count;
  Planner planner(registry, spec);
  const std::string* cursor = nullptr;
  const std::string* sort = nullptr;
  for (const auto& [name, value] : spec.params) {
    if (name == "_type" && spec.types.empty()) {
      for (const std::string& t : SplitUnescaped(value, ',')) {
        if (registry.ForType(t).empty()) return Bad(name, "unknown resource type '" + t + "'");
        plan.types.push_back(t);
      }
    }
  }
  std::vector<Cond> conditions;
  for (const auto& [name, value] : spec.params) {
    bool used = true;
    if (name == "_cursor") {
      cursor = &value;
      continue;
    } else if (name == "_type" && spec.types.empty()) {
      // handled above
    } else if (name == "_count") {
      int64_t n = 0;
      if (!ParseCount(value, &n)) return Bad(name, "must be a whole number");
      plan.count = static_cast<int>(std::min<int64_t>(n, spec.max_count));
      if (n == 0) plan.summary_count = true;
    } else if (name == "_sort") {
      sort = &value;
    } else if (name == "_total") {
      if (value == "none") {
        plan.total = TotalMode::kNone;
      } else if (value == "accurate") {
        plan.total = TotalMode::kAccurate;
      } else if (value == "estimate") {
        plan.total = TotalMode::kEstimate;
      } else {
        return Bad(name, "use none, estimate or accurate");
      }
    } else if (name == "_summary") {
      if (value == "count") plan.summary_count = true;
    } else if (name == "_include" || name.rfind("_include:", 0) == 0) {
      RETURN_IF_ERROR(ParseInclude(registry, name, value, false, &plan));
    } else if (name == "_revinclude" || name.rfind("_revinclude:", 0) == 0) {
      RETURN_IF_ERROR(ParseInclude(registry, name, value, true, &plan));
    } else if (name == "_elements" || name == "_format" || name == "_pretty") {
      // presentation: applied by the REST layer, kept in links
    } else {
      // One condition; across several types (system search) it must hold in one of them.
      std::vector<std::string> types = plan.types;
      if (types.empty()) types.emplace_back();  // every type: resource-level only
      Sql any;
      int known = 0;
      std::optional<Sql> probe, driver, list;
      std::optional<Plan::ChainOrder> chain;
      int priority = 3;
      bool name_list = false;
      std::vector<Sql> alternatives;
      for (const std::string& t : types) {
        std::optional<Sql> c;
        planner.ResetProbe();
        if (t.empty()) {
          std::string_view code = std::string_view(name).substr(0, name.find(':'));
          if (code != "_id" && code != "_lastUpdated" && code != "_list" &&
              !IsTextSearchParam(code)) {
            if (spec.handling == Handling::kStrict) {
              return Bad(name,
                         "only _id, _lastUpdated, _list, _text and _content can be searched across "
                         "all types");
            }
            continue;
          }
        }
        ASSIGN_OR_RETURN(c, planner.Condition(t, name, value, 0));
        if (!c) continue;
        // The same set for several types (_text, _content do not depend on the type): once.
        if (std::find_if(alternatives.begin(), alternatives.end(), [&](const Sql& a) {
              return a.text == c->text && a.args == c->args;
            }) != alternatives.end()) {
          continue;
        }
        alternatives.push_back(*c);
        any << (known++ ? " OR " : "");
        any.Append(*c);
        probe = planner.TakeProbe();
        driver = planner.TakeDriver();
        list = planner.TakeList();
        chain = planner.TakeChain();
        name_list = planner.name_list();
        priority = planner.priority();
      }
      if (known == 0) {
        if (spec.handling == Handling::kStrict) {
          return Bad(name,
                     "unknown search parameter for " +
                         (plan.types.empty() ? std::string("this search") : plan.types.front()) +
                         " (see the CapabilityStatement at /metadata)");
        }
        used = false;  // https://hl7.org/fhir/R4/search.html#errors: lenient ignores it
      } else {
        Cond c;
        c.in << "(";
        c.in.Append(any) << ")";
        if (known == 1) {
          c.probe = std::move(probe);
          c.driver = std::move(driver);
          c.list = std::move(list);
          c.chain = std::move(chain);
          c.name_list = name_list;
        }
        c.priority = priority;
        conditions.push_back(std::move(c));
      }
    }
    if (used) plan.used.emplace_back(name, value);
  }
  if (sort != nullptr) {
    std::string type = plan.types.size() == 1 ? plan.types.front() : "";
    for (const std::string& k : SplitUnescaped(*sort, ',')) {
      bool desc = !k.empty() && k[0] == '-';
      ASSIGN_OR_RETURN(SortKey key, SortKeyFor(registry, type, desc ? k.substr(1) : k, desc));
      plan.sort.push_back(std::move(key));
    }
  }
  if (cursor != nullptr) RETURN_IF_ERROR(DecodeCursor(*cursor, &plan));

  Sql& w = plan.where;
  if (plan.types.empty()) {
    w << "1 = 1";
  } else {
    w << "r.type IN (";
    for (size_t i = 0; i < plan.types.size(); ++i) {
      if (i > 0) w << ", ";
      w.Arg(plan.types[i]);
    }
    w << ")";
  }
  if (!spec.compartment_patient.empty()) {
    Cond c;
    c.in << "seq IN (SELECT seq FROM search_compartment WHERE patient_id = ";
    c.in.Arg(spec.compartment_patient) << ")";
    c.priority = 0;
    conditions.insert(conditions.begin(), std::move(c));
  }
  // The most selective condition with a list form drives (its list is materialised and walked in
  // seq order); the others are probed per candidate row when they have a probe form. Without
  // one (_has, _id...) a condition keeps its list form. A chain that does not drive is probed:
  // its inner list (the patients named Smith) is collected once and each row's references are
  // looked up by seq. A chain that drives an unsorted page walks its references in target order
  // (Plan::chain). (Driving a chained search by a walked code instead was measured slower on
  // 1,000 and 3,000 patients for `subject:Patient.family=...&code=...`: the walk probes about
  // a hundred rows per match when one patient in a hundred has the name.)
  std::stable_sort(conditions.begin(), conditions.end(),
                   [](const Cond& a, const Cond& b) { return a.priority < b.priority; });
  // An unsorted page can walk the driving condition's index in seq order when it is one
  // equality (docs/search.md); a sorted page needs every match anyway.
  const bool walk = plan.sort.empty() && !conditions.empty() && conditions[0].driver;
  if (walk) plan.driver = std::move(conditions[0].driver);
  if (plan.sort.empty() && plan.types.size() == 1 && !conditions.empty() && conditions[0].chain) {
    plan.chain = std::move(conditions[0].chain);
  }
  // A cursor holds one key per sort key, or the target id of a chain-ordered page: a cursor of
  // the other form was not made for this search.
  if (plan.has_cursor &&
      (plan.cursor_keys.size() != KeyColumns(plan) ||
       (plan.chain &&
        (!std::holds_alternative<std::string>(plan.cursor_keys[0]) ||
         std::get<std::string>(plan.cursor_keys[0]).find('/') == std::string::npos)))) {
    return Status(StatusCode::kInvalid, "_cursor is not one this server made for this search");
  }
  const bool all_probed = plan.sort.empty() && !walk && !plan.chain && !conditions.empty() &&
                          conditions[0].list &&
                          std::all_of(conditions.begin(), conditions.end(),
                                      [](const Cond& c) { return c.probe.has_value(); });
  if (all_probed) {
    Sql n;
    n << "SELECT count(*) >= ";
    n.Arg(spec.walk_above) << " FROM (";
    n.Append(*conditions[0].list) << " LIMIT ";
    n.Arg(spec.walk_above) << ")";
    plan.walk_check = std::move(n);
    plan.walk_where.emplace().Append(w);
    for (const Cond& c : conditions) {
      *plan.walk_where << " AND ";
      plan.walk_where->Append(*c.probe);
    }
  }
  plan.filter = w;
  // When a name drives (family=...), another name condition (given=...) is read as its own list
  // too: both come from the covering (type, param, norm, seq) index and SQLite intersects them,
  // where a probe would read a table row per candidate (4x slower on 10,000 patients).
  const bool names = !walk && !conditions.empty() && conditions[0].name_list;
  for (size_t i = 0; i < conditions.size(); ++i) {
    const Cond& c = conditions[i];
    // The first condition drives (its list); the others are probed where they can be.
    const Sql& form = i > 0 && c.probe && !(names && c.name_list) ? *c.probe : c.in;
    w << " AND ";
    w.Append(form);
    if (i > 0) {
      plan.filter << " AND ";
      plan.filter.Append(form);
    }
  }
  if (!conditions.empty()) plan.driving_set = SetOf(conditions.front().in);
  return plan;
}

namespace {

// An unsorted page's end: after the cursor, in `seq` order (each resource once when `group`),
// one row more than the page.
void AppendSeqPageEnd(const Plan& plan, std::string_view seq, bool group, Sql* s) {
  if (plan.has_cursor) {
    *s << " AND " << seq << " > ";
    s->Arg(plan.cursor_seq);
  }
  if (group) *s << " GROUP BY " << seq;
  *s << " ORDER BY " << seq << " LIMIT ";
  s->Arg(static_cast<int64_t>(plan.count) + 1);
}

Sql SeqPageSql(const Plan& plan, const Sql& where) {
  Sql s;
  s << "SELECT r.seq FROM search_resource r WHERE ";
  s.Append(where);
  AppendSeqPageEnd(plan, "r.seq", /*group=*/false, &s);
  return s;
}

}  // namespace

bool IsNearParam(std::string_view type, const Param& p) {
  return type == "Location" && p.code == "near" && p.type == ParamType::kSpecial;
}

size_t KeyColumns(const Plan& plan) { return plan.chain ? 1 : plan.sort.size(); }

// Plan::chain's page: the references to the inner matches in ("TargetType/id", seq) order, one
// arm per target type in that order. In an arm SQLite reads the IN list of target ids in order and
// each id's references in seq order from the covering (type, param, target_type, target_id, seq)
// index, so no sort is needed, and the LIMIT stops the walk; UNION ALL keeps its arms' order.
// After a cursor ("T/c", seq s) the page reads c's references after s, then T's targets after c
// (the inner matches with id > c: those before it are never read), then the later types. A row
// that refers to several inner matches is kept under the lowest of them only.
Sql ChainPageSql(const Plan& plan) {
  const Plan::ChainOrder& c = *plan.chain;
  std::string after_type, after_id;  // the cursor's target
  if (plan.has_cursor) {
    const std::string& key = std::get<std::string>(plan.cursor_keys[0]);
    after_type = key.substr(0, key.find('/'));
    after_id = key.substr(key.find('/') + 1);
  }
  auto ids = [&](Sql& s, const Plan::ChainTarget& t, bool after_cursor) {
    s << "(SELECT id FROM search_resource WHERE +type = ";
    s.Arg(t.type) << " AND ";
    s.Append(t.inner);
    if (after_cursor) {
      s << " AND id > ";
      s.Arg(after_id);
    }
    s << ")";
  };
  enum class From { kAll, kCursorTarget, kAfterCursorTarget };
  auto arm = [&](Sql& s, const Plan::ChainTarget& t, From from) {
    s << "SELECT x.seq AS seq, x.target_type || '/' || x.target_id AS k0 FROM search_reference x"
         " JOIN search_resource r ON r.seq = x.seq WHERE x.type = ";
    s.Arg(c.type) << " AND x.param = ";
    s.Arg(c.param) << " AND x.target_type = ";
    s.Arg(t.type) << " AND ";
    if (from == From::kCursorTarget) {
      s << "x.target_id = ";
      s.Arg(after_id) << " AND x.seq > ";
      s.Arg(plan.cursor_seq) << " AND ";
    }
    s << "x.target_id IN ";
    ids(s, t, from == From::kAfterCursorTarget);
    s << " AND ";
    s.Append(plan.filter);
    // A lower inner match among the row's own references, found through the seq index (`+`:
    // not the target index, which would be searched once per inner match).
    s << " AND NOT EXISTS (SELECT 1 FROM search_reference y WHERE y.seq = x.seq"
         " AND +y.type = x.type AND +y.param = x.param AND y.target_type || '/' || y.target_id <"
         " x.target_type || '/' || x.target_id AND (";
    for (size_t i = 0; i < c.targets.size(); ++i) {
      if (i > 0) s << " OR ";
      s << "(y.target_type = ";
      s.Arg(c.targets[i].type) << " AND y.target_id IN ";
      ids(s, c.targets[i], false);
      s << ")";
    }
    s << ")) GROUP BY x.target_id, x.seq ORDER BY x.target_id, x.seq LIMIT ";
    s.Arg(static_cast<int64_t>(plan.count) + 1);
  };
  std::vector<std::pair<const Plan::ChainTarget*, From>> arms;
  for (const Plan::ChainTarget& t : c.targets) {
    if (!plan.has_cursor) {
      arms.emplace_back(&t, From::kAll);
    } else if (t.type == after_type) {
      arms.emplace_back(&t, From::kCursorTarget);
      arms.emplace_back(&t, From::kAfterCursorTarget);
    } else if (ChainKeyBefore(after_type, t.type)) {
      arms.emplace_back(&t, From::kAll);
    }
  }
  Sql s;
  if (arms.empty()) {
    s << "SELECT 0 WHERE 0";  // the cursor is past the last target type
    return s;
  }
  if (arms.size() == 1) {
    arm(s, *arms[0].first, arms[0].second);
    return s;
  }
  for (size_t i = 0; i < arms.size(); ++i) {
    s << (i == 0 ? "SELECT seq, k0 FROM (" : " UNION ALL SELECT seq, k0 FROM (");
    arm(s, *arms[i].first, arms[i].second);
    s << ")";
  }
  s << " LIMIT ";
  s.Arg(static_cast<int64_t>(plan.count) + 1);
  return s;
}

Sql PageSql(const Plan& plan) {
  if (plan.chain) return ChainPageSql(plan);
  Sql s;
  if (plan.driver) {
    // The driving index's rows in seq order from the cursor on, each joined to its resource row
    // and tested by the other conditions; SQLite flattens the subquery into that loop (no list
    // is materialised, no sort), and GROUP BY folds a resource's repeated rows (two codings
    // with the same code) in the same pass. The subquery names its column `dseq` so that `seq`
    // in the other conditions still means r.seq.
    s << "SELECT r.seq FROM (";
    s.Append(*plan.driver) << ") AS d JOIN search_resource r ON r.seq = d.dseq WHERE ";
    s.Append(plan.filter);
    AppendSeqPageEnd(plan, "d.dseq", /*group=*/true, &s);
    return s;
  }
  if (plan.sort.empty()) return SeqPageSql(plan, plan.where);
  s << "SELECT seq";
  for (size_t i = 0; i < plan.sort.size(); ++i) s << ", k" << std::to_string(i);
  s << " FROM (SELECT r.seq AS seq";
  for (size_t i = 0; i < plan.sort.size(); ++i) {
    s << ", ";
    s.Append(plan.sort[i].expr) << " AS k" << std::to_string(i);
  }
  s << " FROM search_resource r WHERE ";
  s.Append(plan.where) << ") AS m";
  if (plan.has_cursor) {
    // Keyset: rows strictly after (k0, k1, ..., seq) in the sort order, each key in its own
    // direction: k0 after c0, or k0 = c0 and k1 after c1, ..., or all equal and seq > c.
    s << " WHERE (";
    for (size_t i = 0; i <= plan.sort.size(); ++i) {
      if (i > 0) s << " OR ";
      s << "(";
      for (size_t j = 0; j < i; ++j) {
        s << "k" << std::to_string(j) << " = ";
        s.Arg(plan.cursor_keys[j]) << " AND ";
      }
      if (i < plan.sort.size()) {
        s << "k" << std::to_string(i) << (plan.sort[i].descending ? " < " : " > ");
        s.Arg(plan.cursor_keys[i]);
      } else {
        s << "seq > ";
        s.Arg(plan.cursor_seq);
      }
      s << ")";
    }
    s << ")";
  }
  s << " ORDER BY ";
  for (size_t i = 0; i < plan.sort.size(); ++i) {
    s << "k" << std::to_string(i) << (plan.sort[i].descending ? " DESC, " : ", ");
  }
  s << "seq LIMIT ";
  s.Arg(static_cast<int64_t>(plan.count) + 1);
  return s;
}

Sql WalkPageSql(const Plan& plan) { return SeqPageSql(plan, *plan.walk_where); }

Sql CountSql(const Plan& plan) {
  Sql s;
  s << "SELECT count(*) FROM search_resource r WHERE ";
  s.Append(plan.where);
  return s;
}

Sql SetCountSql(const Plan& plan) {
  Sql s;
  s << "SELECT count(*) FROM (";
  s.Append(*plan.driving_set) << ")";
  return s;
}

Sql SetSampleSql(const Plan& plan, int64_t limit) {
  Sql s;
  s << "SELECT * FROM (";
  s.Append(*plan.driving_set) << ") LIMIT ";
  s.Arg(limit);
  return s;
}

Sql SampleMatchesSql(const Plan& plan, const std::string& seqs_json) {
  Sql s;
  s << "SELECT count(*) FROM search_resource r WHERE r.seq IN (SELECT value FROM json_each(";
  s.Arg(seqs_json) << ")) AND ";
  s.Append(plan.filter);
  return s;
}

// https://hl7.org/fhir/R4/search.html#total: "estimate: a rough estimate of the number of
// matching resources is sufficient".
int64_t EstimateTotal(int64_t set_rows, int64_t sampled_rows, int64_t matches) {
  if (sampled_rows >= set_rows || sampled_rows <= 0) return matches;
  const double share = static_cast<double>(matches) / static_cast<double>(sampled_rows);
  return std::max(matches,
                  static_cast<int64_t>(std::llround(share * static_cast<double>(set_rows))));
}

std::string EncodeCursor(const std::vector<SqlArg>& keys, int64_t seq) {
  std::string out;
  for (const SqlArg& k : keys) {
    if (const int64_t* i = std::get_if<int64_t>(&k)) {
      out += "i" + std::to_string(*i);
    } else if (const double* d = std::get_if<double>(&k)) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", *d);
      out += "d" + std::string(buf);
    } else {
      out += "s" + Hex(std::get<std::string>(k));
    }
    out += "~";
  }
  return out + std::to_string(seq);
}

}  // namespace vesta::search
