#include "ingest/preparer.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/strings.h"
#include "fhir/datetime.h"
#include "fhir/resource/resource_json.h"
#include "ingest/bundle.h"
#include "ingest/references.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::ingest {
namespace {

// The reject file keeps what was read, except for a whole file too big to be worth copying.
constexpr size_t kMaxOriginal = 1 << 20;

Prepared RejectedText(std::string_view text, const std::string& where, Status status) {
  Prepared p;
  p.where = where;
  if (text.size() <= kMaxOriginal) p.original = std::string(text);
  p.status = std::move(status);
  return p;
}

std::string EntryWhere(const std::string& where, const BundleEntry& e) {
  std::string out = where + ":entry " + std::to_string(e.index);
  if (!e.full_url.empty()) out += " (" + e.full_url + ")";
  return out;
}

}  // namespace

std::optional<std::string> BoundedCache::Get(const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto it = young_.find(key); it != young_.end()) return it->second;
  auto it = old_.find(key);
  if (it == old_.end()) return std::nullopt;
  std::string value = it->second;
  PutLocked(key, value);
  return value;
}

void BoundedCache::Put(const std::string& key, std::string value) {
  std::lock_guard lock(mu_);
  PutLocked(key, std::move(value));
}

void BoundedCache::PutLocked(const std::string& key, std::string value) {
  if (young_.size() >= capacity_) {
    old_ = std::move(young_);
    young_ = {};
  }
  young_[key] = std::move(value);
}

KnownKeys::KnownKeys(size_t slots_log2)
    : mask_((size_t{1} << slots_log2) - 1),
      young_(size_t{1} << slots_log2, 0),
      old_(size_t{1} << slots_log2, 0) {}

namespace {
uint64_t KeyHash(const std::string& key) {
  uint64_t h = std::hash<std::string>{}(key);
  return h == 0 ? 1 : h;  // 0 marks an empty slot
}
}  // namespace

bool KnownKeys::Find(const std::vector<uint64_t>& table, uint64_t h) {
  const size_t mask = table.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    if (table[i] == h) return true;
    if (table[i] == 0) return false;
  }
}

void KnownKeys::Insert(uint64_t h) {
  if (young_count_ >= (mask_ + 1) / 2) {
    old_.swap(young_);
    std::fill(young_.begin(), young_.end(), 0);
    young_count_ = 0;
  }
  for (size_t i = h & mask_;; i = (i + 1) & mask_) {
    if (young_[i] == h) return;
    if (young_[i] == 0) {
      young_[i] = h;
      ++young_count_;
      return;
    }
  }
}

bool KnownKeys::Contains(const std::string& key) {
  const uint64_t h = KeyHash(key);
  std::lock_guard lock(mu_);
  if (Find(young_, h)) return true;
  if (!Find(old_, h)) return false;
  Insert(h);
  return true;
}

void KnownKeys::Add(const std::string& key) {
  const uint64_t h = KeyHash(key);
  std::lock_guard lock(mu_);
  Insert(h);
}

Group Preparer::PrepareText(std::string_view text, const std::string& where) {
  Group group;
  Result<json::Document> doc = json::Parse(text);
  if (!doc.ok()) {
    group.push_back(RejectedText(text, where, doc.status()));
    return group;
  }
  const json::Value& root = doc->root();
  if (!root.is_object()) {
    group.push_back(RejectedText(text, where, Invalid("a resource must be a JSON object")));
    return group;
  }
  if (root.FindString("resourceType") == "Bundle") {
    std::string_view bundle_type = root.FindString("type");
    switch (BundleHandlingOf(bundle_type)) {
      case BundleHandling::kStore:
        break;  // a document or message: one resource
      case BundleHandling::kRefuse:
        group.push_back(RejectedText(
            text, where,
            Invalid(bundle_type == "history"
                        ? std::string("a history Bundle holds past versions and deletes; vesta "
                                      "import loads current resources (export them instead)")
                        : "Bundle.type '" + std::string(bundle_type) +
                              "' is not one that vesta import loads (transaction, batch, "
                              "collection, searchset; document and message are stored whole)")));
        return group;
      case BundleHandling::kUnpack: {
        MatchFinder finder = [this](const std::string& type, std::string_view query) {
          return FindOne(type, query);
        };
        Result<std::vector<BundleEntry>> entries =
            UnpackBundle(root, doc->arena(), s_.model, s_.ids, finder);
        if (!entries.ok()) {
          group.push_back(RejectedText(text, where, entries.status()));
          return group;
        }
        group.reserve(entries->size());
        for (BundleEntry& e : *entries) {
          Prepared p;
          p.where = EntryWhere(where, e);
          p.original = std::move(e.resource);
          p.type = e.type;
          p.id = e.id;
          p.status = std::move(e.status);
          p.matched_existing = e.matched_existing;
          if (p.status.ok() && !p.matched_existing) {
            Result<json::Document> entry_doc = json::Parse(p.original);
            if (!entry_doc.ok()) {
              p.status = entry_doc.status();
            } else {
              PrepareResource(std::move(entry_doc).value(), &p);
            }
          }
          group.push_back(std::move(p));
        }
        CheckStored(group);
        return group;
      }
    }
  }
  Prepared p;
  p.where = where;
  if (text.size() <= kMaxOriginal) p.original = std::string(text);
  PrepareResource(std::move(doc).value(), &p);
  group.push_back(std::move(p));
  CheckStored(group);
  return group;
}

