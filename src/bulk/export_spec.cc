#include "bulk/export_spec.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "base/strings.h"
#include "fhir/datetime.h"
#include "search/registry.h"

namespace vesta::bulk {
namespace {

bool Digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// _typeFilter values are comma-separated (export.html#query-parameters: "a string of
// comma-delimited FHIR REST search queries"), and a query may itself hold commas (OR values:
// `code=a,b`): a comma starts a new query only when a resource type and '?' follow it.
std::vector<std::string> SplitTypeFilters(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= value.size(); ++i) {
    bool boundary = i == value.size();
    if (!boundary && value[i] == ',') {
      size_t j = i + 1;
      if (j < value.size() && std::isupper(static_cast<unsigned char>(value[j]))) {
        while (j < value.size() && std::isalpha(static_cast<unsigned char>(value[j]))) ++j;
        boundary = j < value.size() && value[j] == '?';
      }
    }
    if (boundary) {
      if (i > start) out.push_back(value.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// The media types an export may be asked for (export.html#query-parameters, _outputFormat:
// "Servers SHALL support Newline Delimited JSON ... and SHALL accept application/fhir+ndjson,
// application/ndjson and ndjson").
bool IsNdjson(std::string_view format) {
  return format == "application/fhir+ndjson" || format == "application/ndjson" ||
         format == "ndjson";
}

}  // namespace

Result<Micros> ParseInstant(std::string_view text) {
  // YYYY-MM-DDThh:mm:ss, then optional .fraction, then Z or +hh:mm / -hh:mm.
  bool shape = text.size() >= 20 && Digits(text, 0, 4) && text[4] == '-' && Digits(text, 5, 2) &&
               text[7] == '-' && Digits(text, 8, 2) && text[10] == 'T' && Digits(text, 11, 2) &&
               text[13] == ':' && Digits(text, 14, 2) && text[16] == ':' && Digits(text, 17, 2);
  size_t i = 19;
  if (shape && i < text.size() && text[i] == '.') {
    ++i;
    const size_t digits = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    shape = i > digits;
  }
  if (shape) {
    const std::string_view zone = text.substr(std::min(i, text.size()));
    shape = zone == "Z" || (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
                            Digits(zone, 1, 2) && zone[3] == ':' && Digits(zone, 4, 2));
  }
  if (!shape) {
    return Invalid("'" + std::string(text) +
                   "' is not a FHIR instant (YYYY-MM-DDThh:mm:ss[.sss] with Z or an offset, "
                   "e.g. 2024-01-31T12:00:00Z)");
  }
  Result<fhir::TimeRange> range = fhir::ParseTimeRange(text);
  if (!range.ok()) return Invalid("'" + std::string(text) + "': " + range.status().message());
  return range->low;
}

std::vector<std::string> PatientCompartmentTypes(const fhir::Model& model) {
  std::vector<std::string> types = {"Patient"};
  const search::Registry& registry = search::Registry::Active();
  for (const std::string& t : model.resource_types()) {
    if (t != "Patient" && !registry.PatientCompartmentParams(t).empty()) types.push_back(t);
  }
  return types;
}

Result<ExportSpec> ParseExportParams(ExportLevel level, std::string group_id,
                                     const QueryList& params, const fhir::Model& model,
                                     const ParseOptions& options) {
  ExportSpec spec;
  spec.level = level;
  spec.group_id = std::move(group_id);
  std::vector<std::string> asked_types;
  std::vector<std::string> filters;
  for (const auto& [name, value] : params) {
    if (name == "_outputFormat") {
      if (!IsNdjson(value)) {
        return Invalid("_outputFormat: '" + value +
                       "' is not supported; this server writes application/fhir+ndjson (also "
                       "accepted as application/ndjson and ndjson)");
      }
    } else if (name == "_since") {
      Result<Micros> since = ParseInstant(value);
      if (!since.ok()) return Invalid("_since: " + since.status().message());
      spec.since = *since;
    } else if (name == "_type") {
      for (std::string_view piece : Split(value, ',')) {
        std::string t(Trim(piece, " "));
        if (t.empty()) continue;
        if (!model.IsResourceType(t)) return Invalid("_type: '" + t + "' is not a resource type");
        if (std::find(asked_types.begin(), asked_types.end(), t) == asked_types.end()) {
          asked_types.push_back(t);
        }
      }
    } else if (name == "_typeFilter") {
      for (std::string& f : SplitTypeFilters(value)) filters.push_back(std::move(f));
    } else if (name == "_elements") {
      for (std::string_view piece : Split(value, ',')) {
        std::string e(Trim(piece, " "));
        if (e.empty()) continue;
        // "[type].[element]" applies to one type (export.html: _elements); this server applies
        // the element to every type, which keeps more, never less.
        const size_t dot = e.find('.');
        if (dot != std::string::npos) e = e.substr(dot + 1);
        spec.elements.push_back(e);
      }
    } else if (name == "patient") {
      if (level == ExportLevel::kSystem) {
        return Invalid(
            "patient: only a patient- or group-level export takes the patient parameter");
      }
      std::string id = value.starts_with("Patient/") ? value.substr(8) : "";
      if (id.empty() || id.find('/') != std::string::npos) {
        return Invalid("patient: '" + value + "' is not a reference to a Patient (Patient/[id])");
      }
      spec.patients.push_back(id);
    } else if (name == "_format" || name == "_pretty") {
      // Formatting parameters of the kick-off's own response; nothing to export.
    } else if (options.lenient) {
      // export.html#query-parameters: with `Prefer: handling=lenient` a server may process the
      // request without a parameter it does not support.
      spec.ignored.push_back(name);
    } else if (name == "includeAssociatedData") {
      return Invalid(
          "includeAssociatedData is not supported by this server (send "
          "Prefer: handling=lenient to export without it)");
    } else {
      return Invalid("'" + name +
                     "' is not a parameter of $export on this server; supported: _outputFormat, "
                     "_since, _type, _typeFilter, _elements, patient (send "
                     "Prefer: handling=lenient to ignore unsupported parameters)");
    }
  }
  const std::vector<std::string> level_types =
      level == ExportLevel::kSystem ? model.resource_types() : PatientCompartmentTypes(model);
  if (asked_types.empty()) {
    spec.types = level_types;
  } else {
    for (const std::string& t : asked_types) {
      if (std::find(level_types.begin(), level_types.end(), t) == level_types.end()) {
        return Invalid("_type: " + t +
                       " is not in the Patient compartment, which a patient- or group-level "
                       "export covers");
      }
    }
    spec.types = asked_types;
  }
  for (const std::string& f : filters) {
    const size_t q = f.find('?');
    const std::string type = f.substr(0, q);
    if (q == std::string::npos || !model.IsResourceType(type)) {
      return Invalid("_typeFilter: '" + f + "' is not [type]?[search parameters]");
    }
    if (std::find(spec.types.begin(), spec.types.end(), type) == spec.types.end()) {
      return Invalid("_typeFilter: " + type + " is not among the exported types");
    }
    std::optional<QueryList> pairs = ParseFormPairs(std::string_view(f).substr(q + 1));
    if (!pairs || pairs->empty()) {
      return Invalid("_typeFilter: '" + f + "' has no search parameters, or a bad %-escape");
    }
    for (const auto& [k, v] : *pairs) {
      if (k.starts_with("_") && k != "_id" && k != "_lastUpdated" && k != "_tag" &&
          k != "_profile" && k != "_security" && k != "_has" && !k.starts_with("_has:")) {
        return Invalid("_typeFilter: '" + k + "' in '" + f +
                       "' is not a search parameter that selects resources");
      }
    }
    spec.type_filters[type].push_back(std::move(*pairs));
  }
  return spec;
}

}  // namespace vesta::bulk
