// Operations (https://hl7.org/fhir/R4/operations.html): [base]/[type]/$op and
// [base]/[type]/[id]/$op, by GET (primitive parameters in the query) or POST (a Parameters body).
//
// The terminology operations (https://hl7.org/fhir/R4/terminology-service.html) go to the
// terminology service: CodeSystem $lookup, $validate-code, $subsumes; ValueSet $validate-code,
// $expand; ConceptMap $translate. At instance level the resource's canonical URL is passed as
// the code system (`system`) or the value set / concept map (`url`).
#include "json/parse.h"
#include "rest/context.h"
#include "rest/outcome.h"
#include "terminology/operation_params.h"
#include "terminology/terminology_service.h"

namespace vesta::rest {
namespace {

bool IsTerminologyOperation(const std::string& type, std::string_view op) {
  if (type == "CodeSystem") return op == "lookup" || op == "validate-code" || op == "subsumes";
  if (type == "ValueSet") return op == "validate-code" || op == "expand";
  if (type == "ConceptMap") return op == "translate";
  return false;
}

}  // namespace

Response OperationInteraction(const Context& ctx, const Request& request,
                              const OutputFormat& format, const Target& target,
                              std::string_view operation) {
  std::string_view op = operation.substr(1);  // without '$'
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (!get && request.method != "POST") {
    Response r = ErrorResponse(
        Status(StatusCode::kMethodNotAllowed, "operations are invoked with GET or POST"));
    r.SetHeader("Allow", "GET, POST");
    return r;
  }
  if (target.type == "Patient" && op == "everything" && !target.id.empty()) {
    return EverythingInteraction(ctx, request, format, target);
  }
  if (target.type == "Measure" && op == "evaluate-measure" && !target.id.empty()) {
    return EvaluateMeasureInteraction(ctx, request, format, target);
  }
  if (!IsTerminologyOperation(target.type, op)) {
    return ErrorResponse(Status(StatusCode::kNotSupported, "operation " + std::string(operation) +
                                                               " on " + target.type +
                                                               " is not supported by this server"));
  }
  if (ctx.options.terminology == nullptr) {
    return ErrorResponse(Status(StatusCode::kNotFound,
                                "no terminology is loaded on this server: load ICD-10-CM and the "
                                "GEMs with `vesta terminology load`, then restart it"));
  }
  terminology::OperationParams params;
  if (get) {
    QueryList query;
    for (const auto& [k, v] : request.query) {
      if (k != "_format" && k != "_pretty") query.emplace_back(k, v);
    }
    params = terminology::OperationParams::FromQuery(query);
  } else {
    if (Status s = CheckBodyContentType(request); !s.ok()) return ErrorResponse(s);
    Result<terminology::OperationParams> parsed =
        terminology::OperationParams::FromParametersJson(request.body);
    if (!parsed.ok()) return ErrorResponse(parsed.status());
    params = std::move(parsed).value();
  }
  if (!target.id.empty()) {
    Result<std::string> resource = ctx.options.terminology->ReadResource(target.type, target.id);
    if (!resource.ok()) return ErrorResponse(resource.status());
    Result<json::Document> doc = json::Parse(*resource);
    if (!doc.ok()) return ErrorResponse(doc.status());
    std::string url(doc->root().FindString("url"));
    if (target.type == "CodeSystem" && op != "validate-code") {
      params.Add("system", url);
    } else {
      params.Add("url", url);
    }
  }
  Result<std::string> out = ctx.options.terminology->Invoke(target.type, op, params);
  if (!out.ok()) return ErrorResponse(out.status());
  Response r;
  r.SetHeader("Content-Type", ContentType(format));
  r.body = RenderJson(std::move(out).value(), format);
  return r;
}

}  // namespace vesta::rest
