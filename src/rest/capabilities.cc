// capabilities: GET [base]/metadata (https://hl7.org/fhir/R4/http.html#capabilities,
// https://hl7.org/fhir/R4/capabilitystatement.html). Lists exactly what this server implements.
#include <map>

#include "json/writer.h"
#include "rest/context.h"
#include "search/plan.h"
#include "search/registry.h"
#include "search/text.h"

namespace vesta::rest {
namespace {

// _list is not a SearchParameter of R4 but a special parameter of every type, and of the system.
constexpr std::string_view kListParam =
    "{\"name\":\"_list\",\"type\":\"special\",\"documentation\":\"The resources a List refers "
    "to in its entries (https://hl7.org/fhir/R4/search.html#list)\"}";

// The search parameters of `type` that the server indexes (https://hl7.org/fhir/R4/search.html),
// and its _include / _revinclude values.
std::string SearchCapabilities(const std::string& type,
                               const std::map<std::string, std::vector<std::string>>& revincludes) {
  const search::Registry& reg = search::Registry::Active();
  std::string params, includes;
  for (const search::Param& p : reg.ForType(type)) {
    bool supported = p.code == "_id" || p.code == "_lastUpdated" || p.compiled.has_value() ||
                     search::IsTextSearchParam(p.code) ||  // the full-text index answers these
                     search::IsNearParam(type, p);
    if (!supported) continue;
    params += params.empty() ? "" : ",";
    params += "{\"name\":";
    json::WriteString(p.code, &params);
    params += ",\"definition\":";
    json::WriteString(p.url, &params);
    params += ",\"type\":\"" + std::string(search::ParamTypeName(p.type)) + "\"}";
    if (p.type == search::ParamType::kReference) {
      includes += includes.empty() ? "" : ",";
      json::WriteString(type + ":" + p.code, &includes);
    }
  }
  params += std::string(params.empty() ? "" : ",") + std::string(kListParam);
  std::string out =
      ",\"searchInclude\":[" + std::string(includes.empty() ? "" : "\"*\",") + includes + "]";
  out += ",\"searchRevInclude\":[";
  auto it = revincludes.find(type);
  if (it != revincludes.end()) {
    for (size_t i = 0; i < it->second.size(); ++i) {
      if (i > 0) out += ",";
      json::WriteString(it->second[i], &out);
    }
  }
  out += "],\"searchParam\":[" + params + "]";
  return out;
}

}  // namespace

// The terminology operations a type offers (https://hl7.org/fhir/R4/terminology-service.html).
static std::string TerminologyOperations(const std::string& type, bool loaded) {
  if (!loaded) return "";
  std::vector<std::string> ops;
  if (type == "CodeSystem") ops = {"lookup", "validate-code", "subsumes"};
  if (type == "ValueSet") ops = {"validate-code", "expand"};
  if (type == "ConceptMap") ops = {"translate"};
  if (ops.empty()) return "";
  std::string out = ",\"operation\":[";
  for (size_t i = 0; i < ops.size(); ++i) {
    out += std::string(i ? "," : "") + "{\"name\":\"" + ops[i] +
           "\",\"definition\":\"http://hl7.org/fhir/OperationDefinition/" + type + "-" + ops[i] +
           "\"}";
  }
  return out + "]";
}

Response CapabilitiesInteraction(const Context& ctx, const Request& request,
                                 const OutputFormat& format) {
  const std::string base = BaseUrl(ctx, request);
  std::string out = "{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\",\"date\":\"" +
                    FormatInstant(ctx.clock.Now()).substr(0, 10) +
                    "\",\"publisher\":\"Vesta\",\"kind\":\"instance\"," +
                    // https://hl7.org/fhir/uv/bulkdata/STU2/CapabilityStatement-bulk-data.html
                    std::string(ctx.options.exports != nullptr
                                    ? "\"instantiates\":[\"http://hl7.org/fhir/uv/bulkdata/"
                                      "CapabilityStatement/bulk-data\"],"
                                    : "") +
                    "\"software\":{\"name\":\"Vesta\",\"version\":\"" +
                    ctx.options.software_version +
                    "\"},\"implementation\":{\"description\":\"Vesta FHIR R4 server\",\"url\":";
  json::WriteString(base, &out);
  out +=
      "},\"fhirVersion\":\"4.0.1\",\"format\":[\"application/fhir+json\",\"json\"],"
      "\"rest\":[{\"mode\":\"server\",\"documentation\":\"Read, versioned history, create, "
      "update (also as create), logical delete, search (type, system with _type, Patient "
      "compartment; GET and POST _search). Search supports number, date, string, token, "
      "reference, quantity, uri and composite parameters (every R4 composite: parts joined by $, "
      "each with its type's syntax and prefixes); quantities with a UCUM unit compare in "
      "canonical units; modifiers :missing, :exact, :contains, :text, "
      ":not, :of-type, :[type], :identifier, :below, :above; prefixes eq ne gt lt ge le sa eb ap; "
      "chaining, _has, _sort, _count, _total (estimate: from a sample of the driving index), "
      "_summary, _elements, _include, _revinclude (:iterate); full-text _text (narrative) and "
      "_content (whole resource): words, quoted phrases, OR, word* prefixes, case- and "
      "accent-insensitive; on tokens, with a terminology loaded, :below, :above, :in and :not-in "
      "over its code systems and value sets; _list with the id of a List resource; Location near "
      "(latitude|longitude|distance|units, "
      "great-circle distance). Not yet: "
      "special parameters (_query, _filter), functional lists ($current-problems...), "
      "_contained, XML. Also: batch and transaction Bundles, conditional create, "
      "update and delete, PATCH (JSON Patch, FHIRPath Patch), Patient/$everything, Bulk Data "
      "$export (system, Patient and Group level), SQL on FHIR ViewDefinition/$viewdefinition-run "
      "(views inline or stored), stored ViewDefinitions at [base]/ViewDefinition and their "
      "materialized tables (docs/analytics.md), Measure/[id]/$evaluate-measure (docs/measures.md), "
      "referential "
      "integrity on write and delete, and the terminology operations (ICD-10-CM, ICD-9-CM, the "
      "GEMs, the R4 code systems and value sets) when a terminology is loaded.\",";
  if (ctx.options.token_verifier != nullptr) {
    // https://hl7.org/fhir/smart-app-launch/conformance.html#declaring-support-for-oauth2-endpoints:
    // the SMART service and the OAuth endpoints (the .well-known file says the rest).
    out +=
        "\"security\":{\"extension\":[{\"url\":\"http://fhir-registry.smarthealthit.org/"
        "StructureDefinition/oauth-uris\",\"extension\":[{\"url\":\"token\",\"valueUri\":";
    json::WriteString(base + "/auth/token", &out);
    out +=
        "}]}],\"service\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
        "restful-security-service\",\"code\":\"SMART-on-FHIR\"}],\"text\":\"OAuth2 using SMART-on-"
        "FHIR profile (see http://docs.smarthealthit.org)\"}],\"description\":\"SMART Backend "
        "Services (client_credentials with a signed client assertion); tokens carry SMART scopes, "
        "enforced on every interaction (docs/security.md)\"},";
  }
  out += "\"resource\":[";
  std::map<std::string, std::vector<std::string>> revincludes;  // target type → Type:param
  for (const std::string& type : ctx.model.resource_types()) {
    for (const search::Param& p : search::Registry::Active().ForType(type)) {
      if (p.type != search::ParamType::kReference || !p.compiled) continue;
      for (const std::string& t : p.targets) revincludes[t].push_back(type + ":" + p.code);
    }
  }
  const bool exports = ctx.options.exports != nullptr;
  bool first = true;
  for (const std::string& type : ctx.model.resource_types()) {
    if (!first) out += ",";
    first = false;
    out += "{\"type\":\"" + type + "\",\"profile\":\"http://hl7.org/fhir/StructureDefinition/" +
           type +
           "\",\"interaction\":[{\"code\":\"read\"},{\"code\":\"vread\"},{\"code\":\"update\"},"
           "{\"code\":\"delete\"},{\"code\":\"history-instance\"},{\"code\":\"history-type\"},"
           "{\"code\":\"create\"},{\"code\":\"search-type\"},{\"code\":\"patch\"}],"
           "\"versioning\":\"versioned-update\",\"readHistory\":true,"
           "\"updateCreate\":true,\"conditionalCreate\":true,\"conditionalRead\":"
           "\"full-support\",\"conditionalUpdate\":true,\"conditionalDelete\":" +
           std::string(ctx.options.conditional_delete_limit > 1 ? "\"multiple\"" : "\"single\"") +
           ",\"referencePolicy\":[\"literal\"" +
           std::string(ctx.options.referential_integrity ? ",\"enforced\"" : "") + ",\"local\"]" +
           (type == "Patient"
                ? std::string(",\"operation\":[{\"name\":\"everything\",\"definition\":"
                              "\"http://hl7.org/fhir/OperationDefinition/Patient-everything\"}") +
                      (exports ? ",{\"name\":\"export\",\"definition\":\"http://hl7.org/fhir/uv/"
                                 "bulkdata/OperationDefinition/patient-export\"}"
                               : "") +
                      "]"
                : std::string()) +
           (type == "Group" && exports
                ? std::string(",\"operation\":[{\"name\":\"export\",\"definition\":"
                              "\"http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
                              "group-export\"}]")
                : std::string()) +
           TerminologyOperations(type, ctx.options.terminology != nullptr) +
           SearchCapabilities(type, revincludes) + "}";
  }
  out +=
      "],\"interaction\":[{\"code\":\"transaction\"},{\"code\":\"batch\"},"
      "{\"code\":\"history-system\"},{\"code\":\"search-system\"}],"
      "\"searchParam\":[{\"name\":\"_id\",\"definition\":"
      "\"http://hl7.org/fhir/SearchParameter/Resource-id\",\"type\":\"token\"},"
      "{\"name\":\"_lastUpdated\",\"definition\":"
      "\"http://hl7.org/fhir/SearchParameter/Resource-lastUpdated\",\"type\":\"date\"},"
      "{\"name\":\"_text\",\"definition\":"
      "\"http://hl7.org/fhir/SearchParameter/DomainResource-text\",\"type\":\"string\"},"
      "{\"name\":\"_content\",\"definition\":"
      "\"http://hl7.org/fhir/SearchParameter/Resource-content\",\"type\":\"string\"}," +
      std::string(kListParam) + "]" +
      // SQL on FHIR's run of a view: [base]/ViewDefinition(/[id])/$viewdefinition-run
      // (https://sql-on-fhir.org/ig/latest/OperationDefinition-ViewDefinitionRun.html).
      ",\"operation\":[{\"name\":\"viewdefinition-run\",\"definition\":"
      "\"http://sql-on-fhir.org/OperationDefinition/$viewdefinition-run\"},"
      // https://hl7.org/fhir/R4/measure-operation-evaluate-measure.html (evaluate_measure.cc)
      "{\"name\":\"evaluate-measure\",\"definition\":"
      "\"http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure\"}" +
      (exports ? ",{\"name\":\"export\",\"definition\":\"http://hl7.org/fhir/"
                 "uv/bulkdata/OperationDefinition/export\"}"
               : "") +
      "]}]}";
  Response r;
  r.SetHeader("Content-Type", ContentType(format));
  r.body = RenderJson(std::move(out), format);
  return r;
}

}  // namespace vesta::rest
