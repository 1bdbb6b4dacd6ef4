// FHIR data types written with JsonOut; see datatypes.h.
#include "generate/datatypes.h"

#include <cstdio>
#include <string>

#include "generate/tables.h"

namespace vesta::generate::internal {

void Reference(JsonOut& j, std::string_view key, std::string_view type, const ResourceId& id) {
  j.Object(key).Field("reference", Ref(type, id).view()).End();
}

void ReferenceList(JsonOut& j, std::string_view key, std::string_view type, const ResourceId& id) {
  j.Array(key).Begin().Field("reference", Ref(type, id).view()).End().EndArray();
}

void Coding(JsonOut& j, std::string_view system, std::string_view code, std::string_view display) {
  j.Begin().Field("system", system).Field("code", code);
  if (!display.empty()) j.Field("display", display);
  j.End();
}

void Concept(JsonOut& j, std::string_view key, std::string_view system, std::string_view code,
             std::string_view display, std::string_view text) {
  j.Object(key).Array("coding");
  Coding(j, system, code, display);
  j.EndArray();
  if (!text.empty()) j.Field("text", text);
  j.End();
}

void ConceptList(JsonOut& j, std::string_view key, std::string_view system, std::string_view code,
                 std::string_view display) {
  j.Array(key).Begin().Array("coding");
  Coding(j, system, code, display);
  j.EndArray().End().EndArray();
}

void DiagnosisConcept(JsonOut& j, std::string_view key, const Diagnosis& dx) {
  j.Object(key).Array("coding");
  Coding(j, kIcd10Cm, dx.icd10, dx.icd10_display);
  if (!dx.snomed.empty()) Coding(j, kSnomed, dx.snomed, dx.snomed_display);
  j.EndArray().Field("text", dx.snomed.empty() ? dx.icd10_display : dx.snomed_display);
  j.End();
}

void Quantity(JsonOut& j, std::string_view key, double value, int places, std::string_view unit) {
  j.Object(key)
      .Key("value")
      .Dec(value, places)
      .Field("unit", unit)
      .Field("system", kUcum)
      .Field("code", unit)
      .End();
}

// The NPI check digit: Luhn over "80840" followed by the nine digits
// (https://www.cms.gov/Regulations-and-Guidance/Administrative-Simplification/NationalProvIdentStand).
std::string Npi(int64_t nine_digits) {
  std::string digits = "80840" + std::to_string(nine_digits);
  int sum = 0;
  bool twice = true;  // the check digit will be appended on the right
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return std::to_string(nine_digits) + static_cast<char>('0' + (10 - sum % 10) % 10);
}

void NpiIdentifier(JsonOut& j, int64_t nine_digits) {
  j.Array("identifier").Begin().Field("system", kNpi).Field("value", Npi(nine_digits)).End();
  j.EndArray();
}

void Telecom(JsonOut& j, std::string_view system, std::string_view value, std::string_view use) {
  j.Array("telecom").Begin().Field("system", system).Field("value", value).Field("use", use).End();
  j.EndArray();
}

std::string Phone(const City& city, Rng& rng) {
  char buf[24];
  // 555-0100 through 555-0199 are reserved for fiction.
  std::snprintf(buf, sizeof buf, "(%.*s) 555-01%02d", static_cast<int>(city.area_code.size()),
                city.area_code.data(), static_cast<int>(rng.Below(100)));
  return buf;
}

void Address(JsonOut& j, const City& city, Rng& rng) {
  const auto streets = Streets();
  const auto suffixes = StreetSuffixes();
  // One draw per statement: the order in which operands of + are evaluated is unspecified, and
  // the output must not depend on the compiler.
  const int number = rng.Range(1, 9999);
  const std::string_view street = streets[rng.Below(streets.size())];
  const std::string_view suffix = suffixes[rng.Below(suffixes.size())];
  std::string line = std::to_string(number) + " " + std::string(street) + " " + std::string(suffix);
  char zip[8];
  std::snprintf(zip, sizeof zip, "%.*s%02d", static_cast<int>(city.zip3.size()), city.zip3.data(),
                static_cast<int>(rng.Below(100)));
  j.Array("line")
      .Str(line)
      .EndArray()
      .Field("city", city.name)
      .Field("state", city.state)
      .Field("postalCode", zip)
      .Field("country", "US");
}

std::string_view Pick(std::span<const std::string_view> names, Rng& rng) {
  return names[rng.Below(names.size())];
}

}  // namespace vesta::generate::internal
