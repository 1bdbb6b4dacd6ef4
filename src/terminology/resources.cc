// The CodeSystem, ValueSet and ConceptMap resources that describe what the terminology database
// holds (https://hl7.org/fhir/R4/codesystem.html, valueset.html, conceptmap.html). They are
// summaries: CodeSystem.content is "not-present"
// (https://hl7.org/fhir/R4/codesystem-definitions.html#CodeSystem.content) with the count of codes,
// and the ConceptMaps carry no groups unless asked (ConceptMapWithGroups); the concepts are
// reached through $lookup and $expand, the map rows through $translate.
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "terminology/db.h"
#include "terminology/json_out.h"
#include "terminology/service_internal.h"
#include "terminology/terminology_service.h"

namespace vesta::terminology {

using internal::JsonObject;
using internal::Rows;
using internal::VersionRow;

namespace {

std::string Slug(std::string_view url) {
  return url == kIcd10CmSystem ? "icd-10-cm" : url == kIcd9CmSystem ? "icd-9-cm" : "unknown";
}

std::string PropertyDef(std::string_view code, std::string_view type, std::string_view text) {
  return JsonObject().Str("code", code).Str("description", text).Str("type", type).Done();
}

std::string CodeSystemJson(const VersionRow& v, bool newest) {
  bool icd10 = v.url == kIcd10CmSystem;
  std::string id = Slug(v.url) + (newest || v.version.empty() ? "" : "-" + v.version);
  std::vector<std::string> props = {
      PropertyDef("parent", "code", "The concept directly above in the hierarchy"),
      PropertyDef("child", "code", "A concept directly below in the hierarchy"),
      PropertyDef("billable", "boolean",
                  "Valid for submission on HIPAA-covered transactions (a code, not a header)"),
      PropertyDef("notSelectable", "boolean", "A chapter or block grouping rather than a code"),
  };
  if (icd10) {
    for (std::string_view note :
         {"inclusionTerm", "includes", "excludes1", "excludes2", "codeFirst", "useAdditionalCode",
          "codeAlso", "notes", "sevenChrNote", "seventhCharacter"}) {
      props.push_back(
          PropertyDef(note, "string", "The Tabular List's " + std::string(note) + " note"));
    }
  }
  JsonObject o;
  o.Str("resourceType", "CodeSystem").Str("id", id).Str("url", v.url).StrIf("version", v.version);
  o.Str("name", v.name).Str("title", v.title).Str("status", "active").Bool("experimental", false);
  o.Str("publisher", icd10 ? "National Center for Health Statistics (NCHS), CDC"
                           : "Centers for Medicare & Medicaid Services (CMS)");
  o.Str("description", "Loaded from " + v.source_file + " (" + v.source + ").");
  o.Bool("caseSensitive", true).Str("valueSet", v.url + "?fhir_vs");
  o.Str("hierarchyMeaning", "is-a").Bool("compositional", false).Bool("versionNeeded", false);
  o.Str("content", "not-present").Int("count", v.code_count);
  o.Array("property", props);
  return o.Done();
}

std::string ValueSetJson(std::string_view system) {
  JsonObject include;
  include.Str("system", system);
  return JsonObject()
      .Str("resourceType", "ValueSet")
      .Str("id", Slug(system) + "-all")
      .Str("url", std::string(system) + "?fhir_vs")
      .Str("name", system == kIcd10CmSystem ? "ICD10CMAll" : "ICD9CMAll")
      .Str("title", "All " + std::string(internal::SystemName(system)) + " codes")
      .Str("status", "active")
      .Str("description", "The implicit value set of every code of " + std::string(system) +
                              "; <system>?fhir_vs=isa/<code> selects a code and those below it.")
      .Raw("compose", JsonObject().Array("include", {include.Done()}).Done())
      .Done();
}

}  // namespace

Result<std::vector<std::string>> TerminologyService::SummariesLocked(std::string_view type) {
  ASSIGN_OR_RETURN(std::vector<VersionRow> versions, internal::AllVersions(*db_));
  std::vector<std::string> out;
  std::string last_url;
  for (const VersionRow& v : versions) {     // newest first within a url
    if (internal::FromPackage(v)) continue;  // the package's own resources stand for these
    if (type == "CodeSystem") {
      out.push_back(CodeSystemJson(v, v.url != last_url));
    } else if (v.url != last_url) {
      out.push_back(ValueSetJson(v.url));
    }
    last_url = v.url;
  }
  return out;
}

Result<std::vector<std::string>> TerminologyService::PackageResourcesLocked(std::string_view type,
                                                                            std::string_view id) {
  ASSIGN_OR_RETURN(Rows q, db_->Query("SELECT json FROM package_resource WHERE type = ?1 AND "
                                      "(CAST(?2 AS TEXT) IS NULL OR id = ?2) ORDER BY id",
                                      {type, internal::TextOrNull(id)}));
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(q.size()));
  for (int i = 0; i < q.size(); ++i) out.push_back(q.Text(i, 0));
  return out;
}

