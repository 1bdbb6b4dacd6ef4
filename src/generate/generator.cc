#include "generate/generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "base/strings.h"
#include "generate/rng.h"
#include "generate/tables.h"

namespace vesta::generate {

namespace {

constexpr std::string_view kTypeNames[kResourceTypeCount] = {
    "Organization",       "Location",          "Practitioner", "Patient",
    "AllergyIntolerance", "Encounter",         "Condition",    "Observation",
    "Procedure",          "MedicationRequest", "Immunization"};

// Stream keys: the first Mix argument separates kinds of streams.
constexpr uint64_t kPatientStream = 1;
constexpr uint64_t kPatientIdStream = 2;
constexpr uint64_t kSharedStream = 3;

// ---- Small writing helpers ---------------------------------------------------------------------

// "Type/id" without a heap allocation.
class Ref {
 public:
  Ref(std::string_view type, const ResourceId& id) {
    std::memcpy(buf_, type.data(), type.size());
    buf_[type.size()] = '/';
    std::memcpy(buf_ + type.size() + 1, id.text.data(), id.text.size());
    size_ = type.size() + 1 + id.text.size();
  }
  std::string_view view() const { return {buf_, size_}; }

 private:
  char buf_[64];
  size_t size_;
};

void Reference(JsonOut& j, std::string_view key, std::string_view type, const ResourceId& id) {
  j.Object(key).Field("reference", Ref(type, id).view()).End();
}

void Coding(JsonOut& j, std::string_view system, std::string_view code, std::string_view display) {
  j.Begin().Field("system", system).Field("code", code);
  if (!display.empty()) j.Field("display", display);
  j.End();
}

// A CodeableConcept with one coding.
void Concept(JsonOut& j, std::string_view key, std::string_view system, std::string_view code,
             std::string_view display, std::string_view text = {}) {
  j.Object(key).Array("coding");
  Coding(j, system, code, display);
  j.EndArray();
  if (!text.empty()) j.Field("text", text);
  j.End();
}

// A CodeableConcept array with one concept of one coding.
void ConceptList(JsonOut& j, std::string_view key, std::string_view system, std::string_view code,
                 std::string_view display) {
  j.Array(key).Begin().Array("coding");
  Coding(j, system, code, display);
  j.EndArray().End().EndArray();
}

void DiagnosisConcept(JsonOut& j, std::string_view key, const Diagnosis& dx) {
  j.Object(key).Array("coding");
  Coding(j, kIcd10Cm, dx.icd10, dx.icd10_display);
  if (!dx.snomed.empty()) Coding(j, kSnomed, dx.snomed, dx.snomed_display);
  j.EndArray().Field("text", dx.snomed.empty() ? dx.icd10_display : dx.snomed_display);
  j.End();
}

// https://hl7.org/fhir/R4/datatypes.html#Quantity with a UCUM code.
void Quantity(JsonOut& j, std::string_view key, double value, int places, std::string_view unit) {
  j.Object(key)
      .Key("value")
      .Dec(value, places)
      .Field("unit", unit)
      .Field("system", kUcum)
      .Field("code", unit)
      .End();
}

// The NPI check digit: Luhn over "80840" followed by the nine digits
// (https://www.cms.gov/Regulations-and-Guidance/Administrative-Simplification/NationalProvIdentStand).
std::string Npi(int64_t nine_digits) {
  std::string digits = "80840" + std::to_string(nine_digits);
  int sum = 0;
  bool twice = true;  // the check digit will be appended on the right
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return std::to_string(nine_digits) + static_cast<char>('0' + (10 - sum % 10) % 10);
}

std::string Phone(const City& city, Rng& rng) {
  char buf[24];
  // 555-0100 through 555-0199 are reserved for fiction.
  std::snprintf(buf, sizeof buf, "(%.*s) 555-01%02d", static_cast<int>(city.area_code.size()),
                city.area_code.data(), static_cast<int>(rng.Below(100)));
  return buf;
}

void Address(JsonOut& j, const City& city, Rng& rng) {
  const auto streets = Streets();
  const auto suffixes = StreetSuffixes();
  // One draw per statement: the order in which operands of + are evaluated is unspecified, and
  // the output must not depend on the compiler.
  const int number = rng.Range(1, 9999);
  const std::string_view street = streets[rng.Below(streets.size())];
  const std::string_view suffix = suffixes[rng.Below(suffixes.size())];
  std::string line = std::to_string(number) + " " + std::string(street) + " " + std::string(suffix);
  char zip[8];
  std::snprintf(zip, sizeof zip, "%.*s%02d", static_cast<int>(city.zip3.size()), city.zip3.data(),
                static_cast<int>(rng.Below(100)));
  j.Array("line")
      .Str(line)
      .EndArray()
      .Field("city", city.name)
      .Field("state", city.state)
      .Field("postalCode", zip)
      .Field("country", "US");
}

std::string_view Pick(std::span<const std::string_view> names, Rng& rng) {
  return names[rng.Below(names.size())];
}

// ---- The clinical model of one patient
// -----------------------------------------------------------

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

double HeightFraction(double age_years) {
  // Share of adult height reached by age (0..18), roughly the CDC growth charts' medians.
  static constexpr double kFraction[] = {0.29, 0.43, 0.50,  0.55,  0.59, 0.63, 0.67,
                                         0.71, 0.74, 0.77,  0.80,  0.83, 0.87, 0.91,
                                         0.95, 0.97, 0.985, 0.995, 1.0};
  if (age_years <= 0) return kFraction[0];
  if (age_years >= 18) return 1.0;
  const int lo = static_cast<int>(age_years);
  const double t = age_years - lo;
  return kFraction[lo] + (kFraction[lo + 1] - kFraction[lo]) * t;
}

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
  ResourceId WriteEncounter(const Event& e, Time end, std::span<const ResourceId> reasons,
                            const Diagnosis* reason_code);
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
  void WriteProcedure(std::string_view code, std::string_view display, const ResourceId& encounter,
                      Time start, Time end, const ResourceId* reason);
  void WriteMedication(const Drug& drug, const ResourceId& encounter, Time t,
                       const ResourceId* reason, std::string_view category, bool ongoing);
  void WriteImmunization(const Vaccine& v, const ResourceId& encounter, Time t);
  void WriteChronicMedications(const ResourceId& encounter, Time t, Days day);
  void WriteVaccinesForVisit(const ResourceId& encounter, Time t, Days day, bool well_child);
  void WriteScreenings(const ResourceId& encounter, Time t, Days day);

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
};

void PatientBuilder::DecideDemographics() {
  patient_id_ = NewId();
  female_ = rng_.Chance(0.51);
  const size_t band = rng_.Weighted(AgePyramid());
  age_ = static_cast<int>(band) * 5 + rng_.Range(0, 4);
  const CivilDate end = CivilFromDays(options_.end_date);
  // Born on a random day of the year that makes them `age_` on the end date.
  const Days last_birthday_start = DaysFromCivil(end.year - age_ - 1, end.month, end.day) + 1;
  birth_ = last_birthday_start + static_cast<Days>(rng_.Below(365));
  if (birth_ > options_.end_date) birth_ = options_.end_date;
  age_ = AgeOn(options_.end_date);
  org_ = static_cast<int>(rng_.Below(static_cast<uint64_t>(gen_.organization_count())));
  practitioner_ = org_ * Generator::kPractitionersPerOrganization +
                  static_cast<int>(rng_.Below(Generator::kPractitionersPerOrganization));
  const auto cities = Cities();
  city_ = &cities[static_cast<size_t>(org_) % cities.size()];
}

void PatientBuilder::DecideChronic() {
  for (int c = 0; c < kChronicCount; ++c) {
    const ChronicDef& def = ChronicTable(static_cast<Chronic>(c));
    ChronicCase& cc = cases_[c];
    if (age_ < def.min_age) continue;
    double p = BasePrevalence(def, age_, female_);
    // Risk modifiers: relative risks rounded from the epidemiology (docs/generate.md).
    switch (def.id) {
      case Chronic::kHypertension:
        p *= Has(Chronic::kObesity) ? 1.5 : 0.85;
        break;
      case Chronic::kDiabetes:
        p *= Has(Chronic::kObesity) ? 2.0 : 0.5;
        if (Has(Chronic::kHypertension)) p *= 1.3;
        break;
      case Chronic::kHyperlipidemia:
        if (Has(Chronic::kDiabetes)) p *= 1.5;
        break;
      case Chronic::kCopd:
        p *= smoking_ == Smoking::kCurrent ? 3.0 : (smoking_ == Smoking::kFormer ? 2.0 : 0.4);
        break;
      case Chronic::kCkd:
        p *= (Has(Chronic::kDiabetes) ? 2.5 : 1.0) * (Has(Chronic::kHypertension) ? 1.8 : 0.6);
        break;
      default:
        break;
    }
    cc.present = rng_.Chance(std::min(p, 0.95));
    if (def.id == Chronic::kSmoker) {
      smoking_ = cc.present
                     ? Smoking::kCurrent
                     : (age_ >= 25 && rng_.Chance(0.25) ? Smoking::kFormer : Smoking::kNever);
    }
    if (!cc.present) continue;
    cc.coded = true;
    if (def.id == Chronic::kObesity || def.id == Chronic::kSmoker) cc.coded = rng_.Chance(0.6);
    cc.variant = static_cast<int>(rng_.Weighted(def.variant_weights));
    // Onset: a uniformly chosen age between the condition's first age and today.
    const int onset_age = rng_.Range(def.min_age, std::max(def.min_age, age_));
    cc.onset = std::min(
        birth_ + static_cast<Days>(onset_age * 365.25) + static_cast<Days>(rng_.Below(365)),
        options_.end_date);
    if (rng_.Chance(def.treated) && !def.drugs.empty()) {
      cc.drugs[0] = static_cast<int>(rng_.Below(def.drugs.size()));
      if (def.drugs.size() > 1 && rng_.Chance(0.35)) {
        cc.drugs[1] = (cc.drugs[0] + 1 + static_cast<int>(rng_.Below(def.drugs.size() - 1))) %
                      static_cast<int>(def.drugs.size());
      }
    }
  }
  // Diabetes with kidney disease is coded as such.
  if (Has(Chronic::kDiabetes) && Has(Chronic::kCkd)) Case(Chronic::kDiabetes).variant = 3;
}

void PatientBuilder::DecidePhysiology() {
  Physiology& p = phys_;
  p.adult_height_cm = female_ ? rng_.Clamped(162, 6.5, 140, 190) : rng_.Clamped(176, 7, 150, 205);
  const bool adult = age_ >= 20;
  if (Has(Chronic::kObesity)) {
    p.bmi = adult ? std::min(30.0 + rng_.Exponential(4.5), 60.0) : 24.0 + rng_.Exponential(3.0);
  } else {
    p.bmi = adult ? rng_.Clamped(25.0, 2.6, 18.0, 29.9)
                  : rng_.Clamped(15.5 + 0.25 * std::max(0, age_ - 2), 1.5, 13.0, 23.0);
  }
  if (Has(Chronic::kObesity) && p.bmi >= 40) Case(Chronic::kObesity).variant = 1;
  if (age_ < 18) {
    p.sbp = rng_.Clamped(98 + 1.0 * age_, 7, 80, 125);
  } else if (Has(Chronic::kHypertension)) {
    p.sbp = rng_.Clamped(140 + 0.2 * std::max(0, age_ - 40), 12, 118, 200);
  } else {
    p.sbp = rng_.Clamped(114 + 0.2 * std::max(0, age_ - 18), 9, 92, 138);
  }
  p.hr = age_ < 12 ? rng_.Clamped(110 - 3.5 * age_, 8, 60, 160) : rng_.Clamped(72, 8, 48, 110);
  if (Has(Chronic::kDiabetes)) {
    p.a1c = rng_.Clamped(7.7, 1.0, 6.2, 13.5);
  } else if (Has(Chronic::kObesity) && age_ >= 30 && rng_.Chance(0.35)) {
    p.a1c = rng_.Clamped(5.95, 0.15, 5.7, 6.4);  // prediabetes
  } else {
    p.a1c = rng_.Clamped(5.3, 0.25, 4.4, 5.6);
  }
  p.ldl = Has(Chronic::kHyperlipidemia)
              ? rng_.Clamped(155, 28, 100, 260)
              : rng_.Clamped(100 + 0.4 * std::max(0, age_ - 20), 22, 45, 159);
  p.hdl = female_ ? rng_.Clamped(58, 12, 28, 100) : rng_.Clamped(47, 10, 25, 90);
  const bool high_tg = Has(Chronic::kHyperlipidemia) && Case(Chronic::kHyperlipidemia).variant == 2;
  p.tg = high_tg ? rng_.Clamped(320, 80, 200, 800) : rng_.Clamped(115, 40, 40, 240);
  if (Has(Chronic::kCkd)) {
    static constexpr double kLow[] = {60, 30, 15};
    static constexpr double kHigh[] = {89, 59, 29};
    const int stage = Case(Chronic::kCkd).variant;
    p.egfr = kLow[stage] + rng_.Real() * (kHigh[stage] - kLow[stage]);
  } else {
    p.egfr = rng_.Clamped(105 - 0.7 * std::max(0, age_ - 30), 12, 62, 135);
  }
}

void PatientBuilder::DecideDeath() {
  window_start_ = std::max(options_.end_date - static_cast<Days>(options_.years * 365.25), birth_);
  // Gompertz mortality, raised by the serious chronic conditions.
  double yearly = std::exp(-10.2 + 0.09 * age_);
  if (Has(Chronic::kCopd)) yearly *= 2.0;
  if (Has(Chronic::kCkd)) yearly *= 1.8;
  if (Has(Chronic::kDiabetes)) yearly *= 1.4;
  if (smoking_ == Smoking::kCurrent) yearly *= 1.6;
  const double years = static_cast<double>(options_.end_date - window_start_) / 365.25;
  deceased_ = rng_.Chance(std::min(0.9, yearly * years));
  if (deceased_) {
    death_ = window_start_ + 1 +
             static_cast<Days>(rng_.Below(
                 static_cast<uint64_t>(std::max<Days>(1, options_.end_date - window_start_ - 1))));
    window_end_ = death_;
    // Conditions never begin after death.
    for (ChronicCase& cc : cases_) {
      if (cc.present && cc.onset > death_) cc.present = false;
    }
  } else {
    window_end_ = options_.end_date;
  }
  for (ChronicCase& cc : cases_) {
    cc.diagnosed_in_window = cc.present && cc.coded && cc.onset >= window_start_;
    if (cc.present && cc.coded) cc.condition_id = NewId();
  }
}

Time PatientBuilder::RandomTimeOn(Days day, int first_hour, int last_hour) {
  const int hour = rng_.Range(first_hour, last_hour);
  const int minute = static_cast<int>(rng_.Below(4)) * 15;
  return day * kDay + hour * 3600 + minute * 60;
}

void PatientBuilder::PlanEvents() {
  events_.clear();
  const Days span = window_end_ - window_start_;
  if (span <= 0) return;
  // Well-child visits at 2, 4, 6, 12, 15 and 18 months, then yearly check-ups.
  static constexpr int kWellChildMonths[] = {1, 2, 4, 6, 9, 12, 15, 18, 24, 30};
  for (int months : kWellChildMonths) {
    const Days day = birth_ + static_cast<Days>(months * 30.44);
    if (day >= window_start_ && day < window_end_) {
      events_.push_back({RandomTimeOn(day, 8, 16), EventKind::kWellChild, months});
    }
  }
  const int first_year = CivilFromDays(window_start_).year;
  const int last_year = CivilFromDays(window_end_).year;
  for (int y = first_year; y <= last_year; ++y) {
    const Days year_start = std::max(DaysFromCivil(y, 1, 1), window_start_);
    const Days year_end = std::min(DaysFromCivil(y + 1, 1, 1), window_end_);
    if (year_end <= year_start) continue;
    const uint64_t len = static_cast<uint64_t>(year_end - year_start);
    const int age = AgeOn(year_start);
    if (age >= 3) {
      const double p = age < 18 ? 0.8 : (age >= 65 ? 0.8 : 0.6);
      if (rng_.Chance(p)) {
        const Days day = year_start + static_cast<Days>(rng_.Below(len));
        events_.push_back(
            {RandomTimeOn(day, 8, 16), age < 18 ? EventKind::kWellChild : EventKind::kWellness, 0});
      }
    }
    // Chronic care: twice a year for diabetes or advanced kidney disease, else once.
    bool any = false;
    for (Chronic c : {Chronic::kHypertension, Chronic::kDiabetes, Chronic::kHyperlipidemia,
                      Chronic::kAsthma, Chronic::kCopd, Chronic::kCkd, Chronic::kDepression}) {
      any = any || (Case(c).present && Case(c).coded && Case(c).onset < year_end);
    }
    if (any) {
      const bool twice =
          Has(Chronic::kDiabetes) || (Has(Chronic::kCkd) && Case(Chronic::kCkd).variant >= 1);
      for (int k = 0; k < (twice ? 2 : 1); ++k) {
        if (!rng_.Chance(0.85)) continue;
        const Days day = year_start + static_cast<Days>(rng_.Below(len));
        events_.push_back({RandomTimeOn(day, 8, 16), EventKind::kFollowUp, 0});
      }
    }
  }
  for (int c = 0; c < kChronicCount; ++c) {
    if (cases_[c].diagnosed_in_window && cases_[c].onset < window_end_) {
      events_.push_back({RandomTimeOn(cases_[c].onset, 8, 16), EventKind::kDiagnosis, c});
    }
  }
  // Acute problems as Poisson processes; every loop is capped.
  const auto acute = AcuteTable();
  auto add_acute = [&](Setting setting, double per_year, EventKind kind) {
    if (per_year <= 0) return;
    double t = static_cast<double>(window_start_);
    const size_t n = std::min<size_t>(acute.size(), 32);
    for (int k = 0; k < 40; ++k) {
      t += rng_.Exponential(365.25 / per_year);
      const Days day = static_cast<Days>(t);
      if (day >= window_end_) break;
      const int age = AgeOn(day);
      double weights[32] = {};
      double total = 0;
      for (size_t i = 0; i < n; ++i) {
        if (acute[i].setting == setting && age >= acute[i].min_age) {
          weights[i] = acute[i].weight;
          total += weights[i];
        }
      }
      if (total <= 0) continue;
      const size_t pick = rng_.Weighted(std::span<const double>(weights, n));
      const bool office = setting == Setting::kAmbulatory;
      events_.push_back(
          {RandomTimeOn(day, office ? 8 : 0, office ? 16 : 23), kind, static_cast<int>(pick)});
    }
  };
  add_acute(Setting::kAmbulatory, age_ < 5 ? 1.5 : (age_ < 18 ? 0.8 : 0.5), EventKind::kAcute);
  add_acute(Setting::kEmergency, age_ >= 75 ? 0.25 : 0.12, EventKind::kEmergency);
  double admissions = age_ >= 65 ? 0.05 : 0.015;
  if (Has(Chronic::kCkd)) admissions += 0.04;
  if (Has(Chronic::kDiabetes)) admissions += 0.02;
  add_acute(Setting::kInpatient, admissions, EventKind::kInpatient);
  if (Has(Chronic::kCopd)) {
    double t = static_cast<double>(std::max(window_start_, Case(Chronic::kCopd).onset));
    for (int n = 0; n < 20; ++n) {
      t += rng_.Exponential(365.25 / 0.3);
      const Days day = static_cast<Days>(t);
      if (day >= window_end_) break;
      events_.push_back({RandomTimeOn(day, 0, 23), EventKind::kCopdExacerbation, 0});
    }
  }
  std::sort(events_.begin(), events_.end());
}

void PatientBuilder::Build() {
  DecideDemographics();
  DecideChronic();
  DecidePhysiology();
  DecideDeath();
  PlanEvents();
  WritePatient();
  WriteAllergies();
  // Conditions diagnosed before the window have no encounter in the output.
  for (int c = 0; c < kChronicCount; ++c) {
    const ChronicCase& cc = cases_[c];
    if (cc.present && cc.coded && !cc.diagnosed_in_window) {
      const ChronicDef& def = ChronicTable(static_cast<Chronic>(c));
      WriteCondition(cc, def.variants[static_cast<size_t>(cc.variant)], nullptr);
    }
  }
  for (const Event& e : events_) WriteEvent(e);
}

// ---- Resources
// ------------------------------------------------------------------------------------

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
  j.Array("telecom")
      .Begin()
      .Field("system", "phone")
      .Field("value", phone)
      .Field("use", mobile ? "mobile" : "home")
      .End()
      .EndArray();
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

void PatientBuilder::WriteCondition(const ChronicCase& cc, const Diagnosis& dx,
                                    const ResourceId* encounter) {
  JsonOut j = Start(ResourceType::kCondition, cc.condition_id);
  Concept(j, "clinicalStatus", "http://terminology.hl7.org/CodeSystem/condition-clinical", "active",
          "Active");
  Concept(j, "verificationStatus", "http://terminology.hl7.org/CodeSystem/condition-ver-status",
          "confirmed", "Confirmed");
  ConceptList(j, "category", "http://terminology.hl7.org/CodeSystem/condition-category",
              "problem-list-item", "Problem List Item");
  DiagnosisConcept(j, "code", dx);
  Subject(j);
  if (encounter != nullptr) Reference(j, "encounter", "Encounter", *encounter);
  j.Field("onsetDateTime", Dt(cc.onset * kDay + 9 * 3600));
  j.Field("recordedDate", Dt(std::max(cc.onset, window_start_) * kDay + 9 * 3600));
  Reference(j, "recorder", "Practitioner",
            gen_.SharedId(ResourceType::kPractitioner, practitioner_));
  out_->Finish(j);
}

ResourceId PatientBuilder::WriteEncounter(const Event& e, Time end,
                                          std::span<const ResourceId> reasons,
                                          const Diagnosis* reason_code) {
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
  }
  j.Object("class")
      .Field("system", "http://terminology.hl7.org/CodeSystem/v3-ActCode")
      .Field("code", cls)
      .Field("display", cls_display)
      .End();
  j.Array("type").Begin().Array("coding");
  Coding(j, kSnomed, type, type_display);
  j.EndArray().Field("text", type_display).End().EndArray();
  Subject(j);
  // The patient's own practitioner for office visits; another one of the same organization in
  // the emergency department and on the ward.
  int practitioner = practitioner_;
  if (cls != "AMB") {
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
    WriteQuantityObs("laboratory", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", enc, t, v,
                     1, "%", 4.0, 5.6);
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

void PatientBuilder::WriteProcedure(std::string_view code, std::string_view display,
                                    const ResourceId& enc, Time start, Time end,
                                    const ResourceId* reason) {
  JsonOut j = Start(ResourceType::kProcedure, NewId());
  j.Field("status", "completed");
  Concept(j, "code", kSnomed, code, display, display);
  Subject(j);
  Reference(j, "encounter", "Encounter", enc);
  j.Object("performedPeriod").Field("start", Dt(start)).Field("end", Dt(end)).End();
  j.Array("performer").Begin();
  Reference(j, "actor", "Practitioner",
            gen_.SharedId(ResourceType::kPractitioner, encounter_practitioner_));
  j.End().EndArray();
  Reference(j, "location", "Location", gen_.SharedId(ResourceType::kLocation, org_));
  if (reason != nullptr) {
    j.Array("reasonReference")
        .Begin()
        .Field("reference", Ref("Condition", *reason).view())
        .End()
        .EndArray();
  }
  out_->Finish(j);
}

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
  if (reason != nullptr) {
    j.Array("reasonReference")
        .Begin()
        .Field("reference", Ref("Condition", *reason).view())
        .End()
        .EndArray();
  }
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

void PatientBuilder::WriteScreenings(const ResourceId& enc, Time t, Days day) {
  const int age = AgeOn(day);
  // Breast cancer screening (USPSTF: women 50-74 every two years).
  if (female_ && age >= 50 && age <= 74 && day - last_mammogram_ > 700 && rng_.Chance(0.75)) {
    last_mammogram_ = day;
    WriteProcedure("24623002", "Screening mammography (procedure)", enc, t + 1800, t + 3600,
                   nullptr);
  }
  // Colorectal cancer screening (45-75, colonoscopy every ten years).
  // (Done a week after the visit, so only when that week is still inside the history.)
  if (age >= 45 && age <= 75 && day - last_colonoscopy_ > 3650 && day + 8 < window_end_ &&
      rng_.Chance(0.12)) {
    last_colonoscopy_ = day;
    WriteProcedure("73761001", "Colonoscopy (procedure)", enc, t + 7 * kDay, t + 7 * kDay + 3600,
                   nullptr);
  }
  if (age >= 13) WriteSmokingStatus(enc, t);
  if (smoking_ == Smoking::kCurrent && age >= 13 && rng_.Chance(0.5)) {
    const ChronicCase& cc = Case(Chronic::kSmoker);
    // Only a case that is present has a Condition (and an id): a current smoker whose case was
    // dropped (onset after death) has none to point at.
    WriteProcedure("225323000", "Smoking cessation education (procedure)", enc, t + 600, t + 1200,
                   cc.present && cc.coded ? &cc.condition_id : nullptr);
  }
  if (age >= 12 && rng_.Chance(0.5)) WritePhq9(enc, t);
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
        WriteProcedure(def.procedure, def.procedure_display, enc, e.start + 1800, e.start + 3600,
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
  }
}

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
      j.Array("identifier")
          .Begin()
          .Field("system", kNpi)
          .Field("value", Npi(190000000 + o))
          .End()
          .EndArray();
      j.Key("active").Bool(true);
      ConceptList(j, "type", "http://terminology.hl7.org/CodeSystem/organization-type", "prov",
                  "Healthcare Provider");
      j.Field("name", name);
      j.Array("telecom")
          .Begin()
          .Field("system", "phone")
          .Field("value", Phone(city, rng))
          .Field("use", "work")
          .End()
          .EndArray();
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
      j.Array("telecom")
          .Begin()
          .Field("system", "phone")
          .Field("value", Phone(city, rng))
          .Field("use", "work")
          .End()
          .EndArray();
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
      j.Array("identifier")
          .Begin()
          .Field("system", kNpi)
          .Field("value", Npi(110000000 + p))
          .End()
          .EndArray();
      j.Key("active").Bool(true);
      j.Array("name").Begin().Field("use", "official").Field("family", family);
      j.Array("given").Str(given).EndArray().Array("prefix").Str("Dr.").EndArray().End().EndArray();
      std::string email = Lower(std::string(given) + "." + std::string(family) + std::to_string(p) +
                                "@example.org");
      j.Array("telecom")
          .Begin()
          .Field("system", "email")
          .Field("value", email)
          .Field("use", "work")
          .End()
          .EndArray();
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
