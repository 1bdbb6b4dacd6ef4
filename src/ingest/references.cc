#include "ingest/references.h"

#include <set>

#include "base/strings.h"

namespace vesta::ingest {
namespace {

struct Collector {
  const fhir::Model& model;
  References out;
  std::set<std::string, std::less<>> literal_seen, conditional_seen;

  void Add(std::string_view ref, bool in_contained) {
    if (ref.empty() || ref[0] == '#') return;
    if (IsConditionalReference(ref)) {
      if (conditional_seen.insert(std::string(ref)).second) {
        out.conditional.emplace_back(ref);
      }
      return;
    }
    if (in_contained || ref.find(':') != std::string_view::npos) return;
    size_t slash = ref.find('/');
    if (slash == std::string_view::npos || slash == 0) return;
    std::string_view type = ref.substr(0, slash);
    std::string_view rest = ref.substr(slash + 1);
    std::string_view id = rest.substr(0, rest.find('/'));
    if (id.empty() || !model.IsResourceType(type)) return;
    std::string key = std::string(type) + "/" + std::string(id);
    if (literal_seen.insert(key).second) out.literal.push_back(std::move(key));
  }

  void Walk(const json::Value& v, bool in_contained) {
    if (v.is_array()) {
      for (const json::Value& item : v.items()) Walk(item, in_contained);
      return;
    }
    if (!v.is_object()) return;
    for (const json::Member& m : v.members()) {
      if (m.key == "reference" && m.value.is_string()) {
        Add(m.value.string_value(), in_contained);
      } else {
        Walk(m.value, in_contained || m.key == "contained");
      }
    }
  }
};

}  // namespace

std::vector<std::string> IdentifierKeys(const std::string& type, const json::Value& resource) {
  std::vector<std::string> keys;
  const json::Value* identifiers = resource.Find("identifier");
  if (identifiers == nullptr || !identifiers->is_array()) return keys;
  for (const json::Value& identifier : identifiers->items()) {
    std::string_view value = identifier.FindString("value");
    if (value.empty()) continue;
    std::string_view system = identifier.FindString("system");
    keys.push_back(type + "|" + std::string(system) + "|" + std::string(value));
    keys.push_back(type + "|*|" + std::string(value));
  }
  return keys;
}

std::string IdentifierQueryKey(std::string_view conditional_ref) {
  if (!IsConditionalReference(conditional_ref)) return "";
  size_t q = conditional_ref.find('?');
  std::optional<std::vector<std::pair<std::string, std::string>>> pairs =
      ParseFormPairs(conditional_ref.substr(q + 1));
  if (!pairs || pairs->size() != 1 || (*pairs)[0].first != "identifier") return "";
  const std::string& token = (*pairs)[0].second;
  if (token.empty() || token.find('\\') != std::string::npos) return "";  // escapes: search
  std::string type(conditional_ref.substr(0, q));
  size_t bar = token.find('|');
  if (bar == std::string::npos) return type + "|*|" + token;
  if (bar + 1 == token.size()) return "";  // system|: any value of the system
  return type + "|" + token.substr(0, bar) + "|" + token.substr(bar + 1);
}

References CollectReferences(const json::Value& resource, const fhir::Model& model) {
  Collector c{model, {}, {}, {}};
  c.Walk(resource, /*in_contained=*/false);
  return std::move(c.out);
}

}  // namespace vesta::ingest
