// Formats and views: content negotiation (https://hl7.org/fhir/R4/http.html#mime-type),
// _pretty, _summary and _elements (https://hl7.org/fhir/R4/search.html#summary,
// https://hl7.org/fhir/R4/search.html#elements), and rendering a stored resource for a client.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "fhir/model/model.h"
#include "rest/request.h"

namespace vesta::rest {

enum class MediaType { kFhirJson, kJson };

struct OutputFormat {
  MediaType media = MediaType::kFhirJson;
  bool pretty = false;
};

// The media type of a Content-Type or Accept item: lower case, without parameters or
// surrounding whitespace ("Application/JSON; charset=utf-8" -> "application/json").
std::string MediaTypeOf(std::string_view content_type);
// From _format (which wins) or Accept. Only JSON is served: XML, Turtle or anything else
// gives kNotAcceptable (406). An absent or wildcard Accept means FHIR JSON.
Result<OutputFormat> NegotiateFormat(const Request& request);
// The Content-Type header value for the chosen format.
std::string ContentType(const OutputFormat& format);
// Checks that a request body is JSON (Content-Type application/fhir+json or application/json;
// absent is taken as FHIR JSON). kUnsupportedMedia (415) otherwise.
Status CheckBodyContentType(const Request& request);

enum class SummaryMode { kFalse, kTrue, kText, kData, kCount };

struct ResourceView {
  SummaryMode summary = SummaryMode::kFalse;
  std::vector<std::string> elements;  // _elements: top-level element names; empty = all
  bool is_full() const { return summary == SummaryMode::kFalse && elements.empty(); }
};

// Parses _summary and _elements. kInvalid for an unknown _summary value.
Result<ResourceView> ParseView(const Request& request);

// The body for one stored resource as the client asked for it. With no view and no pretty
// printing this is the stored bytes unchanged.
Result<std::string> RenderResource(std::string_view stored_json, const ResourceView& view,
                                   const OutputFormat& format, const fhir::Model& model);

// Re-serializes compact JSON pretty-printed when asked; otherwise returns it unchanged.
std::string RenderJson(std::string json, const OutputFormat& format);

// A 200 response carrying `json` (a Bundle, an OperationOutcome) in the negotiated format.
Response JsonResponse(std::string json, const OutputFormat& format);

}  // namespace vesta::rest
