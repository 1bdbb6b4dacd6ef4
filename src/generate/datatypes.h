// FHIR R4 data types as the generator writes them with JsonOut: references, codings,
// CodeableConcepts, Quantities, addresses, phone numbers and NPIs
// (https://hl7.org/fhir/R4/datatypes.html). Internal to vesta_generate.
//
// The functions that take an Rng draw from it in a fixed order, which is part of the output:
// changing it changes every generated population.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "generate/generator.h"
#include "generate/json_out.h"
#include "generate/rng.h"
#include "generate/tables.h"

namespace vesta::generate::internal {

// "Type/id" without a heap allocation.
class Ref {
 public:
  Ref(std::string_view type, const ResourceId& id) {
    std::memcpy(buf_, type.data(), type.size());
    buf_[type.size()] = '/';
    std::memcpy(buf_ + type.size() + 1, id.text.data(), id.text.size());
    size_ = type.size() + 1 + id.text.size();
  }
  std::string_view view() const { return {buf_, size_}; }

 private:
  char buf_[64];
  size_t size_;
};

// `key`: {"reference": "type/id"}.
void Reference(JsonOut& j, std::string_view key, std::string_view type, const ResourceId& id);
// `key`: [{"reference": "type/id"}], a list of one reference.
void ReferenceList(JsonOut& j, std::string_view key, std::string_view type, const ResourceId& id);

// One Coding as an array element; `display` is left out when empty.
void Coding(JsonOut& j, std::string_view system, std::string_view code, std::string_view display);

// A CodeableConcept with one coding.
void Concept(JsonOut& j, std::string_view key, std::string_view system, std::string_view code,
             std::string_view display, std::string_view text = {});

// A CodeableConcept array with one concept of one coding.
void ConceptList(JsonOut& j, std::string_view key, std::string_view system, std::string_view code,
                 std::string_view display);

// A CodeableConcept with the ICD-10-CM coding and, when the diagnosis has one, the SNOMED CT one.
void DiagnosisConcept(JsonOut& j, std::string_view key, const Diagnosis& dx);

// https://hl7.org/fhir/R4/datatypes.html#Quantity with a UCUM code, `places` decimals.
void Quantity(JsonOut& j, std::string_view key, double value, int places, std::string_view unit);

// The ten-digit NPI for nine digits, with its check digit.
std::string Npi(int64_t nine_digits);
// "identifier": a list of one Identifier, the NPI for nine digits.
void NpiIdentifier(JsonOut& j, int64_t nine_digits);

// "telecom": a list of one ContactPoint (https://hl7.org/fhir/R4/datatypes.html#ContactPoint).
void Telecom(JsonOut& j, std::string_view system, std::string_view value, std::string_view use);

// A fictional phone number in the city's area code.
std::string Phone(const City& city, Rng& rng);

// The members of an Address in `city` (line, city, state, postalCode, country), written into the
// object the caller has opened.
void Address(JsonOut& j, const City& city, Rng& rng);

std::string_view Pick(std::span<const std::string_view> names, Rng& rng);

}  // namespace vesta::generate::internal
