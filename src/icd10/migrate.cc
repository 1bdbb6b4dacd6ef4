// The ICD-9-CM → ICD-10-CM migration (migrate.h; policy in docs/terminology.md, "Migrating
// ICD-9-CM data").
#include "icd10/migrate.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <utility>

#include "base/strings.h"
#include "fhir/model/model.h"
#include "fhir/resource/resource_json.h"
#include "json/parse.h"
#include "json/writer.h"
#include "terminology/operation_params.h"

namespace vesta::icd10 {
namespace {

constexpr std::string_view kIcd9Oid = "urn:oid:2.16.840.1.113883.6.103";
constexpr std::string_view kForwardGemId = "gem-icd9cm-to-icd10cm";
constexpr std::string_view kAgentName = "vesta icd10 migrate";
// A compare-and-set that keeps failing means someone else is writing: give up after this many.
constexpr int kMaxAttempts = 3;
// The largest history walk: far beyond any store this tool will meet, but a bound.
constexpr int64_t kMaxPages = int64_t{1} << 32;

// One proposal of the forward GEM for one ICD-9-CM code.
struct Target {
  std::string code;
  std::string display;
};

// What $translate said about one ICD-9-CM code.
struct Translation {
  Outcome outcome = Outcome::kUnknownCode;
  std::vector<Target> apply;  // the coding(s) to add; set for kApplied / kAppliedApproximate
  std::string proposed;
  std::string equivalence;
};

// The code as the GEMs spell it: no dot, upper case (428.0 and 4280 are the same code).
std::string GemSpelling(std::string_view code) {
  std::string out;
  for (char ch : Trim(code)) {
    if (ch != '.') out += Upper(ch);
  }
  return out;
}

// A Coding inside a $translate match part (`concept` valueCoding).
Target CodingOf(const json::Value& part) {
  const json::Value* c = part.Find("valueCoding");
  if (c == nullptr) return {};
  return {std::string(c->FindString("code")), std::string(c->FindString("display"))};
}

// Reads $translate's Parameters (https://hl7.org/fhir/R4/conceptmap-operation-translate.html)
// into the migration's outcome. Policy (docs/terminology.md): only a single target is applied;
// clusters, alternatives and No Map go to review.
Result<Translation> Classify(std::string_view parameters_json) {
  ASSIGN_OR_RETURN(json::Document doc, json::Parse(parameters_json));
  struct Match {
    std::string equivalence;
    std::vector<Target> codes;  // concept, then products (a cluster)
  };
  std::vector<Match> matches;
  if (const json::Value* params = doc.root().Find("parameter"); params && params->is_array()) {
    for (const json::Value& p : params->items()) {
      if (p.FindString("name") != "match") continue;
      Match m;
      const json::Value* parts = p.Find("part");
      if (parts == nullptr || !parts->is_array()) continue;
      for (const json::Value& part : parts->items()) {
        std::string_view name = part.FindString("name");
        if (name == "equivalence") {
          m.equivalence = std::string(part.FindString("valueCode"));
        } else if (name == "concept") {
          m.codes.insert(m.codes.begin(), CodingOf(part));
        } else if (name == "product") {
          const json::Value* sub = part.Find("part");
          if (sub == nullptr || !sub->is_array()) continue;
          for (const json::Value& s : sub->items()) {
            if (s.FindString("name") == "concept") m.codes.push_back(CodingOf(s));
          }
        }
      }
      matches.push_back(std::move(m));
    }
  }
  Translation t;
  if (matches.empty()) return t;  // not in the GEM
  bool cluster = false;
  bool no_map = false;
  for (const Match& m : matches) {
    cluster = cluster || m.codes.size() > 1;
    no_map = no_map || m.equivalence == "unmatched";
  }
  for (const Match& m : matches) {
    if (m.codes.empty()) continue;
    std::string joined;
    for (const Target& c : m.codes) joined += (joined.empty() ? "" : "+") + c.code;
    t.proposed += (t.proposed.empty() ? "" : "|") + joined;
    t.equivalence += (t.equivalence.empty() ? "" : "|") + m.equivalence;
  }
  if (no_map && t.proposed.empty()) {
    t.outcome = Outcome::kNoMap;
    t.equivalence = "unmatched";
  } else if (cluster) {
    t.outcome = Outcome::kCombination;
  } else if (matches.size() > 1) {
    t.outcome = Outcome::kChoice;
  } else if (matches.front().equivalence == "equivalent") {
    t.outcome = Outcome::kApplied;
    t.apply = matches.front().codes;
  } else {
    t.outcome = Outcome::kAppliedApproximate;
    t.apply = matches.front().codes;
  }
  return t;
}

std::string Quoted(std::string_view s) {
  std::string out;
  json::WriteString(s, &out);
  return out;
}

// Splits "diagnosis.diagnosisCodeableConcept" into its keys.
std::vector<std::string_view> Keys(std::string_view path) {
  std::vector<std::string_view> keys;
  while (!path.empty()) {
    size_t dot = path.find('.');
    keys.push_back(path.substr(0, dot));
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return keys;
}

// One run of the migration: the scan, the per-resource rewrite and write, and the report.
class Migration {
 public:
  Migration(store::Store& store, terminology::TerminologyService& terms,
            const MigrateOptions& options, Clock& clock, IdGenerator& ids)
      : store_(store), terms_(terms), options_(options), clock_(clock), ids_(ids) {}

  Status Init() {
    Result<std::string> gem = terms_.ReadResource("ConceptMap", kForwardGemId);
    if (!gem.ok()) {
      return NotFound(
          "the ICD-9-CM to ICD-10-CM GEM is not loaded in the terminology database: run "
          "`vesta terminology load gems 2018_I9gem.txt ...` first");
    }
    ASSIGN_OR_RETURN(json::Document doc, json::Parse(*gem));
    gem_version_ = std::string(doc.root().FindString("version"));
    // The GEM file's name, from the summary's description as resources.cc writes it:
    // "Loaded from <file> (<n> rows). ..." (the service has no other accessor for it).
    std::string description(doc.root().FindString("description"));
    std::string file;
    if (description.starts_with("Loaded from ")) {
      file = description.substr(12, description.find(" (") - 12);
      if (size_t slash = file.find_last_of('/'); slash != std::string::npos) {
        file = file.substr(slash + 1);
      }
    }
    report_.gem_release = "CMS diagnosis GEMs" + (gem_version_.empty() ? "" : " " + gem_version_);
    if (!file.empty()) report_.gem_release += " (" + file + ")";
    gem_url_ = terms_.ForwardGemUrl();
    return Status::Ok();
  }

  // Every current version of `type`, newest first.
  Status ScanType(const std::string& type) {
    store::HistoryQuery q;
    q.type = type;
    q.count = std::max(1, options_.page_size);
    for (int64_t page = 0; page < kMaxPages; ++page) {
      ASSIGN_OR_RETURN(store::HistoryPage hp, store_.History(q));
      for (const store::HistoryEntry& e : hp.entries) {
        if (e.version.deleted) continue;
        // A version this run wrote can sort older than the cursor when the clock is not
        // monotonic (an injected clock): never migrate a resource twice in one run.
        if (written_.contains(e.version.type + "/" + e.version.id)) continue;
        ASSIGN_OR_RETURN(store::StoredVersion current, store_.Read(e.version.type, e.version.id));
        // Older versions (and resources deleted since) are not current.
        if (current.deleted || current.version != e.version.version) continue;
        RETURN_IF_ERROR(MigrateResource(std::move(current)));
      }
      if (!hp.has_more || hp.entries.empty()) return Status::Ok();
      q.after = hp.entries.back().cursor;
    }
    return Internal("history of " + type + " did not end");
  }

  MigrateReport TakeReport() { return std::move(report_); }

 private:
  // What one CodeableConcept gained.
  struct Edit {
    std::vector<WorklistRow> rows;
    std::vector<std::string> added;
    int64_t exact = 0, approximate = 0;
  };

  Status MigrateResource(store::StoredVersion current) {
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      ASSIGN_OR_RETURN(json::Document doc, json::Parse(current.json));
      Edit edit;
      bool changed = false;
      json::Value root = doc.root();
      for (const HandledPath& hp : HandledPaths()) {
        if (hp.type != current.type) continue;
        std::vector<std::string_view> keys = Keys(hp.path);
        ASSIGN_OR_RETURN(root, Rewrite(doc.arena(), root, keys, current.type, &edit, &changed));
      }
      if (!changed) {
        Finish(current, current.version, std::move(edit), /*changed=*/false);
        return Status::Ok();
      }
      Change change{current.type, current.id, current.version, current.version + 1, "", edit.added};
      if (options_.mode == RunMode::kDryRun) {
        if (options_.on_change) options_.on_change(change);
        Finish(current, current.version, std::move(edit), /*changed=*/true);
        return Status::Ok();
      }
      Result<std::string> provenance_id = Write(current, root, change);
      if (provenance_id.ok()) {
        change.provenance_id = *provenance_id;
        written_.insert(current.type + "/" + current.id);
        if (options_.on_change) options_.on_change(change);
        Finish(current, current.version + 1, std::move(edit), /*changed=*/true);
        return Status::Ok();
      }
      if (provenance_id.status().code() != StatusCode::kConflict) return provenance_id.status();
      // Someone wrote in between: migrate the version that is current now.
      ASSIGN_OR_RETURN(current, store_.Read(current.type, current.id));
      if (current.deleted) return Status::Ok();
    }
    return Conflict(current.type + "/" + current.id +
                    " kept changing during the migration; is a server running on this data "
                    "directory?");
  }

  void Finish(const store::StoredVersion& current, int64_t version, Edit edit, bool changed) {
    ++report_.scanned;
    if (changed) {
      ++report_.changed;
      report_.applied_exact += edit.exact;
      report_.applied_approximate += edit.approximate;
    }
    for (WorklistRow& row : edit.rows) {
      row.type = current.type;
      row.id = current.id;
      row.version = version;
      ++report_.by_outcome[static_cast<int>(row.outcome)];
      if (row.already_present) ++report_.already_present;
      report_.worklist.push_back(std::move(row));
    }
  }

  // `v` with the CodeableConcepts at `keys` below it migrated. `location` is v's FHIRPath.
  Result<json::Value> Rewrite(json::Arena& arena, const json::Value& v,
                              std::span<const std::string_view> keys, const std::string& location,
                              Edit* edit, bool* changed) {
    if (!v.is_object()) return v;
    if (keys.empty()) return MigrateConcept(arena, v, location, edit, changed);
    const json::Value* child = v.Find(keys.front());
    if (child == nullptr) return v;
    std::string loc = location + "." + std::string(keys.front());
    bool child_changed = false;
    json::Value replacement;
    if (child->is_array()) {
      std::vector<json::Value> items;
      items.reserve(child->size());
      for (size_t i = 0; i < child->items().size(); ++i) {
        ASSIGN_OR_RETURN(json::Value item,
                         Rewrite(arena, child->items()[i], keys.subspan(1),
                                 loc + "[" + std::to_string(i) + "]", edit, &child_changed));
        items.push_back(item);
      }
      replacement = json::Value::Array(arena, items);
    } else {
      ASSIGN_OR_RETURN(replacement,
                       Rewrite(arena, *child, keys.subspan(1), loc, edit, &child_changed));
    }
    if (!child_changed) return v;
    *changed = true;
    return json::WithMember(arena, v, keys.front(), replacement);
  }

  // One CodeableConcept: adds the ICD-10-CM coding of each ICD-9-CM coding that has a single
  // target, unless a coding with that code is already there.
  Result<json::Value> MigrateConcept(json::Arena& arena, const json::Value& cc,
                                     const std::string& location, Edit* edit, bool* changed) {
    const json::Value* codings = cc.Find("coding");
    if (codings == nullptr || !codings->is_array()) return cc;
    std::set<std::string> present;  // ICD-10-CM codes in the concept, GEM spelling
    for (const json::Value& c : codings->items()) {
      if (c.FindString("system") == terminology::kIcd10CmSystem) {
        present.insert(GemSpelling(c.FindString("code")));
      }
    }
    std::vector<json::Value> added;
    for (size_t i = 0; i < codings->items().size(); ++i) {
      const json::Value& c = codings->items()[i];
      std::string code(Trim(c.FindString("code")));
      if (!IsIcd9CmSystem(c.FindString("system")) || code.empty()) continue;
      ASSIGN_OR_RETURN(Translation t, Translate(code));
      WorklistRow row;
      row.path = location + ".coding[" + std::to_string(i) + "]";
      row.icd9_code = std::string(c.FindString("code"));
      row.icd9_display = std::string(c.FindString("display"));
      row.outcome = t.outcome;
      row.proposed = t.proposed;
      row.equivalence = t.equivalence;
      size_t missing = 0;
      for (const Target& target : t.apply) {
        if (present.contains(GemSpelling(target.code))) continue;
        ++missing;
        present.insert(GemSpelling(target.code));
        std::vector<json::Member> members = {
            {"system", json::Value::String(arena, terminology::kIcd10CmSystem)},
            {"code", json::Value::String(arena, target.code)}};
        if (!target.display.empty()) {
          members.push_back({"display", json::Value::String(arena, target.display)});
        }
        added.push_back(json::Value::Object(arena, members));
        edit->added.push_back(row.path + ": ICD-9-CM " + row.icd9_code + " -> ICD-10-CM " +
                              target.code + " (" + std::string(OutcomeName(t.outcome)) + ")");
        (t.outcome == Outcome::kApplied ? edit->exact : edit->approximate) += 1;
      }
      row.already_present = !t.apply.empty() && missing == 0;
      edit->rows.push_back(std::move(row));
    }
    if (added.empty()) return cc;
    std::vector<json::Value> all(codings->items().begin(), codings->items().end());
    all.insert(all.end(), added.begin(), added.end());
    *changed = true;
    return json::WithMember(arena, cc, "coding", json::Value::Array(arena, all));
  }

  Result<Translation> Translate(const std::string& code) {
    std::string key = GemSpelling(code);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    ASSIGN_OR_RETURN(std::string out,
                     terms_.Translate(terminology::OperationParams::FromQuery(
                         {{"system", std::string(terminology::kIcd9CmSystem)}, {"code", key}})));
    ASSIGN_OR_RETURN(Translation t, Classify(out));
    // Bounded by the number of ICD-9-CM codes (about 15,000 in the GEMs).
    cache_.emplace(key, t);
    return t;
  }

  // Writes the new version and its Provenance (https://hl7.org/fhir/R4/provenance.html) in one
  // atomic Write(). Returns the Provenance id.
  Result<std::string> Write(const store::StoredVersion& current, const json::Value& root,
                            const Change& change) {
    const fhir::Model& model = fhir::Model::R4();
    const Micros now = clock_.Now();
    const int64_t next = current.version + 1;
    ASSIGN_OR_RETURN(json::Document updated,
                     fhir::ParseResourceBody(json::ToString(root), current.type, model));
    store::WriteOp update;
    update.kind = store::WriteKind::kUpdate;
    update.type = current.type;
    update.id = current.id;
    update.expected_version = current.version;
    update.last_updated = now;
    update.json = fhir::StoredJson(updated, current.id, next, now);

    const std::string prefix = current.type + "/" + current.id + "/_history/";
    std::string changes;
    for (const std::string& a : change.added) changes += (changes.empty() ? "" : "; ") + a;
    std::string p = "{\"resourceType\":\"Provenance\"";
    // target: the version this change made.
    p += ",\"target\":[{\"reference\":" + Quoted(prefix + std::to_string(next)) + "}]";
    p += ",\"recorded\":" + Quoted(FormatInstant(now));
    // policy: the ConceptMap the codes come from, with its version.
    p +=
        ",\"policy\":[" + Quoted(gem_url_ + (gem_version_.empty() ? "" : "|" + gem_version_)) + "]";
    p += ",\"reason\":[{\"text\":" +
         Quoted("ICD-9-CM to ICD-10-CM transition with the " + report_.gem_release + ": " +
                changes) +
         "}]";
    // https://terminology.hl7.org/CodeSystem-v3-DataOperation.html: UPDATE ("revise").
    p += ",\"activity\":{\"coding\":[{\"system\":"
         "\"http://terminology.hl7.org/CodeSystem/v3-DataOperation\",\"code\":\"UPDATE\","
         "\"display\":\"revise\"}]}";
    p += ",\"agent\":[{\"type\":{\"coding\":[{\"system\":"
         "\"http://terminology.hl7.org/CodeSystem/provenance-participant-type\","
         "\"code\":\"assembler\",\"display\":\"Assembler\"}]},\"who\":{\"display\":" +
         Quoted(kAgentName) + "}}]";
    // entity: the version it was derived from.
    p += ",\"entity\":[{\"role\":\"source\",\"what\":{\"reference\":" +
         Quoted(prefix + std::to_string(current.version)) + "}}]}";
    ASSIGN_OR_RETURN(json::Document provenance, fhir::ParseResourceBody(p, "Provenance", model));
    store::WriteOp create;
    create.kind = store::WriteKind::kCreate;
    create.type = "Provenance";
    create.id = ids_.NewId();
    create.expected_version = store::kExpectNone;
    create.last_updated = now;
    create.json = fhir::StoredJson(provenance, create.id, 1, now);

    std::vector<store::WriteOp> ops;
    ops.push_back(std::move(update));
    ops.push_back(std::move(create));
    ASSIGN_OR_RETURN(auto written, store_.Write(ops));
    (void)written;
    return ops.back().id;
  }

  store::Store& store_;
  terminology::TerminologyService& terms_;
  const MigrateOptions& options_;
  Clock& clock_;
  IdGenerator& ids_;
  MigrateReport report_;
  std::string gem_url_;
  std::string gem_version_;
  std::map<std::string, Translation> cache_;
  std::set<std::string> written_;  // "type/id" of the resources this run wrote
};

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kApplied:
      return "applied";
    case Outcome::kAppliedApproximate:
      return "applied-approximate";
    case Outcome::kCombination:
      return "combination";
    case Outcome::kChoice:
      return "choice";
    case Outcome::kNoMap:
      return "no-map";
    case Outcome::kUnknownCode:
      return "unknown-code";
  }
  return "unknown-code";
}

