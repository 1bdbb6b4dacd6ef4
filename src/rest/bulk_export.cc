// FHIR Bulk Data export (https://hl7.org/fhir/uv/bulkdata/STU2/export.html) over the
// asynchronous request pattern (https://hl7.org/fhir/R4/async.html):
//
//   GET|POST [base]/$export, [base]/Patient/$export, [base]/Group/[id]/$export   kick-off: 202
//            with Content-Location [base]/bulk/status/[id]
//   GET      [base]/bulk/status/[id]   202 with X-Progress and Retry-After while it runs; 200
//            with the manifest when done; 500 with an OperationOutcome when it failed
//   DELETE   [base]/bulk/status/[id]   cancels it (or deletes a finished one) and its files: 202
//   GET      [base]/bulk/files/[id]/[name]   an NDJSON file of the manifest
//
// With authorization on, every request needs a token (`requiresAccessToken` is true), the status
// and files answer only the client (and user) that started the export, and the export is
// narrowed as the token's searches are (rest/access.h): a patient/ token exports its patient's
// compartment; a type the token may not read is left out, or refused when `_type` names it.
#include <charconv>

#include "base/strings.h"
#include "bulk/export_jobs.h"
#include "json/parse.h"
#include "rest/access.h"
#include "rest/bundle.h"
#include "rest/context.h"
#include "rest/outcome.h"

namespace vesta::rest {
namespace {

// Whose export it is: the token's client and user ("" when authorization is off).
std::string OwnerOf(const Request& request) {
  if (!request.caller) return "";
  return request.caller->client_id + " " + request.caller->subject;
}

// Whether any Prefer header (RFC 7240 §2: there may be several, each with several preferences)
// holds `token`.
bool PreferHas(const Request& request, std::string_view token) {
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "Prefer") && value.find(token) != std::string::npos) return true;
  }
  return false;
}

// The kick-off's parameters: the query of a GET, or a POSTed Parameters resource
// (export.html#bulk-data-kick-off-request: "valueString", "valueInstant", "valueReference" for
// `patient`), whose names repeat as query parameters would.
Result<bulk::QueryList> KickOffParams(const Request& request) {
  bulk::QueryList params;
  for (const auto& [k, v] : request.query) params.emplace_back(k, v);
  if (request.method != "POST" || request.body.empty()) return params;
  RETURN_IF_ERROR(CheckBodyContentType(request));
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(request.body));
  if (doc.root().FindString("resourceType") != "Parameters") {
    return Invalid("a POSTed $export kick-off takes a Parameters resource");
  }
  if (const json::Value* ps = doc.root().Find("parameter"); ps != nullptr && ps->is_array()) {
    for (const json::Value& p : ps->items()) {
      const std::string name(p.FindString("name"));
      bool found = false;
      for (const json::Member& m : p.members()) {
        if (!m.key.starts_with("value")) continue;
        found = true;
        if (m.value.is_string()) {
          params.emplace_back(name, std::string(m.value.string_value()));
        } else if (m.key == "valueReference") {
          params.emplace_back(name, std::string(m.value.FindString("reference")));
        } else {
          return Invalid("parameter '" + name + "': " + std::string(m.key) +
                         " is not a value this operation takes");
        }
      }
      if (!found) return Invalid("parameter '" + name + "' has no value");
    }
  }
  return params;
}

// The narrowing of each type by the caller's token; the types it may not search are dropped
// (kForbidden when `_type` names one, or when none is left).
Status ApplyAccess(const Context& ctx, const Request& request, bool types_named,
                   bulk::ExportSpec* spec) {
  if (!request.caller) return Status::Ok();
  std::vector<std::string> kept;
  Status first_refusal = Status::Ok();
  for (const std::string& type : spec->types) {
    store::SearchQuery q;
    q.types = {type};
    Status s = NarrowSearch(ctx, request, type, &q);
    if (!s.ok()) {
      if (types_named) return s;
      if (first_refusal.ok()) first_refusal = s;
      continue;
    }
    if (!q.compartment_patient.empty() || !q.params.empty()) {
      spec->access[type] = bulk::TypeAccess{q.compartment_patient, q.params};
    }
    kept.push_back(type);
  }
  if (kept.empty()) {
    return Forbidden("the token allows none of the types this export covers: " +
                     first_refusal.message());
  }
  spec->types = std::move(kept);
  return Status::Ok();
}

