// The builder of one patient: the clinical model's decisions and the resources they produce.
// Internal to vesta_generate; Generator::GeneratePatient is its only user.
//
// Build() runs the model in a fixed order (demographics, chronic conditions, physiology, death,
// the event plan), then writes the Patient, the allergies, the conditions diagnosed before the
// history window and every planned event. Every draw comes from the patient's own streams, in
// that order, so the order of the calls is part of the output.
//
// The member functions live by what they generate:
//   patient_builder.cc  the model: Decide*, PlanEvents, Build
//   demographics.cc     Patient, AllergyIntolerance
//   encounters.cc       WriteEvent (what one event produces) and the Encounter
//   conditions.cc       chronic and acute Conditions
//   observations.cc     vital signs, laboratory results, smoking status, PHQ-9
//   procedures.cc       Procedures and the screenings offered at check-ups
//   medications.cc      MedicationRequests
//   immunizations.cc    Immunizations and the vaccine schedule
//   measures.cc         the records quality measures look for (GenerateOptions::measures)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "generate/calendar.h"
#include "generate/datatypes.h"
#include "generate/generator.h"
#include "generate/json_out.h"
#include "generate/rng.h"
#include "generate/tables.h"

namespace vesta::generate::internal {

// Stream keys: the first Mix argument separates kinds of streams.
inline constexpr uint64_t kPatientStream = 1;
inline constexpr uint64_t kPatientIdStream = 2;
inline constexpr uint64_t kSharedStream = 3;
// GenerateOptions::measures: the added records' decisions and ids, and single draws keyed by
// what is decided and when (MeasureChance), so that the other streams are not disturbed.
inline constexpr uint64_t kMeasureStream = 4;
inline constexpr uint64_t kMeasureIdStream = 5;
inline constexpr uint64_t kMeasureKeyedStream = 6;

struct ChronicCase {
  bool present = false;
  bool coded = false;  // a Condition resource is written (always, except part of obesity/smoking)
  Days onset = 0;
  int variant = 0;
  ResourceId condition_id{};
  bool diagnosed_in_window = false;
  int drugs[2] = {-1, -1};
  bool meds_written = false;
};

enum class EventKind : uint8_t {
  kWellChild,
  kWellness,
  kDiagnosis,
  kFollowUp,
  kAcute,
  kEmergency,
  kInpatient,
  kCopdExacerbation,
  kTelephone,  // GenerateOptions::measures only
};

struct Event {
  Time start;
  EventKind kind;
  int detail;  // the chronic condition (kDiagnosis) or the AcuteDef index

  bool operator<(const Event& o) const {
    if (start != o.start) return start < o.start;
    if (kind != o.kind) return kind < o.kind;
    return detail < o.detail;
  }
};

enum class Smoking { kNever, kFormer, kCurrent };

struct Physiology {
  double adult_height_cm;
  double bmi;
  double sbp;
  double hr;
  double a1c;
  double ldl;
  double hdl;
  double tg;
  double egfr;
};

// Share of adult height reached at an age in years.
double HeightFraction(double age_years);

class PatientBuilder {
 public:
  PatientBuilder(const Generator& generator, const GenerateOptions& options, int64_t index,
                 ResourceBatch* out)
      : gen_(generator),
        options_(options),
        index_(index),
        rng_(Rng::Mix(options.seed, kPatientStream, static_cast<uint64_t>(index))),
        ids_(Rng::Mix(options.seed, kPatientIdStream, static_cast<uint64_t>(index))),
        out_(out) {}

  void Build();

 private:
  // An adult check-up, kept for the screenings GenerateOptions::measures adds to it.
  struct Visit {
    ResourceId encounter;
    Time start;
  };

  ResourceId NewId() {
    ResourceId id;
    ids_.Uuid(id.text.data());
    return id;
  }
  int AgeOn(Days d) const { return YearsBetween(birth_, d); }
  double AgeYears(Days d) const { return static_cast<double>(d - birth_) / 365.25; }
  bool Has(Chronic c) const { return cases_[static_cast<int>(c)].present; }
  bool HasBy(Chronic c, Days d) const {
    const ChronicCase& cc = cases_[static_cast<int>(c)];
    return cc.present && cc.onset <= d;
  }
  ChronicCase& Case(Chronic c) { return cases_[static_cast<int>(c)]; }
  std::string Dt(Time t) const { return FormatDateTime(t, city_->utc_offset); }

