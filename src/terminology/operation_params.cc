#include "terminology/operation_params.h"

#include <charconv>

#include "json/parse.h"

namespace vesta::terminology {
namespace {

Coding CodingFrom(const json::Value& v) {
  Coding c;
  c.system = v.FindString("system");
  c.version = v.FindString("version");
  c.code = v.FindString("code");
  c.display = v.FindString("display");
  return c;
}

}  // namespace

Result<OperationParams> OperationParams::FromParametersJson(const json::Value& parameters) {
  if (!parameters.is_object() || parameters.FindString("resourceType") != "Parameters") {
    return Invalid("the request body must be a Parameters resource");
  }
  OperationParams out;
  const json::Value* list = parameters.Find("parameter");
  if (list == nullptr) return out;
  if (!list->is_array()) return Invalid("Parameters.parameter must be an array");
  for (const json::Value& p : list->items()) {
    std::string_view name = p.FindString("name");
    if (name.empty()) return Invalid("a Parameters.parameter has no name");
    for (const json::Member& m : p.members()) {
      if (!m.key.starts_with("value")) continue;
      const json::Value& v = m.value;
      if (m.key == "valueCoding") {
        out.AddCoding(std::string(name), CodingFrom(v));
      } else if (m.key == "valueCodeableConcept") {
        const json::Value* codings = v.Find("coding");
        if (codings != nullptr && codings->is_array()) {
          for (const json::Value& c : codings->items()) {
            out.AddCoding(std::string(name), CodingFrom(c));
          }
        }
      } else if (v.is_string()) {
        out.Add(std::string(name), std::string(v.string_value()));
      } else if (v.is_bool()) {
        out.Add(std::string(name), v.bool_value() ? "true" : "false");
      } else if (v.is_number()) {
        out.Add(std::string(name), std::string(v.number_text()));
      } else if (m.key != "valueResource") {
        return Invalid("parameter '" + std::string(name) + "' has an unsupported " +
                       std::string(m.key));
      } else {
        return NotSupported("parameter '" + std::string(name) +
                            "': resources as operation input are not supported");
      }
    }
  }
  return out;
}

Result<OperationParams> OperationParams::FromParametersJson(std::string_view body) {
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(body));
  return FromParametersJson(doc.root());
}

OperationParams OperationParams::FromQuery(
    const std::vector<std::pair<std::string, std::string>>& query) {
  OperationParams out;
  for (const auto& [k, v] : query) out.Add(k, v);
  return out;
}

void OperationParams::Add(std::string name, std::string value) {
  values_.emplace_back(std::move(name), std::move(value));
}

void OperationParams::AddCoding(std::string name, Coding coding) {
  codings_.emplace_back(std::move(name), std::move(coding));
}

const std::string* OperationParams::Get(std::string_view name) const {
  for (const auto& [k, v] : values_) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::string OperationParams::GetOr(std::string_view name, std::string_view fallback) const {
  const std::string* v = Get(name);
  return v != nullptr ? *v : std::string(fallback);
}

std::vector<std::string> OperationParams::GetAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : values_) {
    if (k == name) out.push_back(v);
  }
  return out;
}

std::vector<Coding> OperationParams::GetCodings(std::string_view name) const {
  std::vector<Coding> out;
  for (const auto& [k, v] : codings_) {
    if (k == name) out.push_back(v);
  }
  return out;
}

Result<bool> OperationParams::GetBool(std::string_view name, bool fallback) const {
  const std::string* v = Get(name);
  if (v == nullptr) return fallback;
  if (*v == "true") return true;
  if (*v == "false") return false;
  return Invalid("parameter '" + std::string(name) + "' must be true or false");
}

Result<int64_t> OperationParams::GetInt(std::string_view name, int64_t fallback) const {
  const std::string* v = Get(name);
  if (v == nullptr) return fallback;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size() || out < 0) {
    return Invalid("parameter '" + std::string(name) + "' must be a non-negative integer");
  }
  return out;
}

}  // namespace vesta::terminology
