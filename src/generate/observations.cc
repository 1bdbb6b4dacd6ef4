// Observations: vital signs, laboratory results (with the lipid panel as a grouping
// Observation), smoking status and the PHQ-9 score.
#include <algorithm>
#include <cmath>

#include "generate/datatypes.h"
#include "generate/patient_builder.h"
#include "generate/tables.h"

namespace vesta::generate::internal {

ResourceId PatientBuilder::WriteQuantityObs(std::string_view category, std::string_view code,
                                            std::string_view display, const ResourceId& encounter,
                                            Time t, double value, int places, std::string_view unit,
                                            double low, double high, const ResourceId* given_id) {
  const ResourceId id = given_id != nullptr ? *given_id : NewId();
  JsonOut j = Start(ResourceType::kObservation, id);
  j.Field("status", "final");
  const bool vital = category == "vital-signs";
  ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/observation-category", category,
              vital ? "Vital Signs" : "Laboratory");
  Concept(j, "code", kLoinc, code, display, display);
  Subject(j);
  Reference(j, "encounter", "Encounter", encounter);
  const std::string when = Dt(t);
  j.Field("effectiveDateTime", when);
  j.Field("issued", Dt(t + (vital ? 0 : 3600 * 4)));
  Quantity(j, "valueQuantity", value, places, unit);
  if (high > low) {
    // Round like the value so the flag agrees with what is written.
    const double shown = std::round(value * std::pow(10.0, places)) / std::pow(10.0, places);
    if (shown > high || shown < low) {
      const bool is_high = shown > high;
      j.Array("interpretation").Begin().Array("coding");
      Coding(j, "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
             is_high ? "H" : "L", is_high ? "High" : "Low");
      j.EndArray().End().EndArray();
    }
    j.Array("referenceRange").Begin();
    Quantity(j, "low", low, places, unit);
    Quantity(j, "high", high, places, unit);
    j.End().EndArray();
  }
  out_->Finish(j);
  return id;
}

void PatientBuilder::WriteBloodPressure(const ResourceId& encounter, Time t, double sbp,
                                        double dbp) {
  JsonOut j = Start(ResourceType::kObservation, NewId());
  j.Field("status", "final");
  ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/observation-category",
              "vital-signs", "Vital Signs");
  Concept(j, "code", kLoinc, "85354-9", "Blood pressure panel with all children optional",
          "Blood pressure");
  Subject(j);
  Reference(j, "encounter", "Encounter", encounter);
  j.Field("effectiveDateTime", Dt(t)).Field("issued", Dt(t));
  j.Array("component").Begin();
  Concept(j, "code", kLoinc, "8480-6", "Systolic blood pressure", "Systolic blood pressure");
  Quantity(j, "valueQuantity", sbp, 0, "mm[Hg]");
  j.End().Begin();
  Concept(j, "code", kLoinc, "8462-4", "Diastolic blood pressure", "Diastolic blood pressure");
  Quantity(j, "valueQuantity", dbp, 0, "mm[Hg]");
  j.End().EndArray();
  out_->Finish(j);
}

void PatientBuilder::WriteVitals(const ResourceId& enc, Time t, bool full) {
  const Days day = t / kDay;
  const double age = AgeYears(day);
  const double height = phys_.adult_height_cm * HeightFraction(age) + rng_.Normal(0, 0.4);
  double bmi = phys_.bmi + rng_.Normal(0, 0.4);
  if (age < 2) bmi = 16.5 + rng_.Normal(0, 0.8);
  const double weight = bmi * (height / 100.0) * (height / 100.0);
  if (full) {
    WriteQuantityObs("vital-signs", "8302-2", "Body height", enc, t, height, 1, "cm", 0, 0);
  }
  WriteQuantityObs("vital-signs", "29463-7", "Body weight", enc, t, weight, 1, "kg", 0, 0);
  if (age >= 2) {
    WriteQuantityObs("vital-signs", "39156-5", "Body mass index (BMI) [Ratio]", enc, t, bmi, 1,
                     "kg/m2", 0, 0);
  }
  if (age >= 3) {
    const double sbp = phys_.sbp + rng_.Normal(0, 6);
    const double dbp = 0.45 * sbp + rng_.Normal(age < 18 ? 14 : 20, 5);
    WriteBloodPressure(enc, t, sbp, std::min(dbp, sbp - 20));
  }
  WriteQuantityObs("vital-signs", "8867-4", "Heart rate", enc, t,
                   std::max(40.0, phys_.hr + rng_.Normal(0, 5)), 0, "/min", 0, 0);
  WriteQuantityObs("vital-signs", "9279-1", "Respiratory rate", enc, t,
                   std::max(8.0, (age < 12 ? 30 - 1.2 * age : 15) + rng_.Normal(0, 1.5)), 0, "/min",
                   0, 0);
}

