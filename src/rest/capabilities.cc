// capabilities: GET [base]/metadata (https://hl7.org/fhir/R4/http.html#capabilities,
// https://hl7.org/fhir/R4/capabilitystatement.html). Lists exactly what this server implements.
#include "json/writer.h"
#include "rest/context.h"

namespace vesta::rest {

Response CapabilitiesInteraction(const Context& ctx, const Request& request,
                                 const OutputFormat& format) {
  const std::string base = BaseUrl(ctx, request);
  std::string out =
      "{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"date\":\"" +
      FormatInstant(ctx.clock.Now()).substr(0, 10) +
      "\",\"publisher\":\"Vesta\",\"kind\":\"instance\","
      "\"software\":{\"name\":\"Vesta\",\"version\":\"" + ctx.options.software_version +
      "\"},\"implementation\":{\"description\":\"Vesta FHIR R4 server\",\"url\":";
  json::WriteString(base, &out);
  out +=
      "},\"fhirVersion\":\"4.0.1\",\"format\":[\"application/fhir+json\",\"json\"],"
      "\"rest\":[{\"mode\":\"server\",\"documentation\":\"Read, versioned history, create, "
      "update (also as create), logical delete. Not yet: search, batch/transaction, PATCH, "
      "conditional interactions, XML.\",\"resource\":[";
  bool first = true;
  for (const std::string& type : ctx.model.resource_types()) {
    if (!first) out += ",";
    first = false;
    out += "{\"type\":\"" + type +
           "\",\"profile\":\"http://hl7.org/fhir/StructureDefinition/" + type +
           "\",\"interaction\":[{\"code\":\"read\"},{\"code\":\"vread\"},{\"code\":\"update\"},"
           "{\"code\":\"delete\"},{\"code\":\"history-instance\"},{\"code\":\"history-type\"},"
           "{\"code\":\"create\"}],\"versioning\":\"versioned-update\",\"readHistory\":true,"
           "\"updateCreate\":true,\"conditionalCreate\":false,\"conditionalRead\":"
           "\"full-support\",\"conditionalUpdate\":false,\"conditionalDelete\":"
           "\"not-supported\"}";
  }
  out += "],\"interaction\":[{\"code\":\"history-system\"}]}]}";
  Response r;
  r.SetHeader("Content-Type", ContentType(format));
  r.body = RenderJson(std::move(out), format);
  return r;
}

}  // namespace vesta::rest
