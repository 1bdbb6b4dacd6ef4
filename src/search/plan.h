// A search request (https://hl7.org/fhir/R4/search.html) as a plain value: what to find, bound
// to the search parameters and their index rows, and how a page is read. It names no table and
// spells no SQL: each store backend renders a Plan in its own dialect (store/sqlite/search_sql.h).
//
//   search::SearchSpec spec;
//   spec.types = {"Observation"};
//   spec.params = {{"code", "http://loinc.org|8867-4"}};
//   ASSIGN_OR_RETURN(search::Plan plan, search::PlanSearch(search::Registry::R4(), spec));
//   // plan.conditions[0] drives; plan.strategy says how a page walks it.
//
// The path of a request: search/parse.h (values, prefixes, cursors) → search/bind.h (one
// condition per parameter, from the params/ file of its type) → PlanSearch here (result
// parameters, which condition drives, the page strategy) → the backend's renderer.
//
// Errors: a malformed value, an unsupported modifier or (with strict handling) an unknown
// parameter is kInvalid naming the parameter; the REST layer answers 400.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"
#include "search/registry.h"
#include "search/spec.h"
#include "search/text.h"

namespace vesta::search {

// A bound value: an integer (dates as microseconds), a real number or a text.
using Value = std::variant<int64_t, double, std::string>;

// ---- Value tests
// ---------------------------------------------------------------------------------

// A column of an index row, named by what it holds; a backend maps it to its own columns. A
// composite parameter's rows hold up to kMaxComponents components: Field::component 1, 2, 3
// names that component's column (0: the parameter type's own index row).
enum class Column {
  kCode,       // token code; quantity unit code; a composite component's reference or uri
  kSystem,     // token system; quantity unit system
  kTokenText,  // token display text, normalized (:text)
  kNorm,       // string, normalized (search/normalize.h)
  kExact,      // string as written
  kDateLow,    // date range, microseconds
  kDateHigh,
  kNumberLow,  // number or quantity as written (a point: low = high)
  kNumberHigh,
  kCanonicalCode,  // quantity in UCUM canonical units
  kCanonicalLow,
  kCanonicalHigh,
  kTargetType,  // reference: a relative reference's type and id, or the url of another one
  kTargetId,
  kUrl,
  kUri,          // uri
  kLastUpdated,  // the resource row's meta.lastUpdated, microseconds
};

struct Field {
  Column column = Column::kCode;
  int component = 0;
  bool operator==(const Field&) const = default;
};

enum class Op {
  kEq,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,          // one of `values`: a short list written in the request
  kInSet,       // one of `values`: a code set from the terminology, up to 20,000 codes
  kStartsWith,  // a text starting with values[0]
  kContains,    // a text containing values[0]
  kEmpty,       // an empty text (lets a backend use an index over the empty values)
  kNotEmpty,    // a text that is not empty (lets a backend use an index over non-empty values)
};

// A test of one index row: a comparison, or all / any / none of its children.
struct Test {
  enum class Kind { kCompare, kAll, kAny, kNot };
  Kind kind = Kind::kAll;
  Field field;                 // kCompare
  Op op = Op::kEq;             // kCompare
  std::vector<Value> values;   // kCompare: one, or the list of kIn / kInSet
  std::vector<Test> children;  // kAll, kAny; kNot: one

