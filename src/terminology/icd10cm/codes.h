// Code spellings. The release files write codes without the decimal point ("E119", "4280");
// FHIR uses the classification's own form ("E11.9", "428.0"; https://hl7.org/fhir/R4/icd.html).
#pragma once

#include <string>
#include <string_view>

#include "base/strings.h"  // Trim, for the loaders that read these files

namespace vesta::terminology {

// "E119" -> "E11.9"; codes of 3 characters or fewer, and anything but letters and digits
// ("E11.9", "E08-E13"), are returned unchanged.
std::string Icd10CmDotted(std::string_view code);
// "E11.9" -> "E119".
std::string Undotted(std::string_view code);
// ICD-9-CM diagnosis codes: "4280" -> "428.0", "V0381" -> "V03.81", "E8558" -> "E855.8"
// (E codes have 4 characters before the point, the others 3).
std::string Icd9CmDotted(std::string_view code);

}  // namespace vesta::terminology
