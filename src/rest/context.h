// Internal to rest/: what every interaction needs, and the interactions themselves (one .cc
// file each).
#pragma once

#include <optional>
#include <string>

#include "base/clock.h"
#include "fhir/model/model.h"
#include "rest/api.h"
#include "rest/format.h"
#include "rest/request.h"
#include "store/store.h"

namespace vesta::rest {

struct Context {
  RestOptions options;
  store::Store& store;
  Clock& clock;
  IdGenerator& ids;
  const fhir::Model& model;
};

// What routing found in the path.
struct Target {
  std::string type;     // "" for system level
  std::string id;       // "" for type level
  std::optional<int64_t> version;  // /_history/N
};

// The base URL for links in this request's responses, without a trailing slash.
std::string BaseUrl(const Context& ctx, const Request& request);
// W/"N"
std::string ETagFor(int64_t version);
// Parses If-Match / If-None-Match: W/"N" or "N". nullopt when malformed.
std::optional<int64_t> ParseETag(std::string_view value);
// Sets ETag, Last-Modified and Content-Type for a response carrying a stored version.
void SetVersionHeaders(const store::StoredVersion& v, Response* r);
// The body and headers asked for by Prefer (https://hl7.org/fhir/R4/http.html#ops):
// return=minimal → no body; return=OperationOutcome → an informational outcome;
// otherwise (representation, the default) the resource.
void ApplyPrefer(const Request& request, const OutputFormat& format,
                 const std::string& resource_json, const std::string& message, Response* r);

Response ReadInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                         const Target& target);
Response VReadInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                          const Target& target);
Response CreateInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target);
Response UpdateInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target);
Response DeleteInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target);
Response HistoryInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                            const Target& target);
// [type]/$op and [type]/[id]/$op; `operation` includes the '$'.
Response OperationInteraction(const Context& ctx, const Request& request,
                              const OutputFormat& format, const Target& target,
                              std::string_view operation);
Response CapabilitiesInteraction(const Context& ctx, const Request& request,
                                 const OutputFormat& format);

}  // namespace vesta::rest
