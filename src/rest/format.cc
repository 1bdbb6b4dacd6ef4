#include "rest/format.h"

#include <algorithm>

#include "base/strings.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::rest {
namespace {

std::string_view Trim(std::string_view s) { return vesta::Trim(s, kHttpWhitespace); }

// The media type of a _format value or an Accept item, without parameters.
enum class Kind { kFhirJson, kJson, kAny, kOther };

Kind Classify(std::string_view media) {
  std::string m = MediaTypeOf(media);
  if (m == "json" || m == "application/fhir+json" || m == "application/json+fhir") {
    return Kind::kFhirJson;
  }
  if (m == "application/json" || m == "text/json") return Kind::kJson;
  if (m == "*/*" || m == "application/*") return Kind::kAny;
  return Kind::kOther;
}

// q=0 in an Accept item means "not acceptable".
bool QualityZero(std::string_view item) {
  size_t pos = item.find(';');
  while (pos != std::string_view::npos) {
    std::string_view param = Trim(item.substr(pos + 1, item.find(';', pos + 1) - pos - 1));
    if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
      std::string_view q = param.substr(2);
      return q.find_first_not_of("0.") == std::string_view::npos;
    }
    pos = item.find(';', pos + 1);
  }
  return false;
}

}  // namespace

std::string MediaTypeOf(std::string_view content_type) {
  return Lower(Trim(content_type.substr(0, content_type.find(';'))));
}

Result<OutputFormat> NegotiateFormat(const Request& request) {
  OutputFormat format;
  if (const std::string* pretty = request.Param("_pretty")) {
    if (*pretty != "true" && *pretty != "false") {
      return Status(StatusCode::kInvalid, "_pretty must be true or false");
    }
    format.pretty = *pretty == "true";
  }
  if (const std::string* f = request.Param("_format")) {
    switch (Classify(*f)) {
      case Kind::kFhirJson:
      case Kind::kAny:
        format.media = MediaType::kFhirJson;
        return format;
      case Kind::kJson:
        format.media = MediaType::kJson;
        return format;
      case Kind::kOther:
        return Status(StatusCode::kNotAcceptable,
                      "_format '" + *f +
                          "' is not served: this server speaks JSON only "
                          "(application/fhir+json)");
    }
  }
  std::string_view accept = request.Header("Accept");
  if (Trim(accept).empty()) return format;
  bool fhir = false, plain = false, any = false;
  for (std::string_view item : Split(accept, ',')) {
    if (!QualityZero(item)) {
      switch (Classify(item)) {
        case Kind::kFhirJson:
          fhir = true;
          break;
        case Kind::kJson:
          plain = true;
          break;
        case Kind::kAny:
          any = true;
          break;
        case Kind::kOther:
          break;
      }
    }
  }
  if (fhir || any) return format;
  if (plain) {
    format.media = MediaType::kJson;
    return format;
  }
  return Status(StatusCode::kNotAcceptable,
                "none of the media types in Accept '" + std::string(accept) +
                    "' is served: this server speaks application/fhir+json and application/json");
}

std::string ContentType(const OutputFormat& format) {
  return format.media == MediaType::kJson ? "application/json; charset=utf-8"
                                          : "application/fhir+json; charset=utf-8";
}

Status CheckBodyContentType(const Request& request) {
  std::string_view ct = request.Header("Content-Type");
  if (Trim(ct).empty()) return Status::Ok();
  Kind kind = Classify(ct);
  if (kind == Kind::kFhirJson || kind == Kind::kJson) return Status::Ok();
  return Status(StatusCode::kUnsupportedMedia, "Content-Type '" + std::string(ct) +
                                                   "' is not accepted: send application/fhir+json");
}

Result<ResourceView> ParseView(const Request& request) {
  ResourceView view;
  if (const std::string* s = request.Param("_summary")) {
    if (*s == "true") {
      view.summary = SummaryMode::kTrue;
    } else if (*s == "text") {
      view.summary = SummaryMode::kText;
    } else if (*s == "data") {
      view.summary = SummaryMode::kData;
    } else if (*s == "count") {
      view.summary = SummaryMode::kCount;
    } else if (*s == "false") {
      view.summary = SummaryMode::kFalse;
    } else {
      return Status(StatusCode::kInvalid,
                    "_summary must be one of true, text, data, count, false; got '" + *s + "'");
    }
  }
  if (const std::string* e = request.Param("_elements")) {
    for (std::string_view piece : Split(*e, ',')) {
      std::string name(Trim(piece));
      // Only top-level names are defined in R4; "Patient.name" is accepted as "name".
      if (size_t dot = name.rfind('.'); dot != std::string::npos) name = name.substr(dot + 1);
      if (!name.empty()) view.elements.push_back(name);
    }
  }
  return view;
}

