// The generator's clinical and demographic tables: code systems, concepts, prevalence by age and
// sex, medications, vaccines, allergies and places. Data, not logic: patient_builder.cc decides who
// gets what; these tables say with which codes and how often. docs/generate.md lists the sources
// of the figures (US adult prevalence from CDC/NHANES summaries, rounded).
//
// Every string_view here points at a string literal and lives for the whole program.
#pragma once

#include <array>
#include <span>
#include <string_view>

namespace vesta::generate {

inline constexpr std::string_view kIcd10Cm = "http://hl7.org/fhir/sid/icd-10-cm";
inline constexpr std::string_view kIcd9Cm = "http://hl7.org/fhir/sid/icd-9-cm";
inline constexpr std::string_view kSnomed = "http://snomed.info/sct";
inline constexpr std::string_view kLoinc = "http://loinc.org";
inline constexpr std::string_view kRxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
inline constexpr std::string_view kCvx = "http://hl7.org/fhir/sid/cvx";
inline constexpr std::string_view kUcum = "http://unitsofmeasure.org";
inline constexpr std::string_view kCpt = "http://www.ama-assn.org/go/cpt";
inline constexpr std::string_view kNpi = "http://hl7.org/fhir/sid/us-npi";
// The medical record number system of the synthetic hospital network.
inline constexpr std::string_view kMrnSystem = "urn:oid:2.16.840.1.113883.3.7418.1.1";

// A diagnosis: its ICD-10-CM code and, where one is usual, the SNOMED CT concept.
struct Diagnosis {
  std::string_view icd10;  // with its dot, as ICD-10-CM prints it: "E11.9"
  std::string_view icd10_display;
  std::string_view snomed;  // empty when no SNOMED CT coding is given
  std::string_view snomed_display;
};

// The ICD-9-CM code a record made before the ICD-10-CM transition would carry for a diagnosis
// (GenerateOptions::legacy_icd9), with the ICD-9-CM title.
struct LegacyIcd9 {
  std::string_view icd10;
  std::string_view icd9;  // with its dot: "250.00"
  std::string_view icd9_display;
};

// The ICD-9-CM code for an ICD-10-CM code of the long-term conditions; nullptr for any other.
const LegacyIcd9* Icd9For(std::string_view icd10);

// The US compliance date of ICD-10-CM (October 1, 2015), as days since 1970-01-01: diagnoses
// recorded before it were coded in ICD-9-CM.
inline constexpr int kIcd10TransitionDay = 16709;

struct Drug {
  std::string_view rxnorm;
  std::string_view display;
  std::string_view dose_text;  // the patient instruction
  int per_day;                 // doses a day (0: as needed)
};

// The long-term conditions the model tracks. Order matters: patient_builder.cc decides them in this
// order because later ones depend on earlier ones (diabetes on obesity, CKD on diabetes...).
enum class Chronic {
  kObesity,
  kSmoker,
  kHypertension,
  kDiabetes,
  kHyperlipidemia,
  kAsthma,
  kCopd,
  kCkd,
  kDepression,
};
inline constexpr int kChronicCount = 9;

// Prevalence at the reference date for one age band: [min_age, next band's min_age).
struct AgeBand {
  int min_age;
  double male;
  double female;
};

struct ChronicDef {
  Chronic id;
  std::string_view name;
  int min_age;                          // never present before this age
  std::span<const AgeBand> prevalence;  // before risk modifiers
  std::span<const Diagnosis> variants;  // which code a case gets
  std::span<const double> variant_weights;
  std::span<const Drug> drugs;  // long-term medication; may be empty
  double treated;               // share of cases with a medication request
};

const ChronicDef& ChronicTable(Chronic c);
// The base prevalence for an age and sex (before modifiers).
double BasePrevalence(const ChronicDef& def, int age, bool female);

// Acute problems: why people come in outside their chronic care.
enum class Setting { kAmbulatory, kEmergency, kInpatient };
struct AcuteDef {
  Diagnosis dx;
  Setting setting;
  double weight;               // relative frequency within the setting
  std::string_view procedure;  // SNOMED CT procedure done for it, or empty
  std::string_view procedure_display;
  std::span<const Drug> drugs;  // short course; may be empty
  int min_age;
  int days;  // typical duration until resolved
};
std::span<const AcuteDef> AcuteTable();

struct Vaccine {
  std::string_view cvx;
  std::string_view display;
};
// Named vaccines used by the schedule in immunizations.cc.
struct VaccineSet {
  Vaccine hep_b_ped, dtap, ipv, hib, pcv13, mmr, varicella, hep_a_ped, tdap, hpv, mcv4, influenza,
      td, zoster, ppsv23, covid;
};
const VaccineSet& Vaccines();

struct AllergyDef {
  std::string_view system;  // kSnomed or kRxNorm
  std::string_view code;
  std::string_view display;
  std::string_view category;  // food | medication | environment
  double prevalence;
  std::string_view reaction;  // SNOMED CT manifestation
  std::string_view reaction_display;
};
std::span<const AllergyDef> AllergyTable();

// Places: a city with its state, ZIP prefix, area code and standard UTC offset.
struct City {
  std::string_view name;
  std::string_view state;
  std::string_view zip3;
  std::string_view area_code;
  std::string_view utc_offset;  // "-05:00"
};
std::span<const City> Cities();
std::span<const std::string_view> Streets();
std::span<const std::string_view> StreetSuffixes();
std::span<const std::string_view> FamilyNames();
std::span<const std::string_view> MaleNames();
std::span<const std::string_view> FemaleNames();

// The codes of the records written for quality measures (GenerateOptions::measures). Each is a
// member of the value set named beside it, as the eCQMs CMS122 (diabetes: HbA1c poor control)
// and CMS130 (colorectal cancer screening) of the 2021 FHIR measure content expand them (VSAC).
struct Code {
  std::string_view system;
  std::string_view code;
  std::string_view display;
};
struct MeasureCodes {
  Code office_visit;       // CPT 99213: "Office Visit"
  Code new_problem;        // CPT 99214: "Office Visit"
  Code preventive[3];      // CPT 99395, 99396, 99397 (ages 18-39, 40-64, 65+): "Preventive Care
                           // Services - Established Office Visit, 18 and Up"
  Code emergency;          // CPT 99283: "Emergency Department Visit"
  Code telephone;          // SNOMED CT 185317003: "Telephone Visits"
  Code colonoscopy;        // SNOMED CT 73761001: "Colonoscopy"
  Code sigmoidoscopy;      // SNOMED CT 44441009: "Flexible Sigmoidoscopy"
  Code colectomy;          // SNOMED CT 26390003: "Total Colectomy"
  Code fobt;               // LOINC 2335-8: "Fecal Occult Blood Test (FOBT)"
  Code fit_dna;            // LOINC 77354-9: "FIT DNA"
  Code ct_colonography;    // LOINC 79101-2: "CT Colonography"
  Code stool_negative;     // SNOMED CT 260385009 (a result)
  Code stool_positive;     // SNOMED CT 10828004 (a result)
  Code hospice;            // SNOMED CT 385763009: "Hospice care ambulatory"
  Code palliative;         // SNOMED CT 103735009: "Palliative Care Intervention"
  Diagnosis colon_cancer;  // C18.9: "Malignant Neoplasm of Colon"
  Diagnosis frailty;       // M62.81: "Frailty Diagnosis"
  std::span<const Diagnosis> advanced_illness;  // I50.9, F03.90, G30.9: "Advanced Illness"
  std::span<const double> advanced_illness_weights;
};
const MeasureCodes& MeasureTable();

// Share of the population by age, in five-year bands from 0 (index 0: ages 0-4) to 95-99,
// roughly the US 2020 census pyramid.
std::span<const double> AgePyramid();

}  // namespace vesta::generate
