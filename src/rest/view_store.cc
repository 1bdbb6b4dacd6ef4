// Stored ViewDefinitions (docs/analytics.md, "Stored views"): [base]/ViewDefinition and
// [base]/ViewDefinition/[id] with create, read, update, delete and a listing.
//
// R4 has no ViewDefinition resource type, so these are not the generic interactions: the body
// is validated as a view
// (https://sql-on-fhir.org/ig/latest/StructureDefinition-ViewDefinition.html: its columns,
// forEach/forEachOrNull/repeat/unionAll shapes, constants, where paths, FHIRPath) rather than
// against the R4 model, and the answer is always JSON. Otherwise they behave as
// https://hl7.org/fhir/R4/http.html says: versions with ETag and Last-Modified, update as
// create, If-Match, 410 for a deleted view. A view tagged for materialization (meta.tag
// urn:vesta:analytics|materialize) also needs a name fit for a table; the server's materializer
// then keeps the table up to date (analytics/materializer.h).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "analytics/materializer.h"
#include "auth/scopes.h"
#include "fhir/resource/resource_json.h"
#include "fhir/validate/validator.h"
#include "json/parse.h"
#include "json/writer.h"
#include "rest/access.h"
#include "rest/context.h"
#include "rest/outcome.h"
#include "rest/versioned_write.h"
#include "views/view.h"

