// The FHIR R4 type model, loaded from HL7's StructureDefinitions.
//
// https://hl7.org/fhir/R4/structuredefinition.html — each base StructureDefinition
// (derivation = specialization) defines a type: 20 primitive types, the complex data types and
// the 147 resources. Its snapshot lists every element with cardinality and types; elements whose
// type is BackboneElement/Element and that have children define an inline structure (e.g.
// `Patient.contact`); `contentReference` reuses one (`Questionnaire.item.item` is a
// `Questionnaire.item`). Choice elements (`value[x]`) appear in JSON as the name plus the type
// with its first letter upper-cased (`valueQuantity`, `valueString`):
// https://hl7.org/fhir/R4/formats.html#choice.
//
// The definitions are compiled at build time (tools/modelgen) into a compact text form embedded in
// the binary, so Model::R4() costs a few milliseconds and needs no files at run time.
//
//   const fhir::Model& model = fhir::Model::R4();
//   const fhir::StructInfo* patient = model.FindStruct("Patient");
//   fhir::ElementMatch m = patient->Match("deceasedBoolean");   // m.element->name == "deceased"
//                                                               // m.type->code == "boolean"
//
// Thread-safety: a Model is immutable after loading; all const methods are safe to call from any
// thread. Pointers it returns live as long as the Model (R4() lives for the whole process).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace vesta::fhir {

enum class TypeKind { kPrimitive, kComplex, kResource, kBackbone };

inline constexpr uint32_t kUnbounded = UINT32_MAX;

struct StructInfo;

// Lets unordered_maps keyed by std::string be searched with a string_view, without a copy.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// One allowed type of an element.
struct TypeRef {
  std::string code;  // a FHIR type name: "string", "HumanName", "Reference", "BackboneElement", ...
  // The structure to validate/navigate values of this type with: the named complex type or
  // resource, or the inline backbone structure. nullptr for primitive types and for "Resource"
  // (any resource: look at the value's resourceType).
  const StructInfo* structure = nullptr;
  // Profiles the type is constrained to, for Reference/canonical: the target resource types
  // ("Patient", "Group"...). Empty means any.
  std::vector<std::string> target_types;
};

// One element of a structure.
struct ElementInfo {
  std::string path;  // the full path in its StructureDefinition, e.g. "Observation.value[x]"
  std::string name;  // the JSON name, without [x] for choice elements: "value"
  bool is_choice = false;
  uint32_t min = 0;
  uint32_t max = 1;  // kUnbounded for "*"
  std::vector<TypeRef> types;
  bool is_summary = false;   // ElementDefinition.isSummary: kept by _summary=true
  bool is_modifier = false;  // ElementDefinition.isModifier

  bool is_array() const { return max > 1; }
};

// Which element (and, for a choice, which type) a JSON property name denotes.
struct ElementMatch {
  const ElementInfo* element = nullptr;  // nullptr: the name is not an element of the structure
  const TypeRef* type = nullptr;         // the type chosen (the only one for non-choice elements)
  bool is_primitive_extension = false;   // the name was "_name": the element's id/extension part
};

// A named type (primitive, complex, resource) or an inline backbone structure.
struct StructInfo {
  std::string name;  // "Patient", "HumanName", "string", or a path "Patient.contact"
  TypeKind kind = TypeKind::kComplex;
  std::string base;  // the base type's name ("DomainResource", "Element"); "" for Base/backbones
  bool is_abstract = false;
  std::vector<ElementInfo> elements;  // in definition order

  // Resolves a JSON property name: "name", "valueQuantity" (choice), "_birthDate" (primitive
  // extension). Returns an empty match when the name is not an element here.
  ElementMatch Match(std::string_view json_name) const;
  // The element with this (non-JSON) name, e.g. "value" for value[x]; nullptr when absent.
  const ElementInfo* FindElement(std::string_view name) const;

  // Built by the loader: JSON name -> (element index, type index).
  std::unordered_map<std::string, std::pair<uint32_t, uint32_t>, StringHash, std::equal_to<>>
      json_names;
};

class Model {
 public:
  // The R4 (4.0.1) model compiled into the binary. Loaded on first use; never fails (a broken
  // embedded model is a build error caught by tests).
  static const Model& R4();

  // Loads a model from the compact text form produced by tools/modelgen.
  static Result<std::unique_ptr<Model>> FromText(std::string_view text);

  // A named type ("Patient", "Quantity", "dateTime") or a backbone path ("Patient.contact").
  const StructInfo* FindStruct(std::string_view name) const;
  bool IsResourceType(std::string_view name) const;
  bool IsPrimitiveType(std::string_view name) const;
  // True when `type` is `ancestor` or derives from it ("Patient" is a "DomainResource" and a
  // "Resource"; "Age" is a "Quantity").
  bool IsA(std::string_view type, std::string_view ancestor) const;
  // The concrete (non-abstract) resource type names, sorted.
  const std::vector<std::string>& resource_types() const { return resource_types_; }

 private:
  std::unordered_map<std::string, std::unique_ptr<StructInfo>, StringHash, std::equal_to<>>
      structs_;
  std::vector<std::string> resource_types_;
};

}  // namespace vesta::fhir
