// FHIR XML → JSON: https://hl7.org/fhir/R4/xml.html, https://hl7.org/fhir/R4/json.html
#include "fhir/xml/xml_to_json.h"

#include <expat.h>

#include <memory>

namespace vesta::fhirxml {
namespace {

struct ParseState {
  std::vector<XmlElement*> stack;
  XmlElement root;
  bool have_root = false;
  bool too_deep = false;
  XML_Parser parser = nullptr;
};

void OnStart(void* data, const XML_Char* name, const XML_Char** attrs) {
  auto* st = static_cast<ParseState*>(data);
  if (st->stack.size() >= static_cast<size_t>(kMaxXmlDepth)) {
    st->too_deep = true;
    XML_StopParser(st->parser, XML_FALSE);
    return;
  }
  XmlElement* e;
  if (st->stack.empty()) {
    st->have_root = true;
    e = &st->root;
  } else {
    st->stack.back()->children.emplace_back();
    e = &st->stack.back()->children.back();
  }
  e->name = name;
  for (int i = 0; attrs[i] != nullptr && attrs[i + 1] != nullptr; i += 2) {
    e->attributes.emplace_back(attrs[i], attrs[i + 1]);
  }
  st->stack.push_back(e);
}

void OnEnd(void* data, const XML_Char* /*name*/) {
  auto* st = static_cast<ParseState*>(data);
  if (!st->stack.empty()) st->stack.pop_back();
}

void OnText(void* data, const XML_Char* s, int len) {
  auto* st = static_cast<ParseState*>(data);
  if (st->stack.empty()) return;
  auto& children = st->stack.back()->children;
  if (children.empty() || !children.back().is_text()) children.emplace_back();
  children.back().text.append(s, static_cast<size_t>(len));
}

void Escape(std::string_view s, bool attribute, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '"':
        if (attribute) {
          *out += "&quot;";
        } else {
          *out += c;
        }
        break;
      default:
        *out += c;
    }
  }
}

void Write(const XmlElement& e, std::string* out) {
  if (e.is_text()) {
    Escape(e.text, false, out);
    return;
  }
  *out += '<' + e.name;
  for (const auto& [k, v] : e.attributes) {
    *out += ' ' + k + "=\"";
    Escape(v, true, out);
    *out += '"';
  }
  if (e.children.empty()) {
    *out += "/>";
    return;
  }
  *out += '>';
  for (const XmlElement& c : e.children) Write(c, out);
  *out += "</" + e.name + '>';
}

// The lexical forms of https://hl7.org/fhir/R4/datatypes.html#primitive for integer and decimal,
// which are also valid JSON numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsNumberText(std::string_view s, bool integer) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  size_t int_start = i;
  if (!digits() || (s[int_start] == '0' && i - int_start > 1)) return false;
  if (integer) return i == s.size();
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

bool IsJsonNumberType(std::string_view code) {
  return code == "integer" || code == "positiveInt" || code == "unsignedInt" || code == "decimal";
}

// One JSON property being collected: its values and their `_name` parts.
struct Property {
  std::string key;
  std::vector<json::Value> values;
  std::vector<json::Value> exts;
  bool is_array = false;
};

class Converter {
 public:
  Converter(json::Arena& arena, const fhir::Model& model) : arena_(arena), model_(model) {}

  Result<json::Value> Resource(const XmlElement& e, int depth) {
    const fhir::StructInfo* s = model_.FindStruct(e.name);
    if (s == nullptr || !model_.IsResourceType(e.name)) {
      return Invalid("<" + e.name + "> is not a FHIR resource");
    }
    std::vector<json::Member> members;
    members.push_back({"resourceType", json::Value::String(arena_, e.name)});
    RETURN_IF_ERROR(Children(s, e, depth, &members));
    return json::Value::Object(arena_, members);
  }