  static Test Compare(Field f, Op op, std::vector<Value> values = {});
  static Test Compare(Column c, Op op, Value v) { return Compare(Field{c}, op, {std::move(v)}); }
  static Test All(std::vector<Test> children);
  static Test Any(std::vector<Test> children);
  static Test Not(Test child);
};

// ---- Conditions
// ----------------------------------------------------------------------------------

struct Condition;

// Resources of `type` with a row of one of `params` in the index of `table` that passes one of
// `alternatives` (the comma-separated values, OR-ed); with `negated` (token :not), those with no
// such row (https://hl7.org/fhir/R4/search.html#modifiers: "including those without the element").
struct IndexCondition {
  ParamType table = ParamType::kToken;  // whose index: :identifier reads the token index
  std::string type;
  std::vector<std::string> params;  // the rows' param keys (several: a combo-* read from others)
  std::vector<Test> alternatives;   // each a kAll of comparisons
  bool negated = false;
  // The one alternative pins every column of the value index but the row order (token system
  // and code, reference type and id): its rows can be walked in order (Plan::IndexWalk).
  bool pinned = false;
  // A string prefix or :exact test (not :contains): read from the (param, norm) index.
  bool name_index = false;
  // A string (a name) or a reference (a patient): usually a short list, not worth counting
  // before a page (Plan::CountThenWalk).
  bool usually_narrow = false;
};

// https://hl7.org/fhir/R4/search.html#missing
struct MissingCondition {
  ParamType table = ParamType::kToken;
  std::string type;
  std::vector<std::string> params;
  bool missing = true;  // true: no such row; false: at least one
};

// https://hl7.org/fhir/R4/search.html#chaining: rows of `type` whose reference parameter `param`
// points to a resource of one of the targets that matches its inner condition.
struct ChainCondition {
  struct Target {
    std::string type;
    std::shared_ptr<const Condition> inner;  // on the target's rows
  };
  std::string type;
  std::string param;
  std::vector<Target> targets;  // in the reference parameter's order of target types
};

// https://hl7.org/fhir/R4/search.html#has: resources of `type` that a `source` resource refers
// to through `param` and that source matches `inner`.
struct HasCondition {
  std::string type;
  std::string source;
  std::string param;
  std::shared_ptr<const Condition> inner;  // on the source's rows
  bool plain_inner = false;  // the inner condition is a plain parameter, not a chain or _has
};

// https://hl7.org/fhir/R4/search.html#text: _text / _content, each alternative a parsed text
// search expression (search/text.h); OR-ed. The same for every type.
struct TextCondition {
  TextScope scope = TextScope::kContent;
  std::vector<TextQuery> alternatives;
};

// Location `near`: positions within `meters` of a point on the great circle.
struct NearCondition {
  struct Point {
    double latitude = 0, longitude = 0, meters = 0;
  };
  std::string type;
  std::vector<Point> alternatives;
};

// https://hl7.org/fhir/R4/search.html#list: what the Lists with these ids refer to in their
// entries. `type` empty: any type.
struct ListCondition {
  std::string type;
  std::vector<std::string> list_ids;
};

// https://hl7.org/fhir/R4/search.html#id. `type` empty: any type.
struct IdCondition {
  std::string type;
  std::vector<std::string> ids;
  bool negated = false;
};

// _lastUpdated: one test of Column::kLastUpdated per alternative. `type` empty: any type.
struct LastUpdatedCondition {
  std::string type;
  std::vector<Test> alternatives;
};

// Always true or always false (_id:missing, a value set with no member).
struct ConstantCondition {
  bool value = true;
};

// Patient/[id]/[type]: the resources in that patient's compartment.
struct CompartmentCondition {
  std::string patient_id;
};

// One parameter of a system search across several types: it must hold in one of them.
struct AnyTypeCondition {
  std::vector<Condition> alternatives;
};

struct Condition {
  std::variant<IndexCondition, MissingCondition, ChainCondition, HasCondition, TextCondition,
               NearCondition, ListCondition, IdCondition, LastUpdatedCondition, ConstantCondition,
               CompartmentCondition, AnyTypeCondition>
      test;

