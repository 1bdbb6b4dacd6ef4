// ConceptMap/$translate over the CMS GEMs
// (https://hl7.org/fhir/R4/conceptmap-operation-translate.html).
//
// How the GEM flags become R4 ConceptMap equivalences
// (https://hl7.org/fhir/R4/valueset-concept-map-equivalence.html) is explained, with the CMS
// guide's words, in docs/terminology.md ("GEM flags and equivalence"). In short:
//   all flags off                     -> equivalent
//   No Map                            -> unmatched (result = false)
//   Approximate, one of several alternative targets that no other source shares -> narrower
//   Approximate, the only target, shared with other sources                    -> wider
//   Approximate otherwise             -> inexact
//   Combination                       -> one match per cluster (one code from each choice list
//                                        of a scenario): concept = choice list 1's code, product
//                                        = the other choice lists' codes; inexact (the flag
//                                        Approximate is always on for combination entries).
// With reverse=true the map is read from target to source and narrower / wider swap.
#include <map>
#include <optional>

#include "terminology/db.h"
#include "terminology/icd10cm/codes.h"
#include "terminology/json_out.h"
#include "terminology/loaders.h"
#include "terminology/service_internal.h"
#include "terminology/terminology_service.h"

namespace vesta::terminology {

using internal::ConceptInfo;
using internal::JsonObject;
using internal::ParametersOut;
using internal::Rows;
using internal::VersionRow;

namespace {

// At most this many clusters are listed per scenario (the 2018 GEMs have at most a few).
constexpr size_t kMaxClustersPerScenario = 64;

struct GemRow {
  std::string other;  // the target (or, reading in reverse, the source); '' for No Map
  int approximate = 0, no_map = 0, combination = 0, scenario = 0, choice_list = 0;
};

std::string_view Invert(std::string_view equivalence) {
  if (equivalence == "narrower") return "wider";
  if (equivalence == "wider") return "narrower";
  return equivalence;
}

}  // namespace

namespace internal {

std::string_view ApproximateEquivalence(int64_t alternatives, int64_t shared) {
  if (alternatives > 1 && shared == 1) return "narrower";
  if (alternatives == 1 && shared > 1) return "wider";
  return "inexact";
}

}  // namespace internal

Result<std::string> TerminologyService::Translate(const OperationParams& in) {
  std::lock_guard<std::mutex> lock(mu_);
  internal::Db& db = *db_;
  Coding c;
  std::vector<Coding> codings = in.GetCodings("coding");
  std::vector<Coding> cc = in.GetCodings("codeableConcept");
  if (!codings.empty()) {
    c = codings.front();
  } else if (!cc.empty()) {
    c = cc.front();
  } else {
    c.code = in.GetOr("code", "");
    c.system = in.GetOr("system", "");
  }
  if (c.code.empty()) return Invalid("$translate needs code and system, coding or codeableConcept");
  ASSIGN_OR_RETURN(bool reverse, in.GetBool("reverse", false));

  GemDirection dir;
  std::string url;
  if (const std::string* u = in.Get("url")) {
    url = *u;
    if (url == ForwardGemUrl()) {
      dir = GemDirection::kForward;
    } else if (url == BackwardGemUrl()) {
      dir = GemDirection::kBackward;
    } else {
      return NotFound("unknown ConceptMap '" + url + "'");
    }
    bool from_icd9 = (dir == GemDirection::kForward) != reverse;
    std::string expected(from_icd9 ? kIcd9CmSystem : kIcd10CmSystem);
    if (c.system.empty()) c.system = expected;
    if (c.system != expected) {
      return Invalid("ConceptMap " + url + (reverse ? " read in reverse" : "") + " maps from " +
                     expected + ", not " + c.system);
    }
  } else {
    if (c.system == kIcd9CmSystem) {
      dir = reverse ? GemDirection::kBackward : GemDirection::kForward;
    } else if (c.system == kIcd10CmSystem) {
      dir = reverse ? GemDirection::kForward : GemDirection::kBackward;
    } else if (c.system.empty()) {
      return Invalid("$translate needs the code's system");
    } else {
      return NotFound("no concept map from " + c.system);
    }
    url = dir == GemDirection::kForward ? ForwardGemUrl() : BackwardGemUrl();
  }
  const std::string target_system(c.system == kIcd9CmSystem ? kIcd10CmSystem : kIcd9CmSystem);
  const std::string code = internal::NormalizedCode(c.system, c.code);
  const int64_t d = static_cast<int64_t>(dir);
  std::string name = std::string(internal::SystemName(c.system)) + " " + code;

  ParametersOut out;
  std::string targetsystem = in.GetOr("targetsystem", "");
  if (!targetsystem.empty() && targetsystem != target_system) {
    out.Boolean("result", false);
    out.String("message", "no map from " + c.system + " to " + targetsystem);
    return out.Done();
  }

  std::vector<GemRow> rows;
  {
    ASSIGN_OR_RETURN(
        Rows q,
        db.Query(reverse ? "SELECT source, approximate, no_map, combination, scenario, choice_list "
                           "FROM gem WHERE direction = ?1 AND target = ?2 ORDER BY line"
                         : "SELECT target, approximate, no_map, combination, scenario, choice_list "
                           "FROM gem WHERE direction = ?1 AND source = ?2 ORDER BY line",
                 {d, code}));
    for (int i = 0; i < q.size(); ++i) {
      rows.push_back({q.Text(i, 0), static_cast<int>(q.Int(i, 1)), static_cast<int>(q.Int(i, 2)),
                      static_cast<int>(q.Int(i, 3)), static_cast<int>(q.Int(i, 4)),
                      static_cast<int>(q.Int(i, 5))});
    }
  }
  if (rows.empty()) {
    out.Boolean("result", false);
    out.String("message", name + " is not in the GEM " + url);
    return out.Done();
  }

  // Displays of result codes, from the newest loaded version of the target system.
  std::optional<VersionRow> target_csv;
  {
    Result<VersionRow> v = internal::ResolveVersion(db, target_system, "");
    if (v.ok()) target_csv = std::move(v).value();
  }
  auto coding_json = [&](const std::string& result_code) -> Result<std::string> {
    std::string display;
    if (target_csv) {
      ASSIGN_OR_RETURN(std::optional<ConceptInfo> ci,
                       internal::FindConcept(db, *target_csv, result_code));
      if (ci) display = ci->display;
    }
    return internal::CodingJson(target_system, "", result_code, display);
  };
  auto count_distinct = [&](std::string_view sql, const std::string& key) -> Result<int64_t> {
    ASSIGN_OR_RETURN(Rows q, db.Query(sql, {d, key}));
    return q.empty() ? int64_t{0} : q.Int(0, 0);
  };

  std::vector<std::string> matches;
  std::vector<std::string> messages;
  bool matched = false;
  int64_t singles = 0;
  for (const GemRow& r : rows) singles += (r.no_map == 0 && r.combination == 0) ? 1 : 0;

  // Single entries (and, in reverse, every entry: a combination cluster cannot be inverted).
  for (const GemRow& r : rows) {
    if (r.no_map == 1) {
      matches.push_back(
          JsonObject()
              .Str("name", "match")
              .Array("part", {ParametersOut::Part("equivalence", "valueCode",
                                                  ParametersOut::Q("unmatched")),
                              ParametersOut::Part("source", "valueUri", ParametersOut::Q(url))})
              .Done());
      messages.push_back(name + " has no equivalent in " +
                         std::string(internal::SystemName(target_system)) + " (GEM No Map flag)");
      continue;
    }
    if (r.combination == 1 && !reverse) continue;
    std::string_view equivalence = "equivalent";
    if (r.combination == 1) {
      equivalence = "inexact";
    } else if (r.approximate == 1) {
      // Read the row as the GEM states it, source -> target.
      const std::string& gem_source = reverse ? r.other : code;
      const std::string& gem_target = reverse ? code : r.other;
      int64_t n_targets = singles;
      int64_t n_sources = 0;
      if (reverse) {
        ASSIGN_OR_RETURN(
            n_targets,
            count_distinct(
                "SELECT count(DISTINCT target) FROM gem WHERE direction = ?1 AND source = ?2 "
                "AND no_map = 0 AND combination = 0",
                gem_source));
        n_sources = singles;
      } else {
        ASSIGN_OR_RETURN(
            n_sources,
            count_distinct(
                "SELECT count(DISTINCT source) FROM gem WHERE direction = ?1 AND target = ?2 "
                "AND combination = 0",
                gem_target));
      }
      equivalence = internal::ApproximateEquivalence(n_targets, n_sources);
      if (reverse) equivalence = Invert(equivalence);
    }
    ASSIGN_OR_RETURN(std::string found, coding_json(r.other));
    matches.push_back(
        JsonObject()
            .Str("name", "match")
            .Array("part",
                   {ParametersOut::Part("equivalence", "valueCode", ParametersOut::Q(equivalence)),
                    ParametersOut::Part("concept", "valueCoding", found),
                    ParametersOut::Part("source", "valueUri", ParametersOut::Q(url))})
            .Done());
    matched = true;
  }

  // Combination entries: scenario -> choice list -> codes, then every cluster.
  if (!reverse) {
    std::map<int, std::map<int, std::vector<std::string>>> scenarios;
    for (const GemRow& r : rows) {
      if (r.combination == 1 && r.no_map == 0)
        scenarios[r.scenario][r.choice_list].push_back(r.other);
    }
    for (const auto& [scenario, lists] : scenarios) {
      std::vector<const std::vector<std::string>*> choice;
      for (const auto& [n, codes] : lists) choice.push_back(&codes);
      std::vector<size_t> pick(choice.size(), 0);
      size_t clusters = 0;
      for (; clusters < kMaxClustersPerScenario; ++clusters) {
        std::vector<std::string> parts;
        parts.push_back(
            ParametersOut::Part("equivalence", "valueCode", ParametersOut::Q("inexact")));
        ASSIGN_OR_RETURN(std::string first, coding_json((*choice[0])[pick[0]]));
        parts.push_back(ParametersOut::Part("concept", "valueCoding", first));
        for (size_t i = 1; i < choice.size(); ++i) {
          ASSIGN_OR_RETURN(std::string other, coding_json((*choice[i])[pick[i]]));
          parts.push_back(JsonObject()
                              .Str("name", "product")
                              .Array("part", {ParametersOut::Part("element", "valueUri",
                                                                  ParametersOut::Q(target_system)),
                                              ParametersOut::Part("concept", "valueCoding", other)})
                              .Done());
        }
        parts.push_back(ParametersOut::Part("source", "valueUri", ParametersOut::Q(url)));
        matches.push_back(JsonObject().Str("name", "match").Array("part", parts).Done());
        matched = true;
        // Next cluster: an odometer over the choice lists.
        size_t i = choice.size();
        while (i-- > 0) {
          if (++pick[i] < choice[i]->size()) break;
          pick[i] = 0;
        }
        if (i == static_cast<size_t>(-1)) {
          ++clusters;
          break;
        }
      }
      messages.push_back(name + ": GEM combination entry, scenario " + std::to_string(scenario) +
                         ": each match is one cluster; its concept and products together carry "
                         "the source's meaning");
    }
  }

  out.Boolean("result", matched);
  std::string message;
  for (const std::string& m : messages) message += (message.empty() ? "" : "; ") + m;
  if (!message.empty()) out.String("message", message);
  for (std::string& m : matches) out.AddRaw(std::move(m));
  return out.Done();
}

}  // namespace vesta::terminology
