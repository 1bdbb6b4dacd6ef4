#include "fhir/resource/resource_json.h"

#include <vector>

#include "fhir/validate/validator.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::fhir {

Result<json::Document> ParseResourceBody(std::string_view body, const std::string& type,
                                         const Model& model, const ValidationOptions& options) {
  if (body.empty()) return Status(StatusCode::kInvalid, "the request has no body");
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(body));
  RETURN_IF_ERROR(CheckResource(doc.root(), type, model, options));
  return doc;
}

Status CheckResource(const json::Value& root, const std::string& type, const Model& model,
                     const ValidationOptions& options) {
  if (!root.is_object()) return Status(StatusCode::kInvalid, "a resource must be a JSON object");
  const json::Value* rt = root.Find("resourceType");
  if (rt == nullptr || !rt->is_string()) {
    return Status(StatusCode::kInvalid, "the resource has no resourceType",
                  {Issue{Severity::kError, "required", "the resource has no resourceType", ""}});
  }
  if (rt->string_value() != type) {
    std::string msg = "resourceType '" + std::string(rt->string_value()) +
                      "' does not match the URL's type '" + type + "'";
    return Status(StatusCode::kInvalid, msg,
                  {Issue{Severity::kError, "invalid", msg, std::string(rt->string_value())}});
  }
  return ValidateResource(root, model, options);
}

std::string StoredJson(json::Document& doc, const std::string& id, int64_t version,
                       Micros last_updated) {
  json::Arena& arena = doc.arena();
  const json::Value& root = doc.root();
  std::vector<json::Member> meta;
  meta.push_back({"versionId", json::Value::String(arena, std::to_string(version))});
  meta.push_back({"lastUpdated", json::Value::String(arena, FormatInstant(last_updated))});
  if (const json::Value* old = root.Find("meta"); old != nullptr && old->is_object()) {
    for (const json::Member& m : old->members()) {
      if (m.key != "versionId" && m.key != "lastUpdated") meta.push_back(m);
    }
  }
  std::vector<json::Member> members;
  members.reserve(root.size() + 2);
  members.push_back({"resourceType", *root.Find("resourceType")});
  members.push_back({"id", json::Value::String(arena, id)});
  members.push_back({"meta", json::Value::Object(arena, meta)});
  for (const json::Member& m : root.members()) {
    if (m.key != "resourceType" && m.key != "id" && m.key != "meta") members.push_back(m);
  }
  // The document becomes the stored version, so that the same tree can feed the search index
  // (store::WriteOp::document) instead of the bytes being parsed again.
  doc.mutable_root() = json::Value::Object(arena, members);
  return json::ToString(doc.root());
}

}  // namespace vesta::fhir
