// Search plans rendered as SQLite SQL (docs/search.md, "How a request becomes SQL").
#include "store/sqlite/search_sql.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "json/writer.h"
#include "search/extract.h"
#include "search/normalize.h"
#include "search/text.h"

namespace vesta::store::sql {
namespace {

using search::Column;
using search::Condition;
using search::Field;
using search::Op;
using search::ParamType;
using search::Plan;
using search::Test;

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

// The column of a field: the parameter type's own (a number or quantity value is one column,
// `value`), or that of one component of a search_composite row (`code2`, `low2`, ...;
// docs/storage.md).
std::string ColumnName(Field f) {
  if (f.component > 0) {
    const std::string n = std::to_string(f.component);
    switch (f.column) {
      case Column::kCode:
      case Column::kNorm:
        return "code" + n;
      case Column::kSystem:
      case Column::kExact:
        return "system" + n;
      case Column::kDateLow:
      case Column::kNumberLow:
        return "low" + n;
      case Column::kDateHigh:
      case Column::kNumberHigh:
        return "high" + n;
      case Column::kCanonicalCode:
        return "canonical_code" + n;
      case Column::kCanonicalLow:
        return "canonical_low" + n;
      case Column::kCanonicalHigh:
        return "canonical_high" + n;
      default:
        break;  // no component has the others
    }
  }
  switch (f.column) {
    case Column::kCode:
      return "code";
    case Column::kSystem:
      return "system";
    case Column::kTokenText:
      return "text";
    case Column::kNorm:
      return "norm";
    case Column::kExact:
      return "exact";
    case Column::kDateLow:
      return "low";
    case Column::kDateHigh:
      return "high";
    case Column::kNumberLow:
    case Column::kNumberHigh:
      return "value";
    case Column::kCanonicalCode:
      return "canonical_code";
    case Column::kCanonicalLow:
    case Column::kCanonicalHigh:
      return "canonical_value";
    case Column::kTargetType:
      return "target_type";
    case Column::kTargetId:
      return "target_id";
    case Column::kUrl:
      return "url";
    case Column::kUri:
      return "uri";
    case Column::kLastUpdated:
      return "last_updated";
  }
  return "";
}

std::string_view OpText(Op op) {
  switch (op) {
    case Op::kLt:
      return " < ";
    case Op::kLe:
      return " <= ";
    case Op::kGt:
      return " > ";
    case Op::kGe:
      return " >= ";
    default:
      return " = ";
  }
}

// A code set as one bound JSON array, `code IN (SELECT value FROM json_each(?))`: SQLite refuses
// more than 500 UNION branches, and preparing a long union costs more than running it.
std::string JsonArray(const std::vector<SqlArg>& values) {
  std::string out = "[";
  for (const SqlArg& v : values) {
    if (out.size() > 1) out += ',';
    if (const std::string* s = std::get_if<std::string>(&v)) json::WriteString(*s, &out);
  }
  return out + "]";
}

void Render(const Test& t, Sql* s) {
  switch (t.kind) {
    case Test::Kind::kCompare: {
      if (t.field.column == Column::kSystem && t.field.component == 0) {
        // A token's or a quantity's system is the id of its URI in search_system, 0 for none
        // (schema/020_search_keys.sql).
        if (t.op == Op::kEmpty || t.op == Op::kNotEmpty) {
          *s << (t.op == Op::kEmpty ? "sys = 0" : "sys <> 0");
          return;
        }
        Test uri = t;
        uri.field.column = Column::kUri;
        *s << (t.op == Op::kEq ? "sys = (" : "sys IN (") << "SELECT id FROM search_system WHERE ";
        Render(uri, s);
        *s << ")";
        return;
      }
      const std::string col = ColumnName(t.field);
      switch (t.op) {
        case Op::kIn:
          *s << col << " IN (";
          for (size_t i = 0; i < t.values.size(); ++i) {
            if (i > 0) *s << ", ";
            s->Arg(t.values[i]);
          }
          *s << ")";
          return;
        case Op::kInSet:
          *s << col << " IN (SELECT value FROM json_each(";
          s->Arg(JsonArray(t.values)) << "))";
          return;
        case Op::kStartsWith: {
          const std::string& prefix = std::get<std::string>(t.values.at(0));
          *s << col << " >= ";
          s->Arg(prefix) << " AND " << col << " < ";
          s->Arg(search::PrefixEnd(prefix));
          return;
        }
        case Op::kContains: {
          std::string pattern = "%";
          for (char c : std::get<std::string>(t.values.at(0))) {
            if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
            pattern.push_back(c);
          }
          pattern.push_back('%');
          *s << col << " LIKE ";
          s->Arg(pattern) << " ESCAPE '\\'";
          return;
        }
        case Op::kEmpty:
          *s << col << " = ''";
          return;
        case Op::kNotEmpty:
          *s << col << " <> ''";
          return;
        default:
          *s << col << OpText(t.op);
          s->Arg(t.values.at(0));
          return;
      }
    }
    case Test::Kind::kAll:
    case Test::Kind::kAny:
      *s << "(";
      for (size_t i = 0; i < t.children.size(); ++i) {
        if (i > 0) *s << (t.kind == Test::Kind::kAll ? " AND " : " OR ");
        Render(t.children[i], s);
      }
      *s << ")";
      return;
    case Test::Kind::kNot:
      *s << "NOT ";
      Render(t.children.at(0), s);
      return;
  }
}

// An index row's value test (a kAll) as ` AND a AND b ...`, to follow the row's key terms.
void RenderTerms(const Test& all, Sql* s) {
  for (const Test& t : all.children) {
    *s << " AND ";
    Render(t, s);
  }
}

// The rows of `type`'s parameter `params` (schema/020_search_keys.sql): `key = (SELECT id FROM
// search_key WHERE type = ? AND param = ?)`, or `key IN (... param IN (?, ...))` for several (a
// composite read from others' rows). SQLite computes the subquery once per statement; a pair
// never stored is NULL, which matches no row. `row` prefixes the column ("x."); `plus` writes
// `+key` (do not drive by it: the row is found by seq).
void KeyTerm(std::string_view row, const std::string& type, const std::vector<std::string>& params,
             bool plus, Sql* s) {
  *s << (plus ? "+" : "") << row << (params.size() == 1 ? "key = (" : "key IN (")
     << "SELECT id FROM search_key WHERE type = ";
  s->Arg(type) << " AND param";
  if (params.size() == 1) {
    *s << " = ";
    s->Arg(params.front());
  } else {
    *s << " IN (";
    for (size_t i = 0; i < params.size(); ++i) {
      if (i > 0) *s << ", ";
      s->Arg(params[i]);
    }
    *s << ")";
  }
  *s << ")";
}

void KeyTerm(std::string_view row, const std::string& type, const std::string& param, bool plus,
             Sql* s) {
  KeyTerm(row, type, std::vector<std::string>{param}, plus, s);
}

// `SELECT seq FROM <table> WHERE key = ...`
Sql SelectSeq(ParamType table, const std::string& type, const std::vector<std::string>& params) {
  Sql s;
  s << "SELECT seq FROM " << TableFor(table) << " WHERE ";
  KeyTerm("", type, params, /*plus=*/false, &s);
  return s;
}

// The rows of a plain index condition, one UNION ALL branch per alternative.
Sql IndexRows(const search::IndexCondition& c) {
  Sql any;
  for (size_t i = 0; i < c.alternatives.size(); ++i) {
    if (i > 0) any << " UNION ALL ";
    any.Append(SelectSeq(c.table, c.type, c.params));
    RenderTerms(c.alternatives[i], &any);
  }
  return any;
}

// Location `near`: the latitude rows are found by a range on the (type, param, value) index,
// each joined to its longitude row by seq, then tested by the great-circle distance (haversine,
// mean Earth radius) with SQLite's math functions.
Sql NearRows(const search::NearCondition& c) {
  constexpr double kPi = std::numbers::pi;
  const double radius = search::kEarthRadiusMeters;
  Sql any;
  for (size_t i = 0; i < c.alternatives.size(); ++i) {
    const search::NearCondition::Point& p = c.alternatives[i];
    const double lat_r = p.latitude * kPi / 180;
    const double reach = p.meters / radius * 180 / kPi;  // degrees of latitude
    if (i > 0) any << " UNION ALL ";
    any << "SELECT a.seq FROM search_number a JOIN search_number b ON b.seq = a.seq AND ";
    KeyTerm("b.", c.type, std::string(search::kNearLongitude), /*plus=*/false, &any);
    any << " WHERE ";
    KeyTerm("a.", c.type, std::string(search::kNearLatitude), /*plus=*/false, &any);
    any << " AND a.value >= ";
    any.Arg(std::max(-90.0, p.latitude - reach)) << " AND a.value <= ";
    any.Arg(std::min(90.0, p.latitude + reach)) << " AND 2 * ";
    any.Arg(radius) << " * asin(min(1, sqrt(pow(sin((radians(a.value) - ";
    any.Arg(lat_r) << ") / 2), 2) + ";
    any.Arg(std::cos(lat_r)) << " * cos(radians(a.value)) * pow(sin(radians(b.value - ";
    any.Arg(p.longitude) << ") / 2), 2)))) <= ";
    any.Arg(p.meters);
  }
  return any;
}

// The set a condition's list form tests `seq` against, and whether it is negated (NOT IN).
struct SetForm {
  Sql set;
  bool negated = false;
};

std::optional<SetForm> SetOf(const Condition& condition);

// A chain's inner matches of one target type: `(SELECT id FROM search_resource WHERE +type = ?
// AND <inner>)`; `+type`: look them up by seq (rowid), not by scanning the type's ids.
void TargetIds(const search::ChainCondition::Target& t, Sql* s) {
  *s << "(SELECT id FROM search_resource WHERE +type = ";
  s->Arg(t.type) << " AND ";
  s->Append(ListSql(*t.inner)) << ")";
}

struct SetVisitor {
  std::optional<SetForm> operator()(const search::IndexCondition& c) const {
    return SetForm{IndexRows(c), c.negated};
  }
  std::optional<SetForm> operator()(const search::MissingCondition& c) const {
    return SetForm{SelectSeq(c.table, c.type, c.params), c.missing};
  }
  std::optional<SetForm> operator()(const search::ChainCondition& c) const {
    Sql any;
    for (size_t i = 0; i < c.targets.size(); ++i) {
      if (i > 0) any << " UNION ALL ";
      any << "SELECT seq FROM search_reference WHERE ";
      KeyTerm("", c.type, c.param, /*plus=*/false, &any);
      any << " AND target_type = ";
      any.Arg(c.targets[i].type) << " AND target_id IN ";
      TargetIds(c.targets[i], &any);
    }
    return SetForm{std::move(any)};
  }
  std::optional<SetForm> operator()(const search::HasCondition& c) const {
    Sql s;
    s << "SELECT seq FROM search_resource WHERE type = ";
    s.Arg(c.type) << " AND id IN (SELECT target_id FROM search_reference WHERE ";
    // `+target_type`: drive from the inner matches' seqs (index on seq).
    KeyTerm("", c.source, c.param, /*plus=*/false, &s);
    s << " AND +target_type = ";
    s.Arg(c.type) << " AND ";
    s.Append(ListSql(*c.inner)) << ")";
    return SetForm{std::move(s)};
  }
  std::optional<SetForm> operator()(const search::TextCondition& c) const {
    std::string match;
    for (const search::TextQuery& alternative : c.alternatives) {
      match += (match.empty() ? "(" : " OR (") + Fts5MatchExpression(alternative, c.scope) + ")";
    }
    Sql s;
    s << "SELECT rowid FROM search_text WHERE search_text MATCH ";
    s.Arg(match);
    return SetForm{std::move(s)};
  }
  std::optional<SetForm> operator()(const search::NearCondition& c) const {
    return SetForm{NearRows(c)};
  }
  std::optional<SetForm> operator()(const search::ListCondition& c) const {
    Sql s;
    s << "SELECT m.seq FROM search_reference li JOIN search_resource m ON m.type ="
         " li.target_type AND m.id = li.target_id WHERE li.seq IN (SELECT seq FROM"
         " search_resource WHERE type = ";
    s.Arg(std::string("List")) << " AND id IN (";
    for (size_t i = 0; i < c.list_ids.size(); ++i) {
      if (i > 0) s << ", ";
      s.Arg(c.list_ids[i]);
    }
    s << ")) AND ";
    KeyTerm("li.", "List", std::string("item"), /*plus=*/true, &s);
    if (!c.type.empty()) {
      s << " AND li.target_type = ";
      s.Arg(c.type);
    }
    return SetForm{std::move(s)};
  }
  std::optional<SetForm> operator()(const search::IdCondition& c) const {
    Sql s;
    s << "SELECT seq FROM search_resource WHERE ";
    if (!c.type.empty()) {
      s << "type = ";
      s.Arg(c.type) << " AND ";
    }
    s << "id IN (";
    for (size_t i = 0; i < c.ids.size(); ++i) {
      if (i > 0) s << ", ";
      s.Arg(c.ids[i]);
    }
    s << ")";
    return SetForm{std::move(s), c.negated};
  }
  std::optional<SetForm> operator()(const search::LastUpdatedCondition& c) const {
    Sql s;
    for (size_t i = 0; i < c.alternatives.size(); ++i) {
      if (i > 0) s << " UNION ALL ";
      s << "SELECT seq FROM search_resource WHERE ";
      if (!c.type.empty()) {
        s << "type = ";
        s.Arg(c.type) << " AND ";
      }
      Render(c.alternatives[i], &s);
    }
    return SetForm{std::move(s)};
  }
  std::optional<SetForm> operator()(const search::CompartmentCondition& c) const {
    Sql s;
    s << "SELECT seq FROM search_compartment WHERE patient_id = ";
    s.Arg(c.patient_id);
    return SetForm{std::move(s)};
  }
  std::optional<SetForm> operator()(const search::ConstantCondition&) const { return std::nullopt; }
  std::optional<SetForm> operator()(const search::AnyTypeCondition&) const { return std::nullopt; }
};

std::optional<SetForm> SetOf(const Condition& condition) {
  return std::visit(SetVisitor{}, condition.test);
}

// The probe form of a condition that has one (Condition::HasProbe): does the row `row` match?
// EXISTS (SELECT 1 FROM t WHERE seq = <row> AND +type = ? AND +param = ? AND (tests OR ...)), a
// lookup of the (seq, type, param) index instead of a collected list.
Sql ProbeSql(const Condition& condition, std::string_view row) {
  Sql e;
  if (const auto* c = std::get_if<search::IndexCondition>(&condition.test)) {
    e << (c->negated ? "NOT EXISTS (SELECT 1 FROM " : "EXISTS (SELECT 1 FROM ")
      << TableFor(c->table) << " WHERE seq = " << row << " AND ";
    KeyTerm("", c->type, c->params, /*plus=*/true, &e);
    e << " AND (";
    for (size_t i = 0; i < c->alternatives.size(); ++i) {
      e << (i > 0 ? " OR " : "") << "(1 = 1";
      RenderTerms(c->alternatives[i], &e);
      e << ")";
    }
    e << "))";
  } else if (const auto* c = std::get_if<search::ChainCondition>(&condition.test)) {
    // Does the row's reference point into the inner matches? The inner list (usually narrow: a
    // name, an identifier) is collected once per search; the row's references are found through
    // the (seq, type, param) index.
    e << "EXISTS (SELECT 1 FROM search_reference WHERE seq = " << row << " AND ";
    KeyTerm("", c->type, c->param, /*plus=*/true, &e);
    e << " AND (";
    for (size_t i = 0; i < c->targets.size(); ++i) {
      if (i > 0) e << " OR ";
      e << "(target_type = ";
      e.Arg(c->targets[i].type) << " AND target_id IN ";
      TargetIds(c->targets[i], &e);
      e << ")";
    }
    e << "))";
  } else if (const auto* c = std::get_if<search::HasCondition>(&condition.test)) {
    // Does a row of the source type refer to this row and match the inner condition? Through
    // the (type, param, target_type, target_id, seq) index, then the inner condition's probe of
    // each referring row.
    e << "EXISTS (SELECT 1 FROM search_reference hx WHERE ";
    KeyTerm("hx.", c->source, c->param, /*plus=*/false, &e);
    e << " AND hx.target_type = ";
    e.Arg(c->type) << " AND hx.target_id = r.id AND ";
    e.Append(ProbeSql(*c->inner, "hx.seq")) << ")";
  }
  return e;
}

// A list that is cheap to count up to a bound (Condition::HasCountableList).
Sql CountableListSql(const Condition& condition) {
  if (const auto* h = std::get_if<search::HasCondition>(&condition.test)) {
    return CountableListSql(*h->inner);
  }
  return IndexRows(std::get<search::IndexCondition>(condition.test));
}

// A top-level condition as a list, parenthesized (but for the compartment's, which is one set).
Sql TopListSql(const Condition& condition) {
  if (std::holds_alternative<search::CompartmentCondition>(condition.test)) {
    return ListSql(condition);
  }
  Sql s;
  s << "(";
  s.Append(ListSql(condition)) << ")";
  return s;
}

Sql TypesSql(const Plan& plan) {
  Sql w;
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
  return w;
}

// The conditions from `from` on, each in its form.
void AppendConditions(const Plan& plan, size_t from, Sql* w) {
  for (size_t i = from; i < plan.conditions.size(); ++i) {
    const search::PlannedCondition& c = plan.conditions[i];
    *w << " AND ";
    w->Append(i > 0 && c.form == search::Form::kProbe ? ProbeSql(c.condition, "r.seq")
                                                      : TopListSql(c.condition));
  }
}

int64_t PageLimit(const Plan& plan) { return static_cast<int64_t>(plan.count) + 1; }

// An unsorted page's end: after the cursor, in `seq` order (each resource once when `group`),
// one row more than the page.
void AppendSeqPageEnd(const Plan& plan, std::string_view seq, bool group, Sql* s) {
  if (plan.cursor) {
    *s << " AND " << seq << " > ";
    s->Arg(plan.cursor->seq);
  }
  if (group) *s << " GROUP BY " << seq;
  *s << " ORDER BY " << seq << " LIMIT ";
  s->Arg(PageLimit(plan));
}

Sql SeqPageSql(const Plan& plan, const Sql& where) {
  Sql s;
  s << "SELECT r.seq FROM search_resource r WHERE ";
  s.Append(where);
  AppendSeqPageEnd(plan, "r.seq", /*group=*/false, &s);
  return s;
}

// A ChainWalk page: the references to the inner matches in ("TargetType/id", seq) order, one
// arm per target type in that order. In an arm SQLite reads the IN list of target ids in order
// and each id's references in seq order from the covering (type, param, target_type, target_id,
// seq) index, so no sort is needed, and the LIMIT stops the walk; UNION ALL keeps its arms'
// order. After a cursor ("T/c", seq s) the page reads c's references after s, then T's targets
// after c (the inner matches with id > c: those before it are never read), then the later
// types. A row that refers to several inner matches is kept under the lowest of them only.
Sql ChainPageSql(const Plan& plan) {
  const auto& c = std::get<search::ChainCondition>(plan.conditions[0].condition.test);
  using Target = search::ChainCondition::Target;
  std::vector<const Target*> targets;
  for (const Target& t : c.targets) targets.push_back(&t);
  std::sort(targets.begin(), targets.end(), [](const Target* a, const Target* b) {
    return search::ChainKeyBefore(a->type, b->type);
  });
  std::string after_type, after_id;  // the cursor's target
  if (plan.cursor) {
    const std::string& key = std::get<std::string>(plan.cursor->keys[0]);
    after_type = key.substr(0, key.find('/'));
    after_id = key.substr(key.find('/') + 1);
  }
  const Sql filter = FilterSql(plan);
  auto ids = [&](Sql& s, const Target& t, bool after_cursor) {
    s << "(SELECT id FROM search_resource WHERE +type = ";
    s.Arg(t.type) << " AND ";
    s.Append(ListSql(*t.inner));
    if (after_cursor) {
      s << " AND id > ";
      s.Arg(after_id);
    }
    s << ")";
  };
  enum class From { kAll, kCursorTarget, kAfterCursorTarget };
  auto arm = [&](Sql& s, const Target& t, From from) {
    s << "SELECT x.seq AS seq, x.target_type || '/' || x.target_id AS k0 FROM search_reference x"
         " JOIN search_resource r ON r.seq = x.seq WHERE ";
    KeyTerm("x.", c.type, c.param, /*plus=*/false, &s);
    s << " AND x.target_type = ";
    s.Arg(t.type) << " AND ";
    if (from == From::kCursorTarget) {
      s << "x.target_id = ";
      s.Arg(after_id) << " AND x.seq > ";
      s.Arg(plan.cursor->seq) << " AND ";
    }
    s << "x.target_id IN ";
    ids(s, t, from == From::kAfterCursorTarget);
    s << " AND ";
    s.Append(filter);
    // A lower inner match among the row's own references, found through the seq index (`+`:
    // not the target index, which would be searched once per inner match).
    s << " AND NOT EXISTS (SELECT 1 FROM search_reference y WHERE y.seq = x.seq"
         " AND +y.key = x.key AND y.target_type || '/' || y.target_id <"
         " x.target_type || '/' || x.target_id AND (";
    for (size_t i = 0; i < targets.size(); ++i) {
      if (i > 0) s << " OR ";
      s << "(y.target_type = ";
      s.Arg(targets[i]->type) << " AND y.target_id IN ";
      ids(s, *targets[i], false);
      s << ")";
    }
    s << ")) GROUP BY x.target_id, x.seq ORDER BY x.target_id, x.seq LIMIT ";
    s.Arg(PageLimit(plan));
  };
  std::vector<std::pair<const Target*, From>> arms;
  for (const Target* t : targets) {
    if (!plan.cursor) {
      arms.emplace_back(t, From::kAll);
    } else if (t->type == after_type) {
      arms.emplace_back(t, From::kCursorTarget);
      arms.emplace_back(t, From::kAfterCursorTarget);
    } else if (search::ChainKeyBefore(after_type, t->type)) {
      arms.emplace_back(t, From::kAll);
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
  s.Arg(PageLimit(plan));
  return s;
}

// A sort key over `r` (https://hl7.org/fhir/R4/search.html#sort): for a parameter with several
// values, the lowest when ascending and the highest when descending; resources without a value
// sort last either way.
Sql SortKeySql(const search::SortKey& key) {
  Sql e;
  if (key.source == search::SortKey::Source::kId) {
    e << "r.id";
    return e;
  }
  if (key.source == search::SortKey::Source::kLastUpdated) {
    e << "r.last_updated";
    return e;
  }
  std::string_view column;
  bool text = false;
  switch (key.table) {
    case ParamType::kDate:
      column = key.descending ? "high" : "low";
      break;
    case ParamType::kString:
      column = "norm";
      text = true;
      break;
    case ParamType::kToken:
      column = "code";
      text = true;
      break;
    case ParamType::kReference:
      // The reference as written: a relative one `Type/id` is stored as its target alone, with
      // an empty url (search_index.cc; older rows hold the url too, which is the same text).
      column = "CASE url WHEN '' THEN target_type || '/' || target_id ELSE url END";
      text = true;
      break;
    case ParamType::kUri:
      column = "uri";
      text = true;
      break;
    default:  // number, quantity
      column = "value";
      break;
  }
  e << "COALESCE((SELECT " << (key.descending ? "MAX(" : "MIN(") << column << ") FROM "
    << TableFor(key.table) << " WHERE seq = r.seq AND ";
  // `+`: SQLite must use the (seq) index here, not a min/max walk of (key, value).
  KeyTerm("", key.type, key.params, /*plus=*/true, &e);
  e << "), ";
  if (text) {
    e << (key.descending ? "''" : "char(1114111)");
  } else if (key.table == ParamType::kDate) {
    e << (key.descending ? "-9223372036854775807" : "9223372036854775807");
  } else {
    e << (key.descending ? "-1e308" : "1e308");
  }
  e << ")";
  return e;
}

}  // namespace

Sql ListSql(const Condition& condition) {
  Sql s;
  if (const auto* c = std::get_if<search::ConstantCondition>(&condition.test)) {
    s << (c->value ? "1 = 1" : "0 = 1");
    return s;
  }
  if (const auto* any = std::get_if<search::AnyTypeCondition>(&condition.test)) {
    for (size_t i = 0; i < any->alternatives.size(); ++i) {
      if (i > 0) s << " OR ";
      s.Append(ListSql(any->alternatives[i]));
    }
    return s;
  }
  std::optional<SetForm> set = SetOf(condition);
  s << (set->negated ? "seq NOT IN (" : "seq IN (");
  s.Append(set->set) << ")";
  return s;
}

Sql IncludeSql(const search::IncludeSpec& inc, bool reverse, int64_t seq, int64_t limit) {
  Sql s;
  if (!reverse) {
    s << "SELECT r2.seq FROM search_reference x JOIN search_resource r2"
         " ON r2.type = x.target_type AND r2.id = x.target_id WHERE x.seq = ";
  } else {
    s << "SELECT x.seq FROM search_resource me JOIN search_reference x"
         " ON x.target_type = me.type AND x.target_id = me.id WHERE me.seq = ";
  }
  s.Arg(seq);
  // The parameters followed. A reverse include always names them: what refers to the row is
  // read from (key, target_type, target_id) once for each reference parameter that may hold it
  // (schema/020_search_keys.sql: there is no index by target alone). A forward one reads the
  // row's own references, so `*` needs no list.
  if (reverse || inc.source_type != "*" || !inc.param.empty()) {
    s << " AND x.key IN (SELECT id FROM search_key WHERE ref = 1";
    if (inc.source_type != "*") {
      s << " AND type = ";
      s.Arg(inc.source_type);
    }
    if (!inc.param.empty()) {
      s << " AND param = ";
      s.Arg(inc.param);
    }
    s << ")";
  }
  if (!inc.target_type.empty()) {
    s << (reverse ? " AND me.type = " : " AND x.target_type = ");
    s.Arg(inc.target_type);
  }
  s << " LIMIT ";
  s.Arg(limit);
  return s;
}

Sql WhereSql(const Plan& plan) {
  Sql w = TypesSql(plan);
  AppendConditions(plan, 0, &w);
  return w;
}

Sql FilterSql(const Plan& plan) {
  Sql w = TypesSql(plan);
  AppendConditions(plan, 1, &w);
  return w;
}

std::optional<Sql> DrivingSetSql(const Plan& plan) {
  if (!plan.HasDrivingSet()) return std::nullopt;
  return SetOf(plan.conditions[0].condition)->set;
}

Sql PageSql(const Plan& plan) {
  if (plan.Is<Plan::ChainWalk>()) return ChainPageSql(plan);
  Sql s;
  if (plan.Is<Plan::IndexWalk>()) {
    // The driving index's rows in seq order from the cursor on, each joined to its resource row
    // and tested by the other conditions; SQLite flattens the subquery into that loop (no list
    // is materialised, no sort), and GROUP BY folds a resource's repeated rows (two codings
    // with the same code) in the same pass. The subquery names its column `dseq` so that `seq`
    // in the other conditions still means r.seq.
    const auto& d = std::get<search::IndexCondition>(plan.conditions[0].condition.test);
    s << "SELECT r.seq FROM (SELECT seq AS dseq FROM " << TableFor(d.table) << " WHERE ";
    KeyTerm("", d.type, d.params.front(), /*plus=*/false, &s);
    RenderTerms(d.alternatives.front(), &s);
    s << ") AS d JOIN search_resource r ON r.seq = d.dseq WHERE ";
    s.Append(FilterSql(plan));
    AppendSeqPageEnd(plan, "d.dseq", /*group=*/true, &s);
    return s;
  }
  if (plan.sort.empty()) return SeqPageSql(plan, WhereSql(plan));
  s << "SELECT seq";
  for (size_t i = 0; i < plan.sort.size(); ++i) s << ", k" << std::to_string(i);
  s << " FROM (SELECT r.seq AS seq";
  for (size_t i = 0; i < plan.sort.size(); ++i) {
    s << ", ";
    s.Append(SortKeySql(plan.sort[i])) << " AS k" << std::to_string(i);
  }
  s << " FROM search_resource r WHERE ";
  s.Append(WhereSql(plan)) << ") AS m";
  if (plan.cursor) {
    // Keyset: rows strictly after (k0, k1, ..., seq) in the sort order, each key in its own
    // direction: k0 after c0, or k0 = c0 and k1 after c1, ..., or all equal and seq > c.
    s << " WHERE (";
    for (size_t i = 0; i <= plan.sort.size(); ++i) {
      if (i > 0) s << " OR ";
      s << "(";
      for (size_t j = 0; j < i; ++j) {
        s << "k" << std::to_string(j) << " = ";
        s.Arg(plan.cursor->keys[j]) << " AND ";
      }
      if (i < plan.sort.size()) {
        s << "k" << std::to_string(i) << (plan.sort[i].descending ? " < " : " > ");
        s.Arg(plan.cursor->keys[i]);
      } else {
        s << "seq > ";
        s.Arg(plan.cursor->seq);
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
  s.Arg(PageLimit(plan));
  return s;
}

Sql WalkCheckSql(const Plan& plan) {
  const int64_t above = std::get<Plan::CountThenWalk>(plan.strategy).walk_above;
  Sql n;
  n << "SELECT count(*) >= ";
  n.Arg(above) << " FROM (";
  n.Append(CountableListSql(plan.conditions[0].condition)) << " LIMIT ";
  n.Arg(above) << ")";
  return n;
}

Sql WalkPageSql(const Plan& plan) {
  Sql w = TypesSql(plan);
  for (const search::PlannedCondition& c : plan.conditions) {
    w << " AND ";
    w.Append(ProbeSql(c.condition, "r.seq"));
  }
  return SeqPageSql(plan, w);
}

Sql CountSql(const Plan& plan) {
  Sql s;
  s << "SELECT count(*) FROM search_resource r WHERE ";
  s.Append(WhereSql(plan));
  return s;
}

Sql SetCountSql(const Plan& plan) {
  Sql s;
  s << "SELECT count(*) FROM (";
  s.Append(*DrivingSetSql(plan)) << ")";
  return s;
}

Sql SetSampleSql(const Plan& plan, int64_t limit) {
  Sql s;
  s << "SELECT * FROM (";
  s.Append(*DrivingSetSql(plan)) << ") LIMIT ";
  s.Arg(limit);
  return s;
}

Sql SampleMatchesSql(const Plan& plan, const std::string& seqs_json) {
  Sql s;
  s << "SELECT count(*) FROM search_resource r WHERE r.seq IN (SELECT value FROM json_each(";
  s.Arg(seqs_json) << ")) AND ";
  s.Append(FilterSql(plan));
  return s;
}

}  // namespace vesta::store::sql
