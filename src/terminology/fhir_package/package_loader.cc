// The FHIR package loader: the CodeSystems and ValueSets of an unpacked npm FHIR package
// (https://confluence.hl7.org/display/FHIR/NPM+Package+Specification: package/package.json and
// one JSON file per resource, named <type>-<id>.json), e.g. hl7.fhir.r4.examples@4.0.1.
//
// CodeSystem (https://hl7.org/fhir/R4/codesystem.html): "concept ... Concepts that are in the
// code system. The concept definitions are inherently hierarchical, but the definitions must be
// consulted to determine what the meanings of the hierarchical relationships are" — HL7's code
// systems say `hierarchyMeaning: is-a` or nothing; the nesting is taken as the hierarchy either
// way, as $subsumes and is-a filters need one.
#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "json/parse.h"
#include "json/writer.h"
#include "terminology/code_system_writer.h"
#include "terminology/db.h"
#include "terminology/loaders.h"
#include "terminology/progress.h"
#include "terminology/schema.h"
#include "terminology/service_internal.h"
#include "terminology/value_set_compose.h"

namespace vesta::terminology {
namespace {

using internal::CodeSystemContent;
using internal::ConceptKind;
using internal::ConceptRow;
using internal::Members;
using internal::PropertyRow;

// The largest value set stored (members); an include of a whole large system (ICD-10-CM) in a
// package value set is kept incomplete rather than copied.
constexpr size_t kMaxMembers = 200000;
// Concept nesting deeper than this is bad input.
constexpr int kMaxNesting = 64;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsDirectory(const std::string& path) {
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return false;
  closedir(d);
  return true;
}

struct PackageResource {
  std::string file;
  json::Document doc;
  std::string type, id, url, version;
};

// A concept property of a simple type as a PropertyRow; false for complex types (Coding).
bool SimpleProperty(const std::string& code, const json::Value& property, PropertyRow* out) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"valueCode", "code"},       {"valueString", "string"},   {"valueBoolean", "boolean"},
      {"valueInteger", "integer"}, {"valueDecimal", "decimal"}, {"valueDateTime", "dateTime"}};
  for (const json::Member& m : property.members()) {
    for (const auto& [key, type] : kTypes) {
      if (m.key != key) continue;
      out->code = code;
      out->property = property.FindString("code");
      out->value_type = type;
      out->value = m.value.is_bool()     ? (m.value.bool_value() ? "true" : "false")
                   : m.value.is_number() ? std::string(m.value.number_text())
                                         : std::string(m.value.string_value());
      return !out->property.empty();
    }
  }
  return false;
}

// CodeSystem.concept, depth first: parents before children, as the writer needs.
Status AddConcepts(const json::Value& concepts, const std::string& parent, int depth,
                   CodeSystemContent* out) {
  if (depth > kMaxNesting) return Invalid("concepts nested deeper than 64 levels");
  for (const json::Value& c : concepts.items()) {
    ConceptRow row;
    row.code = c.FindString("code");
    if (row.code.empty()) return Invalid("a concept has no code");
    row.display = c.FindString("display");
    row.parent = parent;
    row.kind = ConceptKind::kCode;
    if (std::string_view def = c.FindString("definition"); !def.empty()) {
      out->properties.push_back({row.code, "definition", "string", std::string(def)});
    }
    if (const json::Value* props = c.Find("property")) {
      for (const json::Value& p : props->items()) {
        PropertyRow prop;
        if (!SimpleProperty(row.code, p, &prop)) continue;
        // https://hl7.org/fhir/R4/codesystem-concept-properties.html: parent and child name
        // further links of the hierarchy; notSelectable (and HL7 v3's abstract) mark concepts
        // that are groupings.
        if (prop.property == "child" && prop.value_type == "code") {
          out->extra_links.emplace_back(row.code, prop.value);
          continue;
        }
        if (prop.property == "parent" && prop.value_type == "code") {
          out->extra_links.emplace_back(prop.value, row.code);
          continue;
        }
        if ((prop.property == "notSelectable" || prop.property == "abstract") &&
            prop.value == "true") {
          row.kind = ConceptKind::kAbstract;
        }
        out->properties.push_back(std::move(prop));
      }
    }
    std::string code = row.code;
    out->concepts.push_back(std::move(row));
    if (const json::Value* nested = c.Find("concept")) {
      RETURN_IF_ERROR(AddConcepts(*nested, code, depth + 1, out));
    }
  }
  return Status::Ok();
}