  void DecideDemographics();
  void DecideChronic();
  void DecidePhysiology();
  void DecideDeath();
  void PlanEvents();
  Time RandomTimeOn(Days day, int first_hour, int last_hour);

  void WritePatient();
  void WriteAllergies();
  void WriteCondition(const ChronicCase& cc, const Diagnosis& dx, const ResourceId* encounter);
  void WriteEvent(const Event& e);
  // `diagnosis`: a Condition named in Encounter.diagnosis (GenerateOptions::measures only).
  ResourceId WriteEncounter(const Event& e, Time end, std::span<const ResourceId> reasons,
                            const Diagnosis* reason_code, const ResourceId* diagnosis = nullptr);
  ResourceId WriteAcuteCondition(const AcuteDef& def, const ResourceId& encounter, Time start);
  void WriteVitals(const ResourceId& encounter, Time t, bool full);
  void WriteLabs(const ResourceId& encounter, Time t, bool a1c, bool lipids, bool renal,
                 bool glucose);
  ResourceId WriteQuantityObs(std::string_view category, std::string_view code,
                              std::string_view display, const ResourceId& encounter, Time t,
                              double value, int places, std::string_view unit, double low,
                              double high, const ResourceId* id = nullptr);
  void WriteBloodPressure(const ResourceId& encounter, Time t, double sbp, double dbp);
  void WriteSmokingStatus(const ResourceId& encounter, Time t);
  void WritePhq9(const ResourceId& encounter, Time t);
  // `encounter` null: a procedure from the history before the records (no encounter written).
  void WriteProcedure(std::string_view code, std::string_view display, const ResourceId* encounter,
                      Time start, Time end, const ResourceId* reason);
  void WriteMedication(const Drug& drug, const ResourceId& encounter, Time t,
                       const ResourceId* reason, std::string_view category, bool ongoing);
  void WriteImmunization(const Vaccine& v, const ResourceId& encounter, Time t);
  void WriteChronicMedications(const ResourceId& encounter, Time t, Days day);
  void WriteVaccinesForVisit(const ResourceId& encounter, Time t, Days day, bool well_child);
  void WriteScreenings(const ResourceId& encounter, Time t, Days day);

  // measures.cc (GenerateOptions::measures).
  // The billing code an office, preventive or emergency visit carries; nullptr for none.
  const Code* BillingCode(EventKind kind, int age) const;
  // A draw of its own for a decision about the record at `t` (what: which decision), taken from
  // none of the patient's streams.
  bool MeasureChance(uint64_t what, Time t, double p) const;
  void WriteResultWithoutValue(const ResourceId& id, std::string_view code,
                               std::string_view display, const ResourceId& encounter, Time t);
  // Written after every planned event, from the measure streams.
  void WriteMeasureRecords();
  void WriteColorectalScreening();
  void WriteStoolTest(const Code& code, const ResourceId& encounter, Time t);

  JsonOut Start(ResourceType type, const ResourceId& id) {
    JsonOut j = out_->Start(type, id);
    return j;
  }
  void Subject(JsonOut& j) { Reference(j, "subject", "Patient", patient_id_); }

  const Generator& gen_;
  const GenerateOptions& options_;
  int64_t index_;
  Rng rng_;
  Rng ids_;
  ResourceBatch* out_;

  // Demographics.
  ResourceId patient_id_{};
  bool female_ = false;
  Days birth_ = 0;
  int age_ = 0;  // on the end date (or as if alive)
  int org_ = 0;
  int practitioner_ = 0;            // the general practitioner
  int encounter_practitioner_ = 0;  // who sees the patient in the encounter being written
  const City* city_ = nullptr;
  bool deceased_ = false;
  Days death_ = 0;
  Days window_start_ = 0;
  Days window_end_ = 0;  // the end date, or the death date
  Smoking smoking_ = Smoking::kNever;

  ChronicCase cases_[kChronicCount];
  Physiology phys_{};
  std::vector<Event> events_;

  // Screening and vaccine state.
  Days last_mammogram_ = -100000;
  Days last_colonoscopy_ = -100000;
  Days last_td_ = -100000;
  bool zoster_ = false;
  bool ppsv23_ = false;
  bool tdap_adolescent_ = false;
  int covid_doses_ = 0;
  int hpv_doses_ = 0;
  int well_child_visit_ = 0;

  // GenerateOptions::measures.
  std::vector<Visit> checkups_;
};
}  // namespace vesta::generate::internal
