// batch and transaction: POST [base] with a Bundle
// (https://hl7.org/fhir/R4/http.html#transaction).
//
// batch: "each entry is treated as if it were an individual interaction": every entry goes
// through the same routing as an HTTP request and gets its own status; one failing entry does
// not stop the others.
//
// transaction: all or nothing. Following the processing rules
// (https://hl7.org/fhir/R4/http.html#trules):
//   1. DELETE, then POST, then PUT (and conditional forms), then GET/HEAD entries;
//   2. every POST gets a new id; fullUrls (urn:uuid:, urn:oid: or absolute URLs) of created and
//      updated resources are mapped to their new `Type/id`, and every Reference.reference in the
//      Bundle that names one is rewritten; conditional references (`Patient?identifier=...`)
//      are resolved by search and must match exactly one resource;
//   3. conditional create (ifNoneExist), conditional update (`PUT Type?query`) and conditional
//      delete (`DELETE Type?query`) follow the outcomes for 0, 1 and many matches (412 for
//      many);
//      A PUT entry with `ifNoneMatch: "*"` is a create of that id only (RFC 9110 13.1.2,
//      If-None-Match: * on a method other than GET/HEAD): 412 when the id has a version, even a
//      deleted one, so that the id is written once (the HL7 v2 feed's message records);
//   4. all writes (resource rows and their search index rows) commit in one store Write(), so a
//      failure anywhere leaves store and index exactly as before; a concurrent writer that
//      changed a resource in between makes the whole transaction retry (or 412 with ifMatch).
// The response is a transaction-response Bundle with status, location, etag and lastModified per
// entry, in the order of the request.
#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "base/strings.h"
#include "fhir/resource/reference_rewrite.h"
#include "fhir/resource/resource_json.h"
#include "json/parse.h"
#include "json/writer.h"
#include "rest/access.h"
#include "rest/bundle.h"
#include "rest/context.h"
#include "rest/outcome.h"
#include "rest/url.h"

