#include "json/writer.h"

namespace vesta::json {

void WriteString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

namespace {

void Indent(int depth, std::string* out) {
  out->push_back('\n');
  out->append(static_cast<size_t>(depth) * 2, ' ');
}

void WriteValue(const Value& v, Style style, int depth, std::string* out) {
  const bool pretty = style == Style::kPretty;
  switch (v.kind()) {
    case Kind::kNull: out->append("null"); return;
    case Kind::kBool: out->append(v.bool_value() ? "true" : "false"); return;
    case Kind::kNumber: out->append(v.number_text()); return;
    case Kind::kString: WriteString(v.string_value(), out); return;
    case Kind::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out->push_back(',');
        first = false;
        if (pretty) Indent(depth + 1, out);
        WriteValue(item, style, depth + 1, out);
      }
      if (pretty && v.size() > 0) Indent(depth, out);
      out->push_back(']');
      return;
    }
    case Kind::kObject: {
      out->push_back('{');
      bool first = true;
      for (const Member& m : v.members()) {
        if (!first) out->push_back(',');
        first = false;
        if (pretty) Indent(depth + 1, out);
        WriteString(m.key, out);
        out->append(pretty ? ": " : ":");
        WriteValue(m.value, style, depth + 1, out);
      }
      if (pretty && v.size() > 0) Indent(depth, out);
      out->push_back('}');
      return;
    }
  }
}

}  // namespace

void Write(const Value& v, Style style, std::string* out) { WriteValue(v, style, 0, out); }

std::string ToString(const Value& v, Style style) {
  std::string out;
  Write(v, style, &out);
  return out;
}

}  // namespace vesta::json
