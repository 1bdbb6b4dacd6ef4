// The records electronic clinical quality measures look for (GenerateOptions::measures;
// docs/generate.md, "Quality measures"): what CMS122 (diabetes: HbA1c poor control, > 9 %) and
// CMS130 (colorectal cancer screening) count in their populations, coded from their value sets
// (tables.h, MeasureTable).
//
// The visits' billing codes and the HbA1c results without a value are written with the planned
// events (encounters.cc, observations.cc) and decided by MeasureChance; everything else is
// written after the planned events from streams of its own, so that the resources of the
// population without the option keep their contents and ids.
#include <algorithm>

#include "generate/datatypes.h"
#include "generate/patient_builder.h"
#include "generate/tables.h"

namespace vesta::generate::internal {

namespace {

constexpr Days kYear = 365;

}  // namespace

const Code* PatientBuilder::BillingCode(EventKind kind, int age) const {
  const MeasureCodes& m = MeasureTable();
  switch (kind) {
    case EventKind::kWellness:
      if (age < 18) return nullptr;
      return &m.preventive[age < 40 ? 0 : (age < 65 ? 1 : 2)];
    case EventKind::kDiagnosis:
      return &m.new_problem;
    case EventKind::kFollowUp:
    case EventKind::kAcute:
      return &m.office_visit;
    case EventKind::kEmergency:
      return &m.emergency;
    default:
      return nullptr;
  }
}

bool PatientBuilder::MeasureChance(uint64_t what, Time t, double p) const {
  Rng rng(Rng::Mix(Rng::Mix(options_.seed, kMeasureKeyedStream, static_cast<uint64_t>(index_)),
                   what, static_cast<uint64_t>(t)));
  return rng.Chance(p);
}

void PatientBuilder::WriteResultWithoutValue(const ResourceId& id, std::string_view code,
                                             std::string_view display, const ResourceId& enc,
                                             Time t) {
  JsonOut j = Start(ResourceType::kObservation, id);
  j.Field("status", "final");
  ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/observation-category",
              "laboratory", "Laboratory");
  Concept(j, "code", kLoinc, code, display, display);
  Subject(j);
  Reference(j, "encounter", "Encounter", enc);
  j.Field("effectiveDateTime", Dt(t)).Field("issued", Dt(t + 4 * 3600));
  // https://hl7.org/fhir/R4/observation.html#invs obs-6: dataAbsentReason only without a value.
  j.Object("dataAbsentReason").Array("coding");
  Coding(j, "http://terminology.hl7.org/CodeSystem/data-absent-reason", "error", "Error");
  j.EndArray().Field("text", "Specimen unsatisfactory for evaluation").End();
  out_->Finish(j);
}

void PatientBuilder::WriteStoolTest(const Code& code, const ResourceId& enc, Time t) {
  const MeasureCodes& m = MeasureTable();
  const ResourceId id = NewId();
  const double r = rng_.Real();
  // Some kits come back unusable: a final result without a value, which the measure does not
  // count as a screening.
  if (r < 0.08) {
    WriteResultWithoutValue(id, code.code, code.display, enc, t);
    return;
  }
  const Code& result = r < 0.13 ? m.stool_positive : m.stool_negative;
  JsonOut j = Start(ResourceType::kObservation, id);
  j.Field("status", "final");
  ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/observation-category",
              "laboratory", "Laboratory");
  Concept(j, "code", code.system, code.code, code.display, code.display);
  Subject(j);
  Reference(j, "encounter", "Encounter", enc);
  j.Field("effectiveDateTime", Dt(t)).Field("issued", Dt(t + 4 * 3600));
  Concept(j, "valueCodeableConcept", result.system, result.code, result.display);
  out_->Finish(j);
}

