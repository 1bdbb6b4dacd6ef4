// Running a compiled View over resources: one resource in, its rows out.
//
//   views::Runner runner(view);
//   RETURN_IF_ERROR(runner.Run(doc.root(), [&](const views::Row& row) { ... }));
//
// Implements "Process a Resource" and "Process(S, N)" of the processing algorithm
// (https://sql-on-fhir.org/ig/latest/StructureDefinition-ViewDefinition.html#processing-algorithm):
// a resource of another type gives no rows; every `where` path must be true (an empty result is
// false; a value that is not a single Boolean is an error); the columns of a select, its nested
// selects and its unionAll are cross-joined; forEach gives a row per item, forEachOrNull a row of
// nulls when there is none, repeat a row per node reached by following its paths recursively
// (depth first, in document order); %rowIndex is the index within the nearest enclosing
// forEach/forEachOrNull/repeat, 0 at the top. A column that is not a collection and gets several
// values is an error.
//
// Thread-safety: a Runner is not thread-safe (it keeps its evaluation environment); use one per
// thread. The View must outlive it.
#pragma once

#include <functional>
#include <vector>

#include "base/status.h"
#include "fhir/fhirpath/fhirpath.h"
#include "views/view.h"

namespace vesta::views {

// One row: a collection per column of View::columns(), in order. An empty collection is null (or
// the empty array of a collection column). Node items point into the resource being run: a row is
// valid only during the callback that receives it.
using Row = std::vector<fhirpath::Collection>;

class Runner {
 public:
  explicit Runner(const View& view);

  // Runs the view over `resource` and calls `emit` for each of its rows, in order. On an error
  // (a where path that is not Boolean, several values in a column that is not a collection, a
  // FHIRPath run-time error) no row of this resource is emitted; the message names the place and
  // the resource ("Patient/1: select[0].column[1] (family): ...").
  Status Run(const json::Value& resource, const std::function<void(const Row&)>& emit);

 private:
  Status Process(const CompiledSelect& s, const fhirpath::Item& node, int64_t row_index,
                 std::vector<Row>* out);
  // A view whose selects all have columns only (no forEach, forEachOrNull, repeat, nested select
  // or unionAll) gives one row per resource: its columns are evaluated straight into row_.
  Status RunFlat(const fhirpath::Item& root);
  Result<fhirpath::Collection> Evaluate(const fhirpath::Expression& e, const fhirpath::Item& node,
                                        int64_t row_index);
  // Evaluates into *out (cleared first), keeping its capacity.
  Status EvaluateInto(const fhirpath::Expression& e, const fhirpath::Item& node, int64_t row_index,
                      fhirpath::Collection* out);
  Status Repeat(const CompiledSelect& s, const fhirpath::Item& node, int depth,
                fhirpath::Collection* out);

  const View& view_;
  size_t width_;
  fhirpath::Environment env_;
  fhirpath::Collection* row_index_;  // env_'s %rowIndex
  const json::Value* resource_ = nullptr;
  bool flat_;                   // RunFlat applies
  Row row_;                     // RunFlat's row, its cells' capacity kept across resources
  fhirpath::Collection where_;  // a where path's value, its capacity kept
  fhirpath::Item root_;         // the item of the first resource run (its type and structure)
  bool root_type_known_ = false;
};

}  // namespace vesta::views