namespace vesta::rest {
namespace {

constexpr std::string_view kType = "ViewDefinition";

Response MethodNotAllowed(const std::string& method, const std::string& allow) {
  Response r = ErrorResponse(
      Status(StatusCode::kMethodNotAllowed, method + " is not allowed here; allowed: " + allow));
  r.SetHeader("Allow", allow);
  return r;
}

Status InvalidAt(const std::string& message, const std::string& where) {
  return Status(StatusCode::kInvalid, message,
                {Issue{Severity::kError, "invalid", message, where}});
}

// The body as a view: JSON, a ViewDefinition, a valid view; a materialized one with a table name.
Result<json::Document> ParseViewBody(const Request& request) {
  Result<json::Document> doc = json::Parse(request.body);
  if (!doc.ok()) return InvalidAt("the body is not JSON: " + doc.status().message(), "");
  const json::Value& root = doc->root();
  if (!root.is_object() || root.FindString("resourceType") != kType) {
    return InvalidAt("the body must be a ViewDefinition", "ViewDefinition.resourceType");
  }
  Result<views::View> view = views::View::Parse(root);
  if (!view.ok()) return InvalidAt(view.status().message(), "ViewDefinition");
  if (analytics::MarkedForMaterialization(root)) {
    Result<analytics::TableSpec> table = analytics::TableFor(*view);
    if (!table.ok()) return InvalidAt(table.status().message(), "ViewDefinition.name");
  }
  return doc;
}

// Views are server-wide definitions, not anyone's record: a token needs the permission on
// ViewDefinition without a patient or granular restriction.
Status Authorize(const Request& request, auth::Permission permission) {
  if (!request.caller) return Status::Ok();
  ASSIGN_OR_RETURN(Restriction r, RestrictionFor(request, permission, std::string(kType)));
  // ViewDefinition is outside the Patient compartment, so RestrictionFor does not narrow a
  // patient/ scope for it: the scopes are asked directly.
  const auth::Decision d = auth::Decide(request.caller->scopes, permission, std::string(kType));
  if (r.any() || d.patient_only) {
    return Status(StatusCode::kForbidden,
                  "ViewDefinitions are server-wide: a patient or granular scope cannot reach them");
  }
  return Status::Ok();
}

Response JsonResource(const store::StoredVersion& v, int status) {
  Response r;
  r.status = status;
  SetVersionHeaders(v, &r);
  r.SetHeader("Content-Type", "application/fhir+json");
  r.body = v.json;
  return r;
}

// The newest version of every stored view, by id (deleted ones included). Views are few.
Result<std::map<std::string, store::StoredVersion>> CurrentViews(const Context& ctx) {
  std::map<std::string, store::StoredVersion> current;
  store::HistoryQuery q;
  q.type = std::string(kType);
  q.count = 500;
  for (;;) {
    ASSIGN_OR_RETURN(store::HistoryPage page, ctx.store.History(q));
    for (store::HistoryEntry& e : page.entries) {
      current.try_emplace(e.version.id, std::move(e.version));  // newest first
    }
    if (!page.has_more || page.entries.empty()) break;
    q.after = page.entries.back().cursor;
  }
  return current;
}

// A view to materialize needs a table name no other materialized view has (the analytics
// database would refuse it and only log why): 409 naming the view that has it.
Status CheckTableNameFree(const Context& ctx, const json::Value& view, const std::string& id) {
  if (!analytics::MarkedForMaterialization(view)) return Status::Ok();
  const std::string_view name = view.FindString("name");
  ASSIGN_OR_RETURN(auto current, CurrentViews(ctx));
  for (const auto& [other, v] : current) {
    if (other == id || v.deleted) continue;
    Result<json::Document> doc = json::Parse(v.json);
    if (!doc.ok() || doc->root().FindString("name") != name ||
        !analytics::MarkedForMaterialization(doc->root())) {
      continue;
    }
    const std::string msg = "the table '" + std::string(name) +
                            "' belongs to the materialized view ViewDefinition/" + other;
    return Status(StatusCode::kConflict, msg,
                  {Issue{Severity::kError, "conflict", msg, "ViewDefinition.name"}});
  }
  return Status::Ok();
}

// GET [base]/ViewDefinition[?name=...]: every current view (or those of that name) in a
// searchset Bundle, by id. Views are few: one page.
Response List(const Context& ctx, const Request& request) {
  std::string name;
  for (const auto& [k, v] : request.query) {
    if (k == "name") {
      name = v;
    } else if (k != "_format" && k != "_count") {
      return ErrorResponse(InvalidAt("unknown parameter '" + k +
                                         "' (ViewDefinition is listed "
                                         "by name only)",
                                     k));
    }
  }
  Result<std::map<std::string, store::StoredVersion>> current = CurrentViews(ctx);
  if (!current.ok()) return ErrorResponse(current.status());
  std::string entries;
  int total = 0;
  for (const auto& [id, v] : *current) {
    if (v.deleted) continue;
    if (!name.empty()) {
      Result<json::Document> doc = json::Parse(v.json);
      if (!doc.ok() || doc->root().FindString("name") != name) continue;
    }
    if (total++ > 0) entries += ",";
    entries += "{\"fullUrl\":";
    json::WriteString(BaseUrl(ctx, request) + "/ViewDefinition/" + id, &entries);
    entries += ",\"resource\":" + v.json + ",\"search\":{\"mode\":\"match\"}}";
  }
  Response r;
  r.status = 200;
  r.SetHeader("Content-Type", "application/fhir+json");
  r.body =
      "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":" + std::to_string(total) +
      ",\"entry\":[" + entries + "]}";
  return r;
}

Response Create(const Context& ctx, const Request& request) {
  if (Status s = Authorize(request, auth::Permission::kCreate); !s.ok()) return ErrorResponse(s);
  Result<json::Document> doc = ParseViewBody(request);
  if (!doc.ok()) return ErrorResponse(doc.status());
  store::WriteOp op;
  op.kind = store::WriteKind::kCreate;
  op.type = std::string(kType);
  op.id = ctx.ids.NewId();
  if (Status s = CheckTableNameFree(ctx, doc->root(), op.id); !s.ok()) return ErrorResponse(s);
  op.expected_version = store::kExpectNone;
  op.last_updated = ctx.clock.Now();
  op.json = fhir::StoredJson(*doc, op.id, 1, op.last_updated);
  Result<std::vector<store::WriteResult>> w = ctx.store.Write(std::span(&op, 1));
  if (!w.ok()) return ErrorResponse(w.status());
  store::StoredVersion v{op.type, op.id, 1, op.last_updated, false, op.json};
  Response r = JsonResource(v, 201);
  r.SetHeader("Location", BaseUrl(ctx, request) + "/ViewDefinition/" + op.id + "/_history/1");
  return r;
}

Response Update(const Context& ctx, const Request& request, const Target& target) {
  if (Status s = Authorize(request, auth::Permission::kUpdate); !s.ok()) return ErrorResponse(s);
  Result<json::Document> doc = ParseViewBody(request);
  if (!doc.ok()) return ErrorResponse(doc.status());
  if (doc->root().FindString("id") != target.id) {
    return ErrorResponse(InvalidAt(
        "the view's id must equal the id in the URL ('" + target.id + "')", "ViewDefinition.id"));
  }
  if (Status s = CheckTableNameFree(ctx, doc->root(), target.id); !s.ok()) {
    return ErrorResponse(s);
  }
  Result<VersionedWrite> w = WriteVersioned(
      ctx, request, target, WhenAbsent::kCreate, WhenDeleted::kPrepare,
      [&](const store::StoredVersion*, store::WriteOp& op) -> PrepareResult {
        op.json = fhir::StoredJson(*doc, op.id, op.expected_version + 1, op.last_updated);
        return WriteIt();
      });
  if (!w.ok()) return ErrorResponse(w.status());
  store::StoredVersion v = w->written;
  v.json = w->op.json;
  return JsonResource(v, v.version == 1 ? 201 : 200);
}

Response Delete(const Context& ctx, const Request& request, const Target& target) {
  if (Status s = Authorize(request, auth::Permission::kDelete); !s.ok()) return ErrorResponse(s);
  Result<VersionedWrite> w =
      WriteVersioned(ctx, request, target, WhenAbsent::kNotFound, WhenDeleted::kPrepare,
                     [&](const store::StoredVersion* current, store::WriteOp& op) -> PrepareResult {
                       if (current != nullptr && current->deleted) {
                         Response r;
                         r.status = 204;
                         return AnswerWithoutWriting(std::move(r));
                       }
                       op.kind = store::WriteKind::kDelete;
                       op.json.clear();
                       return WriteIt();
                     });
  if (!w.ok()) {
    if (w.status().code() == StatusCode::kNotFound) {
      Response r;
      r.status = 204;  // https://hl7.org/fhir/R4/http.html#delete: nothing to delete is fine
      return r;
    }
    return ErrorResponse(w.status());
  }
  if (w->answer.has_value()) return std::move(*w->answer);
  Response r;
  r.status = 204;
  r.SetHeader("ETag", "W/\"" + std::to_string(w->written.version) + "\"");
  return r;
}

Response Read(const Context& ctx, const Request& request, const Target& target) {
  if (Status s = Authorize(request, auth::Permission::kRead); !s.ok()) return ErrorResponse(s);
  Result<store::StoredVersion> v = ReadCurrent(ctx, target.type, target.id);
  if (!v.ok()) return ErrorResponse(v.status());
  if (v->deleted) {
    return GoneResponse(*v, "ViewDefinition/" + target.id + " was deleted");
  }
  return JsonResource(*v, 200);
}

}  // namespace

Result<store::StoredVersion> ReadStoredView(const Context& ctx, const Request& request,
                                            const std::string& id) {
  RETURN_IF_ERROR(Authorize(request, auth::Permission::kRead));
  ASSIGN_OR_RETURN(store::StoredVersion v, ReadCurrent(ctx, std::string(kType), id));
  if (v.deleted) return Status(StatusCode::kGone, "ViewDefinition/" + id + " was deleted");
  return v;
}

Response ViewDefinitionInteraction(const Context& ctx, const Request& request,
                                   const std::vector<std::string_view>& parts) {
  const std::string& m = request.method;
  const bool get = m == "GET" || m == "HEAD";
  if (parts.size() == 1) {
    if (get) {
      if (Status s = Authorize(request, auth::Permission::kSearch); !s.ok()) {
        return ErrorResponse(s);
      }
      return List(ctx, request);
    }
    if (m == "POST") return Create(ctx, request);
    return MethodNotAllowed(m, "GET, HEAD, POST");
  }
  Target target{std::string(kType), std::string(parts[1]), {}};
  if (parts.size() != 2 || !fhir::IsValidId(target.id)) {
    return ErrorResponse(Status(StatusCode::kNotFound,
                                "no such path: ViewDefinition takes [base]/ViewDefinition, "
                                "[base]/ViewDefinition/[id] and $viewdefinition-run"));
  }
  if (get) return Read(ctx, request, target);
  if (m == "PUT") return Update(ctx, request, target);
  if (m == "DELETE") return Delete(ctx, request, target);
  return MethodNotAllowed(m, "GET, HEAD, PUT, DELETE");
}

}  // namespace vesta::rest
