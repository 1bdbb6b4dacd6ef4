// The input of a terminology operation, from either form a client may use
// (https://hl7.org/fhir/R4/operations.html#executing): a `Parameters` resource in a POST body, or
// the query string of a GET (primitive parameters only; a Coding as `system|code` is not part of
// R4, so GET callers pass `code` + `system`).
//
//   ASSIGN_OR_RETURN(OperationParams p, OperationParams::FromParametersJson(body));
//   OperationParams q = OperationParams::FromQuery({{"code", "E11.9"}, {"system", url}});
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "json/value.h"

namespace vesta::terminology {

struct Coding {
  std::string system;
  std::string version;
  std::string code;
  std::string display;
};

class OperationParams {
 public:
  OperationParams() = default;

  // `parameters` must be a Parameters resource; values of primitive types are kept as their
  // text ("true", "10"), Coding values as Codings, a CodeableConcept as its codings.
  static Result<OperationParams> FromParametersJson(const json::Value& parameters);
  static Result<OperationParams> FromParametersJson(std::string_view body);
  static OperationParams FromQuery(const std::vector<std::pair<std::string, std::string>>& query);

  void Add(std::string name, std::string value);
  void AddCoding(std::string name, Coding coding);

  // The first value of `name`, or nullptr.
  const std::string* Get(std::string_view name) const;
  std::string GetOr(std::string_view name, std::string_view fallback) const;
  std::vector<std::string> GetAll(std::string_view name) const;
  // Codings given under `name` (a Coding, or each coding of a CodeableConcept).
  std::vector<Coding> GetCodings(std::string_view name) const;
  // A boolean parameter: Invalid when present and neither "true" nor "false".
  Result<bool> GetBool(std::string_view name, bool fallback) const;
  // A non-negative integer parameter: Invalid when present and not one.
  Result<int64_t> GetInt(std::string_view name, int64_t fallback) const;

 private:
  std::vector<std::pair<std::string, std::string>> values_;
  std::vector<std::pair<std::string, Coding>> codings_;
};

}  // namespace vesta::terminology
