#include "mllp/record.h"

#include <optional>

#include "base/strings.h"

namespace vesta::mllp {

std::string TagCode(const json::Value& basic, std::string_view system) {
  if (const json::Value* meta = basic.Find("meta")) {
    if (const json::Value* tags = meta->Find("tag")) {
      for (const json::Value& t : tags->items()) {
        if (t.FindString("system") == system) return std::string(t.FindString("code"));
      }
    }
  }
  return "";
}

std::string ExtensionString(const json::Value& basic, std::string_view url) {
  if (const json::Value* ext = basic.Find("extension")) {
    for (const json::Value& e : ext->items()) {
      if (e.FindString("url") != url) continue;
      if (std::string_view s = e.FindString("valueString"); !s.empty()) return std::string(s);
      if (std::string_view b = e.FindString("valueBase64Binary"); !b.empty()) {
        if (std::optional<std::string> raw = Base64Decode(b)) return *raw;
      }
    }
  }
  return "";
}

}  // namespace vesta::mllp
