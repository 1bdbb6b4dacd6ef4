// Runs an export (export_spec.h) against a store and writes its NDJSON files: one resource per
// line, each exactly as stored (or reduced to `_elements`), one file per type (split every
// `max_per_file` resources), and an OperationOutcome file for what could not be exported
// (https://hl7.org/fhir/uv/bulkdata/STU2/export.html#response---complete-status: "error").
//
// Memory is bounded by one page of resources (`page_size`) whatever the store holds; the store's
// searches are read page by page with their keyset cursor. Resources changed after
// `transaction_time` are left out (export.html, transactionTime: "the server SHOULD NOT return
// resources ... modified after this instant"); the next export's `_since` picks them up.
//
//   RunOptions o{.out_dir = dir, .transaction_time = clock.Now()};
//   Result<ExportResult> r = RunExport(store, spec, o);
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "bulk/export_spec.h"
#include "store/store.h"

namespace vesta::bulk {

struct ExportFile {
  std::string type;  // the resource type in the file ("OperationOutcome" for the error file)
  std::string name;  // the file name in out_dir: "Observation.ndjson", "Observation.2.ndjson"
  int64_t count = 0;
};

struct ExportResult {
  std::vector<ExportFile> output;  // in export order; a type with no resource has no file
  std::vector<ExportFile> errors;  // the OperationOutcome file, when anything went wrong
  // With _since, at system level: Bundles with a DELETE entry per resource deleted since
  // ([type].deleted.ndjson; ExportFile::type is "Bundle").
  std::vector<ExportFile> deleted;
};

struct RunOptions {
  std::string out_dir;  // must exist; files are created in it
  Micros transaction_time = 0;
  int page_size = 1000;
  int64_t max_per_file = 100000;
  // Checked between pages: when it becomes true, RunExport stops with kUnavailable.
  const std::atomic<bool>* cancel = nullptr;
  // Resources written so far (for status polling); updated after each page.
  std::atomic<int64_t>* progress = nullptr;
  // `_elements`: the stored bytes reduced for the file (the REST layer's rendering); null for
  // the stored bytes unchanged.
  std::function<Result<std::string>(std::string_view stored)> reduce;
};

// Writes the export. Errors about single resources or members (a Group member that is not a
// Patient, a patient that does not exist) go to the error file and the export goes on; an
// error of the store or the file system stops it (the caller discards the directory).
Result<ExportResult> RunExport(store::Store& store, const ExportSpec& spec,
                               const RunOptions& options);

}  // namespace vesta::bulk
