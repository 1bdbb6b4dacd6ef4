#include "cql/measure.h"

#include <algorithm>

#include "json/value.h"

namespace vesta::cql {
namespace {

constexpr std::string_view kCodes[kPopulationTypes] = {"initial-population",
                                                       "denominator",
                                                       "denominator-exclusion",
                                                       "denominator-exception",
                                                       "numerator",
                                                       "numerator-exclusion",
                                                       "measure-population",
                                                       "measure-population-exclusion"};

using Items = std::vector<const void*>;

// The items a population expression selects: the patient (boolean basis, when true) or the
// resources it returns (episode basis), by identity.
Result<Items> Select(Evaluator& ev, const Library& lib, const std::string& expr, bool boolean) {
  static const int kPatient = 0;
  if (expr.empty()) return Items{};
  ASSIGN_OR_RETURN(Value v, ev.Evaluate(lib, expr));
  Items out;
  if (boolean) {
    if (v.kind() == Value::Kind::kBoolean && v.boolean()) out.push_back(&kPatient);
    return out;
  }
  if (v.is_null()) return out;
  auto add = [&](const Value& x) {
    if (x.kind() == Value::Kind::kFhir) out.push_back(x.fhir().node);
  };
  if (v.is_list()) {
    for (const Value& x : v.list()) add(x);
  } else {
    add(v);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Items Both(const Items& a, const Items& b) {
  Items out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}
Items Minus(const Items& a, const Items& b) {
  Items out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::string LastSegment(std::string_view url) {
  url = url.substr(0, url.find('|'));
  size_t slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

}  // namespace

std::string_view PopulationCode(PopulationType t) { return kCodes[static_cast<int>(t)]; }

Result<MeasureDefinition> MeasureDefinition::FromResource(const json::Value& measure) {
  MeasureDefinition m;
  m.url = std::string(measure.FindString("url"));
  m.version = std::string(measure.FindString("version"));
  if (const json::Value* libs = measure.Find("library"); libs && libs->is_array() && libs->size()) {
    m.library_url = std::string(libs->items()[0].string_value());
  } else {
    return Status(StatusCode::kInvalid, "Measure " + m.url + " names no library");
  }
  if (const json::Value* s = measure.Find("scoring")) {
    if (const json::Value* c = s->Find("coding"); c && c->is_array() && c->size()) {
      m.scoring = std::string(c->items()[0].FindString("code"));
    }
  }
  if (const json::Value* ext = measure.Find("extension"); ext && ext->is_array()) {
    for (const json::Value& e : ext->items()) {
      if (e.FindString("url").ends_with("cqfm-populationBasis")) {
        m.boolean_basis = e.FindString("valueCode") == "boolean";
      }
    }
  }
  auto expression = [](const json::Value& holder) {
    const json::Value* c = holder.Find("criteria");
    return c ? std::string(c->FindString("expression")) : std::string();
  };
  if (const json::Value* groups = measure.Find("group"); groups && groups->is_array()) {
    for (const json::Value& g : groups->items()) {
      Group group;
      if (const json::Value* pops = g.Find("population"); pops && pops->is_array()) {
        for (const json::Value& p : pops->items()) {
          const json::Value* code = p.Find("code");
          const json::Value* coding = code ? code->Find("coding") : nullptr;
          std::string_view c = coding && coding->is_array() && coding->size()
                                   ? coding->items()[0].FindString("code")
                                   : std::string_view();
          if (c == "measure-observation") continue;  // continuous-variable observations
          int type = -1;
          for (int i = 0; i < kPopulationTypes; ++i) {
            if (kCodes[i] == c) type = i;
          }
          if (type < 0) {
            return Status(StatusCode::kNotSupported, "population type " + std::string(c));
          }
          group.criteria[type] = expression(p);
          if (group.criteria[type].empty()) {
            return Status(StatusCode::kInvalid,
                          "population " + std::string(c) + " without criteria");
          }
        }
      }
      if (const json::Value* strat = g.Find("stratifier"); strat && strat->is_array()) {
        for (const json::Value& s : strat->items()) group.stratifiers.push_back(expression(s));
      }
      m.groups.push_back(std::move(group));
    }
  }
  if (const json::Value* sde = measure.Find("supplementalData"); sde && sde->is_array()) {
    for (const json::Value& s : sde->items()) m.supplemental_data.push_back(expression(s));
  }
  return m;
}

Result<SubjectResult> EvaluateSubject(const MeasureDefinition& measure, const LibrarySet& libraries,
                                      const Terminology& terminology, DataProvider& data,
                                      const EvaluationSettings& settings) {
  ASSIGN_OR_RETURN(const Library* lib, MeasureLibrary(measure, libraries));
  Evaluator ev(libraries, terminology, data, settings);
  return EvaluateSubject(measure, *lib, ev);
}

Result<const Library*> MeasureLibrary(const MeasureDefinition& measure,
                                      const LibrarySet& libraries) {
  const Library* lib = libraries.Find(LastSegment(measure.library_url));
  if (!lib) {
    return Status(StatusCode::kNotFound,
                  "the measure's library " + measure.library_url + " is not loaded");
  }
  return lib;
}

Result<SubjectResult> EvaluateSubject(const MeasureDefinition& measure, const Library& library,
                                      Evaluator& ev) {
  const Library* lib = &library;
  SubjectResult result;
  using P = PopulationType;
  for (const MeasureDefinition::Group& g : measure.groups) {
    std::array<Items, kPopulationTypes> raw;
    for (int i = 0; i < kPopulationTypes; ++i) {
      ASSIGN_OR_RETURN(raw[i], Select(ev, *lib, g.criteria[i], measure.boolean_basis));
    }
    auto crit = [&](P p) -> const Items& { return raw[static_cast<int>(p)]; };
    auto has = [&](P p) { return !g.criteria[static_cast<int>(p)].empty(); };
    SubjectResult::Group out;
    auto set = [&](P p, const Items& items) {
      out.counts[static_cast<int>(p)] = static_cast<int64_t>(items.size());
    };
    const Items& ip = crit(P::kInitialPopulation);
    set(P::kInitialPopulation, ip);
    if (measure.scoring == "proportion" || measure.scoring == "ratio") {
      Items denom = has(P::kDenominator) ? Both(ip, crit(P::kDenominator)) : ip;
      Items denex = Both(denom, crit(P::kDenominatorExclusion));
      Items numer_base = measure.scoring == "ratio" ? ip : Minus(denom, denex);
      Items numer = Both(numer_base, crit(P::kNumerator));
      Items numex = Both(numer, crit(P::kNumeratorExclusion));
      // Exceptions only for those not excluded and not in the numerator.
      Items denexcep = measure.scoring == "ratio" ? Items{}
                                                  : Both(Minus(Minus(denom, denex), numer),
                                                         crit(P::kDenominatorException));
      set(P::kDenominator, Minus(Minus(denom, denex), denexcep));
      set(P::kDenominatorExclusion, denex);
      set(P::kDenominatorException, denexcep);
      set(P::kNumerator, Minus(numer, numex));
      set(P::kNumeratorExclusion, numex);
    } else {
      Items mp = has(P::kMeasurePopulation) ? Both(ip, crit(P::kMeasurePopulation)) : Items{};
      Items mpex = Both(mp, crit(P::kMeasurePopulationExclusion));
      set(P::kMeasurePopulation, Minus(mp, mpex));
      set(P::kMeasurePopulationExclusion, mpex);
    }
    for (const std::string& s : g.stratifiers) {
      ASSIGN_OR_RETURN(Value v, ev.Evaluate(*lib, s));
      out.stratifier_values.push_back(std::move(v));
    }
    result.groups.push_back(std::move(out));
  }
  return result;
}

}  // namespace vesta::cql
