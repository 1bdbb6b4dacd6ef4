// Whether importing a resource again would change it.
#pragma once

#include "json/value.h"

namespace vesta::ingest {

// True when `a` and `b` (two versions of one resource) hold the same content: equal as FHIR JSON
// (json::Equal: member order ignored, arrays in order, numbers by their exact text) once what the
// server sets on every write is left out: meta.versionId and meta.lastUpdated
// (https://hl7.org/fhir/R4/resource.html#Meta: "changes to ... versionId and lastUpdated are set
// by the server"). A meta with nothing else in it counts as no meta, so a resource imported
// without meta equals the version the server stored for it.
bool SameContent(const json::Value& a, const json::Value& b);

}  // namespace vesta::ingest
