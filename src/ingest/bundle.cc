#include "ingest/bundle.h"

#include <map>

#include "ingest/references.h"
#include "json/writer.h"

namespace vesta::ingest {
namespace {

Status Rejected(std::string message) { return Status(StatusCode::kInvalid, std::move(message)); }

// The path of a request.url without a base ("Patient/1", "Patient"): what follows the last
// resource type named in it, so that an absolute URL works too.
struct EntryUrl {
  std::string type;
  std::string id;
  bool conditional = false;
};

EntryUrl ParseEntryUrl(std::string_view url, const fhir::Model& model) {
  EntryUrl out;
  size_t q = url.find('?');
  out.conditional = q != std::string_view::npos;
  std::string_view path = url.substr(0, q);
  std::vector<std::string_view> parts;
  for (size_t start = 0; start <= path.size();) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  for (size_t i = parts.size(); i-- > 0;) {
    if (model.IsResourceType(parts[i])) {
      out.type = std::string(parts[i]);
      if (i + 1 < parts.size()) out.id = std::string(parts[i + 1]);
      break;
    }
  }
  return out;
}

}  // namespace

BundleHandling BundleHandlingOf(std::string_view bundle_type) {
  if (bundle_type == "transaction" || bundle_type == "batch" || bundle_type == "collection" ||
      bundle_type == "searchset") {
    return BundleHandling::kUnpack;
  }
  if (bundle_type == "document" || bundle_type == "message") return BundleHandling::kStore;
  return BundleHandling::kRefuse;
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Result<std::vector<BundleEntry>> UnpackBundle(const json::Value& bundle, json::Arena& arena,
                                              const fhir::Model& model, IdGenerator& ids,
                                              const MatchFinder& if_none_exist) {
  std::vector<BundleEntry> out;
  const json::Value* entries = bundle.Find("entry");
  if (entries == nullptr) return out;
  if (!entries->is_array()) return Rejected("Bundle.entry must be an array");
  const bool searchset = bundle.FindString("type") == "searchset";
  std::vector<const json::Value*> resources;
  std::map<std::string, std::string, std::less<>> full_urls;  // fullUrl -> Type/id

  // Pass 1: each entry's identity, so that pass 2 can rewrite references to any of them.
  for (size_t i = 0; i < entries->size(); ++i) {
    const json::Value& entry = entries->items()[i];
    BundleEntry e;
    e.index = i;
    const json::Value* resource = nullptr;
    auto keep = [&](Status s) {
      if (!s.ok()) e.resource = json::ToString(entry);  // for the reject file
      e.status = std::move(s);
      out.push_back(std::move(e));
      resources.push_back(resource);
    };
    if (!entry.is_object()) {
      keep(Rejected("the entry is not a JSON object"));
      continue;
    }
    e.full_url = std::string(entry.FindString("fullUrl"));
    const json::Value* request = entry.Find("request");
    std::string_view method, url, if_none;
    if (request != nullptr && request->is_object()) {
      method = request->FindString("method");
      url = request->FindString("url");
      if_none = request->FindString("ifNoneExist");
    }
    if (method == "GET" || method == "HEAD") continue;  // a read: nothing to load
    if (const json::Value* search = entry.Find("search");
        searchset && search != nullptr && search->FindString("mode") == "outcome") {
      continue;  // the server's OperationOutcome about the search
    }
    if (method == "DELETE" || method == "PATCH") {
      keep(Rejected("request.method " + std::string(method) +
                    ": vesta import loads resources and does not apply deletes or patches "
                    "(send this Bundle to the REST API)"));
      continue;
    }
    if (!method.empty() && method != "POST" && method != "PUT") {
      keep(Rejected("request.method '" + std::string(method) + "' is not one of POST, PUT"));
      continue;
    }
    resource = entry.Find("resource");
    if (resource == nullptr || !resource->is_object()) {
      keep(Rejected("the entry has no resource"));
      continue;
    }
    e.type = std::string(resource->FindString("resourceType"));
    if (!model.IsResourceType(e.type)) {
      keep(Rejected(e.type.empty() ? "the resource has no resourceType"
                                   : "'" + e.type + "' is not an R4 resource type"));
      continue;
    }
    const std::string own_id(resource->FindString("id"));
    if (!url.empty()) {
      EntryUrl parsed = ParseEntryUrl(url, model);
      if (parsed.type != e.type) {
        keep(Rejected("request.url '" + std::string(url) + "' does not name the resource's type " +
                      e.type));
        continue;
      }
      if (method == "PUT") {
        if (parsed.conditional) {
          keep(Rejected("a conditional update (PUT " + std::string(url) +
                        ") is not imported: send this Bundle to the REST API"));
          continue;
        }
        if (parsed.id.empty()) {
          keep(Rejected("PUT request.url must be Type/id, not '" + std::string(url) + "'"));
          continue;
        }
        if (!own_id.empty() && own_id != parsed.id) {
          keep(Rejected("the resource's id '" + own_id + "' differs from the id in request.url ('" +
                        parsed.id + "')"));
          continue;
        }
        e.id = parsed.id;
      }
    }
    if (e.id.empty() && e.full_url.rfind("urn:uuid:", 0) == 0) {
      std::string_view uuid = std::string_view(e.full_url).substr(9);
      if (IsValidId(uuid)) e.id = std::string(uuid);
    }
    if (e.id.empty()) e.id = own_id;
    if (e.id.empty()) e.id = ids.NewId();
    if (method == "POST" && !if_none.empty()) {
      // https://hl7.org/fhir/R4/http.html#ccreate: one match: nothing is created.
      if (if_none.front() == '?') if_none.remove_prefix(1);
      Result<std::string> match = if_none_exist(e.type, if_none);
      if (!match.ok()) {
        keep(Rejected("request.ifNoneExist '" + std::string(if_none) +
                      "': " + match.status().message()));
        continue;
      }
      if (!match->empty() && *match != e.id) {
        e.id = *match;
        e.matched_existing = true;
      }
    }
    if (!e.full_url.empty()) full_urls[e.full_url] = e.type + "/" + e.id;
    keep(Status::Ok());
  }

  // Pass 2: the resources with their ids and rewritten references.
  for (size_t k = 0; k < out.size(); ++k) {
    BundleEntry& e = out[k];
    if (!e.status.ok() || e.matched_existing) continue;
    bool changed = false;
    json::Value v = RewriteReferences(arena, *resources[k], full_urls, &changed);
    v = json::WithMember(arena, v, "id", json::Value::String(arena, e.id));
    e.resource = json::ToString(v);
  }
  return out;
}

}  // namespace vesta::ingest