const std::vector<HandledPath>& HandledPaths() {
  // R4 elements of type CodeableConcept that carry diagnoses (or observed findings). R4's
  // Encounter.diagnosis.condition is a Reference, not a code, so Encounter contributes
  // reasonCode only (https://hl7.org/fhir/R4/encounter.html).
  static const std::vector<HandledPath> kPaths = {
      {"Condition", "code"},
      {"Encounter", "reasonCode"},
      {"Claim", "diagnosis.diagnosisCodeableConcept"},
      {"ExplanationOfBenefit", "diagnosis.diagnosisCodeableConcept"},
      {"Procedure", "reasonCode"},
      {"Observation", "code"},
      {"Observation", "valueCodeableConcept"},
      {"MedicationRequest", "reasonCode"},
      {"ServiceRequest", "reasonCode"},
  };
  return kPaths;
}

bool IsIcd9CmSystem(std::string_view system) {
  return system == terminology::kIcd9CmSystem || system == kIcd9Oid;
}

Result<MigrateReport> MigrateIcd9(store::Store& store, terminology::TerminologyService& terms,
                                  const MigrateOptions& options) {
  std::vector<std::string> types;
  for (const HandledPath& hp : HandledPaths()) {
    if (std::find(types.begin(), types.end(), hp.type) == types.end()) {
      types.emplace_back(hp.type);
    }
  }
  if (!options.types.empty()) {
    for (const std::string& t : options.types) {
      if (std::find(types.begin(), types.end(), t) == types.end()) {
        std::string known;
        for (const std::string& k : types) known += (known.empty() ? "" : ", ") + k;
        return Invalid("icd10 migrate does not handle type '" + t + "' (it handles " + known + ")");
      }
    }
    types.clear();
    for (const std::string& t : options.types) {
      if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
    }
  }
  SystemClock system_clock;
  UuidGenerator uuids;
  Migration m(store, terms, options, options.clock ? *options.clock : system_clock,
              options.ids ? *options.ids : uuids);
  RETURN_IF_ERROR(m.Init());
  for (const std::string& type : types) RETURN_IF_ERROR(m.ScanType(type));
  return m.TakeReport();
}

std::string WorklistCsv(const std::vector<WorklistRow>& rows) {
  // https://www.rfc-editor.org/rfc/rfc4180#section-2
  auto field = [](std::string_view s, std::string* out) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
      out->append(s);
      return;
    }
    *out += '"';
    for (char ch : s) {
      if (ch == '"') *out += '"';
      *out += ch;
    }
    *out += '"';
  };
  std::string out =
      "resource_type,id,version,path,icd9_code,icd9_display,outcome,proposed_icd10,equivalence"
      "\r\n";
  for (const WorklistRow& r : rows) {
    const std::string version = std::to_string(r.version);
    const std::string_view fields[] = {r.type,
                                       r.id,
                                       version,
                                       r.path,
                                       r.icd9_code,
                                       r.icd9_display,
                                       OutcomeName(r.outcome),
                                       r.proposed,
                                       r.equivalence};
    for (size_t i = 0; i < std::size(fields); ++i) {
      if (i > 0) out += ',';
      field(fields[i], &out);
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace vesta::icd10
