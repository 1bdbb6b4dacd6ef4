// Building FHIR JSON output text. Internal to src/terminology/: operations write their
// Parameters / ValueSet output directly as text (no tree), escaping through json::WriteString.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json/writer.h"

namespace vesta::terminology::internal {

// One JSON object, members in the order added.
class JsonObject {
 public:
  JsonObject& Str(std::string_view key, std::string_view value) {
    Key(key);
    json::WriteString(value, &out_);
    return *this;
  }
  // Adds the member only when `value` is not empty.
  JsonObject& StrIf(std::string_view key, std::string_view value) {
    return value.empty() ? *this : Str(key, value);
  }
  JsonObject& Bool(std::string_view key, bool value) {
    Key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  JsonObject& Int(std::string_view key, int64_t value) {
    Key(key);
    out_ += std::to_string(value);
    return *this;
  }
  // `json` must be one JSON value.
  JsonObject& Raw(std::string_view key, std::string_view json) {
    Key(key);
    out_ += json;
    return *this;
  }
  JsonObject& Array(std::string_view key, const std::vector<std::string>& items) {
    Key(key);
    out_ += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out_ += ',';
      out_ += items[i];
    }
    out_ += ']';
    return *this;
  }
  std::string Done() const { return out_ + '}'; }

 private:
  void Key(std::string_view key) {
    out_ += out_.size() > 1 ? "," : "";
    json::WriteString(key, &out_);
    out_ += ':';
  }
  std::string out_ = "{";
};

inline std::string CodingJson(std::string_view system, std::string_view version,
                              std::string_view code, std::string_view display) {
  return JsonObject()
      .StrIf("system", system)
      .StrIf("version", version)
      .Str("code", code)
      .StrIf("display", display)
      .Done();
}

// A Parameters resource (https://hl7.org/fhir/R4/parameters.html).
class ParametersOut {
 public:
  void String(std::string_view name, std::string_view v) { Add(name, "valueString", Q(v)); }
  void Code(std::string_view name, std::string_view v) { Add(name, "valueCode", Q(v)); }
  void Boolean(std::string_view name, bool v) { Add(name, "valueBoolean", v ? "true" : "false"); }
  void Coding(std::string_view name, std::string_view coding_json) {
    Add(name, "valueCoding", coding_json);
  }
  // A parameter made of parts (each part a complete parameter object).
  void Parts(std::string_view name, const std::vector<std::string>& parts) {
    params_.push_back(JsonObject().Str("name", name).Array("part", parts).Done());
  }
  // Appends a complete parameter object.
  void AddRaw(std::string parameter_json) { params_.push_back(std::move(parameter_json)); }
  static std::string Part(std::string_view name, std::string_view value_type,
                          std::string_view value_json) {
    return JsonObject().Str("name", name).Raw(value_type, value_json).Done();
  }
  static std::string Q(std::string_view s) {
    std::string out;
    json::WriteString(s, &out);
    return out;
  }
  std::string Done() const {
    return JsonObject().Str("resourceType", "Parameters").Array("parameter", params_).Done();
  }

 private:
  void Add(std::string_view name, std::string_view type, std::string_view value_json) {
    params_.push_back(Part(name, type, value_json));
  }
  std::vector<std::string> params_;
};

}  // namespace vesta::terminology::internal
