// Writing a generated population to files, patient by patient.
//
// kNdjson: one file per resource type, `<Type>.ndjson`, one resource per line, as FHIR Bulk Data
// export writes them (https://hl7.org/fhir/uv/bulkdata/export.html#file-format). Shared resources
// come first in their files.
//
// kBundles: one transaction Bundle per patient, `patient-<7 digits>.json`, whose entries are
// `PUT <Type>/<id>` so that loading the same files twice leaves the server unchanged
// (https://hl7.org/fhir/R4/http.html#transaction), plus `00-shared.json`, the transaction with
// every Organization, Location and Practitioner, which must be loaded first (the patients refer
// to them). File names sort in load order.
//
// Memory stays constant in the number of patients: one thread holds one patient's resources at a
// time; with more threads, each holds at most 2 x 16 patients' (one round being written while
// the next is generated). Output is the same for any thread count.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "generate/generator.h"

namespace vesta::generate {

enum class OutputFormat { kNdjson, kBundles };

struct WriteStats {
  int64_t patients = 0;
  int64_t resources = 0;
  int64_t bytes = 0;
  std::array<int64_t, kResourceTypeCount> by_type{};
};

// Generates `options.patients` patients into directory `dir` (created if absent; files of the
// same names are replaced). `threads` >= 1 generate in parallel; with more than one, a further
// thread writes, overlapping the generation of the next patients.
Result<WriteStats> WritePopulation(const GenerateOptions& options, OutputFormat format,
                                   const std::string& dir, int threads);

// The transaction Bundle for the resources of `batch` (compact JSON, no trailing newline).
void AppendTransactionBundle(const ResourceBatch& batch, std::string* out);

}  // namespace vesta::generate
