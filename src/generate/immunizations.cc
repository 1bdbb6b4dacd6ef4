// Immunizations: the CDC schedule as far as the model follows it, given at visits.
#include "generate/datatypes.h"
#include "generate/patient_builder.h"
#include "generate/tables.h"

namespace vesta::generate::internal {

void PatientBuilder::WriteImmunization(const Vaccine& v, const ResourceId& enc, Time t) {
  JsonOut j = Start(ResourceType::kImmunization, NewId());
  j.Field("status", "completed");
  Concept(j, "vaccineCode", kCvx, v.cvx, v.display, v.display);
  Reference(j, "patient", "Patient", patient_id_);
  Reference(j, "encounter", "Encounter", enc);
  j.Field("occurrenceDateTime", Dt(t)).Field("recorded", Dt(t));
  j.Key("primarySource").Bool(true);
  Reference(j, "location", "Location", gen_.SharedId(ResourceType::kLocation, org_));
  out_->Finish(j);
}

void PatientBuilder::WriteVaccinesForVisit(const ResourceId& enc, Time t, Days day,
                                           bool well_child) {
  const VaccineSet& v = Vaccines();
  const double age = AgeYears(day);
  const CivilDate date = CivilFromDays(day);
  if (well_child && age < 2.6) {
    // The CDC schedule's infant series, given at the matching well-child visit.
    const int months = static_cast<int>(age * 12 + 0.5);
    if (months <= 1 || months == 6) WriteImmunization(v.hep_b_ped, enc, t);
    if (months == 2 || months == 4 || months == 6 || months == 15) {
      WriteImmunization(v.dtap, enc, t);
      WriteImmunization(v.hib, enc, t);
      WriteImmunization(v.pcv13, enc, t);
      if (months <= 6) WriteImmunization(v.ipv, enc, t);
    }
    if (months == 12) {
      WriteImmunization(v.mmr, enc, t);
      WriteImmunization(v.varicella, enc, t);
      WriteImmunization(v.hep_a_ped, enc, t);
    }
    if (months == 18) WriteImmunization(v.hep_a_ped, enc, t);
  }
  if (well_child && age >= 4 && age < 7 && !tdap_adolescent_) {
    tdap_adolescent_ = true;  // the 4-6 year boosters
    WriteImmunization(v.dtap, enc, t);
    WriteImmunization(v.ipv, enc, t);
    WriteImmunization(v.mmr, enc, t);
    WriteImmunization(v.varicella, enc, t);
  }
  if (age >= 11 && age < 13 && last_td_ < day - 3650) {
    last_td_ = day;
    WriteImmunization(v.tdap, enc, t);
    WriteImmunization(v.mcv4, enc, t);
  }
  if (age >= 11 && age < 27 && hpv_doses_ < 2 && rng_.Chance(0.6)) {
    ++hpv_doses_;
    WriteImmunization(v.hpv, enc, t);
  }
  if (age >= 0.5 && rng_.Chance(age >= 65 ? 0.7 : 0.45)) WriteImmunization(v.influenza, enc, t);
  if (age >= 19 && last_td_ < day - 3650 && rng_.Chance(0.25)) {
    last_td_ = day;
    WriteImmunization(v.td, enc, t);
  }
  if (age >= 50 && !zoster_ && rng_.Chance(0.3)) {
    zoster_ = true;
    WriteImmunization(v.zoster, enc, t);
  }
  if (age >= 65 && !ppsv23_ && rng_.Chance(0.5)) {
    ppsv23_ = true;
    WriteImmunization(v.ppsv23, enc, t);
  }
  if (date.year >= 2021 && age >= 12 && covid_doses_ < 3 && rng_.Chance(0.35)) {
    ++covid_doses_;
    WriteImmunization(v.covid, enc, t);
  }
}

}  // namespace vesta::generate::internal
