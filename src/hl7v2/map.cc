// The v2 to FHIR mapping's entry point, the Bundle it builds and the Provenance of each message
// (map.h). The message maps of the HL7 v2-to-FHIR IG ("ADT_A01 to Bundle Map", "ORU_R01 to
// Bundle Map", ...) are in map_adt.cc, map_oru.cc, map_orders.cc, map_vxu.cc, map_siu.cc,
// map_mdm.cc and map_rde.cc; the datatype maps in map_datatypes.cc.
#include "hl7v2/map.h"

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "base/clock.h"
#include "base/strings.h"
#include "hl7v2/map_internal.h"
#include "json/writer.h"

namespace vesta::hl7v2 {
namespace internal {

// ---- J ----------------------------------------------------------------------------------------

J J::Str(std::string_view s) {
  J j;
  if (!s.empty()) {
    j.kind_ = Kind::kString;
    j.text_ = std::string(s);
  }
  return j;
}

J J::Num(std::string_view text) {
  J j;
  if (!text.empty()) {
    j.kind_ = Kind::kNumber;
    j.text_ = std::string(text);
  }
  return j;
}

J J::Bool(bool b) {
  J j(Kind::kBool);
  j.text_ = b ? "true" : "false";
  return j;
}

bool J::empty() const {
  switch (kind_) {
    case Kind::kNone:
      return true;
    case Kind::kObject:
      return members_.empty();
    case Kind::kArray:
      return items_.empty();
    default:
      return false;
  }
}

J& J::Set(std::string_view key, J value) {
  if (value.empty()) return *this;
  for (auto& [k, v] : members_) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  members_.emplace_back(std::string(key), std::move(value));
  return *this;
}

const J* J::Find(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

J* J::Find(std::string_view key) {
  for (auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

J& J::Add(J value) {
  if (!value.empty()) items_.push_back(std::move(value));
  return *this;
}

namespace {
void WriteJ(const J& j, std::string* out) {
  switch (j.kind()) {
    case J::Kind::kNone:
      out->append("null");
      return;
    case J::Kind::kString:
      json::WriteString(j.text(), out);
      return;
    case J::Kind::kNumber:
    case J::Kind::kBool:
      out->append(j.text());
      return;
    case J::Kind::kArray: {
      out->push_back('[');
      bool first = true;
      for (const J& item : j.items()) {
        if (!first) out->push_back(',');
        first = false;
        WriteJ(item, out);
      }
      out->push_back(']');
      return;
    }
    case J::Kind::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, v] : j.members()) {
        if (!first) out->push_back(',');
        first = false;
        json::WriteString(k, out);
        out->push_back(':');
        WriteJ(v, out);
      }
      out->push_back('}');
      return;
    }
  }
}

// 64-bit FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/), seeded.
uint64_t Fnv1a(std::string_view s, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}
// The splitmix64 finaliser, so that names differing in one character differ everywhere.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

std::string J::ToJson() const {
  std::string out;
  out.reserve(16 << 10);  // a mapped Bundle's size: no regrowth while writing it
  WriteJ(*this, &out);
  return out;
}

// ---- MapContext -------------------------------------------------------------------------------

MapContext::MapContext(const Message& message, const MapOptions& options)
    : message_(message), options_(options) {}

// A name-based UUID (RFC 9562 §5.8, version 8) of the message control id and the entry's
// position, so that the same message gives the same fullUrls.
std::string MapContext::NewUrl() {
  const std::string name = message_.header().control_id + "/" + std::to_string(entries_.size());
  uint64_t hi = Mix(Fnv1a(name, 14695981039346656037ULL));
  uint64_t lo = Mix(Fnv1a(name, hi ^ 0x9e3779b97f4a7c15ULL));
  hi = (hi & ~0xF000ULL) | 0x8000ULL;                         // version 8
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  char buf[64];
  std::snprintf(buf, sizeof buf, "urn:uuid:%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xFFFF),
                static_cast<unsigned>(hi & 0xFFFF), static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return buf;
}

std::string MapContext::Add(std::string_view type, J resource, const Key& key) {
  std::string url;
  if (!key.empty()) {
    // https://hl7.org/fhir/R4/http.html#cond-update in a transaction
    // (https://hl7.org/fhir/R4/http.html#trules): PUT Type?search creates the resource when
    // nothing matches and updates the one that does. ':' and '/' are escaped as well: the server
    // takes an entry URL with "://" anywhere in it for one on another server.
    url = std::string(type) + "?identifier=";
    if (!key.system.empty()) {
      url += PercentEncode(EscapeSearchValue(key.system)) + "|";
    }
    url += PercentEncode(EscapeSearchValue(key.value));
    auto it = by_url_.find(url);
    if (it != by_url_.end()) return it->second;
  }
  Entry e;
  e.full_url = NewUrl();
  e.type = std::string(type);
  J r = J::Obj();
  r.Set("resourceType", type);
  for (auto& [k, v] : resource.members()) r.Set(k, std::move(v));  // moved, not copied
  e.resource = std::move(r);
  e.method = key.empty() ? "POST" : "PUT";
  e.url = key.empty() ? std::string(type) : url;
  if (!key.empty()) by_url_[url] = e.full_url;
  entries_.push_back(std::move(e));
  return entries_.back().full_url;
}

J* MapContext::Resource(const std::string& full_url) {
  for (Entry& e : entries_) {
    if (e.full_url == full_url) return &e.resource;
  }
  return nullptr;
}

void MapContext::Fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

namespace {
std::string NowInstant() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return FormatInstant(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}
}  // namespace

std::string MapContext::Finish(int* entry_count) {
  const Header& h = message_.header();
  // https://hl7.org/fhir/R4/provenance.html: what the message created or changed (target), the
  // message itself (entity, role source), its event (activity, v2 table 0003) and its sender
  // (agent). The IG's "MSH to Provenance" and "EVN to Provenance" maps.
  J prov = J::Obj();
  J target = J::Arr();
  for (const Entry& e : entries_) target.Add(Reference(e.full_url));
  prov.Set("target", std::move(target));
  std::string recorded = Instant(*this, h.date_time);
  if (recorded.empty()) recorded = options_.received_at;
  if (recorded.empty()) recorded = NowInstant();
  prov.Set("recorded", recorded);
  if (auto evn = message_.Find("EVN")) {
    std::string occurred = DateTime(*this, evn->Field(6).text());
    if (occurred.empty()) occurred = DateTime(*this, evn->Field(2).text());
    prov.Set("occurredDateTime", occurred);
    prov.Set("reason", J::Arr().Add(CodeableConcept(*this, evn->Field(4), "HL70062")));
  }
  prov.Set("activity", Concept("http://terminology.hl7.org/CodeSystem/v2-0003", h.trigger_event));
  J who = J::Obj();
  std::string sender = h.sending_application.namespace_id;
  if (!h.sending_facility.namespace_id.empty()) {
    sender += (sender.empty() ? "" : " at ") + h.sending_facility.namespace_id;
  }
  if (sender.empty()) sender = "HL7 v2 sender";
  who.Set("display", sender);
  J agent = J::Obj();
  agent.Set("type", Concept("http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "author", "Author"));
  agent.Set("who", std::move(who));
  prov.Set("agent", J::Arr().Add(std::move(agent)));
  // The message as received is its record in the store (the feed's Basic resource, which keeps
  // the raw text): a literal reference when the caller knows it, and the message's identifier,
  // which the record carries (https://hl7.org/fhir/R4/references.html#logical).
  J what = J::Obj();
  what.Set("reference", options_.record_reference);
  J identifier = J::Obj();
  identifier.Set("system", kMessageIdentifierSystem);
  identifier.Set("value", MessageIdentifier(h));
  what.Set("identifier", std::move(identifier));
  J entity = J::Obj();
  entity.Set("role", "source");
  entity.Set("what", std::move(what));
  prov.Set("entity", J::Arr().Add(std::move(entity)));
  Add("Provenance", std::move(prov));

  J bundle = J::Obj();
  bundle.Set("resourceType", "Bundle");
  bundle.Set("type", "transaction");
  J entries = J::Arr();
  for (Entry& e : entries_) {
    J entry = J::Obj();
    entry.Set("fullUrl", e.full_url);
    entry.Set("resource", std::move(e.resource));
    J request = J::Obj();
    request.Set("method", e.method);
    request.Set("url", e.url);
    entry.Set("request", std::move(request));
    entries.Add(std::move(entry));
  }
  *entry_count = static_cast<int>(entries_.size());
  bundle.Set("entry", std::move(entries));
  return bundle.ToJson();
}

std::string Where(const Segment& segment, int field) {
  std::string id(segment.id());
  return id + "-" + std::to_string(field) + " (segment " + std::to_string(segment.number()) + ")";
}

std::vector<std::vector<Segment>> Groups(const Message& message,
                                         const std::vector<std::string_view>& heads) {
  std::vector<std::vector<Segment>> groups;
  for (const Segment& s : message.segments()) {
    bool is_head = false;
    for (std::string_view h : heads) is_head = is_head || s.id() == h;
    if (is_head && s.id() == heads.front()) {
      groups.push_back({s});
    } else if (!groups.empty()) {
      groups.back().push_back(s);
    }
  }
  return groups;
}

}  // namespace internal

namespace {

using MapFunction = void (*)(internal::MapContext&);

MapFunction FindMap(std::string_view code, std::string_view event) {
  auto in = [&](std::initializer_list<std::string_view> events) {
    for (std::string_view e : events) {
      if (e == event) return true;
    }
    return false;
  };
  if (code == "ADT" && in({"A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A11", "A13",
                           "A28", "A31", "A40"})) {
    return internal::MapAdt;
  }
  if (code == "ORU" && event == "R01") return internal::MapOru;
  if ((code == "ORM" && event == "O01") || (code == "OML" && event == "O21")) {
    return internal::MapOrder;
  }
  if (code == "VXU" && event == "V04") return internal::MapVxu;
  if (code == "SIU" && event.size() == 3 && event[0] == 'S') {
    int n = (event[1] - '0') * 10 + (event[2] - '0');
    if (n >= 12 && n <= 26) return internal::MapSiu;
  }
  if (code == "MDM" && event.size() == 3 && event[0] == 'T') {
    int n = (event[1] - '0') * 10 + (event[2] - '0');
    if (n >= 1 && n <= 10) return internal::MapMdm;
  }
  if (code == "RDE" && event == "O11") return internal::MapRde;
  return nullptr;
}

}  // namespace

bool IsMappedType(std::string_view message_code, std::string_view trigger_event) {
  return FindMap(message_code, trigger_event) != nullptr;
}

Result<MappedMessage> MapToFhir(const Message& message, const MapOptions& options) {
  const Header& h = message.header();
  MappedMessage out;
  MapFunction map = FindMap(h.message_code, h.trigger_event);
  if (map == nullptr) {
    out.outcome = MapOutcome::kUnsupported;
    out.reason = h.message_code + "^" + h.trigger_event + " is not a mapped message type";
    return out;
  }
  internal::MapContext ctx(message, options);
  map(ctx);
  if (ctx.failed()) return Status(StatusCode::kInvalid, ctx.error());
  out.bundle_json = ctx.Finish(&out.entry_count);
  return out;
}

}  // namespace vesta::hl7v2