 private:
  // The members for the child elements of `e`, an instance of `s`.
  Status Children(const fhir::StructInfo* s, const XmlElement& e, int depth,
                  std::vector<json::Member>* members) {
    if (depth > kMaxXmlDepth) return Invalid("the XML is nested too deeply");
    std::vector<Property> props;
    for (const XmlElement* child : e.Elements()) {
      fhir::ElementMatch m = s->Match(child->name);
      if (m.element == nullptr || m.type == nullptr || m.is_primitive_extension) {
        return Invalid(s->name + " has no element <" + child->name + ">");
      }
      Property* p = nullptr;
      for (Property& x : props) {
        if (x.key == child->name) p = &x;
      }
      if (p == nullptr) {
        props.push_back({child->name, {}, {}, m.element->is_array()});
        p = &props.back();
      }
      json::Value value;
      json::Value ext;
      const std::string& code = m.type->code;
      const fhir::StructInfo* type_struct =
          m.type->structure != nullptr ? m.type->structure : model_.FindStruct(code);
      if (code == "xhtml") {
        std::string text;
        Write(*child, &text);
        value = json::Value::String(arena_, text);
      } else if (code == "Resource" || model_.IsResourceType(code)) {
        std::vector<const XmlElement*> inner = child->Elements();
        if (inner.size() != 1) return Invalid("<" + child->name + "> must hold one resource");
        ASSIGN_OR_RETURN(value, Resource(*inner[0], depth + 1));
      } else if (type_struct != nullptr && type_struct->kind != fhir::TypeKind::kPrimitive) {
        std::vector<json::Member> obj;
        for (const auto& [k, v] : child->attributes) {
          if (k == "id" || k == "url") {
            obj.push_back({arena_.CopyString(k), json::Value::String(arena_, v)});
          }
        }
        RETURN_IF_ERROR(Children(type_struct, *child, depth + 1, &obj));
        value = json::Value::Object(arena_, obj);
      } else {
        // A primitive: the value attribute, and id/extension in the `_name` part.
        if (const std::string* v = child->Attribute("value")) {
          if (code == "boolean") {
            if (*v != "true" && *v != "false") {
              return Invalid("<" + child->name + "> value '" + *v + "' is not a boolean");
            }
            value = json::Value::Bool(*v == "true");
          } else if (IsJsonNumberType(code)) {
            if (!IsNumberText(*v, code != "decimal")) {
              return Invalid("<" + child->name + "> value '" + *v + "' is not a valid " + code);
            }
            value = json::Value::Number(arena_, *v);
          } else {
            value = json::Value::String(arena_, *v);
          }
        }
        std::vector<json::Member> part;
        if (const std::string* id = child->Attribute("id")) {
          part.push_back({"id", json::Value::String(arena_, *id)});
        }
        if (!child->Elements().empty()) {
          const fhir::StructInfo* element = model_.FindStruct("Element");
          if (element == nullptr) return Internal("the model has no Element");
          RETURN_IF_ERROR(Children(element, *child, depth + 1, &part));
        }
        if (!part.empty()) ext = json::Value::Object(arena_, part);
      }
      p->values.push_back(value);
      p->exts.push_back(ext);
    }
    for (const Property& p : props) {
      bool any_value = false;
      bool any_ext = false;
      for (const json::Value& v : p.values) any_value = any_value || !v.is_null();
      for (const json::Value& x : p.exts) any_ext = any_ext || !x.is_null();
      for (const json::Member& m : *members) {
        if (m.key == p.key) {
          return Invalid("'" + p.key + "' is given both as attribute and element");
        }
      }
      std::string_view key = arena_.CopyString(p.key);
      std::string_view ext_key = arena_.CopyString("_" + p.key);
      if (p.is_array) {
        if (any_value) members->push_back({key, json::Value::Array(arena_, p.values)});
        if (any_ext) members->push_back({ext_key, json::Value::Array(arena_, p.exts)});
      } else {
        if (p.values.size() > 1) return Invalid("<" + p.key + "> does not repeat");
        if (any_value) members->push_back({key, p.values[0]});
        if (any_ext) members->push_back({ext_key, p.exts[0]});
      }
    }
    return Status::Ok();
  }

  json::Arena& arena_;
  const fhir::Model& model_;
};

}  // namespace

const std::string* XmlElement::Attribute(std::string_view n) const {
  for (const auto& [k, v] : attributes) {
    if (k == n) return &v;
  }
  return nullptr;
}

const XmlElement* XmlElement::Child(std::string_view n) const {
  for (const XmlElement& c : children) {
    if (!c.is_text() && c.name == n) return &c;
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::Elements() const {
  std::vector<const XmlElement*> out;
  for (const XmlElement& c : children) {
    if (!c.is_text()) out.push_back(&c);
  }
  return out;
}

Result<XmlElement> ParseXml(std::string_view xml) {
  std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser(XML_ParserCreate(nullptr),
                                                                 XML_ParserFree);
  if (parser == nullptr) return Internal("cannot create an XML parser");
  ParseState st;
  st.parser = parser.get();
  XML_SetUserData(parser.get(), &st);
  XML_SetElementHandler(parser.get(), OnStart, OnEnd);
  XML_SetCharacterDataHandler(parser.get(), OnText);
  if (xml.size() > static_cast<size_t>(INT32_MAX)) return Invalid("the XML is too large");
  if (XML_Parse(parser.get(), xml.data(), static_cast<int>(xml.size()), XML_TRUE) !=
      XML_STATUS_OK) {
    if (st.too_deep) {
      return Invalid("the XML is nested deeper than " + std::to_string(kMaxXmlDepth));
    }
    return Invalid("malformed XML at line " +
                   std::to_string(XML_GetCurrentLineNumber(parser.get())) + ": " +
                   XML_ErrorString(XML_GetErrorCode(parser.get())));
  }
  if (!st.have_root) return Invalid("the XML has no element");
  return std::move(st.root);
}

std::string WriteXml(const XmlElement& element) {
  std::string out;
  Write(element, &out);
  return out;
}

Result<json::Value> ResourceToJson(json::Arena& arena, const XmlElement& resource,
                                   const fhir::Model& model) {
  return Converter(arena, model).Resource(resource, 0);
}

Result<json::Document> ResourceXmlToJson(std::string_view xml, const fhir::Model& model) {
  ASSIGN_OR_RETURN(XmlElement root, ParseXml(xml));
  json::Document doc;
  ASSIGN_OR_RETURN(doc.mutable_root(), ResourceToJson(doc.arena(), root, model));
  return doc;
}

}  // namespace vesta::fhirxml
