// A forward-only JSON writer for the generator: appends compact JSON to a string with no tree in
// between, which keeps generation fast and its memory flat. Commas are placed automatically.
//
//   JsonOut j(&buffer);
//   j.Begin().Field("resourceType", "Patient").Key("name").BeginArray().Begin()
//       .Field("family", "Lee").End().EndArray().End();
//
// The caller is responsible for balance and for never opening an array or object it leaves
// empty (FHIR forbids empty ones: https://hl7.org/fhir/R4/json.html).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vesta::generate {

class JsonOut {
 public:
  explicit JsonOut(std::string* out) : out_(out) {}

  JsonOut& Begin();
  JsonOut& End();
  JsonOut& BeginArray();
  JsonOut& EndArray();
  JsonOut& Key(std::string_view key);
  JsonOut& Str(std::string_view value);
  // A JSON number written as given; REQUIRES: `text` is a valid JSON number.
  JsonOut& Raw(std::string_view text);
  JsonOut& Int(int64_t value);
  // A decimal with exactly `places` digits after the point (FHIR keeps them: 1.50 stays 1.50).
  JsonOut& Dec(double value, int places);
  JsonOut& Bool(bool value);

  JsonOut& Field(std::string_view key, std::string_view value) { return Key(key).Str(value); }
  JsonOut& Object(std::string_view key) { return Key(key).Begin(); }
  JsonOut& Array(std::string_view key) { return Key(key).BeginArray(); }

 private:
  void Comma() {
    if (need_comma_) out_->push_back(',');
  }

  std::string* out_;
  bool need_comma_ = false;
};

}  // namespace vesta::generate
