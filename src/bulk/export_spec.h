// What a FHIR Bulk Data export asks for (https://hl7.org/fhir/uv/bulkdata/STU2/export.html):
// its level, the resource types, the filters and the narrowing a caller's token imposes, parsed
// from the kick-off's parameters once, and shared by `$export` (rest/bulk_export.cc) and
// `vesta export` (cli/export_command.cc).
//
//   Result<ExportSpec> spec = ParseExportParams(ExportLevel::kSystem, "", params, model, options);
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "fhir/model/model.h"

namespace vesta::bulk {

using QueryList = std::vector<std::pair<std::string, std::string>>;

// https://hl7.org/fhir/uv/bulkdata/STU2/export.html#endpoint---system-level-export and the two
// that follow it.
enum class ExportLevel {
  kSystem,   // [base]/$export: every type
  kPatient,  // [base]/Patient/$export: the Patient compartment of every patient
  kGroup,    // [base]/Group/[id]/$export: the Patient compartment of the group's members
};

// How a caller's token narrows the searches of one type (rest/access.h, NarrowSearch): the
// compartment of one patient and search parameters added to every search of the type.
struct TypeAccess {
  std::string compartment_patient;  // "" for any
  QueryList params;                 // e.g. category=laboratory, or _id=[the patient] for Patient
};

struct ExportSpec {
  ExportLevel level = ExportLevel::kSystem;
  std::string group_id;            // kGroup
  std::vector<std::string> types;  // in the order they are exported; never empty
  // _typeFilter: per type, searches whose union is exported (empty: the whole type).
  std::map<std::string, std::vector<QueryList>> type_filters;
  std::optional<Micros> since;               // _since: resources changed after this instant
  std::vector<std::string> elements;         // _elements: top-level element names ("" type prefix)
  std::vector<std::string> patients;         // patient (POST): only these patients' compartments
  std::map<std::string, TypeAccess> access;  // per type; absent: no narrowing
  // Parameters ignored under `Prefer: handling=lenient`, reported in the error file.
  std::vector<std::string> ignored;
};

struct ParseOptions {
  bool lenient = false;  // Prefer: handling=lenient (unsupported parameters are ignored)
};

// The types of the Patient compartment
// (https://hl7.org/fhir/R4/compartmentdefinition-patient.html), Patient first: what a patient- or
// group-level export covers.
std::vector<std::string> PatientCompartmentTypes(const fhir::Model& model);

// Parses the kick-off's parameters (query pairs of a GET, or the pairs of a POSTed Parameters
// resource: `patient` as "Patient/[id]"). kInvalid, naming the parameter, for an unknown type in
// `_type`, a `_typeFilter` that is not `[type]?[query]` (or names a type `_type` leaves out), a
// `_since` that is not a FHIR instant, an `_outputFormat` other than NDJSON, and, unless
// `options.lenient`, any parameter this server does not support (`includeAssociatedData` among
// them). The types default to every resource type (system level) or the Patient compartment's.
Result<ExportSpec> ParseExportParams(ExportLevel level, std::string group_id,
                                     const QueryList& params, const fhir::Model& model,
                                     const ParseOptions& options);

// Whether `text` is a FHIR instant (https://hl7.org/fhir/R4/datatypes.html#instant:
// YYYY-MM-DDThh:mm:ss(.sss)?(Z|+hh:mm|-hh:mm)), and its time.
Result<Micros> ParseInstant(std::string_view text);

}  // namespace vesta::bulk
