// Planning a search request: https://hl7.org/fhir/R4/search.html
#include "search/plan.h"

#include <algorithm>
#include <cmath>

#include "base/strings.h"
#include "search/bind.h"
#include "search/parse.h"
#include "search/text.h"

namespace vesta::search {

Test Test::Compare(Field f, Op op, std::vector<Value> values) {
  Test t;
  t.kind = Kind::kCompare;
  t.field = f;
  t.op = op;
  t.values = std::move(values);
  return t;
}

Test Test::All(std::vector<Test> children) {
  Test t;
  t.kind = Kind::kAll;
  t.children = std::move(children);
  return t;
}

Test Test::Any(std::vector<Test> children) {
  Test t;
  t.kind = Kind::kAny;
  t.children = std::move(children);
  return t;
}

Test Test::Not(Test child) {
  Test t;
  t.kind = Kind::kNot;
  t.children.push_back(std::move(child));
  return t;
}

bool Condition::HasProbe() const {
  if (std::holds_alternative<IndexCondition>(test) ||
      std::holds_alternative<ChainCondition>(test)) {
    return true;
  }
  if (const HasCondition* h = std::get_if<HasCondition>(&test)) {
    return h->plain_inner && std::holds_alternative<IndexCondition>(h->inner->test);
  }
  return false;
}

bool Condition::HasCountableList() const {
  if (const IndexCondition* c = std::get_if<IndexCondition>(&test)) {
    return !c->negated && !c->usually_narrow;
  }
  if (const HasCondition* h = std::get_if<HasCondition>(&test)) {
    return HasProbe() && h->inner->HasCountableList();
  }
  return false;
}

namespace {

struct IsSetVisitor {
  bool operator()(const IndexCondition& c) const { return !c.negated; }
  bool operator()(const MissingCondition& c) const { return !c.missing; }
  bool operator()(const IdCondition& c) const { return !c.negated; }
  bool operator()(const ConstantCondition&) const { return false; }
  bool operator()(const AnyTypeCondition&) const { return false; }
  bool operator()(const auto&) const { return true; }  // chain, _has, text, near, list, ...
};

}  // namespace

bool Condition::IsSet() const { return std::visit(IsSetVisitor{}, test); }

bool IsNearParam(std::string_view type, const Param& p) {
  return type == "Location" && p.code == "near" && p.type == ParamType::kSpecial;
}

bool ChainKeyBefore(std::string_view a, std::string_view b) {
  return std::string(a) + "/" < std::string(b) + "/";
}

// https://hl7.org/fhir/R4/search.html#total: "estimate: a rough estimate of the number of
// matching resources is sufficient".
int64_t EstimateTotal(int64_t set_rows, int64_t sampled_rows, int64_t matches) {
  if (sampled_rows >= set_rows || sampled_rows <= 0) return matches;
  const double share = static_cast<double>(matches) / static_cast<double>(sampled_rows);
  return std::max(matches,
                  static_cast<int64_t>(std::llround(share * static_cast<double>(set_rows))));
}

namespace {

// The sort key of `code` on `type` (https://hl7.org/fhir/R4/search.html#sort).
Result<SortKey> SortKeyFor(const Registry& reg, const std::string& type, std::string_view code,
                           bool descending) {
  SortKey key;
  key.descending = descending;
  key.type = type;
  if (code == "_id") {
    key.source = SortKey::Source::kId;
    return key;
  }
  if (code == "_lastUpdated") {
    key.source = SortKey::Source::kLastUpdated;
    return key;
  }
  const Param* p = type.empty() ? nullptr : reg.Find(type, code);
  if (p == nullptr) return Bad("_sort", "unknown parameter '" + std::string(code) + "'");
  switch (p->type) {
    case ParamType::kDate:
    case ParamType::kString:
    case ParamType::kToken:
    case ParamType::kNumber:
    case ParamType::kQuantity:
    case ParamType::kReference:
    case ParamType::kUri:
      break;
    default:
      return Bad("_sort", "cannot sort by '" + std::string(code) + "'");
  }
  key.table = p->type;
  key.params = p->rows_of.empty() ? std::vector<std::string>{p->code} : p->rows_of;
  return key;
}

Status ParseInclude(const Registry& reg, std::string_view name, std::string_view value,
                    bool reverse, Plan* plan) {
  IncludeSpec inc;
  inc.iterate = name.find(":iterate") != std::string_view::npos ||
                name.find(":recurse") != std::string_view::npos;
  std::vector<std::string> parts = SplitEscaped(value, ':');
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

bool SameText(const Condition& a, const Condition& b) {
  const TextCondition* x = std::get_if<TextCondition>(&a.test);
  const TextCondition* y = std::get_if<TextCondition>(&b.test);
  return x != nullptr && y != nullptr && x->scope == y->scope && x->alternatives == y->alternatives;
}

// The condition of one parameter; across several types (system search) it must hold in one of
// them. nullopt when no searched type knows it.
Result<std::optional<PlannedCondition>> ConditionOf(Binder& binder, const SearchSpec& spec,
                                                    const std::vector<std::string>& plan_types,
                                                    const std::string& name,
                                                    const std::string& value,
                                                    const CodeSet* codes) {
  std::vector<std::string> types = plan_types;
  if (types.empty()) types.emplace_back();  // every type: resource-level only
  std::vector<Condition> found;
  int priority = 3;
  for (const std::string& t : types) {
    if (t.empty()) {
      std::string_view code = std::string_view(name).substr(0, name.find(':'));
      if (code != "_id" && code != "_lastUpdated" && code != "_list" && !IsTextSearchParam(code)) {
        if (spec.handling == Handling::kStrict) {
          return Bad(name,
                     "only _id, _lastUpdated, _list, _text and _content can be searched across "
                     "all types");
        }
        continue;
      }
    }
    ASSIGN_OR_RETURN(std::optional<params::Bound> b, binder.Bind(t, name, value, codes, 0));
    if (!b) continue;
    // The same set for several types (_text, _content do not depend on the type): once.
    if (std::any_of(found.begin(), found.end(),
                    [&](const Condition& c) { return SameText(c, b->condition); })) {
      continue;
    }
    found.push_back(std::move(b->condition));
    priority = b->priority;
  }
  if (found.empty()) return std::optional<PlannedCondition>();
  PlannedCondition c;
  c.priority = priority;
  if (found.size() == 1) {
    c.condition = std::move(found.front());
  } else {
    c.condition.test = AnyTypeCondition{std::move(found)};
  }
  return std::optional<PlannedCondition>(std::move(c));
}

// Which condition drives, how a page walks it, and how each other condition is tested
// (docs/search.md, "How a request becomes SQL").
//
// The most selective condition with a list drives (its list is collected and walked in row
// order); the others are probed per candidate row when they can be. Without a probe (_has over a
// chain, _id...) a condition is collected as a list. A chain that does not drive is probed: its
// inner list (the patients named Smith) is collected once and each row's references are looked
// up by row. (Driving a chained search by a walked code instead was measured slower on 1,000
// and 3,000 patients for `subject:Patient.family=...&code=...`: the walk probes about a hundred
// rows per match when one patient in a hundred has the name.)
Status ChooseStrategy(const SearchSpec& spec, Plan* plan) {
  std::vector<PlannedCondition>& conds = plan->conditions;
  std::stable_sort(conds.begin(), conds.end(),
                   [](const auto& a, const auto& b) { return a.priority < b.priority; });
  const IndexCondition* first =
      conds.empty() ? nullptr : std::get_if<IndexCondition>(&conds[0].condition.test);
  if (plan->sort.empty() && first != nullptr && first->pinned) {
    plan->strategy = Plan::IndexWalk{};
  } else if (plan->sort.empty() && plan->types.size() == 1 && !conds.empty() &&
             std::holds_alternative<ChainCondition>(conds[0].condition.test)) {
    plan->strategy = Plan::ChainWalk{};
  } else if (plan->sort.empty() && !conds.empty() && conds[0].condition.HasCountableList() &&
             std::all_of(conds.begin(), conds.end(),
                         [](const PlannedCondition& c) { return c.condition.HasProbe(); })) {
    plan->strategy = Plan::CountThenWalk{spec.walk_above};
  }
  // A cursor holds one key per sort key, or the target key of a chain-walked page: a cursor of
  // the other form was not made for this search.
  if (plan->cursor) {
    const std::vector<Value>& keys = plan->cursor->keys;
    if (keys.size() != plan->KeyColumns() ||
        (plan->Is<Plan::ChainWalk>() &&
         (!std::holds_alternative<std::string>(keys[0]) ||
          std::get<std::string>(keys[0]).find('/') == std::string::npos))) {
      return Status(StatusCode::kInvalid, "_cursor is not one this server made for this search");
    }
  }
  // When a name drives (family=...), another name condition (given=...) is read as its own list
  // too: both come from the covering (param, norm, row) index and a backend intersects them,
  // where a probe would read a table row per candidate (4x slower on 10,000 patients).
  const bool names = !plan->Is<Plan::IndexWalk>() && first != nullptr && first->name_index;
  for (size_t i = 1; i < conds.size(); ++i) {
    const IndexCondition* c = std::get_if<IndexCondition>(&conds[i].condition.test);
    const bool name_list = names && c != nullptr && c->name_index;
    conds[i].form = conds[i].condition.HasProbe() && !name_list ? Form::kProbe : Form::kList;
  }
  return Status::Ok();
}

}  // namespace

Result<Plan> PlanSearch(const Registry& registry, const SearchSpec& spec) {
  Plan plan;
  plan.types = spec.types;
  plan.count = spec.default_count;
  Binder binder(registry, spec);
  const std::string* cursor = nullptr;
  const std::string* sort = nullptr;
  for (const auto& [name, value] : spec.params) {
    if (name == "_type" && spec.types.empty()) {
      for (const std::string& t : SplitEscaped(value, ',')) {
        if (registry.ForType(t).empty()) return Bad(name, "unknown resource type '" + t + "'");
        plan.types.push_back(t);
      }
    }
  }
  for (size_t i = 0; i < spec.params.size(); ++i) {
    const auto& [name, value] = spec.params[i];
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
      auto codes = spec.code_sets.find(i);
      ASSIGN_OR_RETURN(std::optional<PlannedCondition> c,
                       ConditionOf(binder, spec, plan.types, name, value,
                                   codes == spec.code_sets.end() ? nullptr : &codes->second));
      if (c) {
        plan.conditions.push_back(std::move(*c));
      } else if (spec.handling == Handling::kStrict) {
        return Bad(name,
                   "unknown search parameter for " +
                       (plan.types.empty() ? std::string("this search") : plan.types.front()) +
                       " (see the CapabilityStatement at /metadata)");
      } else {
        used = false;  // https://hl7.org/fhir/R4/search.html#errors: lenient ignores it
      }
    }
    if (used) plan.used.emplace_back(name, value);
  }
  if (sort != nullptr) {
    std::string type = plan.types.size() == 1 ? plan.types.front() : "";
    for (const std::string& k : SplitEscaped(*sort, ',')) {
      bool desc = !k.empty() && k[0] == '-';
      ASSIGN_OR_RETURN(SortKey key, SortKeyFor(registry, type, desc ? k.substr(1) : k, desc));
      plan.sort.push_back(std::move(key));
    }
  }
  if (cursor != nullptr) {
    ASSIGN_OR_RETURN(Cursor c, DecodeCursor(*cursor));
    plan.cursor = std::move(c);
  }
  if (!spec.compartment_patient.empty()) {
    PlannedCondition c;
    c.condition.test = CompartmentCondition{spec.compartment_patient};
    c.priority = 0;
    plan.conditions.insert(plan.conditions.begin(), std::move(c));
  }
  RETURN_IF_ERROR(ChooseStrategy(spec, &plan));
  return plan;
}

}  // namespace vesta::search
