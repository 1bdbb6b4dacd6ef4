// modelgen: compiles the R4 StructureDefinitions of hl7.fhir.r4.examples into the compact text
// model that src/fhir/model embeds (see model.h), written as a C++ source file.
//
//   modelgen PACKAGE_DIR OUTPUT.cc
//
// Text format, one record per line, fields separated by '|':
//   T|name|kind|base|abstract            a type (kind: primitive, complex, resource)
//   E|path|min|max|types|flags|ref       an element of the last type; types are
//                                        code[>target...] joined by ','; flags: s summary,
//                                        m modifier; ref: a contentReference path
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "json/parse.h"
#include "json/value.h"
#include "json/writer.h"

namespace {

using vesta::json::Value;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Str(const Value& v, const char* key) { return std::string(v.FindString(key)); }

// The FHIR type code of an element type. Elements whose type is a FHIRPath System type carry the
// FHIR type in an extension (e.g. Resource.id is a `string`, Extension.url a `uri`); the `value`
// of a primitive keeps its System type.
std::string TypeCode(const Value& type, bool is_primitive_value) {
  std::string code = Str(type, "code");
  if (code.rfind("http://hl7.org/fhirpath/System.", 0) != 0) return code;
  if (is_primitive_value) return "System." + code.substr(31);
  if (const Value* exts = type.Find("extension")) {
    for (const Value& ext : exts->items()) {
      if (ext.FindString("url") ==
          "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type") {
        std::string t(ext.FindString("valueUrl"));
        if (t.empty()) t = std::string(ext.FindString("valueString"));
        if (!t.empty()) return t;
      }
    }
  }
  return "System." + code.substr(31);
}

std::string LastSegment(const std::string& profile) {
  return profile.substr(profile.rfind('/') + 1);
}

struct Sd {
  std::string name, kind, base, derivation;
  bool is_abstract = false;
  const Value* snapshot = nullptr;
  vesta::json::Document doc;
};

}  // namespace