namespace {

using json::Member;
using json::Value;

// meta with the SUBSETTED tag added (https://hl7.org/fhir/R4/search.html#summary: a subset
// SHALL carry it so that nobody stores it back as if complete).
Value MarkSubsetted(json::Arena& arena, const Value* meta) {
  std::vector<Member> tag_members = {
      {"system", Value::String(arena, "http://terminology.hl7.org/CodeSystem/v3-ObservationValue")},
      {"code", Value::String(arena, "SUBSETTED")},
      {"display", Value::String(arena, "subsetted")}};
  Value tag = Value::Object(arena, tag_members);
  std::vector<Value> tags;
  if (meta != nullptr) {
    if (const Value* existing = meta->Find("tag"); existing && existing->is_array()) {
      tags.assign(existing->items().begin(), existing->items().end());
    }
  }
  tags.push_back(tag);
  Value base = meta != nullptr && meta->is_object() ? *meta : Value::Object(arena, {});
  return json::WithMember(arena, base, "tag", Value::Array(arena, tags));
}

// Keeps the summary elements of `s` in `obj`, recursing into inline backbone structures.
Value SummaryOf(json::Arena& arena, const fhir::StructInfo& s, const Value& obj) {
  std::vector<Member> kept;
  for (const Member& m : obj.members()) {
    if (m.key == "resourceType") {
      kept.push_back(m);
      continue;
    }
    fhir::ElementMatch match = s.Match(m.key);
    if (match.element == nullptr || !match.element->is_summary) continue;
    const fhir::StructInfo* inner = match.type->structure;
    if (inner != nullptr && inner->kind == fhir::TypeKind::kBackbone) {
      if (m.value.is_object()) {
        kept.push_back({m.key, SummaryOf(arena, *inner, m.value)});
      } else if (m.value.is_array()) {
        std::vector<Value> items;
        for (const Value& item : m.value.items()) {
          items.push_back(item.is_object() ? SummaryOf(arena, *inner, item) : item);
        }
        kept.push_back({m.key, Value::Array(arena, items)});
      }
      continue;
    }
    kept.push_back(m);
  }
  return Value::Object(arena, kept);
}

bool ElementNameMatches(const fhir::StructInfo* s, std::string_view key,
                        const std::vector<std::string>& names) {
  std::string_view base = key;
  if (!base.empty() && base[0] == '_') base.remove_prefix(1);
  std::string_view element_name = base;
  if (s != nullptr) {
    fhir::ElementMatch m = s->Match(key);
    if (m.element != nullptr) element_name = m.element->name;
  }
  return std::find(names.begin(), names.end(), element_name) != names.end();
}

}  // namespace

Result<std::string> RenderResource(std::string_view stored_json, const ResourceView& view,
                                   const OutputFormat& format, const fhir::Model& model) {
  if (view.is_full() && !format.pretty) return std::string(stored_json);
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(stored_json));
  json::Arena& arena = doc.arena();
  Value root = doc.root();
  const fhir::StructInfo* s = model.FindStruct(root.FindString("resourceType"));
  bool subsetted = false;
  if (view.summary == SummaryMode::kTrue && s != nullptr) {
    root = SummaryOf(arena, *s, root);
    subsetted = true;
  } else if (view.summary == SummaryMode::kText || view.summary == SummaryMode::kData) {
    std::vector<Member> kept;
    for (const Member& m : root.members()) {
      bool keep;
      if (view.summary == SummaryMode::kData) {
        keep = m.key != "text";
      } else {
        // text: the narrative plus id, meta and the mandatory top-level elements.
        fhir::ElementMatch match = s != nullptr ? s->Match(m.key) : fhir::ElementMatch{};
        keep = m.key == "resourceType" || m.key == "id" || m.key == "meta" || m.key == "text" ||
               (match.element != nullptr && match.element->min > 0);
      }
      if (keep) kept.push_back(m);
    }
    root = Value::Object(arena, kept);
    subsetted = true;
  }
  if (!view.elements.empty()) {
    // https://hl7.org/fhir/R4/search.html#elements: "Servers SHOULD always return mandatory
    // elements whether they are requested or not": the top-level elements with a minimum
    // cardinality above 0 are kept too.
    std::vector<Member> kept;
    for (const Member& m : root.members()) {
      fhir::ElementMatch match = s != nullptr ? s->Match(m.key) : fhir::ElementMatch{};
      if (m.key == "resourceType" || m.key == "id" || m.key == "meta" ||
          (match.element != nullptr && match.element->min > 0) ||
          ElementNameMatches(s, m.key, view.elements)) {
        kept.push_back(m);
      }
    }
    root = Value::Object(arena, kept);
    subsetted = true;
  }
  if (subsetted)
    root = json::WithMember(arena, root, "meta", MarkSubsetted(arena, root.Find("meta")));
  return json::ToString(root, format.pretty ? json::Style::kPretty : json::Style::kCompact);
}

std::string RenderJson(std::string json, const OutputFormat& format) {
  if (!format.pretty) return json;
  auto doc = json::Parse(json);
  if (!doc.ok()) return json;
  return json::ToString(doc->root(), json::Style::kPretty);
}

Response JsonResponse(std::string json, const OutputFormat& format) {
  Response r;
  r.SetHeader("Content-Type", ContentType(format));
  r.body = RenderJson(std::move(json), format);
  return r;
}

}  // namespace vesta::rest
