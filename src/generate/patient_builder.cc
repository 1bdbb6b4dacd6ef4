// The clinical model of one patient: who they are, which long-term conditions they have and
// when, their physiology, whether they die in the window, and the encounters that follow.
// The resources each encounter produces are written by the files named in patient_builder.h.
#include "generate/patient_builder.h"

#include <algorithm>
#include <cmath>

#include "generate/tables.h"

namespace vesta::generate::internal {

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
  if (options_.measures) WriteMeasureRecords();
}

}  // namespace vesta::generate::internal