// `modelgen --search PACKAGE_DIR OUTPUT.cc`: the SearchParameters and CompartmentDefinitions,
// reduced to the fields the search module needs, as one JSON document embedded in C++:
//   {"params":[{"url","code","base":[..],"type","expression","target":[..],
//               "component":[{"definition","expression"}]}...],
//    "compartments":[{"code":"Patient","resource":[{"code":"Observation","param":[..]}]}]}
int SearchMain(const std::string& dir, const std::string& out_path) {
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if ((n.rfind("SearchParameter-", 0) == 0 || n.rfind("CompartmentDefinition-", 0) == 0) &&
          n.size() > 5 && n.substr(n.size() - 5) == ".json") {
        files.push_back(n);
      }
    }
    closedir(d);
  } else {
    std::cerr << "modelgen: cannot open " << dir << " (run npm ci)\n";
    return 1;
  }
  std::sort(files.begin(), files.end());
  std::string params, compartments;
  auto copy_member = [](const Value& from, const char* key, std::string* out) {
    if (const Value* v = from.Find(key)) {
      *out += ",\"" + std::string(key) + "\":" + vesta::json::ToString(*v);
    }
  };
  for (const std::string& f : files) {
    auto parsed = vesta::json::Parse(ReadFile(dir + "/" + f));
    if (!parsed.ok()) {
      std::cerr << "modelgen: " << f << ": " << parsed.status().message() << "\n";
      return 1;
    }
    const Value& r = parsed->root();
    if (r.FindString("resourceType") == "SearchParameter") {
      // Parameters without an expression cannot be extracted, except _text and _content, which
      // the full-text index answers (src/search/text.h).
      const std::string_view code = r.FindString("code");
      if (r.Find("base") == nullptr ||
          (r.Find("expression") == nullptr && code != "_text" && code != "_content")) {
        continue;
      }
      std::string one = "{\"url\":" + vesta::json::ToString(*r.Find("url"));
      for (const char* key : {"code", "base", "type", "expression", "target", "component",
                              "comparator", "modifier", "multipleOr"}) {
        copy_member(r, key, &one);
      }
      params += (params.empty() ? "" : ",") + one + "}";
    } else if (r.FindString("resourceType") == "CompartmentDefinition" &&
               r.FindString("id") != "example") {
      std::string one = "{\"code\":" + vesta::json::ToString(*r.Find("code"));
      copy_member(r, "resource", &one);
      compartments += (compartments.empty() ? "" : ",") + one + "}";
    }
  }
  std::ofstream o(out_path, std::ios::binary);
  o << "// Generated by tools/modelgen --search from hl7.fhir.r4.examples@4.0.1. Do not edit.\n"
       "namespace vesta::search {\n"
       "extern const char kR4SearchText[];\n"
       "const char kR4SearchText[] = R\"VESTASEARCH({\"params\":[";
  o << params << "],\"compartments\":[" << compartments << "]}";
  o << ")VESTASEARCH\";\n}  // namespace vesta::search\n";
  return o.good() ? 0 : 1;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--search") return SearchMain(argv[2], argv[3]);
  if (argc != 3) {
    std::cerr
        << "usage: modelgen PACKAGE_DIR OUTPUT.cc | modelgen --search PACKAGE_DIR OUTPUT.cc\n";
    return 2;
  }
  std::string dir = argv[1];
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.rfind("StructureDefinition-", 0) == 0 && n.size() > 5 &&
          n.substr(n.size() - 5) == ".json") {
        files.push_back(n);
      }
    }
    closedir(d);
  } else {
    std::cerr << "modelgen: cannot open " << dir << " (run npm ci)\n";
    return 1;
  }
  std::sort(files.begin(), files.end());

  std::map<std::string, Sd> specializations;  // by type name
  std::map<std::string, Sd> constraints;      // core profiles of data types (Age, Duration...)
  for (const std::string& f : files) {
    auto parsed = vesta::json::Parse(ReadFile(dir + "/" + f));
    if (!parsed.ok()) {
      std::cerr << "modelgen: " << f << ": " << parsed.status().message() << "\n";
      return 1;
    }
    Sd sd;
    sd.doc = std::move(parsed).value();
    const Value& root = sd.doc.root();
    sd.kind = Str(root, "kind");
    if (sd.kind == "logical") continue;
    sd.derivation = Str(root, "derivation");
    sd.name = Str(root, "id");
    const Value* abs = root.Find("abstract");
    sd.is_abstract = abs != nullptr && abs->is_bool() && abs->bool_value();
    sd.base = LastSegment(Str(root, "baseDefinition"));
    if (const Value* snap = root.Find("snapshot")) sd.snapshot = snap->Find("element");
    if (sd.snapshot == nullptr) continue;
    if (Str(root, "url") != "http://hl7.org/fhir/StructureDefinition/" + sd.name) continue;
    if (sd.derivation == "constraint") {
      if (sd.kind == "complex-type") constraints.emplace(sd.name, std::move(sd));
    } else {
      specializations.emplace(sd.name, std::move(sd));
    }
  }
  // Keep the constraint types that elements refer to by name (SimpleQuantity, Age, ...).
  std::set<std::string> referenced;
  for (auto& [name, sd] : specializations) {
    for (const Value& e : sd.snapshot->items()) {
      if (const Value* types = e.Find("type")) {
        for (const Value& t : types->items()) referenced.insert(Str(t, "code"));
      }
    }
  }

  std::string out;
  auto emit = [&](const Sd& sd) {
    std::string kind = sd.kind == "primitive-type" ? "primitive"
                       : sd.kind == "resource"     ? "resource"
                                                   : "complex";
    out += "T|" + sd.name + "|" + kind + "|" + (sd.name == sd.base ? "" : sd.base) + "|" +
           (sd.is_abstract ? "1" : "0") + "\n";
    for (const Value& e : sd.snapshot->items()) {
      std::string path = Str(e, "path");
      if (path.find('.') == std::string::npos) continue;  // the root element
      if (e.Find("sliceName") != nullptr) continue;       // slices do not add names
      std::string types;
      bool primitive_value = sd.kind == "primitive-type" && path == sd.name + ".value";
      if (const Value* ts = e.Find("type")) {
        for (const Value& t : ts->items()) {
          if (!types.empty()) types += ",";
          types += TypeCode(t, primitive_value);
          if (const Value* targets = t.Find("targetProfile")) {
            for (const Value& p : targets->items()) {
              types += ">" + LastSegment(std::string(p.string_value()));
            }
          }
        }
      }
      std::string flags;
      if (const Value* s = e.Find("isSummary"); s && s->is_bool() && s->bool_value()) flags += "s";
      if (const Value* m = e.Find("isModifier"); m && m->is_bool() && m->bool_value()) flags += "m";
      std::string ref = Str(e, "contentReference");
      if (!ref.empty() && ref[0] == '#') ref = ref.substr(1);
      out +=
          "E|" + path + "|" +
          std::to_string(static_cast<long>(std::stol(std::string(e.Find("min")->number_text())))) +
          "|" + Str(e, "max") + "|" + types + "|" + flags + "|" + ref + "\n";
    }
  };
  for (auto& [name, sd] : specializations) emit(sd);
  for (auto& [name, sd] : constraints) {
    if (referenced.count(name) && !specializations.count(name)) emit(sd);
  }

  std::ofstream o(argv[2], std::ios::binary);
  o << "// Generated by tools/modelgen from hl7.fhir.r4.examples@4.0.1. Do not edit.\n"
       "namespace vesta::fhir {\n"
       "extern const char kR4ModelText[];\n"
       "const char kR4ModelText[] = R\"VESTAMODEL(";
  o << out;
  o << ")VESTAMODEL\";\n}  // namespace vesta::fhir\n";
  return o.good() ? 0 : 1;
}
