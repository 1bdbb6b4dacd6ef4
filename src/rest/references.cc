// Referential integrity on write: a reference to a resource on this server must point at one that
// exists (https://hl7.org/fhir/R4/references.html: a relative reference "is a reference to a
// resource on the same server"). Configurable with RestOptions::referential_integrity.
//
// Checked: relative references `Type/id` and `Type/id/_history/N`, and absolute ones under this
// server's base URL. Not checked: contained references (`#id`), other servers' URLs, urn:uuid /
// urn:oid (logical within a Bundle), and references whose type is not a resource type.
#include "rest/context.h"
#include "rest/outcome.h"

namespace vesta::rest {
namespace {

void Walk(const Context& ctx, const json::Value& v, const std::string& path,
          const std::string& base, const std::set<std::string>& pending,
          std::vector<Issue>* issues) {
  if (issues->size() >= 20) return;
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      Walk(ctx, v.items()[i], path + "[" + std::to_string(i) + "]", base, pending, issues);
    }
    return;
  }
  if (!v.is_object()) return;
  for (const json::Member& m : v.members()) {
    std::string child = path + "." + std::string(m.key);
    if (m.key == "contained") continue;  // contained resources are checked as part of the whole
    if (m.key != "reference" || !m.value.is_string()) {
      Walk(ctx, m.value, child, base, pending, issues);
      continue;
    }
    std::string_view ref = m.value.string_value();
    if (!base.empty() && ref.substr(0, base.size() + 1) == base + "/") {
      ref.remove_prefix(base.size() + 1);
    }
    if (ref.empty() || ref[0] == '#' || ref.find(':') != std::string_view::npos ||
        ref.find('?') != std::string_view::npos) {
      continue;
    }
    size_t slash = ref.find('/');
    if (slash == std::string_view::npos) continue;
    std::string type(ref.substr(0, slash));
    std::string_view rest = ref.substr(slash + 1);
    std::string id(rest.substr(0, rest.find('/')));
    if (!ctx.model.IsResourceType(type) || id.empty()) continue;
    if (pending.count(type + "/" + id)) continue;
    Result<store::StoredVersion> target = ctx.store.Read(type, id);
    if (target.ok() && !target->deleted) continue;
    std::string why = target.ok() ? " was deleted" : " does not exist on this server";
    issues->push_back(Issue{Severity::kError, "not-found",
                            "the reference to " + type + "/" + id + why +
                                " (referential integrity is enforced on write)",
                            child});
  }
}

}  // namespace

Status CheckReferences(const Context& ctx, const Request& request, const json::Value& resource,
                       const std::string& type, const std::set<std::string>& pending) {
  if (!ctx.options.referential_integrity) return Status::Ok();
  std::vector<Issue> issues;
  Walk(ctx, resource, type, BaseUrl(ctx, request), pending, &issues);
  if (issues.empty()) return Status::Ok();
  std::string message = issues.size() == 1 ? issues[0].diagnostics
                                           : std::to_string(issues.size()) +
                                                 " references point at resources that do not exist";
  return Status(StatusCode::kInvalid, message, std::move(issues));
}

Status CheckNotReferenced(const Context& ctx, const std::string& type, const std::string& id,
                          const std::set<std::string>& also_deleted) {
  if (!ctx.options.referential_integrity) return Status::Ok();
  // The resources that reference it are what `_revinclude=*` adds to a search for it.
  store::SearchQuery q;
  q.types = {type};
  q.params = {{"_id", id}, {"_revinclude", "*"}, {"_count", "1"}};
  q.now = ctx.clock.Now();
  Result<store::SearchPage> page = ctx.store.Search(q);
  if (!page.ok()) {
    if (page.status().code() == StatusCode::kNotSupported) return Status::Ok();
    return page.status();
  }
  std::vector<std::string> referrers;
  for (const store::SearchHit& hit : page->entries) {
    if (hit.mode != store::SearchMode::kInclude) continue;
    std::string name = hit.version.type + "/" + hit.version.id;
    if (name == type + "/" + id || also_deleted.count(name)) continue;
    referrers.push_back(name);
  }
  if (referrers.empty()) return Status::Ok();
  std::string list;
  for (size_t i = 0; i < referrers.size() && i < 5; ++i) list += (i ? ", " : "") + referrers[i];
  if (referrers.size() > 5) list += ", ...";
  // https://hl7.org/fhir/R4/http.html#delete: "If the server refuses to delete resources ...
  // because of reasons specific to that resource, such as referential integrity, it should
  // return the 409 Conflict status code."
  return Status(StatusCode::kConflict,
                type + "/" + id + " is still referenced by " + list +
                    " (referential integrity is enforced; delete or change those first)");
}

}  // namespace vesta::rest