  // The forms a backend can give this condition besides its list (`the matching rows`):
  // a probe tests one candidate row without collecting the list (plain index tests, chains, and
  // _has over a plain inner parameter).
  bool HasProbe() const;
  // Its list is cheap to count up to a bound (a positive index test other than a string or a
  // reference, or _has over one): Plan::CountThenWalk counts it.
  bool HasCountableList() const;
  // Its list is a set of rows (a positive condition) rather than a complement or a constant:
  // _total=estimate samples it.
  bool IsSet() const;
};

// ---- The plan
// ------------------------------------------------------------------------------------

// How a condition after the first is tested: by collecting its list, or by probing each
// candidate row. The first condition always drives as a list.
enum class Form { kList, kProbe };

struct PlannedCondition {
  Condition condition;
  Form form = Form::kList;
  int priority = 3;  // the planner's guess of its selectivity: 0 is the most selective
};

// https://hl7.org/fhir/R4/search.html#sort: for a parameter with several values, the lowest when
// ascending and the highest when descending. Resources without a value sort last either way.
struct SortKey {
  enum class Source { kParam, kId, kLastUpdated };
  Source source = Source::kParam;
  ParamType table = ParamType::kToken;  // kParam: the index read
  std::string type;
  std::vector<std::string> params;  // kParam: the rows' param keys
  bool descending = false;
};

// _include / _revinclude (https://hl7.org/fhir/R4/search.html#include)
struct IncludeSpec {
  std::string source_type;  // the resource type holding the reference
  std::string param;        // "" for `*`
  std::string target_type;  // "" for any
  bool iterate = false;
};

// Keyset position (from _cursor): the sort key values and the row order of the last entry of
// the previous page.
struct Cursor {
  std::vector<Value> keys;
  int64_t seq = 0;
};

struct Plan {
  // The page strategies (docs/search.md, "How a request becomes SQL"):
  //   Collect: the driving condition's list, the others tested in their forms; sorted by the
  //     sort keys, else in row order. Every sorted page is collected.
  //   IndexWalk: the driving condition is one equality on a value index (`code=system|code`,
  //     `subject=Patient/1`), whose rows the index lists in row order: an unsorted page walks
  //     them from the cursor and stops after count + 1, testing the others (`filter`).
  //   ChainWalk: the driving condition is a chain: an unsorted page walks the references to its
  //     inner matches in ("TargetType/id", row) order; the cursor carries "TargetType/id".
  //   CountThenWalk: every condition can be probed; when the driving list holds at least
  //     `walk_above` rows it is not selective, and walking the type's rows in order, probing
  //     each, fills a page sooner than collecting the list; otherwise Collect.
  struct Collect {};
  struct IndexWalk {};
  struct ChainWalk {};
  struct CountThenWalk {
    int64_t walk_above = 2000;
  };
  using Strategy = std::variant<Collect, IndexWalk, ChainWalk, CountThenWalk>;

  std::vector<std::string> types;            // empty: every type
  std::vector<PlannedCondition> conditions;  // AND-ed; the first drives
  Strategy strategy;
  std::vector<SortKey> sort;  // empty: by row order (insertion)
  int count = 50;
  TotalMode total = TotalMode::kDefault;
  bool summary_count = false;  // _summary=count: only the total
  std::vector<IncludeSpec> includes;
  std::vector<IncludeSpec> revincludes;
  std::optional<Cursor> cursor;
  // The parameters that were understood, in order, for the self link (no _cursor).
  std::vector<std::pair<std::string, std::string>> used;

  template <typename S>
  bool Is() const {
    return std::holds_alternative<S>(strategy);
  }
  // Keys of a page row after its row number, and of its cursor: one per sort key, or the
  // target key of a ChainWalk page.
  size_t KeyColumns() const { return Is<ChainWalk>() ? 1 : sort.size(); }
  // For _total=estimate: whether the driving condition is a set of rows to sample.
  bool HasDrivingSet() const { return !conditions.empty() && conditions[0].condition.IsSet(); }
};

Result<Plan> PlanSearch(const Registry& registry, const SearchSpec& spec);

// Location `near` (type special), the one special parameter the planner answers: by the great-
// circle distance from Location.position. Without a distance in the value, this many meters.
bool IsNearParam(std::string_view type, const Param& p);
inline constexpr double kNearDefaultMeters = 10000;
inline constexpr double kEarthRadiusMeters = 6371008.8;  // the mean radius of the WGS84 ellipsoid

// Whether the chain keys ("Type/id") of target type `a` all sort before those of type `b`: the
// order of ChainCondition::targets and of a ChainWalk page's arms.
bool ChainKeyBefore(std::string_view a, std::string_view b);

// _total=estimate (https://hl7.org/fhir/R4/search.html#total): the driving set's first rows are
// sampled; the estimated total is exact (`matches`) when the sample holds the whole set, else
// the set's rows times the share of sampled rows that are matching resources (a resource with
// several rows in the set, e.g. two matching codes, counts once). The sample is the set's first
// rows in index order (the oldest rows for one value, the lowest values for a range): data whose
// other properties differ between old and new rows skews it.
inline constexpr int64_t kEstimateSample = 1000;
int64_t EstimateTotal(int64_t set_rows, int64_t sampled_rows, int64_t matches);

}  // namespace vesta::search