// Removes what an earlier load of the package `name` (any version) wrote.
Status DeletePackageRows(internal::Db& db, const std::string& name) {
  // source_file / source is "<name>@<version>": its first length(?1) characters are ?1.
  const std::string prefix = name + "@";
  const int64_t length = static_cast<int64_t>(prefix.size());
  auto of_package = [](std::string_view column) {
    return "substr(" + std::string(column) + ", 1, ?2) = ?1";
  };
  std::vector<int64_t> versions;
  {
    ASSIGN_OR_RETURN(internal::Rows q,
                     db.Query("SELECT id FROM code_system_version WHERE source = ?3 AND " +
                                  of_package("source_file"),
                              {prefix, length, internal::kPackageSource}));
    for (int i = 0; i < q.size(); ++i) versions.push_back(q.Int(i, 0));
  }
  if (!versions.empty()) {
    // One statement per table for all of them (SQLite's concept_fts.csv_id is not indexed: one
    // pass over the text index).
    std::string ids;
    for (int64_t id : versions) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    for (std::string_view table :
         {"concept", "concept_note", "concept_property", "closure", "concept_fts"}) {
      RETURN_IF_ERROR(
          db.QueryOnce("DELETE FROM " + std::string(table) + " WHERE csv_id IN (" + ids + ")", {})
              .status());
    }
    RETURN_IF_ERROR(
        db.QueryOnce("DELETE FROM code_system_version WHERE id IN (" + ids + ")", {}).status());
  }
  for (const std::string& sql :
       {"DELETE FROM value_set_member WHERE vs_id IN (SELECT id FROM value_set WHERE " +
            of_package("source") + ")",
        "DELETE FROM value_set WHERE " + of_package("source"),
        "DELETE FROM package_resource WHERE " + of_package("source")}) {
    RETURN_IF_ERROR(db.Exec(sql, {prefix, length}));
  }
  return Status::Ok();
}

// True when (url, version) is already loaded from something other than a package (a release
// file such as the ICD-10-CM Tabular List), which a package must not replace.
Result<bool> LoadedFromRelease(internal::Db& db, const std::string& url,
                               const std::string& version) {
  ASSIGN_OR_RETURN(internal::Rows q,
                   db.Query("SELECT 1 FROM code_system_version WHERE url = ?1 AND "
                            "version = ?2 AND source <> ?3",
                            {url, version, internal::kPackageSource}));
  return !q.empty();
}

}  // namespace

