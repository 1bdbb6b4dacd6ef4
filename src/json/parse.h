// Parsing untrusted JSON (RFC 8259) into a json::Document.
//
// The input must be valid UTF-8 and one JSON value with nothing but whitespace after it. Object
// keys must be unique (FHIR JSON forbids duplicates: https://hl7.org/fhir/R4/json.html).
// Nesting deeper than kMaxDepth is refused. Errors are kInvalid Statuses naming the byte offset.
#pragma once

#include <string_view>

#include "base/status.h"
#include "json/value.h"

namespace vesta::json {

inline constexpr int kMaxDepth = 256;

Result<Document> Parse(std::string_view input);

}  // namespace vesta::json
