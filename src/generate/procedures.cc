// Procedures, and the screenings offered at check-ups (mammography, colonoscopy, smoking
// cessation education, with the smoking status and PHQ-9 they come with).
#include "generate/datatypes.h"
#include "generate/patient_builder.h"
#include "generate/tables.h"

namespace vesta::generate::internal {

void PatientBuilder::WriteProcedure(std::string_view code, std::string_view display,
                                    const ResourceId* enc, Time start, Time end,
                                    const ResourceId* reason) {
  JsonOut j = Start(ResourceType::kProcedure, NewId());
  j.Field("status", "completed");
  Concept(j, "code", kSnomed, code, display, display);
  Subject(j);
  if (enc != nullptr) Reference(j, "encounter", "Encounter", *enc);
  j.Object("performedPeriod").Field("start", Dt(start)).Field("end", Dt(end)).End();
  j.Array("performer").Begin();
  Reference(j, "actor", "Practitioner",
            gen_.SharedId(ResourceType::kPractitioner, encounter_practitioner_));
  j.End().EndArray();
  Reference(j, "location", "Location", gen_.SharedId(ResourceType::kLocation, org_));
  if (reason != nullptr) ReferenceList(j, "reasonReference", "Condition", *reason);
  out_->Finish(j);
}

void PatientBuilder::WriteScreenings(const ResourceId& enc, Time t, Days day) {
  const int age = AgeOn(day);
  // Breast cancer screening (USPSTF: women 50-74 every two years).
  if (female_ && age >= 50 && age <= 74 && day - last_mammogram_ > 700 && rng_.Chance(0.75)) {
    last_mammogram_ = day;
    WriteProcedure("24623002", "Screening mammography (procedure)", &enc, t + 1800, t + 3600,
                   nullptr);
  }
  // Colorectal cancer screening (45-75, colonoscopy every ten years).
  // (Done a week after the visit, so only when that week is still inside the history.)
  if (age >= 45 && age <= 75 && day - last_colonoscopy_ > 3650 && day + 8 < window_end_ &&
      rng_.Chance(0.12)) {
    last_colonoscopy_ = day;
    WriteProcedure("73761001", "Colonoscopy (procedure)", &enc, t + 7 * kDay, t + 7 * kDay + 3600,
                   nullptr);
  }
  if (age >= 13) WriteSmokingStatus(enc, t);
  if (smoking_ == Smoking::kCurrent && age >= 13 && rng_.Chance(0.5)) {
    const ChronicCase& cc = Case(Chronic::kSmoker);
    // Only a case that is present has a Condition (and an id): a current smoker whose case was
    // dropped (onset after death) has none to point at; nor has one whose diagnosis is still to
    // come (its Condition is written at the diagnosis, which may fall after the window).
    WriteProcedure("225323000", "Smoking cessation education (procedure)", &enc, t + 600, t + 1200,
                   cc.present && cc.coded && cc.onset <= day ? &cc.condition_id : nullptr);
  }
  if (age >= 12 && rng_.Chance(0.5)) WritePhq9(enc, t);
}

}  // namespace vesta::generate::internal
