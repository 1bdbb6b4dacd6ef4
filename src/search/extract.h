// Index rows for one resource: every search parameter's values extracted with FHIRPath and
// turned into the comparable forms of https://hl7.org/fhir/R4/search.html (one struct per
// parameter type), and the resource's text for _text and _content (search/text.h). The store
// writes them into its index tables with the resource version.
//
//   ASSIGN_OR_RETURN(json::Document doc, json::Parse(bytes));
//   search::IndexRows rows = search::ExtractIndexRows(search::Registry::R4(), doc.root());
//
// Extraction never fails the write: a parameter whose expression errors on this resource is
// skipped (and counted in `errors`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "json/value.h"
#include "search/registry.h"
#include "search/text.h"

namespace vesta::search {

// Token rows for `:of-type` (https://hl7.org/fhir/R4/search.html#token): one per
// Identifier.type.coding, with param "<code>:of-type", system the coding's system and code the
// coding's code and the identifier's value joined by this separator. U+001F cannot occur in a FHIR
// string (https://hl7.org/fhir/R4/datatypes.html#string), so the pair is unambiguous.
inline constexpr char kOfTypeSeparator = '\x1f';

// The number rows of Location `near` (https://hl7.org/fhir/R4/location.html#positional):
// Location.position's latitude and longitude, in degrees.
inline constexpr std::string_view kNearLatitude = "near:latitude";
inline constexpr std::string_view kNearLongitude = "near:longitude";

struct TokenRow {
  std::string param;   // "code"; "subject:identifier" for a Reference.identifier
  std::string system;  // "" when the value has none
  std::string code;
  std::string text;  // normalised display/text, for :text
};

struct StringRow {
  std::string param;
  std::string norm;  // NormalizeString(exact)
  std::string exact;
};

// https://hl7.org/fhir/R4/search.html#date: the value's precision as a range.
struct DateRow {
  std::string param;
  int64_t low = 0;   // microseconds since the epoch, inclusive
  int64_t high = 0;  // inclusive
};

struct NumberRow {
  std::string param;
  double value = 0;
};

// The UCUM system URL (https://hl7.org/fhir/R4/datatypes.html#Quantity).
inline constexpr std::string_view kUcumSystem = "http://unitsofmeasure.org";

struct QuantityRow {
  std::string param;
  double value = 0;
  std::string system;
  std::string code;  // the code, or the unit text when there is no code
  // https://hl7.org/fhir/R4/search.html#quantity: a UCUM quantity (system kUcumSystem, a code
  // that ucum::Canonicalize knows) also in canonical units; canonical_code "" otherwise.
  std::string canonical_code;
  double canonical_value = 0;
};

// One component value of a composite tuple, in the columns of its type (docs/storage.md,
// search_composite): token code and system; string normalised and exact; reference "Type/id"
// (relative) or the URL as written; uri; number [value, value]; date [low, high] µs; quantity
// unit code and system, [value, value] (a Range: [low, high]) and, for UCUM, the canonical form.
struct CompositePart {
  std::string code;
  std::string system;
  std::variant<int64_t, double> low = int64_t{0};
  std::variant<int64_t, double> high = int64_t{0};
  std::string canonical_code;  // "" unless a UCUM quantity
  double canonical_low = 0;
  double canonical_high = 0;
};

// https://hl7.org/fhir/R4/search.html#composite: one tuple of a composite parameter, its
// components evaluated on the same item of the composite's expression (so an
// Observation.component's code is paired only with that component's value).
struct CompositeRow {
  std::string param;
  std::vector<CompositePart> parts;  // one per component, 2..kMaxComponents
};

// At most this many tuples are indexed per item a composite's expression matches (the product of
// its components' value counts); the rest are left out and counted in IndexRows::errors.
inline constexpr size_t kMaxTuplesPerItem = 256;

struct ReferenceRow {
  std::string param;
  std::string target_type;  // relative references: "Patient"
  std::string target_id;    // relative references: "123"
  std::string url;          // the reference text as written (absolute URL, urn:uuid, canonical)
};

struct UriRow {
  std::string param;
  std::string uri;
};

struct IndexRows {
  std::vector<TokenRow> tokens;
  std::vector<StringRow> strings;
  std::vector<DateRow> dates;
  std::vector<NumberRow> numbers;
  std::vector<QuantityRow> quantities;
  std::vector<ReferenceRow> references;
  std::vector<UriRow> uris;
  std::vector<CompositeRow> composites;
  std::vector<std::string> patients;  // ids of the patients whose compartment holds it
  TextRow text;                       // for _text and _content (search/text.h)
  int errors = 0;                     // expressions that failed on this resource
};

// REQUIRES: `resource` is a resource's JSON object with resourceType.
IndexRows ExtractIndexRows(const Registry& registry, const json::Value& resource);

// Splits a reference text into type and id when it is relative ("Patient/1",
// "Patient/1/_history/2") or an absolute URL ending in Type/id; false otherwise.
bool SplitReference(std::string_view reference, std::string* type, std::string* id);

}  // namespace vesta::search
