// SQL on FHIR v2 ViewDefinitions (https://sql-on-fhir.org/ig/latest/), parsed, validated and
// compiled once, then run over many resources (views/runner.h).
//
//   ASSIGN_OR_RETURN(views::View view, views::View::Parse(view_json));
//   for (const views::ColumnInfo& c : view.columns()) ... c.name, c.type ...
//
// Validation follows the ViewDefinition structure and its invariants
// (https://sql-on-fhir.org/ig/latest/StructureDefinition-ViewDefinition.html): `resource` is a
// resource type; `select` has at least one entry; names of the view, its columns and its
// constants match ^[A-Za-z][A-Za-z0-9_]*$ ("sql-name"); a select has at most one of forEach,
// forEachOrNull and repeat ("sql-expressions"); column names are unique across the view and the
// branches of a unionAll produce the same columns in the same order ("Validate Columns" of the
// processing algorithm); a constant has a name and exactly one value[x] of the allowed types;
// every FHIRPath expression compiles and names only the view's constants and the environment's
// variables (%rowIndex, %resource, ...). Errors are kInvalid Statuses that begin with the place,
// e.g. "select[1].column[0].path: unknown function 'frist' at position 5".
//
// Thread-safety: a View is immutable once parsed; many Runners may share it across threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "fhir/fhirpath/fhirpath.h"
#include "json/value.h"

namespace vesta::views {

// One output column, in output order
// (https://sql-on-fhir.org/ig/latest/StructureDefinition-ViewDefinition.html#column-ordering).
struct ColumnInfo {
  std::string name;
  std::string type;  // the column's declared FHIR type ("string", "integer", ...), or ""
  bool collection = false;
  std::string description;
  std::vector<std::pair<std::string, std::string>> tags;  // (name, value), e.g. ansi/type
};

// A compiled column of a select.
struct CompiledColumn {
  size_t slot = 0;  // its index in View::columns() and in a Row
  fhirpath::Expression path;
  // The path is exactly %rowIndex: the null row of an empty forEachOrNull binds it to 0.
  bool row_index = false;
  bool collection = false;
  std::string location;  // "select[0].column[1]"
};

// A compiled selection structure (ViewDefinition.select, nested selects and unionAll branches).
struct CompiledSelect {
  enum class Iteration : uint8_t { kNone, kForEach, kForEachOrNull, kRepeat };
  Iteration iteration = Iteration::kNone;
  // forEach / forEachOrNull: one expression; repeat: one per path.
  std::vector<fhirpath::Expression> iterate;
  std::vector<CompiledColumn> columns;
  std::vector<CompiledSelect> selects;
  std::vector<CompiledSelect> union_all;
  // The slots of this structure's columns and of everything nested in it: [slot_begin, slot_end).
  // The branches of a unionAll share the same slots.
  size_t slot_begin = 0;
  size_t slot_end = 0;
  std::vector<size_t> row_index_slots;  // slots in the range whose column is %rowIndex
  std::string location;                 // "select[0].unionAll[1]"
};

class View {
 public:
  // Parses and validates a ViewDefinition (a JSON object).
  static Result<View> Parse(const json::Value& view);
  // The same from JSON text.
  static Result<View> ParseText(std::string_view text);

  const std::string& resource_type() const { return resource_type_; }
  const std::string& name() const { return name_; }  // may be empty
  const std::vector<ColumnInfo>& columns() const { return columns_; }
  const std::vector<CompiledSelect>& selects() const { return selects_; }
  // The `where` paths, all of which must be true for a resource to be in the view.
  const std::vector<fhirpath::Expression>& where() const { return where_; }
  // The view's constants as FHIRPath variables (without %rowIndex, which the runner adds).
  const fhirpath::Environment& environment() const { return *environment_; }

 private:
  std::string resource_type_;
  std::string name_;
  std::vector<ColumnInfo> columns_;
  std::vector<CompiledSelect> selects_;
  std::vector<fhirpath::Expression> where_;
  // The constants' items are System values: nothing points into the view's JSON.
  std::shared_ptr<const fhirpath::Environment> environment_;
};

// The functions of view expressions (functions.cc): SQL on FHIR's getResourceKey() and
// getReferenceKey([type])
// (https://sql-on-fhir.org/ig/latest/StructureDefinition-ViewDefinition.html
// #required-additional-functions). Vesta's keys are "Type/id": a resource's type and id, and the
// same for a relative literal reference ("Patient/123", "Patient/123/_history/2"); other
// references (absolute URLs, urn:uuid:, contained "#x", identifiers only) have no key. And join(),
// which gives '' for an empty collection where FHIRPath gives empty.
std::shared_ptr<const fhirpath::ExtensionFunctions> ViewFunctions();

}  // namespace vesta::views
