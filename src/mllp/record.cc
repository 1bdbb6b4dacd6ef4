#include "mllp/record.h"

#include <optional>

#include "base/strings.h"
#include "json/writer.h"

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

std::string NextMeta(const json::Value& meta, int64_t version, Micros now, std::string_view system,
                     const std::string& tag) {
  std::string out = R"({"versionId":")" + std::to_string(version) + R"(","lastUpdated":")" +
                    FormatInstant(now) + "\"";
  bool had_tags = false;
  for (const json::Member& m : meta.members()) {
    if (m.key == "versionId" || m.key == "lastUpdated") continue;
    out += ",";
    json::WriteString(m.key, &out);
    out += ":";
    if (m.key != "tag") {
      out += json::ToString(m.value);
      continue;
    }
    had_tags = true;
    out += "[";
    for (const json::Value& t : m.value.items()) {
      if (t.FindString("system") == system) continue;
      out += json::ToString(t) + ",";
    }
    out += tag + "]";
  }
  if (!had_tags) out += R"(,"tag":[)" + tag + "]";
  return out + "}";
}

}  // namespace vesta::mllp
