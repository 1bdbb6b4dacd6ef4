#include "rest/access.h"

#include <algorithm>
#include <map>
#include <set>

#include "json/parse.h"
#include "search/extract.h"
#include "search/registry.h"

namespace vesta::rest {
namespace {

using auth::Permission;

// Whether resources of `type` can belong to a patient's compartment (Patient itself included).
bool InPatientCompartmentDefinition(const std::string& type) {
  return type == "Patient" || !search::Registry::Active().PatientCompartmentParams(type).empty();
}

std::string PermissionWord(Permission p) {
  switch (p) {
    case Permission::kCreate:
      return "create";
    case Permission::kRead:
      return "read";
    case Permission::kUpdate:
      return "update";
    case Permission::kDelete:
      return "delete";
    case Permission::kSearch:
      return "search";
  }
  return "use";
}

// Several granular constraints as one search's parameters: one list as it is; lists that each
// name the same single parameter as one parameter with the values as alternatives (`category=
// laboratory` and `category=vital-signs` become `category=laboratory,vital-signs`). kForbidden
// for other unions, which one search cannot express.
Result<auth::QueryList> AsOneSearch(const std::string& type,
                                    const std::vector<auth::QueryList>& constraints) {
  if (constraints.size() == 1) return constraints[0];
  auth::QueryList merged;
  for (const auth::QueryList& c : constraints) {
    if (c.size() != 1 || (!merged.empty() && c[0].first != merged[0].first)) {
      return Forbidden("the token's granular scopes on " + type +
                       " combine different search parameters, which this server cannot apply "
                       "to one search; search with one of them");
    }
    if (merged.empty()) {
      merged.push_back(c[0]);
    } else {
      merged[0].second += "," + c[0].second;
    }
  }
  return merged;
}

// Which of `ids` (of `type`) the restriction lets the caller see: found by a search in the
// compartment with the constraints (one search per constraint list).
Result<std::set<std::string>> VisibleIds(const Context& ctx, const std::string& type,
                                         const std::vector<std::string>& ids,
                                         const Restriction& r) {
  std::set<std::string> out;
  if (ids.empty()) return out;
  std::string id_list;
  for (const std::string& id : ids) {
    if (type == "Patient" && !r.patient.empty() && id != r.patient) continue;
    id_list += (id_list.empty() ? "" : ",") + id;
  }
  if (id_list.empty()) return out;
  std::vector<auth::QueryList> lists = r.constraints;
  if (lists.empty()) lists.emplace_back();
  for (const auth::QueryList& constraint : lists) {
    store::SearchQuery q;
    q.types = {type};
    q.params = {{"_id", id_list}};
    q.params.insert(q.params.end(), constraint.begin(), constraint.end());
    q.params.emplace_back("_count", std::to_string(std::max<size_t>(ids.size(), 1)));
    q.params.emplace_back("_elements", "id");
    if (!r.patient.empty() && type != "Patient" && InPatientCompartmentDefinition(type)) {
      q.compartment_patient = r.patient;
    }
    q.max_count = std::max<int>(static_cast<int>(ids.size()), 1);
    q.now = ctx.clock.Now();
    ASSIGN_OR_RETURN(store::SearchPage page, ctx.store.Search(q));
    for (const store::SearchHit& h : page.entries) out.insert(h.version.id);
  }
  return out;
}

std::string Where(const Restriction& r) {
  if (!r.patient.empty()) return "the compartment of Patient/" + r.patient;
  return "what the token's granular scopes allow";
}

// Whether `resource`, new content of `type`, lies in the patient's compartment.
bool ContentInCompartment(const std::string& type, const json::Value& resource,
                          const std::string& patient) {
  if (type == "Patient") return resource.FindString("id") == patient;
  search::IndexRows rows = search::ExtractIndexRows(search::Registry::Active(), resource);
  return std::find(rows.patients.begin(), rows.patients.end(), patient) != rows.patients.end();
}

bool IsTerminologyOperation(std::string_view op) {
  return op == "$lookup" || op == "$validate-code" || op == "$expand" || op == "$translate" ||
         op == "$subsumes" || op == "$closure";
}

}  // namespace

Result<Restriction> RestrictionFor(const Request& request, Permission permission,
                                   const std::string& type) {
  Restriction r;
  if (!request.caller) return r;
  const auth::Decision d = auth::Decide(request.caller->scopes, permission, type);
  if (!d.allowed) {
    return Forbidden("the token does not allow to " + PermissionWord(permission) + " " + type +
                     ": it needs the scope " + d.missing);
  }
  if (d.mixed) {
    return Forbidden("the token allows " + type +
                     " both through patient/ scopes and through granular user/ or system/ "
                     "scopes, a union this server does not evaluate; ask for one kind");
  }
  if (d.patient_only && InPatientCompartmentDefinition(type)) {
    if (request.caller->patient.empty()) {
      return Forbidden("the token has patient/ scopes but no patient in its launch context");
    }
    r.patient = request.caller->patient;
  }
  r.constraints = d.constraints;
  return r;
}

Status NarrowSearch(const Context& ctx, const Request& request, const std::string& type,
                    store::SearchQuery* q) {
  (void)ctx;
  if (!request.caller) return Status::Ok();
  // _has:Type:...: the search reads resources of Type to select these.
  for (const auto& [name, value] : q->params) {
    if (!name.starts_with("_has:")) continue;
    const size_t end = name.find(':', 5);
    const std::string has_type = name.substr(5, end == std::string::npos ? end : end - 5);
    ASSIGN_OR_RETURN(Restriction inner, RestrictionFor(request, Permission::kSearch, has_type));
    if (inner.any()) {
      return Forbidden("_has on " + has_type + " needs a scope that allows searching all of " +
                       has_type + ", not only " + Where(inner));
    }
  }
  if (type.empty()) {
    // A system search: every type it names must be open to the caller without restriction.
    std::vector<std::string> types;
    for (const auto& [name, value] : q->params) {
      if (name != "_type") continue;
      size_t start = 0;
      while (start <= value.size()) {
        size_t comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        if (comma > start) types.push_back(value.substr(start, comma - start));
        start = comma + 1;
      }
    }
    if (types.empty()) types.push_back("*");
    for (const std::string& t : types) {
      ASSIGN_OR_RETURN(Restriction r, RestrictionFor(request, Permission::kSearch, t));
      if (r.any()) {
        return Forbidden("a search across types needs scopes that allow all of " + t +
                         "; search [base]/" + t + " instead");
      }
    }
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(Restriction r, RestrictionFor(request, Permission::kSearch, type));
  if (!r.patient.empty()) {
    if (type == "Patient") {
      q->params.emplace_back("_id", r.patient);
    } else if (!q->compartment_patient.empty() && q->compartment_patient != r.patient) {
      return Forbidden("the token is limited to the compartment of Patient/" + r.patient);
    } else {
      q->compartment_patient = r.patient;
    }
  }
  if (!r.constraints.empty()) {
    ASSIGN_OR_RETURN(auth::QueryList extra, AsOneSearch(type, r.constraints));
    q->params.insert(q->params.end(), extra.begin(), extra.end());
  }
  return Status::Ok();
}

Status FilterIncluded(const Context& ctx, const Request& request,
                      std::vector<store::SearchHit>* hits) {
  if (!request.caller) return Status::Ok();
  std::map<std::string, std::vector<std::string>> included;  // type -> ids
  for (const store::SearchHit& h : *hits) {
    if (h.mode == store::SearchMode::kInclude) included[h.version.type].push_back(h.version.id);
  }
  if (included.empty()) return Status::Ok();
  std::set<std::string> visible;  // "Type/id"
  for (const auto& [type, ids] : included) {
    Result<Restriction> r = RestrictionFor(request, Permission::kRead, type);
    if (!r.ok()) continue;  // not readable at all: dropped
    if (!r->any()) {
      for (const std::string& id : ids) visible.insert(type + "/" + id);
      continue;
    }
    ASSIGN_OR_RETURN(std::set<std::string> found, VisibleIds(ctx, type, ids, *r));
    for (const std::string& id : found) visible.insert(type + "/" + id);
  }
  hits->erase(std::remove_if(hits->begin(), hits->end(),
                             [&](const store::SearchHit& h) {
                               return h.mode == store::SearchMode::kInclude &&
                                      !visible.contains(h.version.type + "/" + h.version.id);
                             }),
              hits->end());
  return Status::Ok();
}

Status CheckExisting(const Context& ctx, const Request& request, Permission permission,
                     const std::string& type, const std::string& id) {
  if (!request.caller) return Status::Ok();
  ASSIGN_OR_RETURN(Restriction r, RestrictionFor(request, permission, type));
  if (!r.any()) return Status::Ok();
  if (permission != Permission::kRead && permission != Permission::kSearch &&
      !r.constraints.empty()) {
    return Forbidden("the token's scopes allow to " + PermissionWord(permission) + " " + type +
                     " only through granular scopes, which this server applies to reads only");
  }
  ASSIGN_OR_RETURN(std::set<std::string> found, VisibleIds(ctx, type, {id}, r));
  if (!found.contains(id)) {
    return Forbidden(type + "/" + id + " is not within " + Where(r) +
                     ", which the token is limited to");
  }
  return Status::Ok();
}

Status CheckNewContent(const Context& ctx, const Request& request, Permission permission,
                       const std::string& type, const json::Value& resource) {
  (void)ctx;
  if (!request.caller) return Status::Ok();
  ASSIGN_OR_RETURN(Restriction r, RestrictionFor(request, permission, type));
  if (!r.constraints.empty()) {
    return Forbidden("the token's scopes allow to " + PermissionWord(permission) + " " + type +
                     " only through granular scopes, which this server applies to reads only");
  }
  if (!r.patient.empty() && !ContentInCompartment(type, resource, r.patient)) {
    return Forbidden("the " + type + " written is not in the compartment of Patient/" + r.patient +
                     ", which the token is limited to");
  }
  return Status::Ok();
}

Status CheckClientWritable(const std::string& type) {
  if (type != "AuditEvent") return Status::Ok();
  return Forbidden(
      "AuditEvent resources cannot be created, changed or deleted through the API: the audit "
      "trail is append-only and written by the server");
}

Status AuthorizeRoute(const Context& ctx, const Request& request, const Target& target,
                      std::string_view interaction) {
  if (interaction == "create" || interaction == "update" || interaction == "patch" ||
      interaction == "delete" || interaction == "conditional-update" ||
      interaction == "conditional-delete") {
    RETURN_IF_ERROR(CheckClientWritable(target.type));
  }
  if (!request.caller) return Status::Ok();
  const std::string& type = target.type;
  if (interaction == "read" || interaction == "vread" || interaction == "history-instance") {
    return CheckExisting(ctx, request, Permission::kRead, type, target.id);
  }
  if (interaction == "delete")
    return CheckExisting(ctx, request, Permission::kDelete, type, target.id);
  if (interaction == "update" || interaction == "patch" || interaction == "create") {
    // A token that may create and update the type everywhere needs no look at the resource.
    if (interaction != "create") {
      Result<Restriction> u = RestrictionFor(request, Permission::kUpdate, type);
      Result<Restriction> c = RestrictionFor(request, Permission::kCreate, type);
      if (u.ok() && c.ok() && !u->any() && !c->any()) return Status::Ok();
    }
    bool exists = false;
    if (interaction != "create") {
      Result<store::StoredVersion> current = ctx.store.Read(type, target.id);
      exists = current.ok() && !current->deleted;
      if (exists) {
        RETURN_IF_ERROR(CheckExisting(ctx, request, Permission::kUpdate, type, target.id));
      }
    }
    const Permission p = exists ? Permission::kUpdate : Permission::kCreate;
    ASSIGN_OR_RETURN(Restriction r, RestrictionFor(request, p, type));
    // A patch's result is checked where it is applied (patch.cc, CheckNewContent); a body that
    // does not parse is refused by the interaction, saying why.
    if (!r.any() || interaction == "patch") return Status::Ok();
    Result<json::Document> body = json::Parse(request.body);
    if (!body.ok()) return Status::Ok();
    return CheckNewContent(ctx, request, p, type, body->root());
  }
  if (interaction == "conditional-update" || interaction == "conditional-delete") {
    ASSIGN_OR_RETURN(Restriction s, RestrictionFor(request, Permission::kSearch, type));
    const Permission p =
        interaction == "conditional-delete" ? Permission::kDelete : Permission::kUpdate;
    ASSIGN_OR_RETURN(Restriction w, RestrictionFor(request, p, type));
    if (s.any() || w.any()) {
      return Forbidden("conditional " + PermissionWord(p) +
                       " needs scopes that allow it on all of " + type + ", not only " +
                       Where(s.any() ? s : w) + "; find the resource, then " + PermissionWord(p) +
                       " it by id");
    }
    return Status::Ok();
  }
  if (interaction == "history-type" || interaction == "history-system") {
    const std::string t = type.empty() ? "*" : type;
    ASSIGN_OR_RETURN(Restriction r, RestrictionFor(request, Permission::kRead, t));
    if (r.any()) {
      return Forbidden("the history of " + (type.empty() ? std::string("the server") : type) +
                       " needs scopes that allow reading all of it, not only " + Where(r) +
                       "; ask for the history of one resource");
    }
    return Status::Ok();
  }
  return Status::Ok();
}

Status AuthorizeOperation(const Context& ctx, const Request& request, const Target& target,
                          std::string_view operation) {
  if (!request.caller) return Status::Ok();
  if (IsTerminologyOperation(operation)) return Status::Ok();
  if (operation == "$everything") {
    ASSIGN_OR_RETURN(Restriction r, RestrictionFor(request, Permission::kRead, "Patient"));
    if (!target.id.empty())
      return CheckExisting(ctx, request, Permission::kRead, "Patient", target.id);
    if (r.any())
      return Forbidden("Patient/$everything across patients needs system/ or user/ scopes");
    return Status::Ok();
  }
  const std::string t = target.type.empty() ? "*" : target.type;
  if (target.id.empty()) return RestrictionFor(request, Permission::kRead, t).status();
  return CheckExisting(ctx, request, Permission::kRead, t, target.id);
}

}  // namespace vesta::rest
