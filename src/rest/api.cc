#include "rest/api.h"

#include <strings.h>

#include <algorithm>
#include <charconv>

#include "base/strings.h"
#include "fhir/validate/validator.h"
#include "rest/access.h"
#include "rest/context.h"
#include "rest/outcome.h"
#include "rest/url.h"

namespace vesta::rest {

// rest/search.cc; `compartment_patient` is the id of Patient/[id]/[type] searches, else "".
Response SearchInteraction(const Context& ctx, const Request& request, const OutputFormat& format,
                           const Target& target, const std::string& compartment_patient);

struct RestApi::Context : rest::Context {};

RestApi::RestApi(RestOptions options, store::Store& store, Clock& clock, IdGenerator& ids)
    : ctx_(new Context{
          rest::Context{std::move(options), store, clock, ids, fhir::Model::R4(), nullptr}}) {
  ctx_->dispatch = [this](const Request& r) { return Handle(r); };
}

RestApi::~RestApi() = default;

std::string BaseUrl(const rest::Context& ctx, const Request& request) {
  std::string base = ctx.options.base_url;
  if (base.empty()) {
    std::string_view host = request.Header("Host");
    base =
        (request.secure ? "https://" : "http://") + std::string(host.empty() ? "localhost" : host);
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

std::string ETagFor(int64_t version) { return "W/\"" + std::to_string(version) + "\""; }

std::optional<int64_t> ParseETag(std::string_view v) {
  v = Trim(v, kHttpWhitespace);
  if (v.substr(0, 2) == "W/") v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 1) return std::nullopt;
  return n;
}

void SetVersionHeaders(const store::StoredVersion& v, Response* r) {
  r->SetHeader("ETag", ETagFor(v.version));
  r->SetHeader("Last-Modified", FormatHttpDate(v.last_updated));
}

Result<store::StoredVersion> ReadCurrent(const rest::Context& ctx, const std::string& type,
                                         const std::string& id) {
  Result<store::StoredVersion> v = ctx.store.Read(type, id);
  if (!v.ok() && v.status().code() == StatusCode::kNotFound) {
    return Status(StatusCode::kNotFound, type + "/" + id + " is not known");
  }
  return v;
}

Response GoneResponse(const store::StoredVersion& deletion, const std::string& message) {
  Response r = ErrorResponse(Status(StatusCode::kGone, message));
  SetVersionHeaders(deletion, &r);
  return r;
}

Response ResourceResponse(const rest::Context& ctx, const store::StoredVersion& v,
                          const ResourceView& view, const OutputFormat& format) {
  Result<std::string> body = RenderResource(v.json, view, format, ctx.model);
  if (!body.ok()) return ErrorResponse(body.status());
  Response r;
  SetVersionHeaders(v, &r);
  r.SetHeader("Content-Type", ContentType(format));
  r.body = std::move(body).value();
  return r;
}

fhir::ValidationOptions ValidationFor(const Context& ctx, std::vector<Issue>* warnings) {
  fhir::ValidationOptions options;
  options.lenient = ctx.options.lenient_validation;
  options.warnings = warnings;
  return options;
}

void ApplyPrefer(const Request& request, const OutputFormat& format,
                 const std::string& resource_json, const std::string& message, Response* r,
                 const std::vector<Issue>& warnings) {
  if (!warnings.empty()) r->warnings_outcome = InformationOutcomeJson(message, warnings);
  std::string_view prefer = request.Header("Prefer");
  r->SetHeader("Content-Type", ContentType(format));
  if (prefer.find("return=minimal") != std::string_view::npos) {
    r->body.clear();
    r->headers.erase(std::remove_if(r->headers.begin(), r->headers.end(),
                                    [](const auto& h) { return h.first == "Content-Type"; }),
                     r->headers.end());
  } else if (prefer.find("return=OperationOutcome") != std::string_view::npos) {
    r->body = RenderJson(InformationOutcomeJson(message, warnings), format);
  } else {
    r->body = RenderJson(resource_json, format);
  }
}

namespace {

Response MethodNotAllowed(const std::string& method, const std::string& allow) {
  Response r = ErrorResponse(
      Status(StatusCode::kMethodNotAllowed, method + " is not allowed here; allowed: " + allow));
  r.SetHeader("Allow", allow);
  return r;
}

Response NotYet(const std::string& what) {
  return ErrorResponse(
      Status(StatusCode::kNotSupported, what + " is not supported by this server yet "
                                               "(see the CapabilityStatement at /metadata)"));
}

}  // namespace

namespace {

// The paths anyone may read: the CapabilityStatement and the SMART configuration (which tell a
// client how to get a token: https://hl7.org/fhir/smart-app-launch/conformance.html), and the
// health checks of load balancers.
bool IsPublic(std::string_view path) {
  return path == "/metadata" || path == "/healthz" || path == "/readyz" ||
         path.starts_with("/.well-known/");
}

// https://www.rfc-editor.org/rfc/rfc6750#section-3: the challenge of a 401 (no token: no error
// code; a token that is not valid: invalid_token) and of a 403 (insufficient_scope).
std::string Challenge(std::string_view error, const std::string& description) {
  std::string c = "Bearer realm=\"vesta\"";
  if (!error.empty()) {
    std::string quoted;
    for (char ch : description) {
      if (ch == '"' || ch == '\\') continue;
      quoted.push_back(ch);
    }
    c += ", error=\"" + std::string(error) + "\", error_description=\"" + quoted + "\"";
  }
  return c;
}

}  // namespace

Response RestApi::Handle(Request request) {
  const auth::TokenVerifier* verifier = ctx_->options.token_verifier;
  if (verifier != nullptr && !request.caller && !IsPublic(request.path)) {
    std::string_view header = request.Header("Authorization");
    if (header.size() < 7 || strncasecmp(header.data(), "Bearer ", 7) != 0) {
      Response r = ErrorResponse(
          Unauthenticated("this server needs an access token: Authorization: Bearer <token> "
                          "(see /.well-known/smart-configuration)"));
      r.SetHeader("WWW-Authenticate", Challenge("", ""));
      return r;
    }
    Result<std::shared_ptr<const auth::Caller>> caller =
        verifier->Verify(Trim(header.substr(7), kHttpWhitespace));
    if (!caller.ok()) {
      Response r = ErrorResponse(
          Unauthenticated("the access token is not valid: " + caller.status().message()));
      r.SetHeader("WWW-Authenticate", Challenge("invalid_token", caller.status().message()));
      return r;
    }
    request.caller = std::move(caller).value();
  }
  Response r = Route(request);
  if (r.status == 403 && request.caller) {
    r.SetHeader("WWW-Authenticate", Challenge("insufficient_scope", "see the OperationOutcome"));
  }
  r.caller = request.caller;
  return r;
}

Response RestApi::Route(const Request& request) {
  const rest::Context& ctx = *ctx_;
  std::vector<std::string_view> parts = SplitPath(request.path);
  const std::string& m = request.method;
  const bool get = m == "GET" || m == "HEAD";
  // The token's scopes for the routed interaction (rest/access.h); searches are narrowed where
  // they run.
  auto authorized = [&](const Target& t, std::string_view interaction) {
    return AuthorizeRoute(ctx, request, t, interaction);
  };

  if (parts.size() == 1 && parts[0] == "healthz") {
    if (!get) return MethodNotAllowed(m, "GET, HEAD");
    Response r;
    r.headers.emplace_back("Content-Type", "text/plain");
    r.body = "ok\n";
    return r;
  }

  if (parts.size() == 1 && parts[0] == "readyz") {
    // For load balancers: whether this node can serve, i.e. its store answers. A read of an id
    // no resource can have (ids never hold '/') reaches the database and finds nothing.
    if (!get) return MethodNotAllowed(m, "GET, HEAD");
    Result<store::StoredVersion> probe = ctx.store.Read("Basic", "/readyz");
    if (!probe.ok() && probe.status().code() != StatusCode::kNotFound) {
      return ErrorResponse(probe.status());
    }
    Response r;
    r.headers.emplace_back("Content-Type", "text/plain");
    r.body = "ready\n";
    return r;
  }

  // Bulk Data export's status and files (bulk_export.cc): not resources, and the files are
  // NDJSON whatever Accept says.
  if (parts.size() == 3 && parts[0] == "bulk" && parts[1] == "status") {
    return BulkExportStatus(ctx, request, std::string(parts[2]));
  }
  if (parts.size() == 4 && parts[0] == "bulk" && parts[1] == "files") {
    return BulkExportFile(ctx, request, std::string(parts[2]), std::string(parts[3]));
  }

  // SQL on FHIR's $viewdefinition-run (view_run.cc) and stored views (view_store.cc):
  // ViewDefinition is not an R4 resource type and the answer is rows (CSV, NDJSON, JSON) or the
  // view's JSON, so they are routed before the type check and the FHIR format negotiation.
  if (parts.size() >= 2 && parts.size() <= 3 && parts[0] == "ViewDefinition" &&
      parts.back() == "$viewdefinition-run") {
    Target t{"ViewDefinition", parts.size() == 3 ? std::string(parts[1]) : "", {}};
    return ViewRunInteraction(ctx, request, t);
  }

  if (!parts.empty() && parts[0] == "ViewDefinition") {
    return ViewDefinitionInteraction(ctx, request, parts);
  }

  Result<OutputFormat> format = NegotiateFormat(request);
  if (!format.ok()) return ErrorResponse(format.status());

  if (parts.empty()) {
    if (m == "POST") return BundleInteraction(ctx, request, *format);
    if (get) return SearchInteraction(ctx, request, *format, Target{}, "");
    return MethodNotAllowed(m, "GET, POST");
  }
  if (parts[0] == "_search" && parts.size() == 1) {
    if (m != "POST") return MethodNotAllowed(m, "POST");
    return SearchInteraction(ctx, request, *format, Target{}, "");
  }
  if (parts[0] == "metadata" && parts.size() == 1) {
    if (!get) return MethodNotAllowed(m, "GET, HEAD");
    return CapabilitiesInteraction(ctx, request, *format);
  }
  if (parts[0] == "_history" && parts.size() == 1) {
    if (!get) return MethodNotAllowed(m, "GET, HEAD");
    if (Status s = authorized(Target{}, "history-system"); !s.ok()) return ErrorResponse(s);
    return HistoryInteraction(ctx, request, *format, Target{});
  }
  if (parts[0] == "$export" && parts.size() == 1) {
    return BulkExportKickOff(ctx, request, bulk::ExportLevel::kSystem, "");
  }
  if (parts[0].front() == '$') return NotYet("operation " + std::string(parts[0]));

  Target target;
  target.type = std::string(parts[0]);
  if (!ctx.model.IsResourceType(target.type)) {
    return ErrorResponse(
        Status(StatusCode::kNotFound, "unknown resource type '" + target.type + "'"));
  }
  // The audit trail is the store's chain, not resources of the store (audit_search.cc).
  if (target.type == "AuditEvent" && get &&
      (parts.size() == 1 ||
       (parts.size() == 2 && parts[1].front() != '_' && parts[1].front() != '$'))) {
    if (parts.size() == 1) return AuditSearchInteraction(ctx, request, *format);
    return AuditReadInteraction(ctx, request, *format, std::string(parts[1]));
  }
  if (parts.size() == 1) {
    std::string_view interaction = m == "POST"     ? "create"
                                   : m == "PUT"    ? "conditional-update"
                                   : m == "DELETE" ? "conditional-delete"
                                                   : "search";
    if (Status s = authorized(target, interaction); !s.ok()) return ErrorResponse(s);
    if (m == "POST") return CreateInteraction(ctx, request, *format, target);
    if (m == "PUT") return ConditionalUpdateInteraction(ctx, request, *format, target);
    if (m == "DELETE") return ConditionalDeleteInteraction(ctx, request, *format, target);
    if (get) return SearchInteraction(ctx, request, *format, target, "");
    return MethodNotAllowed(m, "GET, HEAD, POST, PUT, DELETE");
  }
  if (parts[1] == "_history" && parts.size() == 2) {
    if (!get) return MethodNotAllowed(m, "GET, HEAD");
    if (Status s = authorized(target, "history-type"); !s.ok()) return ErrorResponse(s);
    return HistoryInteraction(ctx, request, *format, target);
  }
  if (parts[1] == "_search" && parts.size() == 2) {
    if (m != "POST") return MethodNotAllowed(m, "POST");
    return SearchInteraction(ctx, request, *format, target, "");
  }
  if (parts.size() == 2 && parts[1] == "$export" && target.type == "Patient") {
    return BulkExportKickOff(ctx, request, bulk::ExportLevel::kPatient, "");
  }
  if (parts[1].front() == '$') {
    if (Status s = AuthorizeOperation(ctx, request, target, parts[1]); !s.ok()) {
      return ErrorResponse(s);
    }
    return OperationInteraction(ctx, request, *format, target, parts[1]);
  }
  target.id = std::string(parts[1]);
  if (!fhir::IsValidId(target.id)) {
    return ErrorResponse(
        Status(StatusCode::kInvalid, "'" + target.id +
                                         "' is not a valid resource id "
                                         "(1-64 characters of A-Z, a-z, 0-9, '-' and '.')"));
  }
  if (parts.size() == 2) {
    std::string_view interaction = get             ? "read"
                                   : m == "PUT"    ? "update"
                                   : m == "DELETE" ? "delete"
                                   : m == "PATCH"  ? "patch"
                                                   : "";
    if (Status s = authorized(target, interaction); !s.ok()) return ErrorResponse(s);
    if (get) return ReadInteraction(ctx, request, *format, target);
    if (m == "PUT") return UpdateInteraction(ctx, request, *format, target);
    if (m == "DELETE") return DeleteInteraction(ctx, request, *format, target);
    if (m == "PATCH") return PatchInteraction(ctx, request, *format, target);
    return MethodNotAllowed(m, "GET, HEAD, PUT, DELETE, PATCH");
  }
  if (parts.size() == 3 && parts[2] == "$export" && target.type == "Group") {
    return BulkExportKickOff(ctx, request, bulk::ExportLevel::kGroup, target.id);
  }
  if (parts.size() == 3 && parts[2].front() == '$') {
    if (Status s = AuthorizeOperation(ctx, request, target, parts[2]); !s.ok()) {
      return ErrorResponse(s);
    }
    return OperationInteraction(ctx, request, *format, target, parts[2]);
  }
  // https://hl7.org/fhir/R4/http.html#search: GET [base]/Patient/[id]/[type]?...
  if (parts.size() == 3 && target.type == "Patient" && ctx.model.IsResourceType(parts[2])) {
    if (!get) return MethodNotAllowed(m, "GET, HEAD");
    return SearchInteraction(ctx, request, *format, Target{std::string(parts[2]), "", {}},
                             target.id);
  }
  if (parts[2] != "_history" || parts.size() > 4) {
    return ErrorResponse(Status(StatusCode::kNotFound, "no such path: " + request.path));
  }
  if (!get) return MethodNotAllowed(m, "GET, HEAD");
  if (Status s = authorized(target, "history-instance"); !s.ok()) return ErrorResponse(s);
  if (parts.size() == 3) return HistoryInteraction(ctx, request, *format, target);
  std::optional<int64_t> version = ParseETag(parts[3]);
  if (!version) {
    return ErrorResponse(
        Status(StatusCode::kNotFound, "'" + std::string(parts[3]) + "' is not a version id"));
  }
  target.version = *version;
  return VReadInteraction(ctx, request, *format, target);
}

}  // namespace vesta::rest
