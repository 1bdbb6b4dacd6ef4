// Conditional interactions (https://hl7.org/fhir/R4/http.html#cond-update,
// https://hl7.org/fhir/R4/http.html#3.1.0.7.1 conditional delete, #ccreate conditional create):
// the target is found by a search, and the outcome depends on whether it matched 0, 1 or many
// resources.
#include <strings.h>

#include <algorithm>
#include <functional>
#include <set>

#include "rest/context.h"
#include "rest/outcome.h"
#include "rest/url.h"

namespace vesta::rest {

std::vector<std::unique_lock<std::mutex>> ConditionalLocks::Lock(
    const std::vector<std::string>& keys) {
  std::vector<size_t> stripes;
  for (const std::string& key : keys) {
    stripes.push_back(std::hash<std::string>{}(key) % stripes_.size());
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  std::vector<std::unique_lock<std::mutex>> held;
  for (size_t s : stripes) held.emplace_back(stripes_[s]);
  return held;
}

std::string ConditionalKey(const std::string& type, const QueryList& query) {
  std::string key = type;
  for (const auto& [k, v] : query) {
    if (k == "_format" || k == "_pretty") continue;
    key += '\n' + k + '=' + v;
  }
  return key;
}

Result<std::vector<std::string>> FindMatches(const Context& ctx, const std::string& type,
                                             const QueryList& query, int limit) {
  QueryList params;
  for (const auto& [k, v] : query) {
    if (k != "_format" && k != "_pretty") params.emplace_back(k, v);
  }
  if (params.empty()) {
    return Status(StatusCode::kInvalid,
                  "a conditional request needs search parameters to select the resource");
  }
  store::SearchQuery q;
  q.types = {type};
  q.params = std::move(params);
  q.params.emplace_back("_count", std::to_string(limit));
  q.strict = true;  // an unknown parameter must not silently match everything
  q.now = ctx.clock.Now();
  ASSIGN_OR_RETURN(store::SearchPage page, ctx.store.Search(q));
  std::vector<std::string> ids;
  for (const store::SearchHit& hit : page.entries) {
    if (hit.mode == store::SearchMode::kMatch) ids.push_back(hit.version.id);
  }
  if (!page.next_cursor.empty() && static_cast<int>(ids.size()) >= limit) {
    ids.push_back("");  // more than `limit`: callers only need to know there are several
  }
  return ids;
}

// PUT [base]/[type]?[search parameters]
//   no match, no id in the body: create with a server id; no match, id: update as create;
//   one match: update it (an id in the body must be that one's); several: 412.
Response ConditionalUpdateInteraction(const Context& ctx, const Request& request,
                                      const OutputFormat& format, const Target& target) {
  const auto held = ctx.conditional_locks->Lock({ConditionalKey(target.type, request.query)});
  Result<std::vector<std::string>> found = FindMatches(ctx, target.type, request.query, 1);
  if (!found.ok()) return ErrorResponse(found.status());
  if (found->size() > 1) {
    return ErrorResponse(Status(StatusCode::kPreconditionFailed,
                                "the conditional update matched more than one " + target.type +
                                    ": make the criteria more selective"));
  }
  Target resolved = target;
  if (found->size() == 1) {
    resolved.id = (*found)[0];
    // https://hl7.org/fhir/R4/http.html#cond-update: one match is updated; the body need not
    // name it (an id it has must be that one's, as UpdateInteraction checks).
    Result<json::Document> doc = json::Parse(request.body);
    if (doc.ok() && doc->root().is_object() && doc->root().Find("id") == nullptr) {
      const size_t brace = request.body.find('{');
      Request named = request;
      named.body.insert(brace + 1, "\"id\":\"" + resolved.id + "\",");
      return UpdateInteraction(ctx, named, format, resolved);
    }
  } else {
    // Take the id from the body when there is one; else the server assigns one.
    Result<json::Document> doc = json::Parse(request.body);
    std::string body_id = doc.ok() ? std::string(doc->root().FindString("id")) : "";
    if (body_id.empty()) {
      Request create = request;
      create.query.clear();
      // Already under this criteria's lock: a plain create.
      std::erase_if(create.headers, [](const auto& h) {
        return strcasecmp(h.first.c_str(), "If-None-Exist") == 0;
      });
      return CreateInteraction(ctx, create, format, target);
    }
    resolved.id = body_id;
  }
  return UpdateInteraction(ctx, request, format, resolved);
}

// DELETE [base]/[type]?[search parameters]
//   no match: nothing to do (200 with an outcome saying so); one match: delete it; several:
//   412, or all of them when the server allows multiple deletes (RestOptions).
Response ConditionalDeleteInteraction(const Context& ctx, const Request& request,
                                      const OutputFormat& format, const Target& target) {
  const int limit = ctx.options.conditional_delete_limit;
  Result<std::vector<std::string>> found =
      FindMatches(ctx, target.type, request.query, std::max(limit, 1));
  if (!found.ok()) return ErrorResponse(found.status());
  if (found->empty()) {
    Response r;
    r.SetHeader("Content-Type", ContentType(format));
    r.body = RenderJson(InformationOutcomeJson("no " + target.type + " matched: nothing deleted"),
                        format);
    return r;
  }
  if (found->size() > 1 && limit <= 1) {
    return ErrorResponse(Status(StatusCode::kPreconditionFailed,
                                "the conditional delete matched more than one " + target.type +
                                    " and this server deletes one at a time"));
  }
  if (!found->back().empty() && static_cast<int>(found->size()) <= limit) {
    // All matches are known: delete them in one atomic write.
    std::vector<store::WriteOp> ops;
    const Micros now = ctx.clock.Now();
    std::set<std::string> deleting;
    for (const std::string& id : *found) deleting.insert(target.type + "/" + id);
    for (const std::string& id : *found) {
      if (Status s = CheckNotReferenced(ctx, target.type, id, deleting); !s.ok()) {
        return ErrorResponse(s);
      }
      Result<store::StoredVersion> cur = ctx.store.Read(target.type, id);
      if (!cur.ok()) return ErrorResponse(cur.status());
      if (cur->deleted) continue;
      store::WriteOp op;
      op.kind = store::WriteKind::kDelete;
      op.type = target.type;
      op.id = id;
      op.expected_version = cur->version;
      op.last_updated = now;
      ops.push_back(std::move(op));
    }
    Result<std::vector<store::WriteResult>> written = ctx.store.Write(ops);
    if (!written.ok()) return ErrorResponse(written.status());
    Response r;
    r.SetHeader("Content-Type", ContentType(format));
    r.body = RenderJson(
        InformationOutcomeJson("deleted " + std::to_string(ops.size()) + " " + target.type),
        format);
    return r;
  }
  return ErrorResponse(Status(
      StatusCode::kPreconditionFailed,
      "the conditional delete matched more than " + std::to_string(limit) + " " + target.type));
}

}  // namespace vesta::rest
