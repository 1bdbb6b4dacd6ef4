// libFuzzer target for JSON Patch and FHIRPath Patch (built with -DVESTA_FUZZ=ON and clang).
//
// Input: a JSON patch body. An array is applied as a JSON Patch, an object as a FHIRPath Patch
// (Parameters), both to a fixed Patient; a result must serialize to JSON that parses again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fhir/patch/fhirpath_patch.h"
#include "fhir/patch/json_patch.h"
#include "json/parse.h"
#include "json/writer.h"

namespace {

constexpr std::string_view kPatient = R"({"resourceType":"Patient","id":"p","active":true,
  "name":[{"use":"official","family":"F","given":["A","B"],"_given":[null,{"id":"g"}]}],
  "birthDate":"1974-12-25","contact":[{"name":{"text":"c"}}],"deceasedBoolean":false,
  "identifier":[{"value":"1"},{"value":"2"}],
  "contained":[{"resourceType":"Organization","id":"o","name":"O"}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vesta;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Result<json::Document> patch = json::Parse(in);
  if (!patch.ok()) return 0;
  Result<json::Document> doc = json::Parse(kPatient);
  if (!doc.ok()) std::abort();
  const std::string before = json::ToString(doc->root());
  Result<json::Value> out =
      patch->root().is_array()
          ? patch::ApplyJsonPatch(doc->arena(), doc->root(), patch->root())
          : patch::ApplyFhirPathPatch(doc->arena(), doc->root(), patch->root(), fhir::Model::R4());
  if (json::ToString(doc->root()) != before) std::abort();  // the input must stay unchanged
  if (out.ok() && !json::Parse(json::ToString(*out)).ok()) std::abort();
  return 0;
}