Result<std::vector<std::string>> TerminologyService::CodeSystems() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::vector<std::string> out, SummariesLocked("CodeSystem"));
  ASSIGN_OR_RETURN(std::vector<std::string> package, PackageResourcesLocked("CodeSystem", ""));
  out.insert(out.end(), std::make_move_iterator(package.begin()),
             std::make_move_iterator(package.end()));
  return out;
}

Result<std::vector<std::string>> TerminologyService::ValueSets() {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::vector<std::string> out, SummariesLocked("ValueSet"));
  ASSIGN_OR_RETURN(std::vector<std::string> package, PackageResourcesLocked("ValueSet", ""));
  out.insert(out.end(), std::make_move_iterator(package.begin()),
             std::make_move_iterator(package.end()));
  return out;
}

Result<std::vector<std::string>> TerminologyService::ConceptMaps() {
  std::lock_guard<std::mutex> lock(mu_);
  return ConceptMapsLocked(/*with_groups=*/false, "");
}

Result<std::string> TerminologyService::ConceptMapWithGroups(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(std::vector<std::string> maps, ConceptMapsLocked(/*with_groups=*/true, id));
  if (maps.empty()) return NotFound("ConceptMap/" + std::string(id) + " is not known");
  return std::move(maps.front());
}

Result<std::vector<std::string>> TerminologyService::ConceptMapsLocked(bool with_groups,
                                                                       std::string_view only_id) {
  std::vector<std::tuple<int64_t, std::string, std::string, int64_t>> files;
  {
    ASSIGN_OR_RETURN(Rows q, db_->Query("SELECT direction, file, year, rows FROM gem_file "
                                        "ORDER BY direction"));
    for (int i = 0; i < q.size(); ++i) {  // at most two rows
      files.emplace_back(q.Int(i, 0), q.Text(i, 1), q.Text(i, 2), q.Int(i, 3));
    }
  }
  std::vector<std::string> out;
  for (const auto& [direction, file, year, rows] : files) {
    bool forward = direction == 0;
    std::string id = forward ? "gem-icd9cm-to-icd10cm" : "gem-icd10cm-to-icd9cm";
    if (!only_id.empty() && id != only_id) continue;
    std::string from(forward ? kIcd9CmSystem : kIcd10CmSystem);
    std::string to(forward ? kIcd10CmSystem : kIcd9CmSystem);
    JsonObject o;
    o.Str("resourceType", "ConceptMap").Str("id", id);
    o.Str("url", forward ? ForwardGemUrl() : BackwardGemUrl()).StrIf("version", year);
    o.Str("name", forward ? "GemIcd9CmToIcd10Cm" : "GemIcd10CmToIcd9Cm");
    o.Str("title",
          std::string("CMS General Equivalence Mapping, ") +
              (forward ? "ICD-9-CM to ICD-10-CM (forward)" : "ICD-10-CM to ICD-9-CM (backward)"));
    o.Str("status", "active").Str("publisher", "Centers for Medicare & Medicaid Services (CMS)");
    o.Str("description", "Loaded from " + file + " (" + std::to_string(rows) +
                             " rows). GEM flags map to equivalences as described in the "
                             "server's terminology notes; $translate serves the same rows.");
    o.Str("sourceUri", from + "?fhir_vs").Str("targetUri", to + "?fhir_vs");
    if (with_groups) {
      ASSIGN_OR_RETURN(std::string group, GemGroupJson(direction, from, to));
      o.Raw("group", "[" + group + "]");
    }
    out.push_back(o.Done());
  }
  return out;
}

