// The terminology database schema (docs/terminology.md describes it) and the names that the
// loaders and the service share. Internal to src/terminology/.
#pragma once

#include <string_view>

#include "base/status.h"

namespace vesta::sqlite {
class Connection;
}

namespace vesta::terminology::internal {

inline constexpr std::string_view kIcd10CmUrl = "http://hl7.org/fhir/sid/icd-10-cm";
inline constexpr std::string_view kIcd9CmUrl = "http://hl7.org/fhir/sid/icd-9-cm";

// Creates the tables when absent (the file may be new or from an earlier run).
Status EnsureSchema(sqlite::Connection& db);

}  // namespace vesta::terminology::internal