Result<PackageLoadReport> LoadFhirPackage(const std::string& location,
                                          const std::string& package_dir, IfLoaded if_loaded) {
  const auto start = std::chrono::steady_clock::now();
  std::string dir = package_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (IsDirectory(dir + "/package")) dir += "/package";
  Result<std::string> manifest_text = ReadFile(dir + "/package.json");
  if (!manifest_text.ok()) {
    return NotFound("no FHIR package at " + package_dir +
                    " (no package.json; for R4, run `npm ci` in the project folder)");
  }
  ASSIGN_OR_RETURN(json::Document manifest, json::Parse(*manifest_text));
  std::string name(manifest.root().FindString("name"));
  std::string version(manifest.root().FindString("version"));
  if (name.empty()) return Invalid(dir + "/package.json has no name");
  const std::string package = name + "@" + version;  // "@" even without a version
  PackageLoadReport report;
  report.package = package;
  ASSIGN_OR_RETURN(std::unique_ptr<internal::Db> db,
                   internal::OpenDb(location, internal::Access::kWrite));
  if (if_loaded == IfLoaded::kSkip) {
    ASSIGN_OR_RETURN(
        internal::Rows q,
        db->Query("SELECT 1 FROM package_resource WHERE source = ?1 LIMIT 1", {package}));
    report.already_loaded = !q.empty();
    if (report.already_loaded) return report;
  }

  std::vector<std::string> files;
  {
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return NotFound("cannot list " + dir);
    while (dirent* e = readdir(d)) {
      std::string f = e->d_name;
      if ((f.starts_with("CodeSystem-") || f.starts_with("ValueSet-")) && f.ends_with(".json")) {
        files.push_back(std::move(f));
      }
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());

  std::vector<PackageResource> resources;
  resources.reserve(files.size());
  {
    Progress progress("reading " + package, 256);
    for (const std::string& f : files) {
      ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/" + f));
      Result<json::Document> doc = json::Parse(text);
      if (!doc.ok()) return Invalid(f + ": " + doc.status().message());
      PackageResource r;
      r.file = f;
      r.type = doc->root().FindString("resourceType");
      r.id = doc->root().FindString("id");
      r.url = doc->root().FindString("url");
      r.version = doc->root().FindString("version");
      r.doc = std::move(doc).value();
      if ((r.type != "CodeSystem" && r.type != "ValueSet") || r.id.empty()) {
        return Invalid(f + ": not a CodeSystem or ValueSet with an id");
      }
      (r.type == "CodeSystem" ? report.code_systems : report.value_sets) += 1;
      resources.push_back(std::move(r));
      progress.Update(static_cast<int64_t>(resources.size()));
    }
  }

  RETURN_IF_ERROR(internal::WriteTransaction(*db, [&]() -> Status {
    RETURN_IF_ERROR(DeletePackageRows(*db, name));
    // The resources as published, for the REST API.
    for (const PackageResource& r : resources) {
      const std::string json = json::ToString(r.doc.root());
      RETURN_IF_ERROR(db->Exec(
          "INSERT INTO package_resource (type, id, url, version, content, source, json) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (type, id) DO UPDATE SET "
          "url = excluded.url, version = excluded.version, content = excluded.content, "
          "source = excluded.source, json = excluded.json",
          {r.type, r.id, r.url, r.version, r.doc.root().FindString("content"), package, json}));
    }

    // Code systems. "supplement" adds to another system and "not-present" has no concepts
    // (https://hl7.org/fhir/R4/codesystem-content-mode.html): neither is a code system here.
    Progress progress("writing code systems", 64);
    for (const PackageResource& r : resources) {
      if (r.type != "CodeSystem") continue;
      const json::Value& cs = r.doc.root();
      std::string_view content = cs.FindString("content");
      if (content == "supplement" || content == "not-present" || r.url.empty()) continue;
      ASSIGN_OR_RETURN(bool release, LoadedFromRelease(*db, r.url, r.version));
      if (release) continue;
      CodeSystemContent c;
      c.url = r.url;
      c.version = r.version;
      c.name = cs.FindString("name");
      c.title = cs.FindString("title");
      if (c.title.empty()) c.title = c.name;
      c.source = internal::kPackageSource;
      c.source_file = package;
      if (const json::Value* concepts = cs.Find("concept")) {
        if (Status s = AddConcepts(*concepts, "", 0, &c); !s.ok()) {
          return Invalid(r.file + ": " + s.message());
        }
      }
      if (Status s = internal::ReplaceCodeSystemRows(*db, c, nullptr); !s.ok()) {
        return Status(s.code(), r.file + ": " + s.message());
      }
      ++report.code_systems_loaded;
      report.concepts += static_cast<int64_t>(c.concepts.size());
      progress.Update(report.code_systems_loaded);
    }

    // Value sets: members now, each value set once (include.valueSet evaluates the one it names
    // first; a cycle leaves the value sets in it incomplete).
    std::unordered_map<std::string, const PackageResource*> by_url;
    for (const PackageResource& r : resources) {
      if (r.type != "ValueSet" || r.url.empty()) continue;
      by_url.emplace(r.url, &r);
      if (!r.version.empty()) by_url.emplace(r.url + "|" + r.version, &r);
    }
    std::unordered_map<const PackageResource*, Members> done;
    std::unordered_set<const PackageResource*> in_progress;
    internal::ValueSetResolver resolve = [&](std::string_view url) -> Result<Members> {
      auto it = by_url.find(std::string(url));
      if (it == by_url.end()) it = by_url.find(std::string(url.substr(0, url.find('|'))));
      if (it == by_url.end()) return internal::KnownValueSetMembers(*db, url, kMaxMembers);
      const PackageResource* vs = it->second;
      if (auto d = done.find(vs); d != done.end()) return d->second;
      if (!in_progress.insert(vs).second) {
        Members cycle;
        cycle.complete = false;
        cycle.note = "value set " + vs->url + " includes itself";
        return cycle;
      }
      Result<Members> m = internal::EvaluateValueSet(*db, vs->doc.root(), resolve, kMaxMembers);
      in_progress.erase(vs);
      if (!m.ok()) {
        if (m.status().code() != StatusCode::kUnprocessable) return m.status();
        Members big;
        big.complete = false;
        big.note = m.status().message();
        m = std::move(big);
      }
      return done.emplace(vs, std::move(m).value()).first->second;
    };
    progress.SetLabel("writing value sets");
    int64_t n = 0;
    for (const PackageResource& r : resources) {
      if (r.type != "ValueSet" || r.url.empty()) continue;
      ASSIGN_OR_RETURN(Members m, resolve(r.url + (r.version.empty() ? "" : "|" + r.version)));
      const json::Value& vs = r.doc.root();
      std::string title(vs.FindString("title"));
      // Another package's value set with the same url and version is replaced.
      RETURN_IF_ERROR(
          db->Exec("DELETE FROM value_set_member WHERE vs_id IN (SELECT id FROM value_set WHERE "
                   "url = ?1 AND version = ?2)",
                   {r.url, r.version}));
      RETURN_IF_ERROR(db->Exec(
          "INSERT INTO value_set (url, version, resource_id, name, title, source, method, "
          "complete, note, member_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
          "ON CONFLICT (url, version) DO UPDATE SET resource_id = excluded.resource_id, "
          "name = excluded.name, title = excluded.title, source = excluded.source, "
          "method = excluded.method, complete = excluded.complete, note = excluded.note, "
          "member_count = excluded.member_count",
          {r.url, r.version, r.id, vs.FindString("name"),
           title.empty() ? vs.FindString("name") : std::string_view(title), package, m.method,
           int64_t{m.complete ? 1 : 0}, m.note, static_cast<int64_t>(m.codes.size())}));
      ASSIGN_OR_RETURN(internal::Rows id,
                       db->Query("SELECT id FROM value_set WHERE url = ?1 AND version = ?2",
                                 {r.url, r.version}));
      if (id.empty()) return Internal("value_set row missing after insert");
      const int64_t vs_id = id.Int(0, 0);
      // Once per (system, code), the first time (an expansion may repeat a code).
      std::unordered_set<std::string> seen;
      constexpr std::string_view kColumns[] = {"vs_id",   "system",   "code", "version",
                                               "display", "abstract", "ord"};
      ASSIGN_OR_RETURN(std::unique_ptr<internal::BulkWriter> member,
                       db->BulkInsert("value_set_member", kColumns));
      int64_t ord = 0;
      for (const internal::Member& c : m.codes) {
        if (!seen.insert(c.system + '\x1f' + c.code).second) continue;
        RETURN_IF_ERROR(member->Add(
            {vs_id, c.system, c.code, c.version, c.display, int64_t{c.abstract ? 1 : 0}, ord++}));
      }
      RETURN_IF_ERROR(member->Finish());
      report.members += ord;
      report.value_sets_complete += m.complete ? 1 : 0;
      report.value_sets_from_expansion += m.complete && m.method == "expansion" ? 1 : 0;
      progress.Update(++n);
    }
    return Status::Ok();
  }));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace vesta::terminology