// One ConceptMap.group (https://hl7.org/fhir/R4/conceptmap.html) holding every row of a GEM,
// with the equivalences $translate gives (translate.cc). R4's invariant cmd-1 asks for a
// comment on narrower and inexact targets; the comment names the GEM flags.
Result<std::string> TerminologyService::GemGroupJson(int64_t direction, const std::string& from,
                                                     const std::string& to) {
  // ICD-10-CM displays from its newest version; ICD-9-CM has none in the GEMs.
  std::unordered_map<std::string, std::string> displays;
  if (Result<VersionRow> v = internal::ResolveVersion(*db_, kIcd10CmSystem, ""); v.ok()) {
    ASSIGN_OR_RETURN(Rows q,
                     db_->Query("SELECT code, display FROM concept WHERE csv_id = ?1", {v->id}));
    for (int i = 0; i < q.size(); ++i) displays.emplace(q.Text(i, 0), q.Text(i, 1));
  }
  auto display_of = [&](const std::string& code) -> std::string_view {
    auto it = displays.find(code);
    return it == displays.end() ? std::string_view() : std::string_view(it->second);
  };
  std::unordered_map<std::string, int64_t> shared;  // target -> single-row sources
  {
    ASSIGN_OR_RETURN(Rows q, db_->Query("SELECT target, count(DISTINCT source) FROM gem WHERE "
                                        "direction = ?1 AND no_map = 0 AND combination = 0 "
                                        "GROUP BY target",
                                        {direction}));
    for (int i = 0; i < q.size(); ++i) shared.emplace(q.Text(i, 0), q.Int(i, 1));
  }
  struct Row {
    std::string target;
    int64_t approximate, no_map, combination, scenario, choice_list;
  };
  std::vector<std::string> elements;
  std::string source;
  std::vector<Row> rows;
  auto flush = [&]() {
    if (rows.empty()) return;
    int64_t alternatives = 0;
    for (const Row& r : rows) alternatives += (r.no_map == 0 && r.combination == 0) ? 1 : 0;
    std::vector<std::string> targets;
    for (const Row& r : rows) {
      JsonObject t;
      if (r.no_map == 1) {
        t.Str("equivalence", "unmatched").Str("comment", "GEM No Map");
      } else if (r.combination == 1) {
        t.Str("code", r.target).StrIf("display", display_of(r.target));
        t.Str("equivalence", "inexact");
        t.Str("comment", "GEM combination entry, scenario " + std::to_string(r.scenario) +
                             ", choice list " + std::to_string(r.choice_list) +
                             ": one code from each choice list of the scenario together");
      } else if (r.approximate == 0) {
        t.Str("code", r.target).StrIf("display", display_of(r.target));
        t.Str("equivalence", "equivalent");
      } else {
        auto it = shared.find(r.target);
        std::string_view eq =
            internal::ApproximateEquivalence(alternatives, it == shared.end() ? 0 : it->second);
        t.Str("code", r.target).StrIf("display", display_of(r.target)).Str("equivalence", eq);
        t.Str("comment",
              "GEM Approximate; " + std::to_string(alternatives) + " alternative target(s)");
      }
      targets.push_back(t.Done());
    }
    elements.push_back(JsonObject()
                           .Str("code", source)
                           .StrIf("display", display_of(source))
                           .Array("target", targets)
                           .Done());
    rows.clear();
  };
  ASSIGN_OR_RETURN(Rows q, db_->Query("SELECT source, target, approximate, no_map, combination, "
                                      "scenario, choice_list FROM gem WHERE direction = ?1 "
                                      "ORDER BY source, line",
                                      {direction}));
  for (int i = 0; i < q.size(); ++i) {
    if (q.Text(i, 0) != source) {
      flush();
      source = q.Text(i, 0);
    }
    rows.push_back({q.Text(i, 1), q.Int(i, 2), q.Int(i, 3), q.Int(i, 4), q.Int(i, 5), q.Int(i, 6)});
  }
  flush();
  return JsonObject().Str("source", from).Str("target", to).Array("element", elements).Done();
}

Result<std::string> TerminologyService::Invoke(std::string_view resource_type,
                                               std::string_view operation,
                                               const OperationParams& in) {
  if (resource_type == "CodeSystem") {
    if (operation == "lookup") return Lookup(in);
    if (operation == "validate-code") return ValidateCodeInCodeSystem(in);
    if (operation == "subsumes") return Subsumes(in);
  } else if (resource_type == "ValueSet") {
    if (operation == "validate-code") return ValidateCodeInValueSet(in);
    if (operation == "expand") return Expand(in);
  } else if (resource_type == "ConceptMap") {
    if (operation == "translate") return Translate(in);
  }
  return NotFound("no operation $" + std::string(operation) + " on " + std::string(resource_type));
}

Result<std::string> TerminologyService::ReadResource(std::string_view type, std::string_view id) {
  if (type != "CodeSystem" && type != "ValueSet" && type != "ConceptMap") {
    return NotFound("no terminology resources of type " + std::string(type));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!id.empty() && type != "ConceptMap") {
    ASSIGN_OR_RETURN(std::vector<std::string> package, PackageResourcesLocked(type, id));
    if (!package.empty()) return std::move(package.front());
  }
  Result<std::vector<std::string>> all =
      type == "ConceptMap" ? ConceptMapsLocked(/*with_groups=*/false, "") : SummariesLocked(type);
  if (!all.ok()) return all.status();
  std::string needle = "\"id\":\"" + std::string(id) + "\"";
  for (std::string& r : *all) {
    if (r.find(needle) != std::string::npos) return std::move(r);
  }
  return NotFound(std::string(type) + "/" + std::string(id) + " is not known");
}

}  // namespace vesta::terminology