// Runs each _typeFilter search once (one match), so that a search this server cannot run is
// refused at kick-off with the reason, not reported later in the error file.
Status CheckTypeFilters(const Context& ctx, const bulk::ExportSpec& spec) {
  for (const auto& [type, searches] : spec.type_filters) {
    for (const bulk::QueryList& params : searches) {
      store::SearchQuery q;
      q.types = {type};
      q.params = params;
      q.params.emplace_back("_count", "1");
      q.strict = true;
      q.now = ctx.clock.Now();
      Result<store::SearchPage> page = ctx.store.Search(q);
      if (!page.ok()) {
        return Invalid("_typeFilter " + type + "?" + EncodeQuery(params) + ": " +
                       page.status().message());
      }
    }
  }
  return Status::Ok();
}

std::string KickOffUrl(const Context& ctx, const Request& request) {
  std::string url = BaseUrl(ctx, request) + request.path;
  QueryList q = request.query;
  if (!q.empty()) url += "?" + EncodeQuery(q);
  return url;
}

}  // namespace

Response BulkExportKickOff(const Context& ctx, const Request& request, bulk::ExportLevel level,
                           const std::string& group_id) {
  if (request.method != "GET" && request.method != "POST") {
    Response r =
        ErrorResponse(Status(StatusCode::kMethodNotAllowed, "$export is started with GET or POST"));
    r.SetHeader("Allow", "GET, POST");
    return r;
  }
  if (ctx.options.exports == nullptr) {
    return ErrorResponse(NotSupported("Bulk Data export is not enabled on this server"));
  }
  // export.html#headers: "Prefer (required): Specifies whether the response is immediate or
  // asynchronous. Setting this to respond-async triggers an async request."
  if (!PreferHas(request, "respond-async")) {
    return ErrorResponse(Invalid(
        "$export runs asynchronously: send the header Prefer: respond-async, then poll the URL "
        "of the answer's Content-Location"));
  }
  Result<bulk::QueryList> params = KickOffParams(request);
  if (!params.ok()) return ErrorResponse(params.status());
  bulk::ParseOptions options;
  options.lenient = PreferHas(request, "handling=lenient");
  Result<bulk::ExportSpec> spec =
      bulk::ParseExportParams(level, group_id, *params, ctx.model, options);
  if (!spec.ok()) return ErrorResponse(spec.status());
  if (level == bulk::ExportLevel::kGroup) {
    // The group must exist, be one the caller may read, and list actual members
    // (https://hl7.org/fhir/R4/group.html: "actual: If true, indicates that the resource refers to
    // a specific group of real individuals").
    if (Status s = CheckExisting(ctx, request, auth::Permission::kRead, "Group", group_id);
        !s.ok()) {
      return ErrorResponse(s);
    }
    Result<store::StoredVersion> group = ReadCurrent(ctx, "Group", group_id);
    if (!group.ok()) return ErrorResponse(group.status());
    if (group->deleted) {
      return ErrorResponse(Status(StatusCode::kGone, "Group/" + group_id + " was deleted"));
    }
    Result<json::Document> doc = json::Parse(group->json);
    if (!doc.ok()) return ErrorResponse(doc.status());
    const json::Value* actual = doc->root().Find("actual");
    if (actual == nullptr || !actual->is_bool() || !actual->bool_value()) {
      return ErrorResponse(Invalid("Group/" + group_id +
                                   " is a definitional group (actual is not true): it lists no "
                                   "members to export"));
    }
  }
  bool types_named = false;
  for (const auto& [k, v] : *params) types_named = types_named || k == "_type";
  if (Status s = ApplyAccess(ctx, request, types_named, &*spec); !s.ok()) return ErrorResponse(s);
  if (Status s = CheckTypeFilters(ctx, *spec); !s.ok()) return ErrorResponse(s);

  bulk::KickOff kickoff;
  kickoff.request_url = KickOffUrl(ctx, request);
  kickoff.base_url = BaseUrl(ctx, request);
  kickoff.owner = OwnerOf(request);
  kickoff.requires_access_token = ctx.options.token_verifier != nullptr;
  if (!spec->elements.empty()) {
    ResourceView view;
    view.elements = spec->elements;
    const fhir::Model* model = &ctx.model;
    kickoff.reduce = [view, model](std::string_view stored) {
      return RenderResource(stored, view, OutputFormat{}, *model);
    };
  }
  kickoff.spec = std::move(spec).value();
  Result<std::string> id = ctx.options.exports->Start(std::move(kickoff));
  if (!id.ok()) {
    Response r = ErrorResponse(id.status());
    if (id.status().code() == StatusCode::kTooManyRequests) r.SetHeader("Retry-After", "30");
    return r;
  }
  // export.html#response---success: "HTTP Status Code of 202 Accepted; Content-Location header
  // with the absolute URL of an endpoint for subsequent status requests".
  Response r;
  r.status = 202;
  r.SetHeader("Content-Location", BaseUrl(ctx, request) + "/bulk/status/" + *id);
  r.SetHeader("Content-Type", "application/fhir+json");
  Status accepted(StatusCode::kOk, "the export has started; poll the Content-Location URL");
  r.body = OperationOutcomeJson(accepted);
  return r;
}