namespace vesta::rest {
namespace {

// How an entry ends.
struct EntryResult {
  int status = 0;
  std::string location;  // Type/id/_history/N
  int64_t version = 0;
  Micros last_modified = 0;
  std::string resource_json;  // the stored resource, or a GET's response body
  std::string outcome_json;   // an OperationOutcome for errors (batch)
};

std::string StatusLine(int status) {
  switch (status) {
    case 200:
      return "200 OK";
    case 201:
      return "201 Created";
    case 204:
      return "204 No Content";
    case 304:
      return "304 Not Modified";
    case 400:
      return "400 Bad Request";
    case 404:
      return "404 Not Found";
    case 405:
      return "405 Method Not Allowed";
    case 409:
      return "409 Conflict";
    case 410:
      return "410 Gone";
    case 412:
      return "412 Precondition Failed";
    case 415:
      return "415 Unsupported Media Type";
    case 422:
      return "422 Unprocessable Entity";
    case 501:
      return "501 Not Implemented";
    default:
      return std::to_string(status);
  }
}

std::string EntryPath(size_t i) { return "Bundle.entry[" + std::to_string(i) + "]"; }

// A Status about entry `i`, with its issues' locations moved under the entry.
Status AtEntry(size_t i, const Status& s, const std::string& resource_type = "") {
  std::vector<Issue> issues = s.issues();
  for (Issue& issue : issues) {
    std::string loc = issue.location;
    if (!resource_type.empty() && loc.rfind(resource_type, 0) == 0) {
      loc = EntryPath(i) + ".resource" + loc.substr(resource_type.size());
    } else if (loc.empty()) {
      loc = EntryPath(i);
    }
    issue.location = loc;
  }
  if (issues.empty()) {
    issues.push_back(Issue{Severity::kError, "processing", s.message(), EntryPath(i)});
  }
  return Status(s.code(), "entry " + std::to_string(i) + ": " + s.message(), std::move(issues));
}

std::string_view RequestString(const json::Value& request, std::string_view key) {
  return request.FindString(key);
}

// Builds the Request an entry stands for (used for batch entries and transaction GETs).
Result<Request> EntryRequest(const Request& outer, const json::Value& entry,
                             const std::string& base) {
  const json::Value* req = entry.Find("request");
  if (req == nullptr || !req->is_object()) {
    return Status(StatusCode::kInvalid, "the entry has no request");
  }
  Request r;
  r.caller = outer.caller;  // the entry is the bundle's caller's
  r.secure = outer.secure;
  r.method = std::string(req->FindString("method"));
  if (r.method.empty()) return Status(StatusCode::kInvalid, "request.method is missing");
  ASSIGN_OR_RETURN(EntryUrl url, ParseEntryUrl(req->FindString("url"), base));
  r.path = url.path;
  r.query = url.query;
  for (const char* h : {"Host", "Prefer", "Accept"}) {
    if (std::string_view v = outer.Header(h); !v.empty()) r.headers.emplace_back(h, v);
  }
  static constexpr std::pair<const char*, const char*> kHeaders[] = {
      {"ifMatch", "If-Match"},
      {"ifNoneMatch", "If-None-Match"},
      {"ifNoneExist", "If-None-Exist"},
      {"ifModifiedSince", "If-Modified-Since"}};
  for (const auto& [field, header] : kHeaders) {
    if (std::string_view v = RequestString(*req, field); !v.empty()) {
      r.headers.emplace_back(header, std::string(v));
    }
  }
  if (const json::Value* res = entry.Find("resource")) {
    r.body = json::ToString(*res);
    r.headers.emplace_back("Content-Type", "application/fhir+json");
  }
  return r;
}

Response BundleResponse(const Context& ctx, const OutputFormat& format, std::string_view type,
                        const std::vector<EntryResult>& results, bool include_resources) {
  BundleHead head;
  head.type = type;
  head.id = ctx.ids.NewId();
  head.empty_entries = EmptyEntries::kWriteEmptyArray;
  BundleWriter bundle(head);
  for (const EntryResult& e : results) {
    const std::string status = StatusLine(e.status);
    BundleEntry entry;
    if (include_resources) entry.resource = e.resource_json;
    entry.response =
        BundleEntryResponse{status, e.location, e.version, e.last_modified, e.outcome_json};
    bundle.Add(entry);
  }
  return JsonResponse(bundle.Finish(), format);
}

// ---- batch ------------------------------------------------------------------------------------

Response RunBatch(const Context& ctx, const Request& request, const OutputFormat& format,
                  const json::Value& entries) {
  const std::string base = BaseUrl(ctx, request);
  std::vector<EntryResult> results(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const json::Value& entry = entries.items()[i];
    EntryResult& out = results[i];
    Result<Request> sub = EntryRequest(request, entry, base);
    if (sub.ok() && sub->method == "POST" && sub->path == "/") {
      sub = Status(StatusCode::kInvalid, "a batch entry cannot itself be a batch or transaction");
    }
    if (!sub.ok()) {
      Status s = AtEntry(i, sub.status());
      out.status = HttpStatusFor(s.code());
      out.outcome_json = OperationOutcomeJson(s);
      continue;
    }
    Response r = ctx.dispatch(*sub);
    out.status = r.status;
    for (const auto& [k, v] : r.headers) {
      if (k == "Location") {
        std::string_view loc = v;
        if (loc.substr(0, base.size()) == base) loc.remove_prefix(base.size() + 1);
        out.location = std::string(loc);
      } else if (k == "ETag") {
        out.version = ParseETag(v).value_or(0);
      } else if (k == "Last-Modified") {
        Micros t = 0;
        if (ParseHttpDate(v, &t)) out.last_modified = t;
      }
    }
    if (r.status >= 400) {
      out.outcome_json = r.body;
    } else {
      if (!r.body.empty()) out.resource_json = r.body;
      out.outcome_json = r.warnings_outcome;  // lenient validation's warnings, if any
    }
  }
  return BundleResponse(ctx, format, "batch-response", results, /*include_resources=*/true);
}

// ---- transaction ------------------------------------------------------------------------------

struct Planned {
  size_t index = 0;
  std::string method;
  EntryUrl url;
  std::string type;
  std::string id;  // the resource written or deleted; "" when none
  std::optional<int64_t> if_match;
  bool if_none_match_any = false;  // ifNoneMatch "*" on a PUT: create only
  std::string if_none_exist;
  const json::Value* resource = nullptr;
  bool skip = false;  // conditional create matched / conditional delete matched nothing
  EntryResult result;
};

// Collects conditional references ("Type?query") anywhere in `v`.
void CollectConditionalReferences(const json::Value& v, std::set<std::string>* out) {
  if (v.is_array()) {
    for (const json::Value& item : v.items()) CollectConditionalReferences(item, out);
    return;
  }
  if (!v.is_object()) return;
  for (const json::Member& m : v.members()) {
    if (m.key == "reference" && m.value.is_string()) {
      std::string_view ref = m.value.string_value();
      if (fhir::IsConditionalReference(ref)) out->insert(std::string(ref));
      continue;
    }
    CollectConditionalReferences(m.value, out);
  }
}

int Order(const std::string& method) {
  if (method == "DELETE") return 0;
  if (method == "POST") return 1;
  if (method == "PUT" || method == "PATCH") return 2;
  return 3;  // GET, HEAD
}

// The resource a PATCH entry makes of `current_json`: a Binary entry holds a JSON Patch
// (base64 in Binary.data), a Parameters entry a FHIRPath Patch.
Result<json::Document> PatchFromEntry(const Context& ctx, const std::string& type,
                                      const std::string& id, const std::string& current_json,
                                      const json::Value& patch_resource) {
  Target target{type, id, std::nullopt};
  if (patch_resource.FindString("resourceType") == "Parameters") {
    return ApplyPatchToResource(ctx, target, current_json, /*json_patch=*/false, patch_resource);
  }
  std::optional<std::string> text = Base64Decode(patch_resource.FindString("data"));
  if (!text) return Status(StatusCode::kInvalid, "Binary.data is not base64");
  ASSIGN_OR_RETURN(json::Document patch, json::Parse(*text));
  return ApplyPatchToResource(ctx, target, current_json, /*json_patch=*/true, patch.root());
}

// One attempt at the whole transaction. kConflict means "a concurrent writer interfered: retry".
Result<std::vector<EntryResult>> TryTransaction(const Context& ctx, const Request& request,
                                                json::Document& doc, const json::Value& entries) {
  const std::string base = BaseUrl(ctx, request);
  std::vector<Planned> plan(entries.size());
  // fullUrl or conditional ref -> Type/id
  std::map<std::string, std::string, std::less<>> references;
  std::set<std::string> targets;  // Type/id written, to refuse duplicates

  // Pass 1: what each entry is, and the identities of the resources it creates or changes.
  for (size_t i = 0; i < entries.size(); ++i) {
    const json::Value& entry = entries.items()[i];
    Planned& p = plan[i];
    p.index = i;
    const json::Value* req = entry.Find("request");
    if (req == nullptr || !req->is_object()) {
      return AtEntry(i, Status(StatusCode::kInvalid, "the entry has no request"));
    }
    p.method = std::string(req->FindString("method"));
    Result<EntryUrl> url = ParseEntryUrl(req->FindString("url"), base);
    if (!url.ok()) return AtEntry(i, url.status());
    p.url = std::move(url).value();
    p.resource = entry.Find("resource");
    if (std::string_view im = req->FindString("ifMatch"); !im.empty()) {
      p.if_match = ParseETag(im);
      if (!p.if_match) return AtEntry(i, Status(StatusCode::kInvalid, "ifMatch is not an ETag"));
    }
    p.if_none_exist = std::string(req->FindString("ifNoneExist"));
    std::vector<std::string_view> parts = SplitPath(p.url.path);
    if (p.method == "GET" || p.method == "HEAD") continue;
    if (std::string_view inm = req->FindString("ifNoneMatch"); !inm.empty()) {
      if (p.method != "PUT" || Trim(inm, " ") != "*") {
        return AtEntry(i, Status(StatusCode::kInvalid,
                                 "ifNoneMatch on a write is only \"*\" on a PUT (create only)"));
      }
      p.if_none_match_any = true;
    }
    if (parts.empty() || !ctx.model.IsResourceType(parts[0])) {
      return AtEntry(
          i, Status(StatusCode::kInvalid, "request.url '" + std::string(req->FindString("url")) +
                                              "' does not name a resource type"));
    }
    p.type = std::string(parts[0]);
    const std::string full_url(entry.FindString("fullUrl"));
    if (p.method == "POST") {
      if (parts.size() != 1 || p.url.has_query) {
        return AtEntry(i, Status(StatusCode::kInvalid, "POST request.url must be a type"));
      }
      if (p.resource == nullptr) {
        return AtEntry(i, Status(StatusCode::kInvalid, "POST needs a resource"));
      }
      if (!p.if_none_exist.empty()) {
        ASSIGN_OR_RETURN(QueryList q, ParseQueryString(p.if_none_exist));
        Result<std::vector<std::string>> found = FindMatches(ctx, p.type, q, 1);
        if (!found.ok()) return AtEntry(i, found.status());
        if (found->size() > 1) {
          return AtEntry(i, Status(StatusCode::kPreconditionFailed,
                                   "ifNoneExist matched more than one " + p.type));
        }
        if (found->size() == 1) {
          // https://hl7.org/fhir/R4/http.html#ccreate: one match: nothing is created.
          p.skip = true;
          p.id = (*found)[0];
          p.result.status = 200;
          if (!full_url.empty()) references[full_url] = p.type + "/" + p.id;
          continue;
        }
      }
      p.id = ctx.ids.NewId();
    } else if (p.method == "PUT" || p.method == "DELETE" || p.method == "PATCH") {
      if (p.url.has_query) {
        if (parts.size() != 1) {
          return AtEntry(i, Status(StatusCode::kInvalid, "a conditional URL is Type?query"));
        }
        Result<std::vector<std::string>> found = FindMatches(ctx, p.type, p.url.query, 1);
        if (!found.ok()) return AtEntry(i, found.status());
        if (found->size() > 1) {
          return AtEntry(
              i, Status(StatusCode::kPreconditionFailed,
                        "the conditional " + p.method + " matched more than one " + p.type));
        }
        if (found->size() == 1) {
          p.id = (*found)[0];
        } else if (p.method == "DELETE") {
          p.skip = true;  // nothing to delete
          p.result.status = 204;
          continue;
        } else {
          // Conditional update with no match creates: with the body's id when it has one.
          std::string body_id =
              p.resource != nullptr ? std::string(p.resource->FindString("id")) : "";
          p.id = body_id.empty() ? ctx.ids.NewId() : body_id;
        }
      } else {
        if (parts.size() != 2) {
          return AtEntry(i, Status(StatusCode::kInvalid,
                                   p.method + " request.url must be Type/id or Type?query"));
        }
        p.id = std::string(parts[1]);
      }
      if (p.method == "PUT" && p.resource == nullptr) {
        return AtEntry(i, Status(StatusCode::kInvalid, "PUT needs a resource"));
      }
      if (p.method == "PATCH") {
        // https://hl7.org/fhir/R4/http.html#patch: in a Bundle the patch is a Binary holding
        // a JSON Patch document, or a Parameters resource holding a FHIRPath Patch.
        std::string_view rt = p.resource != nullptr ? p.resource->FindString("resourceType") : "";
        if (rt != "Binary" && rt != "Parameters") {
          return AtEntry(i, Status(StatusCode::kInvalid,
                                   "PATCH needs a Binary (JSON Patch) or a Parameters (FHIRPath "
                                   "Patch) resource"));
        }
      }
    } else {
      return AtEntry(i, Status(StatusCode::kInvalid, "request.method '" + p.method +
                                                         "' is not one of GET, HEAD, POST, "
                                                         "PUT, DELETE, PATCH"));
    }
    if (!targets.insert(p.type + "/" + p.id).second) {
      // https://hl7.org/fhir/R4/http.html#trules: the same resource twice is an error.
      return AtEntry(
          i, Status(StatusCode::kInvalid, p.type + "/" + p.id + " appears in more than one entry"));
    }
    if (!full_url.empty() && p.method != "DELETE") references[full_url] = p.type + "/" + p.id;
  }

  // Pass 2: conditional references, resolved by search.
  std::set<std::string> conditional;
  for (const Planned& p : plan) {
    if (p.resource != nullptr && !p.skip && p.method != "PATCH") {
      CollectConditionalReferences(*p.resource, &conditional);
    }
  }
  for (const std::string& ref : conditional) {
    size_t q = ref.find('?');
    std::string type = ref.substr(0, q);
    if (!ctx.model.IsResourceType(type)) {
      return Status(StatusCode::kInvalid,
                    "conditional reference '" + ref + "' does not name a resource type");
    }
    ASSIGN_OR_RETURN(QueryList query, ParseQueryString(std::string_view(ref).substr(q + 1)));
    Result<std::vector<std::string>> found = FindMatches(ctx, type, query, 1);
    if (!found.ok()) return found.status();
    if (found->empty()) {
      // Not stored yet: the resource a conditional create or update of this transaction makes
      // with the same query (an upsert and a reference to it in one Bundle, as feeds send them).
      for (const Planned& p : plan) {
        if (p.type != type || p.id.empty()) continue;
        if (p.method == "PUT" && p.url.has_query && p.url.query == query) {
          found->push_back(p.id);
        } else if (p.method == "POST" && !p.if_none_exist.empty()) {
          std::string_view ine = p.if_none_exist;
          if (ine.front() == '?') ine.remove_prefix(1);
          Result<QueryList> q = ParseQueryString(ine);
          if (q.ok() && *q == query) found->push_back(p.id);
        }
      }
    }
    if (found->size() != 1) {
      // https://hl7.org/fhir/R4/http.html#trules: "If ... no matches, or multiple matches,
      // the transaction fails" (412).
      return Status(StatusCode::kPreconditionFailed,
                    "conditional reference '" + ref + "' matched " +
                        (found->empty() ? std::string("nothing") : "more than one resource"));
    }
    references[ref] = type + "/" + (*found)[0];
  }

  // Pass 3: the writes, in the processing order.
  std::vector<size_t> order(plan.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return Order(plan[a].method) < Order(plan[b].method);
  });
  std::vector<store::WriteOp> ops;
  std::deque<json::Document> documents;  // the ops' parsed resources, indexed as they are
  std::vector<size_t> op_entry;
  const Micros now = ctx.clock.Now();
  for (size_t i : order) {
    Planned& p = plan[i];
    if (p.skip || p.method == "GET" || p.method == "HEAD") continue;
    if (Status s = CheckClientWritable(p.type); !s.ok()) return AtEntry(i, s);
    int64_t current = store::kExpectNone;
    bool current_deleted = false;
    if (p.method != "POST") {
      Result<store::StoredVersion> cur = ctx.store.Read(p.type, p.id);
      if (cur.ok()) {
        current = cur->version;
        current_deleted = cur->deleted;
      } else if (cur.status().code() != StatusCode::kNotFound) {
        return AtEntry(i, cur.status());
      }
    }
    // The token's scopes, entry by entry (rest/access.h): the existing resource a write
    // replaces or deletes, then (below) the content written.
    const bool exists = current != store::kExpectNone && !current_deleted;
    if (exists) {
      const auth::Permission permission =
          p.method == "DELETE" ? auth::Permission::kDelete : auth::Permission::kUpdate;
      if (Status s = CheckExisting(ctx, request, permission, p.type, p.id); !s.ok()) {
        return AtEntry(i, s);
      }
    } else if (p.method == "DELETE") {
      if (Status s = RestrictionFor(request, auth::Permission::kDelete, p.type).status(); !s.ok()) {
        return AtEntry(i, s);
      }
    }
    if (p.if_none_match_any && current != store::kExpectNone) {
      return AtEntry(i, Status(StatusCode::kPreconditionFailed,
                               "ifNoneMatch *: " + p.type + "/" + p.id + " already exists"));
    }
    if (p.if_match && *p.if_match != current) {
      return AtEntry(
          i, Status(StatusCode::kPreconditionFailed,
                    "ifMatch " + ETagFor(*p.if_match) + " does not match " + p.type + "/" + p.id));
    }
    store::WriteOp op;
    op.type = p.type;
    op.id = p.id;
    op.expected_version = current;
    op.last_updated = now;
    if (p.method == "DELETE") {
      if (current == store::kExpectNone || current_deleted) {
        p.result.status = 204;  // nothing to delete: no new version
        continue;
      }
      std::set<std::string> deleting;
      for (const Planned& other : plan) {
        if (other.method == "DELETE" && !other.id.empty())
          deleting.insert(other.type + "/" + other.id);
      }
      if (Status s = CheckNotReferenced(ctx, p.type, p.id, deleting); !s.ok()) {
        return AtEntry(i, s);
      }
      op.kind = store::WriteKind::kDelete;
      p.result.status = 204;
    } else {
      bool changed = false;
      std::string text;
      if (p.method == "PATCH") {
        if (current == store::kExpectNone || current_deleted) {
          return AtEntry(i, Status(current_deleted ? StatusCode::kGone : StatusCode::kNotFound,
                                   p.type + "/" + p.id + " cannot be patched: it " +
                                       (current_deleted ? "was deleted" : "does not exist")));
        }
        Result<store::StoredVersion> cur = ctx.store.Read(p.type, p.id);
        if (!cur.ok()) return AtEntry(i, cur.status());
        Result<json::Document> patched = PatchFromEntry(ctx, p.type, p.id, cur->json, *p.resource);
        if (!patched.ok()) return AtEntry(i, patched.status(), p.type);
        text = json::ToString(
            fhir::RewriteReferences(patched->arena(), patched->root(), references, &changed));
      } else {
        text =
            json::ToString(fhir::RewriteReferences(doc.arena(), *p.resource, references, &changed));
      }
      std::vector<Issue> warnings;
      Result<json::Document> checked =
          fhir::ParseResourceBody(text, p.type, ctx.model, ValidationFor(ctx, &warnings));
      if (checked.ok() && !warnings.empty()) {
        // https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.response.outcome
        for (Issue& w : warnings)
          w.location = EntryPath(i) + ".resource" + w.location.substr(p.type.size());
        p.result.outcome_json = InformationOutcomeJson("accepted with warnings", warnings);
      }
      if (!checked.ok()) return AtEntry(i, checked.status(), p.type);
      if (Status s = CheckReferences(ctx, request, checked->root(), p.type, targets); !s.ok()) {
        return AtEntry(i, s, p.type);
      }
      if (Status s = CheckNewContent(ctx, request,
                                     exists ? auth::Permission::kUpdate : auth::Permission::kCreate,
                                     p.type, checked->root());
          !s.ok()) {
        return AtEntry(i, s, p.type);
      }
      if (p.method == "PUT" && !p.url.has_query) {
        std::string_view body_id = checked->root().FindString("id");
        if (body_id != p.id) {
          return AtEntry(i, Status(StatusCode::kInvalid,
                                   "the resource's id '" + std::string(body_id) +
                                       "' differs from the id in request.url ('" + p.id + "')"));
        }
      }
      op.kind =
          current == store::kExpectNone ? store::WriteKind::kCreate : store::WriteKind::kUpdate;
      op.json = fhir::StoredJson(*checked, p.id, current + 1, now);
      documents.push_back(std::move(*checked));
      op.document = &documents.back();
      p.result.status = current == store::kExpectNone ? 201 : 200;
      p.result.resource_json = op.json;
    }
    p.result.version = current + 1;
    p.result.last_modified = now;
    p.result.location = p.type + "/" + p.id + "/_history/" + std::to_string(current + 1);
    ops.push_back(std::move(op));
    op_entry.push_back(i);
  }
  if (!ops.empty()) {
    Result<std::vector<store::WriteResult>> written = ctx.store.Write(ops);
    if (!written.ok()) return written.status();
  }
  // Skipped conditional creates report the resource that matched.
  for (Planned& p : plan) {
    if (p.skip && p.method == "POST") {
      Result<store::StoredVersion> cur = ctx.store.Read(p.type, p.id);
      if (cur.ok()) {
        p.result.version = cur->version;
        p.result.last_modified = cur->last_updated;
        p.result.location = p.type + "/" + p.id + "/_history/" + std::to_string(cur->version);
        p.result.resource_json = cur->json;
      }
    }
  }
  // Finally the reads, which see the transaction's writes.
  for (Planned& p : plan) {
    if (p.method != "GET" && p.method != "HEAD") continue;
    Result<Request> sub = EntryRequest(request, entries.items()[p.index], base);
    if (!sub.ok()) return AtEntry(p.index, sub.status());
    Response r = ctx.dispatch(*sub);
    if (r.status >= 400) {
      return AtEntry(
          p.index, Status(StatusCode::kInvalid, "the read failed with " + std::to_string(r.status) +
                                                    ": " + r.body.substr(0, 300)));
    }
    p.result.status = r.status;
    p.result.resource_json = r.body;
  }
  std::vector<EntryResult> results;
  results.reserve(plan.size());
  for (Planned& p : plan) results.push_back(std::move(p.result));
  return results;
}

}  // namespace

