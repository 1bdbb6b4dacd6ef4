// Encounters: what each planned event produces (the Encounter, then its conditions,
// measurements, procedures, medications and vaccines, in that order).
#include <algorithm>

#include "generate/datatypes.h"
#include "generate/patient_builder.h"
#include "generate/tables.h"

namespace vesta::generate::internal {

void PatientBuilder::WriteEvent(const Event& e) {
  const Days day = e.start / kDay;
  if (day >= window_end_) return;
  const int age = AgeOn(day);
  ResourceId reasons[kChronicCount];
  size_t n_reasons = 0;
  switch (e.kind) {
    case EventKind::kWellChild:
    case EventKind::kWellness: {
      const bool child = e.kind == EventKind::kWellChild;
      const ResourceId enc = WriteEncounter(e, e.start + 1800, {}, nullptr);
      if (options_.measures && !child) checkups_.push_back({enc, e.start});
      WriteVitals(enc, e.start, true);
      const bool diabetic = HasBy(Chronic::kDiabetes, day);
      // Separate statements: argument evaluation order is unspecified.
      const bool a1c = !diabetic && age >= 35 && rng_.Chance(0.25);
      const bool lipids = age >= 20 && rng_.Chance(0.2);
      const bool renal = age >= 18 && rng_.Chance(0.3);
      const bool glucose = age >= 35 && rng_.Chance(0.2);
      WriteLabs(enc, e.start, a1c, lipids, renal, glucose);
      WriteVaccinesForVisit(enc, e.start, day, child);
      WriteScreenings(enc, e.start, day);
      WriteChronicMedications(enc, e.start, day);
      return;
    }
    case EventKind::kDiagnosis: {
      ChronicCase& cc = cases_[e.detail];
      const ChronicDef& def = ChronicTable(static_cast<Chronic>(e.detail));
      const ResourceId enc = WriteEncounter(
          e, e.start + 1800, std::span<const ResourceId>(&cc.condition_id, 1), nullptr);
      WriteCondition(cc, def.variants[static_cast<size_t>(cc.variant)], &enc);
      WriteVitals(enc, e.start, false);
      const Chronic c = def.id;
      WriteLabs(enc, e.start, c == Chronic::kDiabetes, c == Chronic::kHyperlipidemia,
                c == Chronic::kCkd || c == Chronic::kDiabetes, c == Chronic::kDiabetes);
      if (c == Chronic::kDepression) WritePhq9(enc, e.start);
      WriteChronicMedications(enc, e.start, day);
      return;
    }
    case EventKind::kFollowUp: {
      for (const ChronicCase& cc : cases_) {
        if (cc.present && cc.coded && cc.onset <= day) reasons[n_reasons++] = cc.condition_id;
      }
      if (n_reasons == 0) return;
      const ResourceId enc = WriteEncounter(
          e, e.start + 1800, std::span<const ResourceId>(reasons, n_reasons), nullptr);
      WriteVitals(enc, e.start, false);
      const bool dm = HasBy(Chronic::kDiabetes, day);
      const bool kidney_risk =
          dm || HasBy(Chronic::kCkd, day) || HasBy(Chronic::kHypertension, day);
      const bool lipids = (dm || HasBy(Chronic::kHyperlipidemia, day)) && rng_.Chance(0.6);
      const bool renal = kidney_risk && rng_.Chance(0.75);
      WriteLabs(enc, e.start, dm, lipids, renal, dm);
      if (HasBy(Chronic::kDepression, day)) WritePhq9(enc, e.start);
      WriteChronicMedications(enc, e.start, day);
      return;
    }
    case EventKind::kAcute:
    case EventKind::kEmergency:
    case EventKind::kInpatient: {
      const AcuteDef& def = AcuteTable()[static_cast<size_t>(e.detail)];
      Time end = e.start + (e.kind == EventKind::kAcute ? 1800 : 3 * 3600);
      if (e.kind == EventKind::kInpatient) end = e.start + rng_.Range(2, 7) * kDay;
      if (end / kDay >= window_end_) end = window_end_ * kDay - 60;
      if (end <= e.start) end = e.start + 60;
      const ResourceId enc = WriteEncounter(e, end, {}, &def.dx);
      const ResourceId cond = WriteAcuteCondition(def, enc, e.start);
      WriteVitals(enc, e.start, false);
      WriteQuantityObs("vital-signs", "8310-5", "Body temperature", enc, e.start,
                       def.dx.icd10[0] == 'J' || def.dx.icd10[0] == 'A' || def.dx.icd10[0] == 'H'
                           ? rng_.Clamped(38.2, 0.6, 36.5, 40.5)
                           : rng_.Clamped(36.8, 0.3, 35.8, 37.6),
                       1, "Cel", 0, 0);
      if (e.kind != EventKind::kAcute) {
        WriteQuantityObs(
            "vital-signs", "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", enc,
            e.start, std::min(100.0, rng_.Clamped(def.dx.icd10[0] == 'J' ? 92 : 97, 2, 80, 100)), 0,
            "%", 0, 0);
        WriteLabs(enc, e.start, false, false, true, true);
      }
      if (!def.procedure.empty()) {
        WriteProcedure(def.procedure, def.procedure_display, &enc, e.start + 1800, e.start + 3600,
                       &cond);
      }
      for (const Drug& d : def.drugs) {
        WriteMedication(d, enc, end, &cond,
                        e.kind == EventKind::kInpatient ? "discharge" : "outpatient",
                        d.rxnorm == "309362");  // clopidogrel continues after a heart attack
      }
      return;
    }
    case EventKind::kCopdExacerbation: {
      static constexpr Diagnosis kExacerbation = {
          "J44.1", "Chronic obstructive pulmonary disease with (acute) exacerbation", "195951007",
          "Acute exacerbation of chronic obstructive airways disease (disorder)"};
      static constexpr AcuteDef kDef = {kExacerbation, Setting::kInpatient, 0, "", "", {}, 40, 14};
      Time end = e.start + rng_.Range(2, 6) * kDay;
      if (end / kDay >= window_end_) end = window_end_ * kDay - 60;
      if (end <= e.start) end = e.start + 60;
      const ChronicCase& copd = Case(Chronic::kCopd);
      const ResourceId enc =
          WriteEncounter(e, end,
                         copd.coded ? std::span<const ResourceId>(&copd.condition_id, 1)
                                    : std::span<const ResourceId>(),
                         &kExacerbation);
      WriteAcuteCondition(kDef, enc, e.start);
      WriteVitals(enc, e.start, false);
      WriteQuantityObs("vital-signs", "59408-5",
                       "Oxygen saturation in Arterial blood by Pulse oximetry", enc, e.start,
                       rng_.Clamped(89, 2.5, 78, 96), 0, "%", 0, 0);
      return;
    }
    case EventKind::kTelephone:
      WriteEncounter(e, e.start + 900, {}, nullptr);
      return;
  }
}

ResourceId PatientBuilder::WriteEncounter(const Event& e, Time end,
                                          std::span<const ResourceId> reasons,
                                          const Diagnosis* reason_code,
                                          const ResourceId* diagnosis) {
  const ResourceId id = NewId();
  JsonOut j = Start(ResourceType::kEncounter, id);
  j.Field("status", "finished");
  std::string_view cls = "AMB", cls_display = "ambulatory";
  std::string_view type = "185345009", type_display = "Encounter for symptom (procedure)";
  switch (e.kind) {
    case EventKind::kWellChild:
      type = "410620009";
      type_display = "Well child visit (procedure)";
      break;
    case EventKind::kWellness:
      type = "162673000";
      type_display = "General examination of patient (procedure)";
      break;
    case EventKind::kDiagnosis:
      type = "185347001";
      type_display = "Encounter for problem (procedure)";
      break;
    case EventKind::kFollowUp:
      type = "390906007";
      type_display = "Follow-up encounter (procedure)";
      break;
    case EventKind::kAcute:
      break;
    case EventKind::kEmergency:
      cls = "EMER";
      cls_display = "emergency";
      type = "50849002";
      type_display = "Emergency room admission (procedure)";
      break;
    case EventKind::kInpatient:
    case EventKind::kCopdExacerbation:
      cls = "IMP";
      cls_display = "inpatient encounter";
      type = "32485007";
      type_display = "Hospital admission (procedure)";
      break;
    case EventKind::kTelephone:
      cls = "VR";
      cls_display = "virtual";
      type = MeasureTable().telephone.code;
      type_display = MeasureTable().telephone.display;
      break;
  }
  j.Object("class")
      .Field("system", "http://terminology.hl7.org/CodeSystem/v3-ActCode")
      .Field("code", cls)
      .Field("display", cls_display)
      .End();
  j.Array("type").Begin().Array("coding");
  Coding(j, kSnomed, type, type_display);
  // With GenerateOptions::measures, the visit's billing code too, as claims-based records carry
  // it (the quality measures' encounter value sets are mostly CPT).
  const Code* billing = options_.measures ? BillingCode(e.kind, AgeOn(e.start / kDay)) : nullptr;
  if (billing != nullptr) Coding(j, billing->system, billing->code, billing->display);
  j.EndArray().Field("text", type_display).End().EndArray();
  Subject(j);
  // The patient's own practitioner for office visits; another one of the same organization in
  // the emergency department and on the ward.
  int practitioner = practitioner_;
  if (cls == "EMER" || cls == "IMP") {
    practitioner = org_ * Generator::kPractitionersPerOrganization +
                   static_cast<int>(rng_.Below(Generator::kPractitionersPerOrganization));
  }
  j.Array("participant").Begin();
  ConceptList(j, "type", "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF",
              "primary performer");
  encounter_practitioner_ = practitioner;
  Reference(j, "individual", "Practitioner",
            gen_.SharedId(ResourceType::kPractitioner, practitioner));
  j.End().EndArray();
  j.Object("period").Field("start", Dt(e.start)).Field("end", Dt(end)).End();
  if (reason_code != nullptr) {
    j.Array("reasonCode").Begin().Array("coding");
    Coding(j, kIcd10Cm, reason_code->icd10, reason_code->icd10_display);
    if (!reason_code->snomed.empty()) {
      Coding(j, kSnomed, reason_code->snomed, reason_code->snomed_display);
    }
    j.EndArray().End().EndArray();
  }
  if (diagnosis != nullptr) {
    j.Array("diagnosis").Begin();
    Reference(j, "condition", "Condition", *diagnosis);
    j.Key("rank").Int(1).End().EndArray();
  }
  if (!reasons.empty()) {
    j.Array("reasonReference");
    for (const ResourceId& r : reasons) {
      j.Begin().Field("reference", Ref("Condition", r).view()).End();
    }
    j.EndArray();
  }
  if (cls == "IMP") {
    j.Object("hospitalization");
    Concept(j, "admitSource", "http://terminology.hl7.org/CodeSystem/admit-source", "emd",
            "From accident/emergency department");
    const bool died_here = deceased_ && end / kDay >= death_ - 1;
    Concept(j, "dischargeDisposition",
            "http://terminology.hl7.org/CodeSystem/discharge-disposition",
            died_here ? "exp" : "home", died_here ? "Expired" : "Home");
    j.End();
  }
  j.Array("location").Begin();
  Reference(j, "location", "Location", gen_.SharedId(ResourceType::kLocation, org_));
  j.End().EndArray();
  Reference(j, "serviceProvider", "Organization", gen_.SharedId(ResourceType::kOrganization, org_));
  out_->Finish(j);
  return id;
}

}  // namespace vesta::generate::internal
