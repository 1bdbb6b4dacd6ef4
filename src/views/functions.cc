// The FHIRPath functions of views, added to the engine as extension functions:
// getResourceKey() and getReferenceKey([type]), which SQL on FHIR requires
// (https://sql-on-fhir.org/ig/latest/StructureDefinition-ViewDefinition.html
// #required-additional-functions), and join() as the SQL on FHIR suite expects it.
#include <string>

#include "fhir/fhirpath/fhirpath.h"
#include "views/view.h"

namespace vesta::views {
namespace {

using fhirpath::Collection;
using fhirpath::ExtensionCall;
using fhirpath::Item;

// "This is invoked at the root of a FHIR Resource and returns an opaque value to be used as the
// primary key for the row associated with the resource."
Result<Collection> ResourceKey(const ExtensionCall& call) {
  Collection out;
  for (const Item& item : call.input) {
    if (!item.is_node() || item.node == nullptr || !item.node->is_object()) continue;
    std::string_view type = item.node->FindString("resourceType");
    std::string_view id = item.node->FindString("id");
    if (type.empty() || id.empty()) continue;
    out.push_back(Item::String(std::string(type) + "/" + std::string(id)));
  }
  return out;
}

// "Implementations MUST support the relative literal form of reference (e.g., Patient/123) ...
// If the implementation does not support the reference type, or is unable to resolve the
// reference, it MUST return the empty collection." With a type, only references to that type
// have a key.
Result<Collection> ReferenceKey(const ExtensionCall& call) {
  Collection out;
  for (const Item& item : call.input) {
    if (!item.is_node() || item.node == nullptr || !item.node->is_object()) continue;
    std::string_view ref = item.node->FindString("reference");
    // Type/id or Type/id/_history/version (https://hl7.org/fhir/R4/references.html#literal).
    if (size_t h = ref.find("/_history/"); h != std::string_view::npos) ref = ref.substr(0, h);
    const size_t slash = ref.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == ref.size() ||
        ref.find('/', slash + 1) != std::string_view::npos || ref.find(':') != ref.npos) {
      continue;
    }
    std::string_view type = ref.substr(0, slash);
    if (!std::isupper(static_cast<unsigned char>(type[0]))) continue;
    if (!call.type_name.empty() && type != call.type_name) continue;
    out.push_back(Item::String(std::string(ref)));
  }
  return out;
}

// join([separator]): the strings of the input, separated by `separator` (default ''). FHIRPath
// (https://build.fhir.org/ig/HL7/FHIRPath/#joinseparator-string-string) makes the join of an empty
// collection empty; SQL on FHIR's suite (fhirpath.json, "string join") expects '' for it, which
// is also what a text column wants. Primitives without a value are skipped.
Result<Collection> Join(const ExtensionCall& call) {
  std::string sep;
  if (!call.args.empty() && !call.args[0].empty()) {
    Item s;
    if (call.args[0].size() > 1 || !fhirpath::ToSystem(call.args[0][0], &s) ||
        s.kind != fhirpath::ItemKind::kString) {
      return Invalid("the separator must be a string");
    }
    sep = s.as_string();
  }
  std::string out;
  bool first = true;
  for (const Item& item : call.input) {
    if (item.is_node() && item.node == nullptr) continue;
    Item s;
    if (!fhirpath::ToSystem(item, &s) || s.kind != fhirpath::ItemKind::kString) {
      return Invalid("needs strings");
    }
    if (!first) out += sep;
    out += s.as_string();
    first = false;
  }
  return Collection{Item::String(std::move(out))};
}

}  // namespace

std::shared_ptr<const fhirpath::ExtensionFunctions> ViewFunctions() {
  static const std::shared_ptr<const fhirpath::ExtensionFunctions> kFunctions = [] {
    auto f = std::make_shared<fhirpath::ExtensionFunctions>();
    fhirpath::ExtensionFunction resource_key;
    resource_key.call = ResourceKey;
    (*f)["getResourceKey"] = resource_key;
    fhirpath::ExtensionFunction reference_key;
    reference_key.max_args = 1;
    reference_key.type_argument = true;
    reference_key.call = ReferenceKey;
    (*f)["getReferenceKey"] = reference_key;
    fhirpath::ExtensionFunction join;
    join.max_args = 1;
    join.call = Join;
    (*f)["join"] = join;
    return f;
  }();
  return kFunctions;
}

}  // namespace vesta::views
