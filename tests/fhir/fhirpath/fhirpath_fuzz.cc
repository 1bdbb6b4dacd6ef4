// libFuzzer target for the FHIRPath parser and evaluator (built with -DVESTA_FUZZ=ON and clang;
// see docs/conformance.md, section FHIRPath, for how to run it).
//
// Input: the first line is the expression; the rest, when it parses as JSON, is the resource
// (otherwise a fixed Patient is used, so that expressions are always evaluated).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fhir/fhirpath/fhirpath.h"
#include "json/parse.h"

namespace {

constexpr std::string_view kPatient = R"({"resourceType":"Patient","id":"p","active":true,
  "name":[{"use":"official","family":"F","given":["A","B"],"_given":[null,{"extension":[
  {"url":"u","valueString":"x"}]}]}],"birthDate":"1974-12-25","contained":[{"resourceType":
  "Organization","id":"o","name":"O"}],"managingOrganization":{"reference":"#o"},
  "extension":[{"url":"e","valueQuantity":{"value":1.50,"unit":"mg","code":"mg"}}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vesta;
  static const json::Document* fallback = [] {
    Result<json::Document> d = json::Parse(kPatient);
    return d.ok() ? new json::Document(std::move(d).value()) : nullptr;  // lives for the process
  }();
  if (fallback == nullptr) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view expr = in.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  Result<json::Document> doc = json::Parse(body);
  const json::Value& root = doc.ok() ? doc->root() : fallback->root();
  fhirpath::Environment env;
  env.now_micros = 1700000000000000;
  for (bool typed : {false, true}) {
    fhirpath::CompileOptions options;
    if (typed) options.context_type = std::string(root.FindString("resourceType"));
    Result<fhirpath::Expression> e = fhirpath::Expression::Compile(expr, options);
    if (!e.ok()) continue;
    Result<fhirpath::Collection> r = e->Evaluate(root, env);
    if (r.ok()) (void)fhirpath::CollectionToJson(*r);
  }
  return 0;
}
