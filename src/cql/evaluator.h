// The ELM evaluator: expression definitions of a linked LibrarySet evaluated for one patient with
// CQL 1.5 semantics (https://cql.hl7.org/elm.html, https://cql.hl7.org/09-b-cqlreference.html).
//
//   EvaluationSettings settings;
//   settings.parameters.emplace_back("Measurement Period", period);
//   Evaluator ev(libs, terminology, patient_data, settings);
//   ASSIGN_OR_RETURN(Value ip, ev.Evaluate(*measure_library, "Initial Population"));
//
// An Evaluator serves one patient (the Patient context): expression results are cached for its
// lifetime, so each definition is evaluated once however many others refer to it. It is not
// thread-safe; use one Evaluator per patient and thread. The libraries, terminology and data
// must outlive it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "cql/library.h"
#include "cql/value.h"

namespace vesta::cql {

struct EvaluationSettings {
  // Parameter values by name, given to every library that declares the parameter (a measure's
  // "Measurement Period" reaches the libraries it includes too); others take their defaults.
  std::vector<std::pair<std::string, Value>> parameters;
  // Now() and Today() (https://cql.hl7.org/09-b-cqlreference.html#now): fixed for the evaluation.
  DateTime now;
  // The zone of DateTimes written without one (in data and in ELM literals), in minutes.
  int default_offset_minutes = 0;
};

class Evaluator {
 public:
  Evaluator(const LibrarySet& libraries, const Terminology& terminology, DataProvider& data,
            EvaluationSettings settings);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // The value of the expression definition `name` of `library`. kNotFound when there is no such
  // definition; kInvalid when evaluation raised an error (a Message with severity Error, a
  // singleton from a list of several items, ...), the message naming the definition.
  Result<Value> Evaluate(const Library& library, std::string_view name);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::cql