Response BundleInteraction(const Context& ctx, const Request& request, const OutputFormat& format) {
  if (Status s = CheckBodyContentType(request); !s.ok()) return ErrorResponse(s);
  Result<json::Document> doc = json::Parse(request.body);
  if (!doc.ok()) return ErrorResponse(doc.status());
  const json::Value& root = doc->root();
  if (root.FindString("resourceType") != "Bundle") {
    return ErrorResponse(Status(
        StatusCode::kInvalid, "POST to the base URL takes a Bundle of type batch or transaction"));
  }
  std::string_view type = root.FindString("type");
  const json::Value* entries = root.Find("entry");
  json::Value no_entries = json::Value::Array(doc->arena(), {});
  if (entries == nullptr) entries = &no_entries;
  if (!entries->is_array()) {
    return ErrorResponse(Status(StatusCode::kInvalid, "Bundle.entry must be an array"));
  }
  if (type == "batch") return RunBatch(ctx, request, format, *entries);
  if (type != "transaction") {
    return ErrorResponse(
        Status(StatusCode::kInvalid,
               "Bundle.type must be batch or transaction, not '" + std::string(type) + "'"));
  }
  const bool minimal = request.Header("Prefer").find("return=minimal") != std::string_view::npos;
  // The criteria of its conditional creates and updates, locked for the whole transaction
  // (ConditionalLocks).
  std::vector<std::string> criteria;
  for (const json::Value& entry : entries->items()) {
    const json::Value* req = entry.Find("request");
    if (req == nullptr) continue;
    const std::string_view method = req->FindString("method");
    std::string_view url = req->FindString("url");
    std::string_view query;
    if (method == "PUT" && url.find('?') != std::string_view::npos) {
      query = url.substr(url.find('?') + 1);
      url = url.substr(0, url.find('?'));
    } else if (method == "POST" && !req->FindString("ifNoneExist").empty()) {
      query = req->FindString("ifNoneExist");
      if (query.front() == '?') query.remove_prefix(1);
    } else {
      continue;
    }
    Result<QueryList> parsed = ParseQueryString(query);
    if (!parsed.ok()) continue;  // refused with its reason when the entry is planned
    std::string type(url.substr(url.rfind('/') == std::string_view::npos ? 0 : url.rfind('/') + 1));
    criteria.push_back(ConditionalKey(type, *parsed));
  }
  const auto held = ctx.conditional_locks->Lock(criteria);
  // Optimistic concurrency: a transaction that lost a race re-reads and tries again, after a
  // short randomised pause so that contenders spread out. Bounded in attempts.
  constexpr int kAttempts = 50;
  thread_local std::mt19937 rng{std::random_device{}()};
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Result<std::vector<EntryResult>> results = TryTransaction(ctx, request, *doc, *entries);
    if (results.ok()) {
      return BundleResponse(ctx, format, "transaction-response", *results, !minimal);
    }
    if (results.status().code() != StatusCode::kConflict) {
      return ErrorResponse(results.status());
    }
    int max_pause_us = 200 * std::min(attempt + 1, 10);
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, max_pause_us)(rng)));
  }
  return ErrorResponse(Status(StatusCode::kConflict,
                              "the transaction kept conflicting with concurrent writes; retry it"));
}

}  // namespace vesta::rest
