// One function call being evaluated, and the groups of functions by theme (internal to the
// engine). Evaluator::CallFunction (functions.cc) evaluates the functions that iterate or filter
// (existence, filtering, subsetting, combining, aggregate, sort) and hands the others to a group:
//
//   conversions.cc  toX()/convertsToX() (http://hl7.org/fhirpath/N1/#conversion)
//   strings.cc      string manipulation (http://hl7.org/fhirpath/N1/#string-manipulation)
//   math.cc         math (http://hl7.org/fhirpath/N1/#math) and decimal boundaries
//   dates.cc        now()/today(), precision and boundaries, the date/time component functions
//   fhir.cc         the FHIR additions (https://hl7.org/fhir/R4/fhirpath.html#functions), type()
#pragma once

#include <string>
#include <string_view>

#include "fhir/fhirpath/eval.h"

namespace vesta::fhirpath::internal {

// The call `n` on `input` in frame `f`, with the argument helpers every group uses.
// Lives for one call; holds references only.
class FunctionCall {
 public:
  FunctionCall(Evaluator& ev, const Node& n, Items input, const Frame& f)
      : ev_(ev), n(n), input(input), f(f) {}

  Collection AllInput() const { return Collection(input.begin(), input.end()); }
  Result<Collection> Arg(size_t i) { return ev_.Eval(*n.args[i], f); }
  // Evaluates argument `arg` with `item` as $this.
  Result<Collection> EvalOn(const Node& arg, const Item& item, int64_t index) {
    return ev_.EvalOn(arg, item, index, f);
  }
  // The System value of a single input item: false for an empty input, or an input that is a
  // primitive without a value (https://hl7.org/fhir/R4/json.html#primitive: an element with only
  // an id or extensions has no value, and functions see it as empty); an error for more items.
  Result<bool> Single(Item* out);
  // The string of a single input item (false when empty or value-less).
  Result<bool> StringInput(std::string_view* out);
  Result<bool> StringArg(size_t i, std::string* out);
  Result<bool> IntArg(size_t i, int64_t* out);
  Status Error(const std::string& what) const { return ev_.Error(n, what); }
  const Environment& env() const { return ev_.env_; }
  const json::Value* root() const { return ev_.root_; }

 private:
  Evaluator& ev_;

 public:
  const Node& n;
  const Items input;
  const Frame& f;
};

inline Collection Bool(bool b) { return Collection{Item::Boolean(b)}; }

Result<Collection> CallConversion(FunctionCall& c);
Result<Collection> CallString(FunctionCall& c);
Result<Collection> CallMath(FunctionCall& c);
Result<Collection> CallDate(FunctionCall& c);
Result<Collection> CallFhir(FunctionCall& c);

// Shared by the groups.
std::optional<Item> ToStringValue(const Item& x);
std::string Lower(std::string s);

}  // namespace vesta::fhirpath::internal
