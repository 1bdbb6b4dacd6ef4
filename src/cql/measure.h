// Measure populations for one subject (https://hl7.org/fhir/R4/measure.html#scoring, and the CQF
// Measures IG's population criteria: http://hl7.org/fhir/us/cqfmeasures/measure-conformance.html
// #proportion-measures): each group's population criteria are expression names of the measure's
// primary library; the subject's membership is the result of those expressions, combined by the
// proportion / ratio rules.
//
//   ASSIGN_OR_RETURN(MeasureDefinition m, MeasureDefinition::FromResource(measure_json));
//   ASSIGN_OR_RETURN(SubjectResult r, EvaluateSubject(m, libs, terminology, data, settings));
//   r.groups[0].counts[PopulationType::kNumerator]
#pragma once

#include <array>
#include <string>
#include <vector>

#include "base/status.h"
#include "cql/evaluator.h"
#include "cql/library.h"

namespace vesta::cql {

enum class PopulationType {
  kInitialPopulation,
  kDenominator,
  kDenominatorExclusion,
  kDenominatorException,
  kNumerator,
  kNumeratorExclusion,
  kMeasurePopulation,
  kMeasurePopulationExclusion,
};
inline constexpr int kPopulationTypes = 8;

// The code of https://terminology.hl7.org/CodeSystem/measure-population ("initial-population").
std::string_view PopulationCode(PopulationType t);

struct MeasureDefinition {
  struct Group {
    // The criteria expression of each population type, empty when the group has none.
    std::array<std::string, kPopulationTypes> criteria;
    std::vector<std::string> stratifiers;  // stratifier criteria expressions
  };
  std::string url, version, library_url, scoring;  // scoring: proportion, ratio, cohort, ...
  bool boolean_basis = true;  // cqfm-populationBasis: boolean (patients) or a resource type
  std::vector<Group> groups;
  std::vector<std::string> supplemental_data;  // expression names

  // Reads a FHIR Measure resource. kInvalid when a population has no criteria expression or the
  // Measure names no library; kNotSupported for a population type outside the list above.
  static Result<MeasureDefinition> FromResource(const json::Value& measure);
};

struct SubjectResult {
  struct Group {
    // How many items (1 for the patient, or the number of episodes) each population holds after
    // the scoring rules: denominator items that are excluded or excepted are not counted in the
    // denominator, numerator items only among the denominator that remains.
    std::array<int64_t, kPopulationTypes> counts{};
    std::vector<Value> stratifier_values;
  };
  std::vector<Group> groups;
};

// Evaluates the measure for the patient whose data `data` holds. The measure's library (found by
// the name ending its canonical URL) must be in `libraries`.
Result<SubjectResult> EvaluateSubject(const MeasureDefinition& measure, const LibrarySet& libraries,
                                      const Terminology& terminology, DataProvider& data,
                                      const EvaluationSettings& settings);

// The measure's primary library in `libraries` (by the name ending its canonical URL).
Result<const Library*> MeasureLibrary(const MeasureDefinition& measure,
                                      const LibrarySet& libraries);
// The same with an evaluator the caller keeps for the patient (its definitions' results cached
// for further expressions, e.g. the supplemental data).
Result<SubjectResult> EvaluateSubject(const MeasureDefinition& measure, const Library& library,
                                      Evaluator& ev);

}  // namespace vesta::cql
