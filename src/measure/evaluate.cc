// Measure evaluation over many subjects (evaluate.h).
#include "measure/evaluate.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "base/clock.h"
#include "base/strings.h"
#include "cql/evaluator.h"
#include "cql/value.h"
#include "json/parse.h"
#include "json/writer.h"

namespace vesta::measure {
namespace {

// "url|version" → (url, version).
std::pair<std::string, std::string> SplitCanonical(std::string_view canonical) {
  const size_t bar = canonical.find('|');
  if (bar == std::string_view::npos) return {std::string(canonical), ""};
  return {std::string(canonical.substr(0, bar)), std::string(canonical.substr(bar + 1))};
}

// The ELM JSON of a FHIR Library (its application/elm+json content), parsed.
Result<json::Document> ElmOf(const json::Value& library) {
  if (const json::Value* content = library.Find("content"); content && content->is_array()) {
    for (const json::Value& c : content->items()) {
      if (c.FindString("contentType") != "application/elm+json") continue;
      std::optional<std::string> text = Base64Decode(c.FindString("data"));
      if (!text) return Status(StatusCode::kInvalid, "Library.content.data is not base64");
      return json::Parse(*text);
    }
  }
  return Status(StatusCode::kInvalid, "Library " + std::string(library.FindString("url")) +
                                          " has no application/elm+json content");
}

// The `def` entries of library.<section> in ELM JSON.
std::vector<const json::Value*> Defs(const json::Value& elm, std::string_view section) {
  std::vector<const json::Value*> out;
  const json::Value* lib = elm.Find("library");
  const json::Value* s = lib ? lib->Find(section) : nullptr;
  const json::Value* defs = s ? s->Find("def") : nullptr;
  if (defs && defs->is_array()) {
    for (const json::Value& d : defs->items()) out.push_back(&d);
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A stratum's value as text (https://hl7.org/fhir/R4/measurereport-definitions.html
// #MeasureReport.group.stratifier.stratum.value: a CodeableConcept; its text here).
std::string StratumText(const cql::Value& v) {
  using K = cql::Value::Kind;
  switch (v.kind()) {
    case K::kNull:
      return "null";
    case K::kBoolean:
      return v.boolean() ? "true" : "false";
    case K::kString:
      return v.string();
    default:
      return cql::ToDebugString(v);
  }
}

// A supplemental data value as a coding: (key, coding JSON, text). Codes, Concepts, FHIR Coding
// and CodeableConcept nodes, a Tuple's `code`, strings and booleans; other values as their text.
struct SdeValue {
  std::string key;     // what is counted: "system|code" or the text
  std::string coding;  // a Coding's JSON, or ""
  std::string text;
};

void CodingJson(std::string_view system, std::string_view code, std::string_view display,
                std::string* out) {
  *out += "{";
  bool first = true;
  auto member = [&](std::string_view k, std::string_view v) {
    if (v.empty()) return;
    if (!first) *out += ",";
    first = false;
    json::WriteString(k, out);
    *out += ":";
    json::WriteString(v, out);
  };
  member("system", system);
  member("code", code);
  member("display", display);
  *out += "}";
}

void SdeValues(const cql::Value& v, std::vector<SdeValue>* out) {
  using K = cql::Value::Kind;
  switch (v.kind()) {
    case K::kNull:
      return;
    case K::kList:
      for (const cql::Value& item : v.list()) SdeValues(item, out);
      return;
    case K::kTuple:
      if (const cql::Value* code = v.tuple().Find("code")) SdeValues(*code, out);
      return;
    case K::kCode: {
      const cql::Code& c = v.code();
      SdeValue s{c.system + "|" + c.code, "", c.display.empty() ? c.code : c.display};
      CodingJson(c.system, c.code, c.display, &s.coding);
      out->push_back(std::move(s));
      return;
    }
    case K::kConcept:
      if (!v.concept_value().codes.empty()) {
        const cql::Code& c = v.concept_value().codes[0];
        SdeValue s{c.system + "|" + c.code, "", c.display.empty() ? c.code : c.display};
        CodingJson(c.system, c.code, c.display, &s.coding);
        out->push_back(std::move(s));
      }
      return;
    case K::kFhir: {
      const json::Value* node = v.fhir().node;
      if (node == nullptr) return;
      if (node->is_object() && node->Find("coding") != nullptr)
        node = &node->Find("coding")->items()[0];
      if (node->is_object() && node->Find("code") != nullptr) {
        const std::string system(node->FindString("system"));
        const std::string code(node->FindString("code"));
        const std::string display(node->FindString("display"));
        SdeValue s{system + "|" + code, "", display.empty() ? code : display};
        CodingJson(system, code, display, &s.coding);
        out->push_back(std::move(s));
      } else if (node->is_string()) {
        out->push_back(
            SdeValue{std::string(node->string_value()), "", std::string(node->string_value())});
      }
      return;
    }
    default: {
      const std::string text = StratumText(v);
      out->push_back(SdeValue{text, "", text});
    }
  }
}

// What an evaluation adds up, per group.
struct Tally {
  struct Group {
    std::array<int64_t, cql::kPopulationTypes> counts{};
    // stratifier index → stratum text → counts
    std::vector<std::map<std::string, std::array<int64_t, cql::kPopulationTypes>>> strata;
    // population → patient ids (subject-list)
    std::array<std::vector<std::string>, cql::kPopulationTypes> subjects;
  };
  std::vector<Group> groups;
  // Supplemental data: per expression, value key → (the value, patients with it).
  std::vector<std::map<std::string, std::pair<SdeValue, int64_t>>> sde;

  explicit Tally(const cql::MeasureDefinition& m) : sde(m.supplemental_data.size()) {
    for (const auto& g : m.groups) {
      Group out;
      out.strata.resize(g.stratifiers.size());
      groups.push_back(std::move(out));
    }
  }

  void AddSde(size_t i, std::vector<SdeValue> values) {
    std::set<std::string> seen;  // a patient counts once per value
    for (SdeValue& v : values) {
      if (!seen.insert(v.key).second) continue;
      auto& slot = sde[i][v.key];
      if (slot.second == 0) slot.first = std::move(v);
      ++slot.second;
    }
  }

  void Add(const cql::SubjectResult& r, const std::string& patient, bool list) {
    for (size_t i = 0; i < r.groups.size() && i < groups.size(); ++i) {
      Group& g = groups[i];
      const auto& rg = r.groups[i];
      for (int p = 0; p < cql::kPopulationTypes; ++p) {
        g.counts[p] += rg.counts[p];
        if (list && rg.counts[p] > 0) g.subjects[p].push_back(patient);
      }
      for (size_t s = 0; s < rg.stratifier_values.size() && s < g.strata.size(); ++s) {
        if (rg.counts[static_cast<int>(cql::PopulationType::kInitialPopulation)] == 0) continue;
        auto& counts = g.strata[s][StratumText(rg.stratifier_values[s])];
        for (int p = 0; p < cql::kPopulationTypes; ++p) counts[p] += rg.counts[p];
      }
    }
  }

  void Merge(Tally&& other) {
    for (size_t i = 0; i < sde.size(); ++i) {
      for (auto& [key, slot] : other.sde[i]) {
        auto& mine = sde[i][key];
        if (mine.second == 0) mine.first = slot.first;
        mine.second += slot.second;
      }
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      Group& g = groups[i];
      Group& o = other.groups[i];
      for (int p = 0; p < cql::kPopulationTypes; ++p) {
        g.counts[p] += o.counts[p];
        g.subjects[p].insert(g.subjects[p].end(), o.subjects[p].begin(), o.subjects[p].end());
      }
      for (size_t s = 0; s < g.strata.size(); ++s) {
        for (auto& [text, counts] : o.strata[s]) {
          auto& mine = g.strata[s][text];
          for (int p = 0; p < cql::kPopulationTypes; ++p) mine[p] += counts[p];
        }
      }
    }
  }
};

constexpr std::string_view kPopulationSystem =
    "http://terminology.hl7.org/CodeSystem/measure-population";

void AppendPopulationCode(int p, std::string* out) {
  *out += "{\"coding\":[{\"system\":\"" + std::string(kPopulationSystem) + "\",\"code\":\"" +
          std::string(cql::PopulationCode(static_cast<cql::PopulationType>(p))) + "\"}]}";
}

// proportion and ratio: numerator / denominator, the denominator already without exclusions and
// exceptions (cql::SubjectResult); none when the denominator is empty.
std::optional<double> Score(const cql::MeasureDefinition& m,
                            const std::array<int64_t, cql::kPopulationTypes>& c) {
  if (m.scoring != "proportion" && m.scoring != "ratio") return std::nullopt;
  const int64_t den = c[static_cast<int>(cql::PopulationType::kDenominator)];
  if (den <= 0) return std::nullopt;
  return static_cast<double>(c[static_cast<int>(cql::PopulationType::kNumerator)]) / den;
}

// Resources of one patient's compartment from the store, read once per type.
class StoreData : public cql::DataProvider {
 public:
  StoreData(store::Store& store, std::string patient)
      : store_(store), patient_(std::move(patient)) {}

  std::vector<const json::Value*> Retrieve(std::string_view type_view) override {
    const std::string type(type_view);
    auto it = cache_.find(type);
    if (it != cache_.end()) return it->second;
    std::vector<const json::Value*>& out = cache_[type];
    if (type == "Patient") {
      Result<store::StoredVersion> v = store_.Read("Patient", patient_);
      if (v.ok() && !v->deleted) Keep(v->json, &out);
      return out;
    }
    std::string cursor;
    for (int page = 0; page < 1000; ++page) {  // bounded: a million resources of one type
      store::SearchQuery q;
      q.types = {type};
      q.compartment_patient = patient_;
      q.params = {{"_count", "1000"}};
      if (!cursor.empty()) q.params.emplace_back("_cursor", cursor);
      q.max_count = 1000;
      Result<store::SearchPage> r = store_.Search(q);
      if (!r.ok()) break;  // a type outside the Patient compartment: nothing of this patient's
      for (const store::SearchHit& hit : r->entries) {
        if (hit.mode == store::SearchMode::kMatch && !hit.version.deleted) {
          Keep(hit.version.json, &out);
        }
      }
      if (r->next_cursor.empty()) break;
      cursor = r->next_cursor;
    }
    return out;
  }

 private:
  void Keep(const std::string& json, std::vector<const json::Value*>* out) {
    Result<json::Document> doc = json::Parse(json);
    if (!doc.ok()) return;
    docs_.push_back(std::move(doc).value());
    out->push_back(&docs_.back().root());
  }

  store::Store& store_;
  std::string patient_;
  std::deque<json::Document> docs_;
  std::map<std::string, std::vector<const json::Value*>> cache_;
};

}  // namespace

// ---- Artifacts ----------------------------------------------------------------------------

Result<std::optional<std::string>> StoreArtifacts::Find(
    const std::string& type, std::vector<std::pair<std::string, std::string>> params) {
  store::SearchQuery q;
  q.types = {type};
  q.params = std::move(params);
  q.params.emplace_back("_count", "50");
  q.strict = true;
  ASSIGN_OR_RETURN(store::SearchPage page, store_.Search(q));
  // Several versions without a version asked for: the one last updated.
  const store::StoredVersion* best = nullptr;
  for (const store::SearchHit& hit : page.entries) {
    if (hit.mode != store::SearchMode::kMatch || hit.version.deleted) continue;
    if (best == nullptr || hit.version.last_updated > best->last_updated) best = &hit.version;
  }
  if (best == nullptr) return std::optional<std::string>();
  return std::optional<std::string>(best->json);
}

Result<std::optional<std::string>> StoreArtifacts::ByUrl(const std::string& type,
                                                         const std::string& url,
                                                         const std::string& version) {
  std::vector<std::pair<std::string, std::string>> params = {{"url", url}};
  if (!version.empty()) params.emplace_back("version", version);
  return Find(type, std::move(params));
}

Result<std::optional<std::string>> StoreArtifacts::LibraryByName(const std::string& name,
                                                                 const std::string& version) {
  std::vector<std::pair<std::string, std::string>> params = {{"name:exact", name}};
  if (!version.empty()) params.emplace_back("version", version);
  return Find("Library", std::move(params));
}

void MemoryArtifacts::Add(const json::Value& resource) {
  const std::string_view type = resource.FindString("resourceType");
  if (type == "Bundle") {
    const json::Value* entries = resource.Find("entry");
    if (entries == nullptr || !entries->is_array()) return;
    for (const json::Value& e : entries->items()) {
      if (const json::Value* r = e.Find("resource")) Add(*r);
    }
    return;
  }
  if (type == "Measure") measures_.push_back(&resource);
  if (type == "Measure" || type == "Library" || type == "ValueSet") resources_.push_back(&resource);
}

Result<std::optional<std::string>> MemoryArtifacts::ByUrl(const std::string& type,
                                                          const std::string& url,
                                                          const std::string& version) {
  for (auto it = resources_.rbegin(); it != resources_.rend(); ++it) {
    const json::Value& r = **it;
    if (r.FindString("resourceType") != type || r.FindString("url") != url) continue;
    if (!version.empty() && r.FindString("version") != version) continue;
    return std::optional<std::string>(json::ToString(r));
  }
  if (fallback_ != nullptr) return fallback_->ByUrl(type, url, version);
  return std::optional<std::string>();
}

Result<std::optional<std::string>> MemoryArtifacts::LibraryByName(const std::string& name,
                                                                  const std::string& version) {
  for (auto it = resources_.rbegin(); it != resources_.rend(); ++it) {
    const json::Value& r = **it;
    if (r.FindString("resourceType") != "Library" || r.FindString("name") != name) continue;
    if (!version.empty() && r.FindString("version") != version) continue;
    return std::optional<std::string>(json::ToString(r));
  }
  if (fallback_ != nullptr) return fallback_->LibraryByName(name, version);
  return std::optional<std::string>();
}

// ---- Preparing --------------------------------------------------------------------------------

Result<std::unique_ptr<PreparedMeasure>> PrepareMeasure(const json::Value& measure,
                                                        Artifacts& artifacts) {
  auto out = std::make_unique<PreparedMeasure>();
  out->url = std::string(measure.FindString("url"));
  out->version = std::string(measure.FindString("version"));
  ASSIGN_OR_RETURN(out->definition, cql::MeasureDefinition::FromResource(measure));
  auto [lib_url, lib_version] = SplitCanonical(out->definition.library_url);
  ASSIGN_OR_RETURN(std::optional<std::string> primary,
                   artifacts.ByUrl("Library", lib_url, lib_version));
  if (!primary) {
    return Status(StatusCode::kNotFound, "the measure's library " + out->definition.library_url +
                                             " is not on this server (load the measure's bundle)");
  }
  // Breadth first through the includes; each library once by name and version.
  std::deque<std::string> pending = {*primary};
  std::set<std::string> loaded;
  std::set<std::string> valuesets;
  while (!pending.empty()) {
    ASSIGN_OR_RETURN(json::Document lib, json::Parse(pending.front()));
    pending.pop_front();
    ASSIGN_OR_RETURN(json::Document elm, ElmOf(lib.root()));
    const json::Value* ident = elm.root().Find("library");
    ident = ident ? ident->Find("identifier") : nullptr;
    const std::string key = ident ? std::string(ident->FindString("id")) + "|" +
                                        std::string(ident->FindString("version"))
                                  : std::string(lib.root().FindString("url"));
    if (!loaded.insert(key).second) continue;
    RETURN_IF_ERROR(out->libraries.AddFhirLibrary(lib.root()));
    out->library_names.push_back(key);
    for (const json::Value* inc : Defs(elm.root(), "includes")) {
      const std::string name(inc->FindString("path"));
      const std::string version(inc->FindString("version"));
      if (name.empty() || loaded.count(name + "|" + version)) continue;
      ASSIGN_OR_RETURN(std::optional<std::string> dep, artifacts.LibraryByName(name, version));
      if (!dep) {
        return Status(StatusCode::kNotFound,
                      "the library " + name + (version.empty() ? "" : " version " + version) +
                          " (included by " + key + ") is not on this server");
      }
      pending.push_back(std::move(*dep));
    }
    for (const json::Value* vs : Defs(elm.root(), "valueSets")) {
      valuesets.insert(std::string(vs->FindString("id")));
    }
  }
  for (const std::string& canonical : valuesets) {
    auto [url, version] = SplitCanonical(canonical);
    ASSIGN_OR_RETURN(std::optional<std::string> vs, artifacts.ByUrl("ValueSet", url, ""));
    if (!vs) {
      return Status(StatusCode::kNotFound,
                    "the value set " + url +
                        " that the measure's logic uses is not on this server (load the "
                        "measure's ValueSet resources, with their expansions)");
    }
    ASSIGN_OR_RETURN(json::Document doc, json::Parse(*vs));
    out->terminology.AddValueSet(doc.root());
  }
  RETURN_IF_ERROR(out->libraries.Link());
  return out;
}

// ---- Subjects ---------------------------------------------------------------------------------

Result<std::vector<std::string>> StoreSubjects::Next(int n) {
  if (done_) return std::vector<std::string>();
  if (!subject_.empty()) {
    done_ = true;
    Result<store::StoredVersion> v = store_.Read("Patient", subject_);
    if (!v.ok() || v->deleted) {
      return Status(StatusCode::kNotFound, "Patient/" + subject_ + " is not known");
    }
    return std::vector<std::string>{subject_};
  }
  store::SearchQuery q;
  q.types = {"Patient"};
  q.params = {{"_count", std::to_string(n)}};
  if (!cursor_.empty()) q.params.emplace_back("_cursor", cursor_);
  q.max_count = std::max(n, 1);
  ASSIGN_OR_RETURN(store::SearchPage page, store_.Search(q));
  std::vector<std::string> ids;
  for (const store::SearchHit& hit : page.entries) {
    if (hit.mode == store::SearchMode::kMatch) ids.push_back(hit.version.id);
  }
  cursor_ = page.next_cursor;
  if (cursor_.empty()) done_ = true;
  return ids;
}

Result<std::unique_ptr<cql::DataProvider>> StoreSubjects::Data(const std::string& patient_id) {
  return std::unique_ptr<cql::DataProvider>(new StoreData(store_, patient_id));
}

void BundleSubjects::Add(json::Document bundle) {
  const size_t index = bundles_.size();
  bundles_.push_back(std::move(bundle));
  cql::InMemoryDataProvider probe;
  probe.AddBundle(bundles_.back().root());
  const std::vector<std::string> patients = probe.PatientIds();
  if (patients.empty()) shared_bundles_.push_back(index);
  for (const std::string& id : patients) {
    std::vector<size_t>& holding = bundles_by_patient_[id];
    if (holding.empty() && (subject_.empty() || id == subject_)) ids_.push_back(id);
    holding.push_back(index);
  }
}

Result<std::vector<std::string>> BundleSubjects::Next(int n) {
  std::vector<std::string> out;
  while (next_ < ids_.size() && static_cast<int>(out.size()) < n) out.push_back(ids_[next_++]);
  return out;
}

Result<std::unique_ptr<cql::DataProvider>> BundleSubjects::Data(const std::string& patient_id) {
  auto data = std::make_unique<cql::InMemoryDataProvider>();
  for (size_t i : shared_bundles_) data->AddBundle(bundles_[i].root());
  auto holding = bundles_by_patient_.find(patient_id);
  if (holding != bundles_by_patient_.end()) {
    for (size_t i : holding->second) data->AddBundle(bundles_[i].root());
  }
  data->SetPatient(patient_id);
  return std::unique_ptr<cql::DataProvider>(std::move(data));
}

Result<ReportType> ParseReportType(std::string_view text) {
  if (text == "subject") return ReportType::kSubject;
  if (text == "subject-list") return ReportType::kSubjectList;
  if (text == "population") return ReportType::kPopulation;
  return Status(StatusCode::kInvalid, "reportType: '" + std::string(text) +
                                          "' is not one of subject, subject-list and population");
}

// ---- Evaluating -------------------------------------------------------------------------------

Status ForEachSubject(Subjects& subjects, int threads, const SubjectWork& work) {
  std::mutex mu;  // guards `subjects`' Next, `pending`, `exhausted` and `failure`
  std::deque<std::string> pending;
  bool exhausted = false;
  Status failure = Status::Ok();
  auto next_id = [&]() -> std::optional<std::string> {
    std::lock_guard lock(mu);
    if (!failure.ok()) return std::nullopt;
    if (pending.empty() && !exhausted) {
      Result<std::vector<std::string>> page = subjects.Next(256);
      if (!page.ok()) {
        failure = page.status();
        return std::nullopt;
      }
      if (page->empty()) exhausted = true;
      for (std::string& id : *page) pending.push_back(std::move(id));
    }
    if (pending.empty()) return std::nullopt;
    std::string id = std::move(pending.front());
    pending.pop_front();
    return id;
  };
  auto worker = [&](int thread) {
    while (std::optional<std::string> id = next_id()) {
      Result<std::unique_ptr<cql::DataProvider>> data = subjects.Data(*id);
      Status s = data.ok() ? work(thread, *id, **data) : data.status();
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (failure.ok()) failure = std::move(s);
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker, i);
  worker(0);
  for (std::thread& t : pool) t.join();
  return failure;
}

Result<std::string> Evaluate(const PreparedMeasure& measure, Subjects& subjects,
                             const EvaluationRequest& request, EvaluationStats* stats) {
  using cql::Value;
  std::optional<cql::Temporal> start =
      cql::ParseTemporal(request.period_start, Value::Kind::kDateTime, 0);
  std::optional<cql::Temporal> end =
      cql::ParseTemporal(request.period_end, Value::Kind::kDateTime, 0);
  if (!start || !end) {
    return Status(StatusCode::kInvalid, "periodStart and periodEnd must be dates or dateTimes (" +
                                            request.period_start + ", " + request.period_end + ")");
  }
  // A date as the period's end covers that whole day.
  cql::DateTime s, e;
  static_cast<cql::Temporal&>(s) = *start;
  static_cast<cql::Temporal&>(e) = *end;
  if (s.precision < cql::Precision::kMillisecond) s.precision = cql::Precision::kMillisecond;
  if (e.precision <= cql::Precision::kDay) {
    e.hour = 23, e.minute = 59, e.second = 59, e.millisecond = 999;
  }
  e.precision = cql::Precision::kMillisecond;
  cql::EvaluationSettings settings;
  settings.parameters.emplace_back(
      "Measurement Period",
      Value::FromInterval(Value::FromDateTime(s), Value::FromDateTime(e), true, true));
  const Micros now = request.now != 0 ? request.now : SystemClock().Now();
  {
    std::optional<cql::Temporal> t =
        cql::ParseTemporal(FormatInstant(now), Value::Kind::kDateTime, 0);
    if (t) static_cast<cql::Temporal&>(settings.now) = *t;
  }

  const bool list = request.type == ReportType::kSubjectList;
  const int threads =
      request.type == ReportType::kSubject
          ? 1
          : std::max(1, request.threads > 0
                            ? request.threads
                            : static_cast<int>(std::thread::hardware_concurrency()));
  ASSIGN_OR_RETURN(const cql::Library* primary,
                   cql::MeasureLibrary(measure.definition, measure.libraries));
  std::vector<Tally> tallies(threads, Tally(measure.definition));  // one per thread
  std::atomic<int64_t> evaluated{0};
  Status failure = ForEachSubject(
      subjects, threads, [&](int thread, const std::string& id, cql::DataProvider& data) -> Status {
        Tally& mine = tallies[thread];
        // One evaluator for the patient: the supplemental data reuse what the populations
        // computed.
        cql::Evaluator ev(measure.libraries, measure.terminology, data, settings);
        Result<cql::SubjectResult> r = cql::EvaluateSubject(measure.definition, *primary, ev);
        if (!r.ok()) {
          return Status(StatusCode::kUnprocessable, "Patient/" + id + ": " + r.status().message());
        }
        mine.Add(*r, id, list);
        // Supplemental data (https://hl7.org/fhir/R4/measure-definitions.html
        // #Measure.supplementalData): every evaluated patient's values, counted per value.
        for (size_t i = 0; i < measure.definition.supplemental_data.size(); ++i) {
          Result<cql::Value> v = ev.Evaluate(*primary, measure.definition.supplemental_data[i]);
          if (!v.ok()) continue;  // a patient without the data: no value
          std::vector<SdeValue> values;
          SdeValues(*v, &values);
          mine.AddSde(i, std::move(values));
        }
        ++evaluated;
        return Status::Ok();
      });
  Tally total(measure.definition);
  for (Tally& t : tallies) total.Merge(std::move(t));
  RETURN_IF_ERROR(failure);
  if (stats != nullptr) stats->patients = evaluated.load();
  for (Tally::Group& g : total.groups) {
    for (auto& ids : g.subjects) std::sort(ids.begin(), ids.end());
  }
  if (request.type == ReportType::kSubject && evaluated.load() == 0) {
    return Status(StatusCode::kNotFound, "no patient " + request.subject + " to evaluate");
  }

  // https://hl7.org/fhir/R4/measurereport.html
  const char* type = request.type == ReportType::kSubject       ? "individual"
                     : request.type == ReportType::kSubjectList ? "subject-list"
                                                                : "summary";
  std::string out = "{\"resourceType\":\"MeasureReport\"";
  std::string contained;
  std::string groups;
  const cql::MeasureDefinition& def = measure.definition;
  for (size_t gi = 0; gi < def.groups.size(); ++gi) {
    const auto& g = def.groups[gi];
    const Tally::Group& t = total.groups[gi];
    if (gi > 0) groups += ",";
    groups += "{\"population\":[";
    bool first = true;
    for (int p = 0; p < cql::kPopulationTypes; ++p) {
      if (g.criteria[p].empty()) continue;
      if (!first) groups += ",";
      first = false;
      groups += "{\"code\":";
      AppendPopulationCode(p, &groups);
      groups += ",\"count\":" + std::to_string(t.counts[p]);
      if (list) {
        const std::string list_id =
            "list-" + std::to_string(gi) + "-" +
            std::string(cql::PopulationCode(static_cast<cql::PopulationType>(p)));
        groups += ",\"subjectResults\":{\"reference\":\"#" + list_id + "\"}";
        if (!contained.empty()) contained += ",";
        contained += "{\"resourceType\":\"List\",\"id\":\"" + list_id +
                     "\",\"status\":\"current\",\"mode\":\"snapshot\"";
        if (!t.subjects[p].empty()) {
          contained += ",\"entry\":[";
          for (size_t i = 0; i < t.subjects[p].size(); ++i) {
            if (i > 0) contained += ",";
            contained += "{\"item\":{\"reference\":";
            json::WriteString("Patient/" + t.subjects[p][i], &contained);
            contained += "}}";
          }
          contained += "]";
        }
        contained += "}";
      }
      groups += "}";
    }
    groups += "]";
    if (request.type != ReportType::kSubject) {
      if (std::optional<double> score = Score(def, t.counts)) {
        groups += ",\"measureScore\":{\"value\":" + Num(*score) + "}";
      }
    }
    if (!g.stratifiers.empty()) {
      groups += ",\"stratifier\":[";
      for (size_t si = 0; si < g.stratifiers.size(); ++si) {
        if (si > 0) groups += ",";
        groups += "{\"code\":[{\"text\":";
        json::WriteString(g.stratifiers[si], &groups);
        groups += "}],\"stratum\":[";
        bool first_stratum = true;
        for (const auto& [text, counts] : t.strata[si]) {
          if (!first_stratum) groups += ",";
          first_stratum = false;
          groups += "{\"value\":{\"text\":";
          json::WriteString(text, &groups);
          groups += "},\"population\":[";
          bool first_p = true;
          for (int p = 0; p < cql::kPopulationTypes; ++p) {
            if (g.criteria[p].empty()) continue;
            if (!first_p) groups += ",";
            first_p = false;
            groups += "{\"code\":";
            AppendPopulationCode(p, &groups);
            groups += ",\"count\":" + std::to_string(counts[p]) + "}";
          }
          groups += "]";
          if (request.type != ReportType::kSubject) {
            if (std::optional<double> score = Score(def, counts)) {
              groups += ",\"measureScore\":{\"value\":" + Num(*score) + "}";
            }
          }
          groups += "}";
        }
        groups += "]}";
      }
      groups += "]";
    }
    groups += "}";
  }
  // Supplemental data as contained Observations, one per value with its count, marked with
  // the CQF Measures IG's measureInfo extension (its populationId: the expression's name), and
  // listed in evaluatedResource.
  std::string evaluated_refs;
  for (size_t i = 0; i < def.supplemental_data.size(); ++i) {
    int n = 0;
    for (const auto& [key, slot] : total.sde[i]) {
      const std::string id = "sde-" + std::to_string(i) + "-" + std::to_string(n++);
      if (!contained.empty()) contained += ",";
      contained += "{\"resourceType\":\"Observation\",\"id\":\"" + id +
                   "\",\"extension\":[{\"url\":\"http://hl7.org/fhir/us/cqfmeasures/"
                   "StructureDefinition/cqfm-measureInfo\",\"extension\":[{\"url\":\"measure\","
                   "\"valueCanonical\":";
      json::WriteString(measure.url, &contained);
      contained += "},{\"url\":\"populationId\",\"valueString\":";
      json::WriteString(def.supplemental_data[i], &contained);
      contained += "}]}],\"status\":\"final\",\"code\":{";
      if (!slot.first.coding.empty()) contained += "\"coding\":[" + slot.first.coding + "],";
      contained += "\"text\":";
      json::WriteString(slot.first.text, &contained);
      contained += "},\"valueInteger\":" + std::to_string(slot.second) + "}";
      if (!evaluated_refs.empty()) evaluated_refs += ",";
      evaluated_refs += "{\"reference\":\"#" + id + "\"}";
    }
  }
  if (!contained.empty()) out += ",\"contained\":[" + contained + "]";
  out += ",\"status\":\"complete\",\"type\":\"" + std::string(type) + "\",\"measure\":";
  json::WriteString(measure.url + (measure.version.empty() ? "" : "|" + measure.version), &out);
  if (request.type == ReportType::kSubject) {
    out += ",\"subject\":{\"reference\":";
    json::WriteString(request.subject, &out);
    out += "}";
  }
  out += ",\"date\":\"" + FormatInstant(now) + "\",\"period\":{\"start\":";
  json::WriteString(request.period_start, &out);
  out += ",\"end\":";
  json::WriteString(request.period_end, &out);
  out += "},\"group\":[" + groups + "]";
  if (!evaluated_refs.empty()) out += ",\"evaluatedResource\":[" + evaluated_refs + "]";
  out += "}";
  return out;
}

}  // namespace vesta::measure
