#include "cql/library.h"

#include <utility>

#include "base/strings.h"
#include "json/parse.h"

namespace vesta::cql {
namespace {

// The definitions of one section (`statements`, `parameters`, ...): its `def` array.
std::span<const json::Value> Defs(const json::Value& lib, std::string_view section) {
  const json::Value* s = lib.Find(section);
  const json::Value* d = s ? s->Find("def") : nullptr;
  if (!d || !d->is_array()) return {};
  return d->items();
}

// Walks an ELM tree and reports the first node type that is not implemented. Annotations (the
// CQL source kept for narrative) are not logic and are skipped.
Status CheckNodes(const json::Value& v, const std::string& library) {
  if (v.is_array()) {
    for (const json::Value& item : v.items()) RETURN_IF_ERROR(CheckNodes(item, library));
    return Status::Ok();
  }
  if (!v.is_object()) return Status::Ok();
  std::string_view type = v.FindString("type");
  if (!type.empty() && !IsSupportedElmType(type)) {
    return Status(StatusCode::kNotSupported,
                  "ELM node type " + std::string(type) + " (library " + library + ", locator " +
                      std::string(v.FindString("locator")) + ") is not supported by the evaluator");
  }
  if (type == "Retrieve" && (v.Find("dateLowProperty") || v.Find("dateHighProperty"))) {
    return Status(StatusCode::kNotSupported,
                  "ELM Retrieve with dateLowProperty / dateHighProperty (library " + library +
                      ") is not supported by the evaluator");
  }
  for (const json::Member& m : v.members()) {
    if (m.key == "annotation") continue;
    RETURN_IF_ERROR(CheckNodes(m.value, library));
  }
  return Status::Ok();
}

std::string LastSegment(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace

const json::Value* Library::FindExpression(std::string_view name) const {
  auto it = expressions_.find(std::string(name));
  return it == expressions_.end() ? nullptr : it->second;
}
const json::Value* Library::FindParameter(std::string_view name) const {
  auto it = parameters_.find(std::string(name));
  return it == parameters_.end() ? nullptr : it->second;
}
const json::Value* Library::FindValueSet(std::string_view name) const {
  auto it = valuesets_.find(std::string(name));
  return it == valuesets_.end() ? nullptr : it->second;
}
const json::Value* Library::FindCodeSystem(std::string_view name) const {
  auto it = codesystems_.find(std::string(name));
  return it == codesystems_.end() ? nullptr : it->second;
}
const json::Value* Library::FindCode(std::string_view name) const {
  auto it = codes_.find(std::string(name));
  return it == codes_.end() ? nullptr : it->second;
}
const json::Value* Library::FindConcept(std::string_view name) const {
  auto it = concepts_.find(std::string(name));
  return it == concepts_.end() ? nullptr : it->second;
}
const std::vector<const json::Value*>& Library::FindFunctions(std::string_view name) const {
  static const std::vector<const json::Value*> kNone;
  auto it = functions_.find(std::string(name));
  return it == functions_.end() ? kNone : it->second;
}
const Library* Library::FindInclude(std::string_view alias) const {
  auto it = includes_.find(std::string(alias));
  return it == includes_.end() ? nullptr : it->second;
}

Status LibrarySet::AddElmJson(std::string_view text) {
  auto lib = std::make_unique<Library>();
  ASSIGN_OR_RETURN(lib->doc_, json::Parse(text));
  const json::Value* root = lib->doc_.root().Find("library");
  if (!root || !root->is_object()) {
    return Status(StatusCode::kInvalid, "ELM JSON without a `library` object");
  }
  const json::Value* id = root->Find("identifier");
  if (!id) return Status(StatusCode::kInvalid, "ELM library without an identifier");
  lib->name_ = std::string(id->FindString("id"));
  lib->version_ = std::string(id->FindString("version"));
  RETURN_IF_ERROR(CheckNodes(*root, lib->name_));
  auto index = [&](std::string_view section, Library::Index& into) {
    for (const json::Value& d : Defs(*root, section)) into[std::string(d.FindString("name"))] = &d;
  };
  index("parameters", lib->parameters_);
  index("valueSets", lib->valuesets_);
  index("codeSystems", lib->codesystems_);
  index("codes", lib->codes_);
  index("concepts", lib->concepts_);
  for (const json::Value& d : Defs(*root, "statements")) {
    std::string name(d.FindString("name"));
    if (d.FindString("type") == "FunctionDef") {
      lib->functions_[name].push_back(&d);
    } else {
      lib->expressions_[name] = &d;
      lib->expression_names_.push_back(name);
    }
  }
  libraries_.push_back(std::move(lib));
  return Status::Ok();
}

Status LibrarySet::AddFhirLibrary(const json::Value& library) {
  if (const json::Value* content = library.Find("content"); content && content->is_array()) {
    for (const json::Value& c : content->items()) {
      if (c.FindString("contentType") != "application/elm+json") continue;
      std::optional<std::string> text = Base64Decode(c.FindString("data"));
      if (!text) return Status(StatusCode::kInvalid, "Library.content.data is not base64");
      return AddElmJson(*text);
    }
  }
  return Status(StatusCode::kInvalid, "Library " + std::string(library.FindString("url")) +
                                          " has no application/elm+json content");
}

Status LibrarySet::Link() {
  for (auto& lib : libraries_) {
    const json::Value* root = lib->doc_.root().Find("library");
    for (const json::Value& inc : Defs(*root, "includes")) {
      std::string name = LastSegment(inc.FindString("path"));
      const Library* target = Find(name, inc.FindString("version"));
      if (!target) {
        return Status(StatusCode::kNotFound,
                      "library " + lib->name_ + " includes " + name + " version " +
                          std::string(inc.FindString("version")) + ", which is not loaded");
      }
      lib->includes_[std::string(inc.FindString("localIdentifier"))] = target;
    }
  }
  return Status::Ok();
}

const Library* LibrarySet::Find(std::string_view name, std::string_view version) const {
  const Library* found = nullptr;
  for (const auto& lib : libraries_) {
    if (lib->name_ == name && (version.empty() || lib->version_ == version)) found = lib.get();
  }
  return found;
}

// --- terminology ---

namespace {
void AddContains(const json::Value& contains, std::unordered_set<std::string>& into) {
  if (!contains.is_array()) return;
  for (const json::Value& c : contains.items()) {
    if (!c.FindString("code").empty()) {
      into.insert(std::string(c.FindString("system")) + "|" + std::string(c.FindString("code")));
    }
    if (const json::Value* nested = c.Find("contains")) AddContains(*nested, into);
  }
}
}  // namespace

void Terminology::AddValueSet(const json::Value& vs) {
  auto& codes = sets_[std::string(vs.FindString("url"))];
  if (const json::Value* exp = vs.Find("expansion")) {
    if (const json::Value* contains = exp->Find("contains")) {
      AddContains(*contains, codes);
      return;
    }
  }
  const json::Value* compose = vs.Find("compose");
  const json::Value* include = compose ? compose->Find("include") : nullptr;
  if (!include || !include->is_array()) return;
  for (const json::Value& inc : include->items()) {
    const json::Value* concepts = inc.Find("concept");
    if (!concepts || !concepts->is_array()) continue;
    for (const json::Value& c : concepts->items()) {
      codes.insert(std::string(inc.FindString("system")) + "|" + std::string(c.FindString("code")));
    }
  }
}

void Terminology::AddBundle(const json::Value& bundle) {
  const json::Value* entries = bundle.Find("entry");
  if (!entries || !entries->is_array()) return;
  for (const json::Value& e : entries->items()) {
    const json::Value* r = e.Find("resource");
    if (r && r->FindString("resourceType") == "ValueSet") AddValueSet(*r);
  }
}

bool Terminology::Known(std::string_view url) const { return sets_.count(std::string(url)) > 0; }

bool Terminology::Contains(std::string_view url, std::string_view system,
                           std::string_view code) const {
  auto it = sets_.find(std::string(url));
  if (it == sets_.end()) return false;
  std::string key(system);
  key += '|';
  key += code;
  return it->second.count(key) > 0;
}

bool Terminology::ContainsCode(std::string_view url, std::string_view code) const {
  auto it = sets_.find(std::string(url));
  if (it == sets_.end()) return false;
  for (const std::string& member : it->second) {
    std::string_view m = member;
    if (m.size() > code.size() && m.ends_with(code) && m[m.size() - code.size() - 1] == '|') {
      return true;
    }
  }
  return false;
}

// --- data ---

void InMemoryDataProvider::AddBundle(const json::Value& bundle) {
  const json::Value* entries = bundle.Find("entry");
  if (!entries || !entries->is_array()) return;
  for (const json::Value& e : entries->items()) {
    if (const json::Value* r = e.Find("resource")) Add(*r);
  }
}

void InMemoryDataProvider::Add(const json::Value& resource) {
  by_type_[std::string(resource.FindString("resourceType"))].push_back(&resource);
}

std::vector<std::string> InMemoryDataProvider::PatientIds() const {
  std::vector<std::string> ids;
  auto it = by_type_.find("Patient");
  if (it == by_type_.end()) return ids;
  for (const json::Value* p : it->second) ids.emplace_back(p->FindString("id"));
  return ids;
}

std::vector<const json::Value*> InMemoryDataProvider::Retrieve(std::string_view type) {
  auto it = by_type_.find(std::string(type));
  if (it == by_type_.end()) return {};
  if (patient_.empty()) return it->second;
  std::vector<const json::Value*> out;
  const std::string suffix = "Patient/" + patient_;
  for (const json::Value* r : it->second) {
    if (type == "Patient") {
      if (r->FindString("id") == patient_) out.push_back(r);
      continue;
    }
    bool refers = false, mine = false;
    for (std::string_view field : {"subject", "patient", "beneficiary"}) {
      const json::Value* ref = r->Find(field);
      std::string_view target = ref ? ref->FindString("reference") : std::string_view();
      if (target.empty()) continue;
      refers = true;
      mine = mine || target == suffix || target.ends_with("/" + suffix);
    }
    if (mine || !refers) out.push_back(r);
  }
  return out;
}

}  // namespace vesta::cql
