// Conditions: the long-term ones (problem-list items) and the acute ones (encounter diagnoses).
#include <algorithm>

#include "generate/datatypes.h"
#include "generate/patient_builder.h"
#include "generate/tables.h"

namespace vesta::generate::internal {

void PatientBuilder::WriteCondition(const ChronicCase& cc, const Diagnosis& dx,
                                    const ResourceId* encounter) {
  JsonOut j = Start(ResourceType::kCondition, cc.condition_id);
  Concept(j, "clinicalStatus", "http://terminology.hl7.org/CodeSystem/condition-clinical", "active",
          "Active");
  Concept(j, "verificationStatus", "http://terminology.hl7.org/CodeSystem/condition-ver-status",
          "confirmed", "Confirmed");
  ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/condition-category",
              "problem-list-item", "Problem List Item");
  // With legacy_icd9, a diagnosis made before the ICD-10-CM transition keeps the ICD-9-CM code
  // it was recorded with (and its SNOMED CT coding), as records migrated from an older system do.
  const LegacyIcd9* legacy =
      options_.legacy_icd9 && cc.onset < kIcd10TransitionDay ? Icd9For(dx.icd10) : nullptr;
  if (legacy != nullptr) {
    j.Object("code").Array("coding");
    Coding(j, kIcd9Cm, legacy->icd9, legacy->icd9_display);
    if (!dx.snomed.empty()) Coding(j, kSnomed, dx.snomed, dx.snomed_display);
    j.EndArray().Field("text", dx.snomed.empty() ? legacy->icd9_display : dx.snomed_display);
    j.End();
  } else {
    DiagnosisConcept(j, "code", dx);
  }
  Subject(j);
  if (encounter != nullptr) Reference(j, "encounter", "Encounter", *encounter);
  j.Field("onsetDateTime", Dt(cc.onset * kDay + 9 * 3600));
  j.Field("recordedDate", Dt(std::max(cc.onset, window_start_) * kDay + 9 * 3600));
  Reference(j, "recorder", "Practitioner",
            gen_.SharedId(ResourceType::kPractitioner, practitioner_));
  out_->Finish(j);
}

ResourceId PatientBuilder::WriteAcuteCondition(const AcuteDef& def, const ResourceId& enc,
                                               Time start) {
  const ResourceId id = NewId();
  const Days day = start / kDay;
  const Days resolved = day + def.days / 2 + static_cast<Days>(rng_.Below(def.days + 1));
  const bool abated = resolved < window_end_;
  JsonOut j = Start(ResourceType::kCondition, id);
  Concept(j, "clinicalStatus", "http://terminology.hl7.org/CodeSystem/condition-clinical",
          abated ? "resolved" : "active", abated ? "Resolved" : "Active");
  Concept(j, "verificationStatus", "http://terminology.hl7.org/CodeSystem/condition-ver-status",
          "confirmed", "Confirmed");
  ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/condition-category",
              "encounter-diagnosis", "Encounter Diagnosis");
  DiagnosisConcept(j, "code", def.dx);
  Subject(j);
  Reference(j, "encounter", "Encounter", enc);
  j.Field("onsetDateTime", Dt(start - 3600 * static_cast<Time>(rng_.Below(48))));
  if (abated) j.Field("abatementDateTime", Dt(resolved * kDay + 12 * 3600));
  j.Field("recordedDate", Dt(start));
  out_->Finish(j);
  return id;
}

}  // namespace vesta::generate::internal
