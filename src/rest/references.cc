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

}  // namespace vesta::rest
