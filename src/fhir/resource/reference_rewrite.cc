// References inside a resource (reference_rewrite.h).
#include "fhir/resource/reference_rewrite.h"

#include <vector>

namespace vesta::fhir {

bool IsConditionalReference(std::string_view ref) {
  // "Type?query": a bare type before the '?'. The query may hold URLs of its own
  // (identifier=https://...|x), so only the part before the '?' tells it from a URL.
  size_t q = ref.find('?');
  if (q == std::string_view::npos || q == 0) return false;
  return ref.substr(0, q).find_first_of("/:#") == std::string_view::npos;
}

json::Value RewriteReferences(json::Arena& arena, const json::Value& v,
                              const std::map<std::string, std::string, std::less<>>& map,
                              bool* changed) {
  if (v.is_array()) {
    std::vector<json::Value> items;
    items.reserve(v.size());
    bool any = false;
    for (const json::Value& item : v.items()) {
      items.push_back(RewriteReferences(arena, item, map, &any));
    }
    if (!any) return v;
    *changed = true;
    return json::Value::Array(arena, items);
  }
  if (!v.is_object()) return v;
  std::vector<json::Member> members;
  members.reserve(v.size());
  bool any = false;
  for (const json::Member& m : v.members()) {
    if (m.key == "reference" && m.value.is_string()) {
      auto it = map.find(m.value.string_value());
      if (it != map.end()) {
        members.push_back({m.key, json::Value::String(arena, it->second)});
        any = true;
        continue;
      }
    }
    members.push_back({m.key, RewriteReferences(arena, m.value, map, &any)});
  }
  if (!any) return v;
  *changed = true;
  return json::Value::Object(arena, members);
}

}  // namespace vesta::fhir
