// The search parameters of each resource type (https://hl7.org/fhir/R4/searchparameter.html),
// loaded from HL7's R4 SearchParameter resources embedded at build time (tools/modelgen --search),
// with each FHIRPath expression compiled once for the type it applies to.
//
//   const search::Registry& reg = search::Registry::R4();
//   const search::Param* code = reg.Find("Observation", "code");   // type kToken
//   for (const search::Param& p : reg.ForType("Observation")) ...
//
// A shared parameter (one SearchParameter with many bases, e.g. clinical-code) has an expression
// that is a union over all its bases; each type keeps only the union branches that start with its
// own name, so extraction never evaluates another type's paths.
//
// Thread-safety: a Registry is immutable once built; R4() builds it on first use (thread-safe)
// and it lives for the whole process.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "fhir/fhirpath/fhirpath.h"
#include "json/value.h"

namespace vesta::search {

// https://hl7.org/fhir/R4/valueset-search-param-type.html
enum class ParamType {
  kNumber,
  kDate,
  kString,
  kToken,
  kReference,
  kComposite,
  kQuantity,
  kUri,
  kSpecial,
};

std::string_view ParamTypeName(ParamType t);

// One part of a composite parameter
// (https://hl7.org/fhir/R4/searchparameter-definitions.html#SearchParameter.component): the
// parameter it takes its type from and an expression relative to the composite's matches.
struct Component {
  std::string definition;  // the component parameter's canonical URL
  std::string code;        // that parameter's code ("code", "value-quantity")
  ParamType type = ParamType::kToken;
  std::string expression;  // relative to an item the composite's expression matched
  std::optional<fhirpath::Expression> compiled;
  std::vector<std::string> targets;  // reference: the allowed target types
};

// A composite parameter has at most this many components (R4's have two or three).
inline constexpr size_t kMaxComponents = 3;

struct Param {
  std::string code;  // the name used in URLs: "code", "subject", "_tag"
  std::string url;   // the SearchParameter's canonical URL
  ParamType type = ParamType::kToken;
  std::string expression;  // the FHIRPath for this resource type only (union branches filtered)
  // Compiled `expression`; empty for parameters answered from the resource row (_id,
  // _lastUpdated) and for expressions the engine could not compile (they are not indexed).
  std::optional<fhirpath::Expression> compiled;
  std::vector<std::string> targets;  // reference: the allowed target types
  // Composite only (https://hl7.org/fhir/R4/search.html#composite): the components, in the order
  // of the `$`-separated parts of a search value. A composite is compiled only when all of its
  // components are.
  std::vector<Component> components;
  // The other parameters of the type whose rows are exactly this one's, when its expression is
  // the union of theirs (same type; for composites the same components): combo-code = code |
  // component-code, combo-code-value-quantity = code-value-quantity (on Observation) |
  // component-code-value-quantity (on Observation.component). Such a parameter writes no rows;
  // a search reads theirs. Never set on reference parameters.
  std::vector<std::string> rows_of;
};

class Registry {
 public:
  static const Registry& R4();

  // Builds a registry from the JSON produced by tools/modelgen --search.
  static Result<std::unique_ptr<Registry>> FromJson(std::string_view text);

  // The R4 registry plus SearchParameter resources stored on the server (their JSON), e.g. a
  // `token` parameter on Patient.extension('...').value. Retired ones are left out; one that
  // cannot be used (unknown type or base, composite or special, an expression that does not
  // compile, a code the base type already has) is left out with a line in `skipped`.
  static Result<std::unique_ptr<Registry>> R4WithSearchParameters(
      const std::vector<std::string>& search_parameters, std::vector<std::string>* skipped);

  // The registry that indexing and search use: R4() until SetActive() installs another (the
  // server does so at start-up, with its stored SearchParameters). Call SetActive before any
  // search or write; the registry then lives for the whole process.
  static const Registry& Active();
  static void SetActive(std::unique_ptr<Registry> registry);

  // The parameter `code` of `type` (resource-level ones such as _tag included), or nullptr.
  const Param* Find(std::string_view type, std::string_view code) const;
  // Every parameter of `type`, sorted by code. Empty for an unknown type.
  const std::vector<Param>& ForType(std::string_view type) const;
  // The parameters of `type` that put it in a patient's compartment
  // (https://hl7.org/fhir/R4/compartmentdefinition-patient.html); "{def}" for Patient itself.
  const std::vector<std::string>& PatientCompartmentParams(std::string_view type) const;
  // How many (type, parameter) expressions failed to compile and are therefore not indexed.
  int uncompiled() const { return uncompiled_; }

 private:
  void AddDefinition(const json::Value& definition, bool custom, std::vector<std::string>* skipped);
  void SortAndDedupe();
  // Fills `param`'s components from the definition's `component` list; false when one cannot
  // be used (unknown definition, a composite or special one, an expression that does not
  // compile, fewer than 2 or more than kMaxComponents).
  bool AddComponents(const json::Value& definition, Param* param) const;
  void LinkUnionRows();

  // Every definition's type, code and targets by canonical URL: what composite components refer
  // to.
  struct Definition {
    ParamType type;
    std::string code;
    std::vector<std::string> targets;
  };
  std::map<std::string, Definition, std::less<>> definitions_;

  std::map<std::string, std::vector<Param>, std::less<>> by_type_;
  std::map<std::string, std::vector<std::string>, std::less<>> patient_compartment_;
  int uncompiled_ = 0;
};

// The union branches of `expression` (split at top-level '|') that apply to `type`: those that
// start with `type` (possibly inside parentheses) or with Resource/DomainResource (rewritten to
// `type`). Exposed for tests.
std::string ExpressionForType(std::string_view expression, std::string_view type);

}  // namespace vesta::search