void PatientBuilder::WriteColorectalScreening() {
  const MeasureCodes& m = MeasureTable();
  // History: a colonoscopy in the fourteen years before the records begin for 45 % of those
  // 50 and over at their start (so some fall outside the measures' ten years), never within ten
  // years of one in the records.
  if (AgeOn(window_start_) >= 50 && rng_.Chance(0.45)) {
    const Days day = window_start_ - 1 - static_cast<Days>(rng_.Below(14 * kYear));
    if (AgeOn(day) >= 45 && (last_colonoscopy_ < window_start_ || day < last_colonoscopy_ - 3650)) {
      const Time t = RandomTimeOn(day, 8, 14);
      WriteProcedure(m.colonoscopy.code, m.colonoscopy.display, nullptr, t, t + 3600, nullptr);
    }
  }
  // At check-ups from 50 to 75: a stool test (FOBT 10 %, FIT-DNA 4 %), a flexible
  // sigmoidoscopy (2 %) or a CT colonography (1.5 %), the result a few days later.
  for (const Visit& v : checkups_) {
    const int age = AgeOn(v.start / kDay);
    if (age < 50 || age > 75) continue;
    const double r = rng_.Real();
    if (r >= 0.175) continue;
    const Time t = v.start + rng_.Range(3, 10) * kDay;
    if (t / kDay >= window_end_) continue;
    if (r < 0.10) {
      WriteStoolTest(m.fobt, v.encounter, t);
    } else if (r < 0.14) {
      WriteStoolTest(m.fit_dna, v.encounter, t);
    } else if (r < 0.16) {
      WriteProcedure(m.sigmoidoscopy.code, m.sigmoidoscopy.display, &v.encounter, t, t + 1800,
                     nullptr);
    } else {
      JsonOut j = Start(ResourceType::kObservation, NewId());
      j.Field("status", "final");
      ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/observation-category",
                  "imaging", "Imaging");
      Concept(j, "code", m.ct_colonography.system, m.ct_colonography.code,
              m.ct_colonography.display, m.ct_colonography.display);
      Subject(j);
      Reference(j, "encounter", "Encounter", v.encounter);
      j.Field("effectiveDateTime", Dt(t)).Field("issued", Dt(t + 8 * 3600));
      j.Field("valueString", "No colorectal polyp or mass of 6 mm or more.");
      out_->Finish(j);
    }
  }
}

