// Measure/[id]/$evaluate-measure (https://hl7.org/fhir/R4/measure-operation-evaluate-measure.html;
// docs/measures.md): the stored Measure evaluated over the store's patients into a MeasureReport.
//
// Parameters (in the query for GET, or a Parameters body for POST):
//   periodStart, periodEnd  the Measurement Period (dates or dateTimes; required)
//   subject                 Patient/[id] or [id]: one patient
//   reportType              subject | subject-list | population; by default subject with a
//                           subject, else population (as R4 says)
// The measure's Library (by Measure.library), the libraries it includes (by name and version) and
// the ValueSets its logic declares (by url, with their expansions) are read from the store. A
// patient's data is its Patient compartment. Population reports evaluate the patients in
// parallel.
#include <cstdlib>
#include <string>
#include <vector>

#include "fhir/validate/validator.h"
#include "json/parse.h"
#include "measure/evaluate.h"
#include "rest/access.h"
#include "rest/context.h"
#include "rest/format.h"
#include "rest/outcome.h"

namespace vesta::rest {
namespace {

struct Params {
  std::string period_start, period_end, subject, report_type;
};

Status Set(const std::string& name, const std::string& value, Params* p) {
  if (name == "periodStart") {
    p->period_start = value;
  } else if (name == "periodEnd") {
    p->period_end = value;
  } else if (name == "subject") {
    p->subject = value.starts_with("Patient/") ? value.substr(8) : value;
    if (!fhir::IsValidId(p->subject)) {
      return Status(StatusCode::kInvalid, "subject: '" + value + "' is not a Patient");
    }
  } else if (name == "reportType") {
    p->report_type = value;
  } else if (name == "lastReceivedOn" || name == "_format" || name == "_pretty") {
    // lastReceivedOn: informational for the report; not used.
  } else if (name == "practitioner") {
    return Status(StatusCode::kNotSupported, "practitioner: not supported by this server");
  } else {
    return Status(StatusCode::kInvalid, "unknown parameter '" + name + "' of $evaluate-measure");
  }
  return Status::Ok();
}

Result<Params> ReadParams(const Request& request) {
  Params p;
  for (const auto& [k, v] : request.query) RETURN_IF_ERROR(Set(k, v, &p));
  if (request.method == "POST" && !request.body.empty()) {
    ASSIGN_OR_RETURN(json::Document doc, json::Parse(request.body));
    if (doc.root().FindString("resourceType") != "Parameters") {
      return Status(StatusCode::kInvalid, "the body must be a Parameters resource");
    }
    if (const json::Value* ps = doc.root().Find("parameter"); ps && ps->is_array()) {
      for (const json::Value& entry : ps->items()) {
        std::string value;
        for (const json::Member& m : entry.members()) {
          if (m.key.starts_with("value") && m.value.is_string()) {
            value = std::string(m.value.string_value());
          }
        }
        RETURN_IF_ERROR(Set(std::string(entry.FindString("name")), value, &p));
      }
    }
  }
  if (p.period_start.empty() || p.period_end.empty()) {
    return Status(StatusCode::kInvalid, "periodStart and periodEnd are required");
  }
  for (const std::string* d : {&p.period_start, &p.period_end}) {
    if (!fhir::IsValidDate(*d) && !fhir::IsValidDateTime(*d)) {
      return Status(StatusCode::kInvalid, (d == &p.period_start ? "periodStart" : "periodEnd") +
                                              std::string(": '") + *d +
                                              "' is not a date or dateTime");
    }
  }
  return p;
}

}  // namespace

Response EvaluateMeasureInteraction(const Context& ctx, const Request& request,
                                    const OutputFormat& format, const Target& target) {
  Result<Params> params = ReadParams(request);
  if (!params.ok()) return ErrorResponse(params.status());
  Params& p = *params;
  measure::ReportType type =
      p.subject.empty() ? measure::ReportType::kPopulation : measure::ReportType::kSubject;
  if (!p.report_type.empty()) {
    Result<measure::ReportType> t = measure::ParseReportType(p.report_type);
    if (!t.ok()) return ErrorResponse(t.status());
    type = *t;
  }
  if (type == measure::ReportType::kSubject && p.subject.empty()) {
    return ErrorResponse(Status(StatusCode::kInvalid, "reportType subject needs a subject"));
  }
  // The patients' data is read here, not through searches the token narrows: a token limited
  // to one patient may evaluate that patient only (rest/access.h).
  if (request.caller) {
    Result<Restriction> r = RestrictionFor(request, auth::Permission::kRead, "Patient");
    if (!r.ok()) return ErrorResponse(r.status());
    if (r->any() && (r->patient.empty() || p.subject != r->patient)) {
      return ErrorResponse(Status(
          StatusCode::kForbidden,
          "this token may evaluate its own patient only (subject=Patient/" + r->patient + ")"));
    }
  }
  Result<store::StoredVersion> stored = ReadCurrent(ctx, "Measure", target.id);
  if (!stored.ok()) return ErrorResponse(stored.status());
  if (stored->deleted) return GoneResponse(*stored, "Measure/" + target.id + " was deleted");
  Result<json::Document> doc = json::Parse(stored->json);
  if (!doc.ok()) return ErrorResponse(doc.status());
  measure::StoreArtifacts artifacts(ctx.store);
  Result<std::unique_ptr<measure::PreparedMeasure>> prepared =
      measure::PrepareMeasure(doc->root(), artifacts);
  if (!prepared.ok()) return ErrorResponse(prepared.status());
  measure::StoreSubjects subjects(ctx.store, p.subject);
  measure::EvaluationRequest req;
  req.period_start = p.period_start;
  req.period_end = p.period_end;
  req.type = type;
  req.subject = p.subject.empty() ? "" : "Patient/" + p.subject;
  req.now = ctx.clock.Now();
  Result<std::string> report = measure::Evaluate(**prepared, subjects, req);
  if (!report.ok()) return ErrorResponse(report.status());
  Response r;
  r.SetHeader("Content-Type", ContentType(format));
  r.body = RenderJson(std::move(report).value(), format);
  return r;
}

}  // namespace vesta::rest