Response BulkExportStatus(const Context& ctx, const Request& request, const std::string& id) {
  if (ctx.options.exports == nullptr) {
    return ErrorResponse(NotFound("Bulk Data export is not enabled on this server"));
  }
  const std::string owner = OwnerOf(request);
  if (request.method == "DELETE") {
    // export.html#delete-a-bulk-data-request: "HTTP Status Code of 202 Accepted".
    if (Status s = ctx.options.exports->Cancel(id, owner); !s.ok()) return ErrorResponse(s);
    Response r;
    r.status = 202;
    r.SetHeader("Content-Type", "application/fhir+json");
    r.body = OperationOutcomeJson(Status(StatusCode::kOk, "the export and its files are deleted"));
    return r;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    Response r =
        ErrorResponse(Status(StatusCode::kMethodNotAllowed,
                             "an export's status is read with GET or removed with DELETE"));
    r.SetHeader("Allow", "GET, HEAD, DELETE");
    return r;
  }
  Result<bulk::JobStatus> s = ctx.options.exports->Poll(id, owner);
  if (!s.ok()) return ErrorResponse(s.status());
  Response r;
  switch (s->state) {
    case bulk::JobState::kRunning:
      // export.html#response---in-progress-status: "HTTP Status Code of 202 Accepted;
      // Optionally, the server MAY return an X-Progress header"; Retry-After paces the client.
      r.status = 202;
      r.SetHeader("X-Progress",
                  "in progress: " + std::to_string(s->exported) + " resources exported so far");
      r.SetHeader("Retry-After", "1");
      return r;
    case bulk::JobState::kFailed:
      // export.html#response---error-status-1: "HTTP status code of 4XX or 5XX; the body SHALL
      // be a FHIR OperationOutcome resource in JSON format".
      return ErrorResponse(
          Status(StatusCode::kInternal, "the export failed: " + s->error.message()));
    case bulk::JobState::kDone:
      break;
  }
  // export.html#response---complete-status: 200, Content-Type application/json, an Expires
  // header for when the files are removed.
  r.status = 200;
  r.SetHeader("Content-Type", "application/json");
  r.SetHeader("Expires", FormatHttpDate(s->expires));
  r.body = std::move(s->manifest);
  return r;
}

Response BulkExportFile(const Context& ctx, const Request& request, const std::string& id,
                        const std::string& name) {
  if (ctx.options.exports == nullptr) {
    return ErrorResponse(NotFound("Bulk Data export is not enabled on this server"));
  }
  if (request.method != "GET" && request.method != "HEAD") {
    Response r =
        ErrorResponse(Status(StatusCode::kMethodNotAllowed, "an export's files are read with GET"));
    r.SetHeader("Allow", "GET, HEAD");
    return r;
  }
  Result<std::string> path = ctx.options.exports->FilePath(id, name, OwnerOf(request));
  if (!path.ok()) return ErrorResponse(path.status());
  // export.html#file-request: "Content-Type header of application/fhir+ndjson".
  Response r;
  r.SetHeader("Content-Type", "application/fhir+ndjson");
  r.body_file = std::move(path).value();
  return r;
}

}  // namespace vesta::rest
