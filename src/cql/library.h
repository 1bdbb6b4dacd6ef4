// ELM libraries (https://cql.hl7.org/elm.html) loaded for evaluation, the set of libraries a
// measure needs with their `include`s resolved, the value sets they test codes against, and the
// interface through which retrieves reach the data.
//
//   LibrarySet libs;
//   RETURN_IF_ERROR(libs.AddFhirLibrary(library_resource));   // ELM from Library.content
//   RETURN_IF_ERROR(libs.Link());      // includes resolved, every ELM node type checked
//   const Library* lib = libs.Find("FHIRHelpers", "4.0.001");
//
// Loading walks each library's whole tree: a node type the evaluator does not implement is an
// error naming the type and the library at load time, so nothing is silently evaluated wrong.
//
// Thread-safety: a linked LibrarySet and a loaded Terminology are immutable and may be shared by
// evaluations on several threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "json/value.h"

namespace vesta::cql {

// One ELM library: its JSON kept whole, with lookup tables over its definitions.
class Library {
 public:
  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }

  // The definitions by name; nullptr when absent.
  const json::Value* FindExpression(std::string_view name) const;
  const json::Value* FindParameter(std::string_view name) const;
  const json::Value* FindValueSet(std::string_view name) const;
  const json::Value* FindCodeSystem(std::string_view name) const;
  const json::Value* FindCode(std::string_view name) const;
  const json::Value* FindConcept(std::string_view name) const;
  // The names of the expression definitions, in definition order.
  const std::vector<std::string>& expression_names() const { return expression_names_; }
  // Every overload of a function, in definition order.
  const std::vector<const json::Value*>& FindFunctions(std::string_view name) const;
  // The library an `include ... called <alias>` names. REQUIRES: the set was linked.
  const Library* FindInclude(std::string_view alias) const;

 private:
  friend class LibrarySet;
  using Index = std::unordered_map<std::string, const json::Value*>;
  std::string name_, version_;
  json::Document doc_;
  std::vector<std::string> expression_names_;
  Index expressions_, parameters_, valuesets_, codesystems_, codes_, concepts_;
  std::unordered_map<std::string, std::vector<const json::Value*>> functions_;
  std::unordered_map<std::string, const Library*> includes_;
};

class LibrarySet {
 public:
  // Adds a library from its ELM JSON text (https://cql.hl7.org/elm.html, the JSON form).
  Status AddElmJson(std::string_view text);
  // Adds a FHIR Library resource's logic: the `content` attachment with contentType
  // `application/elm+json` (base64 `data`). kInvalid when there is none.
  Status AddFhirLibrary(const json::Value& library);
  // Resolves every library's includes (by name and, when given, version) and checks every ELM
  // node type. kNotSupported naming the first node type that is not implemented; kNotFound
  // naming a missing include.
  Status Link();

  // The library by name and version; an empty version takes the last one added.
  const Library* Find(std::string_view name, std::string_view version = {}) const;

 private:
  std::vector<std::unique_ptr<Library>> libraries_;
};

// Whether the evaluator implements an ELM node type (expression or type specifier).
bool IsSupportedElmType(std::string_view type);

// Value sets as sets of (system, code), from FHIR ValueSet resources' expansions (or, without an
// expansion, their compose.include concepts). Membership follows
// https://cql.hl7.org/09-b-cqlreference.html#in-valueset: a code is in a value set when one of its
// codes has the same system and code as a member; versions are not compared.
class Terminology {
 public:
  void AddValueSet(const json::Value& valueset);
  // Adds every ValueSet in a Bundle's entries.
  void AddBundle(const json::Value& bundle);
  bool Known(std::string_view url) const;
  bool Contains(std::string_view url, std::string_view system, std::string_view code) const;
  // A bare code string: whether a member of any system has that code
  // (https://cql.hl7.org/09-b-cqlreference.html#in-valueset, String overload).
  bool ContainsCode(std::string_view url, std::string_view code) const;

 private:
  std::unordered_map<std::string, std::unordered_set<std::string>> sets_;  // url -> system|code
};

// Where retrieves get their data: the resources of one patient's compartment. The documents
// behind the returned nodes must live as long as the provider.
class DataProvider {
 public:
  virtual ~DataProvider() = default;
  // The resources of `type` for the current patient (for "Patient", the patient itself).
  virtual std::vector<const json::Value*> Retrieve(std::string_view type) = 0;
};

// A DataProvider over resources held in memory, e.g. a test case's Bundle.
class InMemoryDataProvider : public DataProvider {
 public:
  // Takes the resources of a Bundle's entries (the bundle must outlive the provider).
  void AddBundle(const json::Value& bundle);
  void Add(const json::Value& resource);
  // The ids of the Patient resources held.
  std::vector<std::string> PatientIds() const;
  // Narrows retrieves to one patient's compartment: that Patient, the resources whose `subject`,
  // `patient` or `beneficiary` reference it, and the resources that reference no patient
  // (Medication, Location, ...). Without it every resource held is returned.
  void SetPatient(std::string id) { patient_ = std::move(id); }
  std::vector<const json::Value*> Retrieve(std::string_view type) override;

 private:
  std::unordered_map<std::string, std::vector<const json::Value*>> by_type_;
  std::string patient_;
};

}  // namespace vesta::cql
