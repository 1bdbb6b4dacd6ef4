// The FHIR additions to FHIRPath: https://hl7.org/fhir/R4/fhirpath.html#functions, and type()
// (http://hl7.org/fhirpath/N1/#reflection).
#include <map>
#include <mutex>

#include "fhir/fhirpath/functions/call.h"
#include "fhir/model/model.h"
#include "json/parse.h"

namespace vesta::fhirpath::internal {

namespace {

// A process-wide table of TypeInfo objects ({"namespace":..,"name":..}) for type(); bounded by
// the number of types in the model.
const json::Value* TypeInfoNode(std::string_view ns, std::string_view name) {
  static std::mutex mu;
  static std::map<std::string, json::Document, std::less<>> table;
  std::string key = std::string(ns) + "." + std::string(name);
  std::lock_guard<std::mutex> lock(mu);
  auto it = table.find(key);
  if (it == table.end()) {
    std::string text =
        "{\"namespace\":\"" + std::string(ns) + "\",\"name\":\"" + std::string(name) + "\"}";
    Result<json::Document> doc = json::Parse(text);
    if (!doc.ok()) return nullptr;
    it = table.emplace(key, std::move(doc).value()).first;
  }
  return &it->second.root();
}

}  // namespace

// The FHIR functions.
Result<Collection> CallFhir(FunctionCall& c) {
  const Node& n = c.n;
  Items input = c.input;
  (void)input;
  switch (n.fn) {
    case Fn::kType: {
      Collection out;
      for (const Item& i : input) {
        auto [ns, name] = TypeOf(i);
        const json::Value* v = TypeInfoNode(ns, name);
        if (v != nullptr) out.push_back(MakeNode(v, nullptr, "", nullptr));
      }
      return out;
    }
    // --- FHIR additions: https://hl7.org/fhir/R4/fhirpath.html#functions ---
    case Fn::kExtension: {
      std::string url;
      ASSIGN_OR_RETURN(bool hu, c.StringArg(0, &url));
      if (!hu) return Collection{};
      Collection exts, out;
      for (const Item& i : input) Member(i, "extension", &exts);
      for (const Item& e : exts) {
        if (e.node && e.node->is_object() && e.node->FindString("url") == url) out.push_back(e);
      }
      return out;
    }
    case Fn::kHasValue:
      return Bool(input.size() == 1 && input[0].is_node() && input[0].node != nullptr &&
                  !input[0].node->is_object() && !input[0].node->is_array());
    case Fn::kGetValue: {
      if (input.size() != 1 || !input[0].is_node() || input[0].node == nullptr ||
          input[0].node->is_object()) {
        return Collection{};
      }
      Item v;
      if (!ToSystem(input[0], &v)) return Collection{};
      return Collection{v};
    }
    case Fn::kResolve: {
      Collection out;
      for (const Item& i : input) {
        std::string ref;
        std::string_view ref_view;
        if (StringOf(i, &ref_view)) {
          ref = std::string(ref_view);
        } else {
          if (i.is_node() && i.node && i.node->is_object()) {
            ref = std::string(i.node->FindString("reference"));
          }
        }
        if (ref.empty()) continue;
        const json::Value* found = nullptr;
        if (c.root() != nullptr && ref[0] == '#') {
          if (const json::Value* contained = c.root()->Find("contained")) {
            for (const json::Value& c : contained->items()) {
              if (c.FindString("id") == std::string_view(ref).substr(1)) found = &c;
            }
          }
        }
        if (found == nullptr && c.root() != nullptr &&
            c.root()->FindString("resourceType") == "Bundle") {
          if (const json::Value* entries = c.root()->Find("entry")) {
            for (const json::Value& e : entries->items()) {
              const json::Value* r = e.Find("resource");
              if (r == nullptr) continue;
              std::string_view full = e.FindString("fullUrl");
              std::string tail = std::string(r->FindString("resourceType")) + "/" +
                                 std::string(r->FindString("id"));
              if (full == ref || tail == ref ||
                  (ref.size() > tail.size() &&
                   ref.compare(ref.size() - tail.size(), tail.size(), tail) == 0 &&
                   ref[ref.size() - tail.size() - 1] == '/')) {
                found = r;
                break;
              }
            }
          }
        }
        if (found == nullptr && c.env().resolver != nullptr) found = c.env().resolver->Resolve(ref);
        if (found != nullptr) out.push_back(MakeNode(found, nullptr, "", nullptr));
      }
      return out;
    }
    case Fn::kHtmlChecks: {
      // https://hl7.org/fhir/R4/narrative.html#rules: no scripts, forms, event handlers.
      std::string_view s;
      if (input.size() != 1) return Bool(false);
      if (!StringOf(input[0], &s)) {
        if (!(input[0].is_node() && input[0].node && input[0].node->is_string())) {
          return Bool(false);
        }
        s = input[0].node->string_value();
      }
      std::string low = Lower(std::string(s));
      for (const char* bad :
           {"<script", "<form", "<iframe", "<object", "<embed", "<applet", "<base", "<link",
            "<meta", "javascript:", " onclick", " onload", " onerror", " onmouse"}) {
        if (low.find(bad) != std::string::npos) return Bool(false);
      }
      return Bool(low.find("<div") != std::string::npos);
    }
    case Fn::kMemberOf: {
      std::string url;
      ASSIGN_OR_RETURN(bool hu, c.StringArg(0, &url));
      if (!hu || input.size() != 1 || c.env().terminology == nullptr) return Collection{};
      Result<bool> r = c.env().terminology->MemberOf(input[0], url);
      if (!r.ok()) return c.Error("memberOf(): " + r.status().message());
      return Bool(*r);
    }
    case Fn::kConformsTo: {
      std::string url;
      ASSIGN_OR_RETURN(bool hu, c.StringArg(0, &url));
      if (!hu || input.empty()) return Collection{};
      if (input.size() > 1) return c.Error("conformsTo() needs a single resource");
      if (c.env().validator != nullptr) {
        Result<bool> r = c.env().validator->ConformsTo(input[0], url);
        if (!r.ok()) return c.Error("conformsTo(): " + r.status().message());
        return Bool(*r);
      }
      const std::string kBase = "http://hl7.org/fhir/StructureDefinition/";
      if (url.rfind(kBase, 0) == 0) {
        std::string type = url.substr(kBase.size());
        if (R4().FindStruct(type) != nullptr) {
          return Bool(IsType(input[0], TypeSpec{"FHIR", type}));
        }
      }
      return c.Error("conformsTo(): unknown profile '" + url + "'");
    }
    case Fn::kSubsumes:
    case Fn::kSubsumedBy:
      return Collection{};  // needs the terminology service (not yet available)
    case Fn::kElementDefinition:
    case Fn::kSlice:
    case Fn::kCheckModifiers:
    case Fn::kDefineVariable:
    case Fn::kUnknown:
    default:
      break;
  }
  return c.Error(n.name + "() is not supported");
}

}  // namespace vesta::fhirpath::internal
