// The one place where errors become HTTP statuses and OperationOutcome resources
// (https://hl7.org/fhir/R4/operationoutcome.html, https://hl7.org/fhir/R4/http.html#Status).
#pragma once

#include <string>

#include "base/status.h"
#include "rest/request.h"

namespace vesta::rest {

// The HTTP status for a Status code.
int HttpStatusFor(StatusCode code);

// An OperationOutcome describing `status` (one issue per Status issue, or one for the message),
// as compact JSON.
std::string OperationOutcomeJson(const Status& status);

// An OperationOutcome with one informational issue, e.g. for Prefer: return=OperationOutcome.
std::string InformationOutcomeJson(const std::string& message);
// The same, followed by `warnings` (lenient validation: what was accepted though wrong).
std::string InformationOutcomeJson(const std::string& message, const std::vector<Issue>& warnings);

// A complete error response: status line, Content-Type and the OperationOutcome body.
Response ErrorResponse(const Status& status);

}  // namespace vesta::rest