void PatientBuilder::WriteMeasureRecords() {
  rng_ = Rng(Rng::Mix(options_.seed, kMeasureStream, static_cast<uint64_t>(index_)));
  ids_ = Rng(Rng::Mix(options_.seed, kMeasureIdStream, static_cast<uint64_t>(index_)));
  encounter_practitioner_ = practitioner_;
  if (window_end_ <= window_start_) return;
  const MeasureCodes& m = MeasureTable();

  // Telephone visits: adults, 8 % a year.
  const int first_year = CivilFromDays(window_start_).year;
  const int last_year = CivilFromDays(window_end_).year;
  for (int y = first_year; y <= last_year; ++y) {
    const Days year_start = std::max(DaysFromCivil(y, 1, 1), window_start_);
    const Days year_end = std::min(DaysFromCivil(y + 1, 1, 1), window_end_);
    if (year_end <= year_start || AgeOn(year_start) < 18 || !rng_.Chance(0.08)) continue;
    const Days day =
        year_start + static_cast<Days>(rng_.Below(static_cast<uint64_t>(year_end - year_start)));
    WriteEvent({RandomTimeOn(day, 8, 16), EventKind::kTelephone, 0});
  }

  // Frailty with an advanced illness (heart failure, dementia) from 65: 6 % of those 66-74 on
  // the end date, 12 % at 75-84, 20 % from 85. Muscle weakness is the frailty diagnosis; the
  // illness is the diagnosis of office visits every three to five months, and 40 % get
  // palliative care at one of them.
  const double frail_share = age_ < 66 ? 0.0 : (age_ < 75 ? 0.06 : (age_ < 85 ? 0.12 : 0.2));
  bool frail = false;
  if (rng_.Chance(frail_share)) {
    const Days earliest =
        std::max(birth_ + static_cast<Days>(65 * 365.25), window_start_ - 2 * kYear);
    if (earliest < window_end_) {
      frail = true;
      ChronicCase illness, weakness;
      illness.onset = weakness.onset =
          earliest + static_cast<Days>(rng_.Below(static_cast<uint64_t>(window_end_ - earliest)));
      illness.condition_id = NewId();
      weakness.condition_id = NewId();
      WriteCondition(illness, m.advanced_illness[rng_.Weighted(m.advanced_illness_weights)],
                     nullptr);
      WriteCondition(weakness, m.frailty, nullptr);
      const bool palliative = rng_.Chance(0.4);
      bool palliative_done = false;
      Days day = std::max(illness.onset, window_start_) + static_cast<Days>(rng_.Below(60));
      for (int n = 0; n < 200 && day < window_end_; ++n) {
        const Event e = {RandomTimeOn(day, 8, 16), EventKind::kFollowUp, 0};
        const ResourceId enc =
            WriteEncounter(e, e.start + 1800, std::span<const ResourceId>(&illness.condition_id, 1),
                           nullptr, &illness.condition_id);
        if (palliative && !palliative_done && rng_.Chance(0.3)) {
          palliative_done = true;
          WriteProcedure(m.palliative.code, m.palliative.display, &enc, e.start + 900,
                         e.start + 1800, &illness.condition_id);
        }
        day += rng_.Range(90, 150);
      }
    }
  }

  // Colorectal cancer (0.6 % of those 50-64, 1.2 % from 65), diagnosed in the ten years before
  // the end; half have a total colectomy a few weeks later, a fifth palliative care.
  const double cancer_share = age_ < 50 ? 0.0 : (age_ < 65 ? 0.006 : 0.012);
  bool cancer = false;
  if (rng_.Chance(cancer_share)) {
    const Days earliest =
        std::max(birth_ + static_cast<Days>(50 * 365.25), window_end_ - 10 * kYear);
    if (earliest < window_end_) {
      cancer = true;
      ChronicCase cc;
      cc.onset =
          earliest + static_cast<Days>(rng_.Below(static_cast<uint64_t>(window_end_ - earliest)));
      cc.condition_id = NewId();
      WriteCondition(cc, m.colon_cancer, nullptr);
      const Days surgery = cc.onset + rng_.Range(14, 42);
      if (rng_.Chance(0.5) && surgery < window_end_) {
        const Time t = RandomTimeOn(surgery, 8, 12);
        WriteProcedure(m.colectomy.code, m.colectomy.display, nullptr, t, t + 4 * 3600,
                       &cc.condition_id);
      }
      const Days care = cc.onset + rng_.Range(60, 400);
      if (rng_.Chance(0.2) && care < window_end_ && care >= window_start_) {
        const Time t = RandomTimeOn(care, 8, 16);
        WriteProcedure(m.palliative.code, m.palliative.display, nullptr, t, t + 1800,
                       &cc.condition_id);
      }
    }
  }

  WriteColorectalScreening();

  // Hospice care before death: 45 % of adults who die, 80 % of the frail and those with cancer;
  // a third of the others have palliative care in their last months instead.
  if (deceased_ && AgeOn(death_) >= 18) {
    const bool hospice = rng_.Chance(frail || cancer ? 0.8 : 0.45);
    const Days start = std::max(window_start_, death_ - rng_.Range(5, 120));
    if (hospice) {
      WriteProcedure(m.hospice.code, m.hospice.display, nullptr, start * kDay + 10 * 3600,
                     death_ * kDay + 8 * 3600, nullptr);
    } else if (rng_.Chance(0.33)) {
      const Time t = RandomTimeOn(start, 8, 16);
      WriteProcedure(m.palliative.code, m.palliative.display, nullptr, t, t + 1800, nullptr);
    }
  }
}

}  // namespace vesta::generate::internal
