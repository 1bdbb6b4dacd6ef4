// References in a resource being imported: which ones point at other resources of this server
// (and must exist, as the REST API's referential integrity requires), which are conditional
// (`Patient?identifier=...`, resolved by search), and rewriting them once they are known.
//
// https://hl7.org/fhir/R4/references.html#Reference: "a relative reference ... is a reference to
// a resource on the same server"; https://hl7.org/fhir/R4/http.html#trules: conditional
// references in a transaction are resolved by search and must match exactly one resource.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/model/model.h"
#include "fhir/resource/reference_rewrite.h"
#include "json/value.h"

namespace vesta::ingest {

struct References {
  // Relative references to resources of this server, as "Type/id" (a `_history/N` suffix
  // dropped), each once, in the order first seen. Contained resources are left out, as the REST
  // API's check leaves them out (rest/references.cc): they are checked as part of the whole.
  std::vector<std::string> literal;
  // Conditional references ("Type?query"), each once, contained resources included.
  std::vector<std::string> conditional;
};

// The references (`reference` members with a string value) anywhere in `resource`. Not
// collected: contained references (#id), absolute URLs, urn:uuid and urn:oid, and references
// whose type is not a resource type of `model`.
References CollectReferences(const json::Value& resource, const fhir::Model& model);

// RewriteReferences and IsConditionalReference: fhir/resource/reference_rewrite.h (shared with
// the REST API's transactions).
using fhir::IsConditionalReference;
using fhir::RewriteReferences;

// The keys under which IdentifierQueryKey finds `resource` (of `type`) by its identifiers:
// "Type|system|value" and "Type|*|value" for each Identifier with a value. This is how the importer
// resolves a conditional reference to a resource it is writing but has not committed yet (which
// a search cannot see).
std::vector<std::string> IdentifierKeys(const std::string& type, const json::Value& resource);
// For a conditional reference with one `identifier` parameter, "Type?identifier=system|value"
// (or `=value`: any system; `=|value`: no system), the key IdentifierKeys gives the resources it
// matches (https://hl7.org/fhir/R4/search.html#token); "" for any other reference.
std::string IdentifierQueryKey(std::string_view conditional_ref);

}  // namespace vesta::ingest