void Preparer::PrepareResource(json::Document doc, Prepared* p) {
  const json::Value& root = doc.root();
  p->type = std::string(root.FindString("resourceType"));
  std::vector<Issue> warnings;
  fhir::ValidationOptions validation;
  validation.lenient = s_.lenient_validation;
  validation.warnings = &warnings;
  if (Status s = fhir::CheckResource(root, p->type, s_.model, validation); !s.ok()) {
    p->status = std::move(s);
    return;
  }
  if (!warnings.empty() && s_.warned != nullptr) {
    if (s_.warned->fetch_add(1) == 0 && s_.warn_mu != nullptr) {
      std::lock_guard lock(*s_.warn_mu);
      *s_.first_warning =
          p->where + ": " + p->type + ": " + warnings[0].location + ": " + warnings[0].diagnostics;
    }
  }
  if (p->type == "AuditEvent") {
    // As the REST API (rest/access.cc, CheckClientWritable): the audit trail is the server's.
    p->status = Status(StatusCode::kForbidden,
                       "AuditEvent resources are written by the server only (its audit trail)");
    return;
  }
  if (p->id.empty()) p->id = std::string(root.FindString("id"));
  if (p->id.empty()) p->id = s_.ids.NewId();
  References refs = CollectReferences(root, s_.model);
  std::map<std::string, std::string, std::less<>> resolved;
  for (const std::string& ref : refs.conditional) {
    if (std::optional<std::string> hit = s_.conditional.Get(ref)) {
      resolved[ref] = *hit;
      continue;
    }
    size_t q = ref.find('?');
    std::string type = ref.substr(0, q);
    if (!s_.model.IsResourceType(type)) {
      p->status = Invalid("the conditional reference '" + ref + "' does not name a resource type");
      return;
    }
    Result<std::string> match = FindOne(type, std::string_view(ref).substr(q + 1));
    if (!match.ok()) {
      p->status = Status(match.status().code(),
                         "the conditional reference '" + ref + "': " + match.status().message());
      return;
    }
    if (match->empty()) {
      p->missing.push_back(ref);  // perhaps later in the input: deferred
      continue;
    }
    std::string target = type + "/" + *match;
    s_.conditional.Put(ref, target);
    resolved[ref] = std::move(target);
  }
  if (!resolved.empty()) {
    bool changed = false;
    json::Value rewritten = RewriteReferences(doc.arena(), doc.root(), resolved, &changed);
    doc.mutable_root() = rewritten;
  }
  if (s_.referential_integrity) {
    for (std::string& ref : refs.literal) p->missing.push_back(std::move(ref));
  }
  p->last_updated = StampFor(doc);
  p->json = fhir::StoredJson(doc, p->id, 1, p->last_updated);
  p->doc = std::move(doc);
}

Micros Preparer::StampFor(const json::Document& doc) {
  const Micros now = s_.clock.Now();
  if (!s_.keep_last_updated) return now;
  const json::Value* meta = doc.root().Find("meta");
  if (meta == nullptr) return now;
  const std::string_view text = meta->FindString("lastUpdated");
  // An instant (https://hl7.org/fhir/R4/datatypes.html#instant): a time with a zone.
  if (text.size() < 20 || text[10] != 'T') return now;
  Result<fhir::TimeRange> range = fhir::ParseTimeRange(text);
  if (!range.ok() || range->low > now) return now;
  return range->low;
}

void Preparer::CheckStored(Group& group) {
  std::set<std::string> keys;
  for (const Prepared& p : group) {
    if (p.status.ok()) keys.insert(p.key());
  }
  for (Prepared& p : group) {
    if (!p.status.ok() || p.missing.empty()) continue;
    std::vector<std::string> still;
    for (std::string& ref : p.missing) {
      if (IsConditionalReference(ref) || keys.count(ref)) {
        still.push_back(std::move(ref));
        continue;
      }
      if (s_.existing.Contains(ref)) continue;
      size_t slash = ref.find('/');
      Result<store::StoredVersion> target =
          s_.store.Read(ref.substr(0, slash), ref.substr(slash + 1));
      if (target.ok() && !target->deleted) {
        s_.existing.Add(ref);
        continue;
      }
      still.push_back(std::move(ref));
    }
    p.missing = std::move(still);
  }
}

void Preparer::ApplyResolved(Prepared& p,
                             const std::map<std::string, std::string, std::less<>>& resolved) {
  bool changed = false;
  json::Value rewritten = RewriteReferences(p.doc.arena(), p.doc.root(), resolved, &changed);
  std::vector<std::string> still;
  for (std::string& ref : p.missing) {
    if (resolved.count(ref) == 0) still.push_back(std::move(ref));
  }
  p.missing = std::move(still);
  if (!changed) return;
  p.doc.mutable_root() = rewritten;
  p.last_updated = StampFor(p.doc);
  p.json = fhir::StoredJson(p.doc, p.id, 1, p.last_updated);
  p.version = 1;
}

