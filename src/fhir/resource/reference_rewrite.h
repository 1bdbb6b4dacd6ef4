// References inside a resource as a write sees them: conditional references ("Type?query",
// https://hl7.org/fhir/R4/http.html#trules) told apart, and references replaced by what they were
// resolved to. Shared by the REST API's transactions (rest/transaction.cc) and `vesta import`
// (ingest/).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "json/value.h"

namespace vesta::fhir {

// `v` with every `reference` string that is a key of `map` replaced by its value, contained
// resources included. `*changed` is set when anything was replaced; `v` itself is returned then
// not.
json::Value RewriteReferences(json::Arena& arena, const json::Value& v,
                              const std::map<std::string, std::string, std::less<>>& map,
                              bool* changed);

// True for "Type?query" (not a URL with a query; the query itself may hold URLs).
bool IsConditionalReference(std::string_view ref);

}  // namespace vesta::fhir
