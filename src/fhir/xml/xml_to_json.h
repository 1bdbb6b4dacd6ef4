// FHIR XML → FHIR JSON (https://hl7.org/fhir/R4/xml.html → https://hl7.org/fhir/R4/json.html).
//
//   ASSIGN_OR_RETURN(json::Document doc, fhirxml::ResourceXmlToJson(xml, fhir::Model::R4()));
//
// What is converted, as far as the test harness needs it today: element names become JSON names
// (choice elements keep their type suffix: `valueQuantity`); `value` attributes become primitives
// typed by the R4 model (boolean, integer, positiveInt, unsignedInt and decimal as JSON literals,
// everything else a string); an element that repeats in the model (max > 1) becomes an array; a
// primitive's `id` attribute and `extension` children go to its `_name` part (arrays paired with
// nulls); `id` and `url` attributes of complex elements become members; nested resources
// (contained, Bundle.entry.resource, Parameters.parameter.resource) are converted with their
// resourceType; the xhtml `div` is kept as a string of its XML. Not yet: comments, processing
// instructions and anything not in the R4 model (an error).
//
// The XML is parsed with expat; DTDs are not loaded and nesting is capped at kMaxXmlDepth.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "fhir/model/model.h"
#include "json/value.h"

namespace vesta::fhirxml {

inline constexpr int kMaxXmlDepth = 256;

// A parsed XML element; a text node has an empty name and its characters in `text`.
struct XmlElement {
  std::string name;  // as written, with any prefix
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<XmlElement> children;  // elements and text nodes in document order
  std::string text;

  bool is_text() const { return name.empty(); }
  // The attribute's value, or nullptr.
  const std::string* Attribute(std::string_view name) const;
  // The first child element with this name, or nullptr.
  const XmlElement* Child(std::string_view name) const;
  // The child elements (text nodes skipped).
  std::vector<const XmlElement*> Elements() const;
};

// Parses well-formed XML into its document element. kInvalid with the line on error.
Result<XmlElement> ParseXml(std::string_view xml);

// Writes an element back as XML text (used for the xhtml div).
std::string WriteXml(const XmlElement& element);

// Converts a resource element (<Patient xmlns="http://hl7.org/fhir">...) to its JSON in `arena`.
Result<json::Value> ResourceToJson(json::Arena& arena, const XmlElement& resource,
                                   const fhir::Model& model);

// ParseXml + ResourceToJson into a new Document.
Result<json::Document> ResourceXmlToJson(std::string_view xml, const fhir::Model& model);

}  // namespace vesta::fhirxml
