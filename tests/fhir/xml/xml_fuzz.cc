// libFuzzer target for the FHIR XML reader and the XML → JSON conversion (built with
// -DVESTA_FUZZ=ON and clang). A converted resource must serialize to JSON that parses again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fhir/xml/xml_to_json.h"
#include "json/parse.h"
#include "json/writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vesta;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Result<json::Document> doc = fhirxml::ResourceXmlToJson(in, fhir::Model::R4());
  if (doc.ok() && !json::Parse(json::ToString(doc->root())).ok()) std::abort();
  return 0;
}
