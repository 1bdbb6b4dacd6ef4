#include "ingest/content.h"

#include <string_view>

namespace vesta::ingest {
namespace {

bool ServerSet(std::string_view meta_key) {
  return meta_key == "versionId" || meta_key == "lastUpdated";
}

// The members of `meta` (an object, or absent) that the client owns.
size_t ClientMetaSize(const json::Value* meta) {
  if (meta == nullptr) return 0;
  if (!meta->is_object()) return 1;  // not a valid meta; compared as it is below
  size_t n = 0;
  for (const json::Member& m : meta->members()) n += ServerSet(m.key) ? 0 : 1;
  return n;
}

bool SameMeta(const json::Value* a, const json::Value* b) {
  if (ClientMetaSize(a) != ClientMetaSize(b)) return false;
  if (ClientMetaSize(a) == 0) return true;
  if (!a->is_object() || !b->is_object()) return json::Equal(*a, *b);
  for (const json::Member& m : a->members()) {
    if (ServerSet(m.key)) continue;
    const json::Value* other = b->Find(m.key);
    if (other == nullptr || !json::Equal(m.value, *other)) return false;
  }
  return true;
}

}  // namespace

bool SameContent(const json::Value& a, const json::Value& b) {
  if (!a.is_object() || !b.is_object()) return json::Equal(a, b);
  size_t a_members = 0, b_members = 0;
  for (const json::Member& m : a.members()) {
    if (m.key == "meta") continue;
    ++a_members;
    const json::Value* other = b.Find(m.key);
    if (other == nullptr || !json::Equal(m.value, *other)) return false;
  }
  for (const json::Member& m : b.members()) b_members += m.key == "meta" ? 0 : 1;
  return a_members == b_members && SameMeta(a.Find("meta"), b.Find("meta"));
}

}  // namespace vesta::ingest
