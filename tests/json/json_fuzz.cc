// libFuzzer target for the JSON parser (built with -DVESTA_FUZZ=ON and clang, see
// docs/conformance.md). Whatever bytes come in, the parser must either reject them or produce a
// document that serializes to text which parses again to an equal document and serializes to the
// same bytes: the round trip every stored resource takes (decimals kept as written).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "json/parse.h"
#include "json/value.h"
#include "json/writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vesta;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  Result<json::Document> doc = json::Parse(in);
  if (!doc.ok()) return 0;
  std::string once = json::ToString(doc->root());
  Result<json::Document> again = json::Parse(once);
  if (!again.ok()) std::abort();
  if (!json::Equal(doc->root(), again->root())) std::abort();
  if (json::ToString(again->root()) != once) std::abort();
  return 0;
}
