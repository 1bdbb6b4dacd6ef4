// FHIRPath: compile an expression once, evaluate it many times over parsed FHIR JSON.
//
// Implements FHIRPath N1 (http://hl7.org/fhirpath/N1/) with the FHIR R4 additions
// (https://hl7.org/fhir/R4/fhirpath.html), over the R4 model (fhir/model/model.h).
//
//   ASSIGN_OR_RETURN(fhirpath::Expression expr,
//                    fhirpath::Expression::Compile("Patient.name.where(use = 'official').given"));
//   ASSIGN_OR_RETURN(fhirpath::Collection given, expr.Evaluate(doc.root()));
//   for (const fhirpath::Item& item : given) ... fhirpath::ItemToString(item) ...
//
// Evaluation never copies the input: node items point into the json::Document (see value.h).
// Errors — syntax, unknown functions or types, elements the model does not have (when the type
// is known at compile time), and run-time errors such as a collection where one item is required
// — are kInvalid Statuses saying what and at which position in the expression.
//
// Thread-safety: a compiled Expression is immutable; Evaluate may run concurrently from many
// threads (each call has its own state). Environment and the services it points to must be
// thread-safe if shared.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "fhir/fhirpath/value.h"
#include "json/value.h"

namespace vesta::fhirpath {

namespace internal {
struct Node;
}

// Finds the resource a reference points to, for resolve() outside the evaluated resource (the
// store implements it). References inside a Bundle being evaluated and to contained resources
// are resolved by the engine itself first.
class ReferenceResolver {
 public:
  virtual ~ReferenceResolver() = default;
  // `reference` is the Reference.reference text ("Patient/1", an absolute URL, ...). Returns the
  // resource's JSON, which must stay valid for the rest of the evaluation, or nullptr.
  virtual const json::Value* Resolve(std::string_view reference) const = 0;
};

// Terminology operations for memberOf() (https://hl7.org/fhir/R4/fhirpath.html#functions).
// NOT YET IMPLEMENTED by the project: the terminology module will provide it. Without one,
// memberOf() evaluates to empty.
class TerminologyService {
 public:
  virtual ~TerminologyService() = default;
  // Whether the code/Coding/CodeableConcept (`code` is its JSON; `fhir_type` its FHIR type,
  // or a String item) is in the value set `valueset_url`. Returns an error when the value set
  // is unknown.
  virtual Result<bool> MemberOf(const Item& code, std::string_view valueset_url) const = 0;
};

// Profile validation for conformsTo() (https://hl7.org/fhir/R4/fhirpath.html#functions).
// NOT YET IMPLEMENTED by the project: the validation module will provide it. Without one,
// conformsTo() knows only the base resource profiles
// (http://hl7.org/fhir/StructureDefinition/<Type>) and errors on any other URL.
class ProfileValidator {
 public:
  virtual ~ProfileValidator() = default;
  virtual Result<bool> ConformsTo(const Item& resource, std::string_view profile_url) const = 0;
};

// What an evaluation can see besides the resource.
struct Environment {
  // Caller-supplied variables: %name → collection (the items must outlive the evaluation).
  std::map<std::string, Collection, std::less<>> variables;
  const ReferenceResolver* resolver = nullptr;
  const TerminologyService* terminology = nullptr;
  const ProfileValidator* validator = nullptr;
  // now(), today(), timeOfDay(): microseconds since the Unix epoch, UTC. 0 means the system
  // clock. The local timezone used is UTC.
  int64_t now_micros = 0;
  // Receives trace() output (name, collection). Null: trace() is a no-op.
  std::function<void(std::string_view, const Collection&)> trace;
};

// One call of an extension function (ExtensionFunction::call).
struct ExtensionCall {
  std::span<const Item> input;  // the focus the function is called on
  // The evaluated arguments, or, for a function with type_argument, none.
  std::vector<Collection> args;
  // The type named as the argument (`Patient` in `getReferenceKey(Patient)`), or "" when absent.
  std::string_view type_name;
  const json::Value* root_resource = nullptr;  // %resource, or nullptr
  const Environment* env = nullptr;
};

// A function the caller adds to the language, such as SQL on FHIR's getResourceKey() and
// getReferenceKey() (https://sql-on-fhir.org/ig/latest/StructureDefinition-ViewDefinition.html
// #required-additional-functions). Expressions compiled with CompileOptions::extensions may call
// it by name. An extension with the name of one of the engine's functions replaces it in those
// expressions (a dialect: SQL on FHIR's join() gives '' for an empty collection).
struct ExtensionFunction {
  int min_args = 0;
  int max_args = 0;
  // Whether the argument is a type specifier, as for ofType(T): handed over by name
  // (ExtensionCall::type_name) rather than evaluated. Such a function takes at most one argument.
  bool type_argument = false;
  // Must be thread-safe when the compiled expression is evaluated from several threads.
  std::function<Result<Collection>(const ExtensionCall&)> call;
};
using ExtensionFunctions = std::map<std::string, ExtensionFunction, std::less<>>;

// How strictly an expression is checked against the model when it is compiled
// (http://hl7.org/fhirpath/N1/#type-safety-and-strict-evaluation: "an implementation may choose to
// ... return an error ... or it may choose to return empty" for paths the model does not allow).
enum class Mode : uint8_t {
  // A type name that is not the context's type (`Observation.code` on a Patient) and an element
  // the model does not have select nothing, as at run time; the `as` operator on several items
  // keeps those of the type (as ofType() does) where strict evaluation is an error. What callers
  // evaluating expressions written for many resource types (search parameters, `vesta fhirpath`)
  // want.
  kNonStrict,
  // Both are errors when the expression is compiled ("the context is not a Observation", "'foo'
  // is not an element of Patient"), and `as` on several items when evaluated: the official
  // suite's mode="strict" tests.
  kStrict,
};

struct CompileOptions {
  // The type of the context the expression will be evaluated on ("Patient"), when known. Used
  // for static checks: with Mode::kStrict, a path that names an element the type does not have,
  // or a type the context is not, is an error.
  std::string context_type;
  // In both modes, an element named with its choice type suffix (`Observation.valueQuantity`
  // instead of `value.ofType(Quantity)`, https://hl7.org/fhir/R4/fhirpath.html#polymorphism) is
  // an error when the context type is known.
  Mode mode = Mode::kNonStrict;
  // When set, functions that rely on order (first, last, skip, take, tail, [n]) applied to an
  // unordered collection (children(), descendants()) are errors
  // (http://hl7.org/fhirpath/N1/#ordered-collections).
  bool check_ordered_functions = false;
  // Functions added to the language (ExtensionFunction); kept alive by the compiled expression.
  std::shared_ptr<const ExtensionFunctions> extensions;
};

// A compiled expression.
class Expression {
 public:
  static Result<Expression> Compile(std::string_view text, const CompileOptions& options = {});

  // Evaluates with `resource` as the context, %resource, %rootResource and %context.
  // REQUIRES: `resource` (and its Document) outlives the returned collection's node items.
  Result<Collection> Evaluate(const json::Value& resource, const Environment& env = {}) const;
  // Evaluates on an arbitrary context collection; `root_resource` (may be null) is %resource.
  Result<Collection> Evaluate(const Collection& context, const json::Value* root_resource,
                              const Environment& env) const;
  // The same, appending the result to *out: a caller that evaluates over many resources and
  // keeps *out's capacity (clear(), not a fresh collection) spares most of an evaluation's
  // allocations. On an error *out may hold part of the result.
  Status EvaluateInto(std::span<const Item> context, const json::Value* root_resource,
                      const Environment& env, Collection* out) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::shared_ptr<const internal::Node> root_;
  std::shared_ptr<const ExtensionFunctions> extensions_;  // the root_'s nodes point into it
};

// A node item for a resource's root JSON: its type comes from `resourceType`.
Item ResourceItem(const json::Value& resource);

}  // namespace vesta::fhirpath
