// MedicationRequests: the long-term drugs of chronic conditions and the acute prescriptions.
#include "generate/datatypes.h"
#include "generate/patient_builder.h"
#include "generate/tables.h"

namespace vesta::generate::internal {

void PatientBuilder::WriteMedication(const Drug& drug, const ResourceId& enc, Time t,
                                     const ResourceId* reason, std::string_view category,
                                     bool ongoing) {
  JsonOut j = Start(ResourceType::kMedicationRequest, NewId());
  j.Field("status", ongoing ? (deceased_ ? "stopped" : "active") : "completed");
  j.Field("intent", "order");
  ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
              category,
              category == "community" ? "Community"
                                      : (category == "discharge" ? "Discharge" : "Outpatient"));
  Concept(j, "medicationCodeableConcept", kRxNorm, drug.rxnorm, drug.display, drug.display);
  Subject(j);
  Reference(j, "encounter", "Encounter", enc);
  j.Field("authoredOn", Dt(t));
  Reference(j, "requester", "Practitioner",
            gen_.SharedId(ResourceType::kPractitioner, encounter_practitioner_));
  if (reason != nullptr) ReferenceList(j, "reasonReference", "Condition", *reason);
  j.Array("dosageInstruction").Begin().Key("sequence").Int(1).Field("text", drug.dose_text);
  if (drug.per_day > 0) {
    j.Object("timing")
        .Object("repeat")
        .Key("frequency")
        .Int(drug.per_day)
        .Key("period")
        .Int(1)
        .Field("periodUnit", "d")
        .End()
        .End();
  } else {
    j.Key("asNeededBoolean").Bool(true);
  }
  j.End().EndArray();
  out_->Finish(j);
}

void PatientBuilder::WriteChronicMedications(const ResourceId& enc, Time t, Days day) {
  for (int c = 0; c < kChronicCount; ++c) {
    ChronicCase& cc = cases_[c];
    if (!cc.present || !cc.coded || cc.meds_written || cc.drugs[0] < 0 || cc.onset > day) continue;
    cc.meds_written = true;
    const ChronicDef& def = ChronicTable(static_cast<Chronic>(c));
    for (int d : cc.drugs) {
      if (d >= 0) {
        WriteMedication(def.drugs[static_cast<size_t>(d)], enc, t, &cc.condition_id, "community",
                        true);
      }
    }
  }
}

}  // namespace vesta::generate::internal