void PatientBuilder::WriteLabs(const ResourceId& enc, Time t, bool a1c, bool lipids, bool renal,
                               bool glucose) {
  const Days day = t / kDay;
  const int age = std::max(18, AgeOn(day));
  if (a1c) {
    const double v = std::max(4.0, phys_.a1c + rng_.Normal(0, 0.25));
    // GenerateOptions::measures: now and then a result that never came (a hemolyzed specimen).
    if (options_.measures && MeasureChance(1, t, 0.05)) {
      WriteResultWithoutValue(NewId(), "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", enc,
                              t);
    } else {
      WriteQuantityObs("laboratory", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", enc, t,
                       v, 1, "%", 4.0, 5.6);
    }
  }
  if (glucose) {
    const double v = 28.7 * phys_.a1c - 46.7 + rng_.Normal(0, 12);
    WriteQuantityObs("laboratory", "2345-7", "Glucose [Mass/volume] in Serum or Plasma", enc, t,
                     std::max(55.0, v), 0, "mg/dL", 70, 99);
  }
  if (renal) {
    const double egfr = std::max(8.0, phys_.egfr + rng_.Normal(0, 3));
    // Creatinine from the MDRD study equation solved for serum creatinine:
    // eGFR = 175 * Scr^-1.154 * age^-0.203 * (0.742 if female).
    const double scr =
        std::pow(175.0 * std::pow(age, -0.203) * (female_ ? 0.742 : 1.0) / egfr, 1.0 / 1.154);
    WriteQuantityObs("laboratory", "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", enc, t,
                     scr, 2, "mg/dL", female_ ? 0.59 : 0.74, female_ ? 1.04 : 1.35);
    WriteQuantityObs("laboratory", "33914-3",
                     "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum "
                     "or Plasma by Creatinine-based formula (MDRD)",
                     enc, t, egfr, 0, "mL/min/{1.73_m2}", 60, 200);
  }
  if (lipids) {
    // On a statin, LDL falls by about a third.
    const bool statin = Has(Chronic::kHyperlipidemia) &&
                        Case(Chronic::kHyperlipidemia).drugs[0] >= 0 &&
                        Case(Chronic::kHyperlipidemia).onset < day - 90;
    const double ldl = std::max(30.0, phys_.ldl * (statin ? 0.68 : 1.0) + rng_.Normal(0, 8));
    const double hdl = std::max(20.0, phys_.hdl + rng_.Normal(0, 4));
    const double tg = std::max(30.0, phys_.tg + rng_.Normal(0, 20));
    const double total = ldl + hdl + tg / 5.0;
    ResourceId members[4] = {NewId(), NewId(), NewId(), NewId()};
    JsonOut j = Start(ResourceType::kObservation, NewId());
    j.Field("status", "final");
    ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/observation-category",
                "laboratory", "Laboratory");
    Concept(j, "code", kLoinc, "57698-3", "Lipid panel with direct LDL - Serum or Plasma",
            "Lipid panel");
    Subject(j);
    Reference(j, "encounter", "Encounter", enc);
    j.Field("effectiveDateTime", Dt(t)).Field("issued", Dt(t + 4 * 3600));
    j.Array("hasMember");
    for (const ResourceId& m : members)
      j.Begin().Field("reference", Ref("Observation", m).view()).End();
    j.EndArray();
    out_->Finish(j);
    WriteQuantityObs("laboratory", "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", enc, t,
                     total, 0, "mg/dL", 0, 200, &members[0]);
    WriteQuantityObs("laboratory", "2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", enc,
                     t, tg, 0, "mg/dL", 0, 150, &members[1]);
    WriteQuantityObs("laboratory", "18262-6",
                     "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", enc, t,
                     ldl, 0, "mg/dL", 0, 130, &members[2]);
    WriteQuantityObs("laboratory", "2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
                     enc, t, hdl, 0, "mg/dL", 40, 200, &members[3]);
  }
}

void PatientBuilder::WriteSmokingStatus(const ResourceId& enc, Time t) {
  static constexpr std::string_view kCodes[] = {"266919005", "8517006", "449868002"};
  static constexpr std::string_view kDisplays[] = {
      "Never smoked tobacco (finding)", "Ex-smoker (finding)", "Smokes tobacco daily (finding)"};
  // A former smoker before quitting is not modelled: they are reported as former throughout.
  const size_t s = static_cast<size_t>(AgeOn(t / kDay) < 14 ? Smoking::kNever : smoking_);
  JsonOut j = Start(ResourceType::kObservation, NewId());
  j.Field("status", "final");
  ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/observation-category",
              "social-history", "Social History");
  Concept(j, "code", kLoinc, "72166-2", "Tobacco smoking status", "Tobacco smoking status");
  Subject(j);
  Reference(j, "encounter", "Encounter", enc);
  j.Field("effectiveDateTime", Dt(t)).Field("issued", Dt(t));
  Concept(j, "valueCodeableConcept", kSnomed, kCodes[s], kDisplays[s], kDisplays[s]);
  out_->Finish(j);
}

void PatientBuilder::WritePhq9(const ResourceId& enc, Time t) {
  const bool depressed = HasBy(Chronic::kDepression, t / kDay);
  const double score = depressed ? rng_.Clamped(12, 5, 0, 27) : rng_.Clamped(2.5, 2.5, 0, 27);
  JsonOut j = Start(ResourceType::kObservation, NewId());
  j.Field("status", "final");
  ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/observation-category", "survey",
              "Survey");
  Concept(j, "code", kLoinc, "44261-6",
          "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
          "PHQ-9 total score");
  Subject(j);
  Reference(j, "encounter", "Encounter", enc);
  j.Field("effectiveDateTime", Dt(t)).Field("issued", Dt(t));
  j.Key("valueInteger").Int(static_cast<int64_t>(std::lround(score)));
  out_->Finish(j);
}

}  // namespace vesta::generate::internal
