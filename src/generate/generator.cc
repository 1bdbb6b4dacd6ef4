// The public API of the generator and the shared resources (Organizations, Locations,
// Practitioners). What goes into one patient is in patient_builder.h and the files it names.
#include "generate/generator.h"

#include <algorithm>
#include <string>

#include "base/strings.h"
#include "generate/datatypes.h"
#include "generate/patient_builder.h"
#include "generate/rng.h"
#include "generate/tables.h"

namespace vesta::generate {

using internal::Address;
using internal::Concept;
using internal::ConceptList;
using internal::kSharedStream;
using internal::NpiIdentifier;
using internal::PatientBuilder;
using internal::Phone;
using internal::Pick;
using internal::Reference;
using internal::Telecom;

namespace {

constexpr std::string_view kTypeNames[kResourceTypeCount] = {
    "Organization",       "Location",          "Practitioner", "Patient",
    "AllergyIntolerance", "Encounter",         "Condition",    "Observation",
    "Procedure",          "MedicationRequest", "Immunization"};

}  // namespace

std::string_view TypeName(ResourceType type) { return kTypeNames[static_cast<int>(type)]; }

Status Validate(const GenerateOptions& options) {
  if (options.patients < 0) return Invalid("--patients must be zero or more");
  if (options.years < 1 || options.years > 30) return Invalid("--years must be 1 to 30");
  if (options.end_date < DaysFromCivil(1990, 1, 1) ||
      options.end_date > DaysFromCivil(2100, 1, 1)) {
    return Invalid("the end date must lie between 1990 and 2100");
  }
  return Status::Ok();
}

JsonOut ResourceBatch::Start(ResourceType type, const ResourceId& id) {
  entries_.push_back({type, id, text_.size(), 0});
  JsonOut j(&text_);
  j.Begin().Field("resourceType", TypeName(type)).Field("id", id.view());
  return j;
}

void ResourceBatch::Finish(JsonOut& j) {
  j.End();
  entries_.back().end = text_.size();
}

Generator::Generator(const GenerateOptions& options) : options_(options) {
  // About one organization per thousand patients, at least three.
  organizations_ = static_cast<int>(std::clamp<int64_t>(options.patients / 1000, 3, 2000));
}

ResourceId Generator::SharedId(ResourceType type, int64_t index) const {
  Rng rng(Rng::Mix(options_.seed, kSharedStream,
                   static_cast<uint64_t>(type) * (1ULL << 40) + static_cast<uint64_t>(index)));
  ResourceId id;
  rng.Uuid(id.text.data());
  return id;
}

void Generator::GenerateShared(ResourceBatch* out) const {
  const auto cities = Cities();
  Rng rng(Rng::Mix(options_.seed, kSharedStream, ~0ULL));
  for (int o = 0; o < organizations_; ++o) {
    const City& city = cities[static_cast<size_t>(o) % cities.size()];
    const bool hospital = o < static_cast<int>(cities.size()) || rng.Chance(0.3);
    std::string name = std::string(city.name);
    if (o >= static_cast<int>(cities.size())) {
      name += " " + std::string(Pick(Streets(), rng));
    }
    name += hospital ? " General Hospital" : " Community Health Center";
    if (o >= static_cast<int>(cities.size())) name += " " + std::to_string(o);
    {
      JsonOut j = out->Start(ResourceType::kOrganization, SharedId(ResourceType::kOrganization, o));
      NpiIdentifier(j, 190000000 + o);
      j.Key("active").Bool(true);
      ConceptList(j, "type", "http://terminology.hl7.org/CodeSystem/organization-type", "prov",
                  "Healthcare Provider");
      j.Field("name", name);
      Telecom(j, "phone", Phone(city, rng), "work");
      j.Array("address").Begin().Field("use", "work");
      Address(j, city, rng);
      j.End().EndArray();
      out->Finish(j);
    }
    {
      JsonOut j = out->Start(ResourceType::kLocation, SharedId(ResourceType::kLocation, o));
      j.Field("status", "active").Field("name", name + " Main Campus").Field("mode", "instance");
      ConceptList(j, "type", "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                  hospital ? "HOSP" : "OF", hospital ? "Hospital" : "Outpatient facility");
      Telecom(j, "phone", Phone(city, rng), "work");
      j.Object("address").Field("use", "work");
      Address(j, city, rng);
      j.End();
      Reference(j, "managingOrganization", "Organization",
                SharedId(ResourceType::kOrganization, o));
      out->Finish(j);
    }
    for (int k = 0; k < kPractitionersPerOrganization; ++k) {
      const int p = o * kPractitionersPerOrganization + k;
      const bool female = rng.Chance(0.5);
      const std::string_view given = Pick(female ? FemaleNames() : MaleNames(), rng);
      const std::string_view family = Pick(FamilyNames(), rng);
      JsonOut j = out->Start(ResourceType::kPractitioner, SharedId(ResourceType::kPractitioner, p));
      NpiIdentifier(j, 110000000 + p);
      j.Key("active").Bool(true);
      j.Array("name").Begin().Field("use", "official").Field("family", family);
      j.Array("given").Str(given).EndArray().Array("prefix").Str("Dr.").EndArray().End().EndArray();
      std::string email = Lower(std::string(given) + "." + std::string(family) + std::to_string(p) +
                                "@example.org");
      Telecom(j, "email", email, "work");
      j.Array("address").Begin().Field("use", "work");
      Address(j, city, rng);
      j.End().EndArray();
      j.Field("gender", female ? "female" : "male");
      j.Array("qualification").Begin();
      Concept(j, "code", "http://terminology.hl7.org/CodeSystem/v2-0360", "MD",
              "Doctor of Medicine", "MD");
      j.End().EndArray();
      out->Finish(j);
    }
  }
}

void Generator::GeneratePatient(int64_t index, ResourceBatch* out) const {
  PatientBuilder builder(*this, options_, index, out);
  builder.Build();
}

}  // namespace vesta::generate