Result<std::string> Preparer::FindOne(const std::string& type, std::string_view query) {
  std::optional<std::vector<std::pair<std::string, std::string>>> pairs = ParseFormPairs(query);
  if (!pairs) return Invalid("bad %-escape in '" + std::string(query) + "'");
  if (pairs->empty()) return Invalid("no search parameters in '" + std::string(query) + "'");
  // As a conditional request of the REST API (rest/conditional.cc, FindMatches).
  store::SearchQuery q;
  q.types = {type};
  q.params = std::move(*pairs);
  q.params.emplace_back("_count", "2");
  q.strict = true;  // an unknown parameter must not silently match everything
  q.now = s_.clock.Now();
  ASSIGN_OR_RETURN(store::SearchPage page, s_.store.Search(q));
  std::vector<std::string> ids;
  for (const store::SearchHit& hit : page.entries) {
    if (hit.mode == store::SearchMode::kMatch) ids.push_back(hit.version.id);
  }
  if (ids.size() > 1) return Invalid("matches more than one " + type);
  return ids.empty() ? std::string() : ids[0];
}

std::string Preparer::DeferredRecord(const Group& group, const std::vector<size_t>& which) {
  std::string out = "{\"group\":[";
  for (size_t k = 0; k < which.size(); ++k) {
    const Prepared& p = group[which[k]];
    if (k > 0) out += ',';
    out += "{\"key\":";
    json::WriteString(p.key(), &out);
    out += ",\"where\":";
    json::WriteString(p.where, &out);
    out += ",\"original\":";
    json::WriteString(p.original, &out);
    out += ",\"resource\":";
    json::WriteString(p.json, &out);
    out += ",\"missing\":[";
    for (size_t m = 0; m < p.missing.size(); ++m) {
      if (m > 0) out += ',';
      json::WriteString(p.missing[m], &out);
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

Group Preparer::PrepareDeferred(std::string_view record) {
  Group group;
  Result<json::Document> doc = json::Parse(record);
  const json::Value* members = doc.ok() ? doc->root().Find("group") : nullptr;
  if (members == nullptr || !members->is_array()) {
    // Only this process writes the file: a broken record is a bug, reported as one.
    group.push_back(RejectedText({}, "(deferred resources)",
                                 Status(StatusCode::kInternal, "unreadable deferred record")));
    return group;
  }
  for (const json::Value& m : members->items()) {
    Prepared p;
    p.where = std::string(m.FindString("where"));
    p.original = std::string(m.FindString("original"));
    Result<json::Document> resource = json::Parse(m.FindString("resource"));
    if (!resource.ok()) {
      p.status = resource.status();
      group.push_back(std::move(p));
      continue;
    }
    // Checked when it was first read: only what was missing then is looked at again.
    const json::Value& root = resource->root();
    p.type = std::string(root.FindString("resourceType"));
    p.id = std::string(root.FindString("id"));
    if (const json::Value* missing = m.Find("missing"); missing != nullptr && missing->is_array()) {
      for (const json::Value& ref : missing->items()) {
        if (ref.is_string()) p.missing.emplace_back(ref.string_value());
      }
    }
    std::map<std::string, std::string, std::less<>> resolved;
    for (const std::string& ref : p.missing) {
      if (!IsConditionalReference(ref)) continue;
      if (std::optional<std::string> hit = s_.conditional.Get(ref)) {
        resolved[ref] = *hit;
        continue;
      }
      size_t q = ref.find('?');
      Result<std::string> match = FindOne(ref.substr(0, q), std::string_view(ref).substr(q + 1));
      if (match.ok() && !match->empty()) {
        std::string target = ref.substr(0, q) + "/" + *match;
        s_.conditional.Put(ref, target);
        resolved[ref] = std::move(target);
      }
    }
    p.doc = std::move(resource).value();
    p.last_updated = StampFor(p.doc);
    p.json = fhir::StoredJson(p.doc, p.id, 1, p.last_updated);
    ApplyResolved(p, resolved);
    group.push_back(std::move(p));
  }
  CheckStored(group);
  return group;
}

Result<std::vector<std::pair<std::string, std::vector<std::string>>>> Preparer::DeferredKeys(
    std::string_view record) {
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(record));
  const json::Value* members = doc.root().Find("group");
  if (members == nullptr || !members->is_array()) {
    return Status(StatusCode::kInternal, "unreadable deferred record");
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const json::Value& m : members->items()) {
    std::vector<std::string> missing;
    if (const json::Value* refs = m.Find("missing"); refs != nullptr && refs->is_array()) {
      for (const json::Value& r : refs->items()) {
        if (r.is_string()) missing.emplace_back(r.string_value());
      }
    }
    out.emplace_back(std::string(m.FindString("key")), std::move(missing));
  }
  return out;
}

}  // namespace vesta::ingest
