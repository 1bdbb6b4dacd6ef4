// The Patient resource and the patient's AllergyIntolerances.
#include <algorithm>
#include <cstdio>
#include <string>

#include "generate/datatypes.h"
#include "generate/patient_builder.h"
#include "generate/tables.h"

namespace vesta::generate::internal {

void PatientBuilder::WritePatient() {
  JsonOut j = Start(ResourceType::kPatient, patient_id_);
  const std::string_view given = Pick(female_ ? FemaleNames() : MaleNames(), rng_);
  const std::string_view middle = Pick(female_ ? FemaleNames() : MaleNames(), rng_);
  const std::string_view family = Pick(FamilyNames(), rng_);
  char mrn[32];
  std::snprintf(mrn, sizeof mrn, "M%09lld", static_cast<long long>(index_ + 1));
  j.Array("identifier").Begin().Field("use", "usual");
  j.Object("type").Array("coding");
  Coding(j, "http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number");
  j.EndArray().Field("text", "Medical Record Number").End();
  j.Field("system", kMrnSystem).Field("value", mrn).End().EndArray();
  j.Key("active").Bool(true);
  j.Array("name").Begin().Field("use", "official").Field("family", family);
  j.Array("given").Str(given);
  if (rng_.Chance(0.6) && middle != given) j.Str(middle);
  j.EndArray();
  if (age_ >= 18) j.Array("prefix").Str(female_ ? "Ms." : "Mr.").EndArray();
  j.End().EndArray();
  const std::string phone = Phone(*city_, rng_);
  const bool mobile = rng_.Chance(0.7);
  Telecom(j, "phone", phone, mobile ? "mobile" : "home");
  j.Field("gender", female_ ? "female" : "male").Field("birthDate", FormatDate(birth_));
  if (deceased_) j.Field("deceasedDateTime", Dt(RandomTimeOn(death_, 0, 23)));
  j.Array("address").Begin().Field("use", "home").Field("type", "physical");
  Address(j, *city_, rng_);
  j.End().EndArray();
  if (age_ >= 18) {
    static constexpr std::string_view kCodes[] = {"S", "M", "D", "W"};
    static constexpr std::string_view kDisplays[] = {"Never Married", "Married", "Divorced",
                                                     "Widowed"};
    double w[] = {age_ < 30 ? 6.0 : 2.0, 5.0, 1.5, age_ >= 70 ? 3.0 : 0.3};
    const size_t m = rng_.Weighted(w);
    Concept(j, "maritalStatus", "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", kCodes[m],
            kDisplays[m], kDisplays[m]);
  }
  const bool spanish = rng_.Chance(0.12);
  j.Array("communication").Begin();
  Concept(j, "language", "urn:ietf:bcp:47", spanish ? "es" : "en", spanish ? "Spanish" : "English",
          spanish ? "Spanish" : "English");
  j.Key("preferred").Bool(true).End().EndArray();
  j.Array("generalPractitioner")
      .Begin()
      .Field("reference",
             Ref("Practitioner", gen_.SharedId(ResourceType::kPractitioner, practitioner_)).view())
      .End()
      .EndArray();
  Reference(j, "managingOrganization", "Organization",
            gen_.SharedId(ResourceType::kOrganization, org_));
  out_->Finish(j);
}

void PatientBuilder::WriteAllergies() {
  const Days recorded = std::min(window_end_, window_start_ + static_cast<Days>(rng_.Below(200)));
  for (const AllergyDef& a : AllergyTable()) {
    if (!rng_.Chance(a.prevalence)) continue;
    const ResourceId id = NewId();
    JsonOut j = Start(ResourceType::kAllergyIntolerance, id);
    Concept(j, "clinicalStatus",
            "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active",
            "Active");
    Concept(j, "verificationStatus",
            "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed",
            "Confirmed");
    j.Field("type", "allergy").Array("category").Str(a.category).EndArray();
    const bool severe = a.reaction == "39579001";
    j.Field("criticality", severe ? "high" : "low");
    Concept(j, "code", a.system, a.code, a.display, a.display);
    Reference(j, "patient", "Patient", patient_id_);
    j.Field("recordedDate", Dt(RandomTimeOn(recorded, 8, 16)));
    j.Array("reaction").Begin().Array("manifestation").Begin().Array("coding");
    Coding(j, kSnomed, a.reaction, a.reaction_display);
    j.EndArray().End().EndArray().Field("severity", severe ? "severe" : "mild").End().EndArray();
    out_->Finish(j);
  }
}

}  // namespace vesta::generate::internal
