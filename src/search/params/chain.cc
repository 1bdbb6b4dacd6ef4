// Chained parameters and _has: https://hl7.org/fhir/R4/search.html#chaining, #has
#include "search/bind.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {

// `subject:Patient.name=peter`: "the chained parameter subject:Patient.name ... [matches
// resources] that have a subject that is a Patient whose name matches". Without a type modifier
// the chain reaches every target type of the reference parameter that has the inner parameter.
Result<std::optional<Bound>> Chain(Binder& binder, const std::string& type, std::string_view head,
                                   std::string_view rest, std::string_view value,
                                   const CodeSet* codes, int depth) {
  std::string_view code = head, target;
  size_t colon = head.find(':');
  if (colon != std::string_view::npos) {
    code = head.substr(0, colon);
    target = head.substr(colon + 1);
  }
  const Registry& reg = binder.registry();
  const Param* p = reg.Find(type, code);
  if (p == nullptr) return std::optional<Bound>();
  if (p->type != ParamType::kReference) {
    return Bad(head, "only reference parameters can be chained");
  }
  std::vector<std::string> targets;
  if (!target.empty()) {
    targets.emplace_back(target);
  } else {
    for (const std::string& t : p->targets) {
      std::string_view first = rest.substr(0, rest.find_first_of(".:"));
      if (first == "_id" || first == "_lastUpdated" || first.substr(0, 4) == "_has" ||
          reg.Find(t, first) != nullptr) {
        targets.push_back(t);
      }
    }
  }
  if (targets.empty()) {
    return Bad(head, "no target type of '" + std::string(code) + "' has a parameter '" +
                         std::string(rest) + "'");
  }
  ChainCondition c;
  c.type = type;
  c.param = p->code;
  for (const std::string& t : targets) {
    ASSIGN_OR_RETURN(std::optional<Bound> inner, binder.Bind(t, rest, value, codes, depth + 1));
    if (!inner) return Bad(head, "'" + t + "' has no parameter '" + std::string(rest) + "'");
    c.targets.push_back({t, std::make_shared<const Condition>(std::move(inner->condition))});
  }
  return std::optional<Bound>(Bound{{std::move(c)}, 1});  // usually narrow: a name, an identifier
}

// `_has:Observation:patient:code=1234-5`: "select Patient resources that are referred to by an
// Observation through its patient parameter, where the Observation has the code 1234-5".
Result<Bound> Has(Binder& binder, const std::string& type, std::string_view name,
                  std::string_view value, const CodeSet* codes, int depth) {
  std::string_view rest = name.substr(5);
  size_t c1 = rest.find(':');
  size_t c2 = c1 == std::string_view::npos ? c1 : rest.find(':', c1 + 1);
  if (c2 == std::string_view::npos) {
    return Bad(name, "expected _has:[type]:[reference parameter]:[parameter]");
  }
  std::string source(rest.substr(0, c1));
  std::string_view ref = rest.substr(c1 + 1, c2 - c1 - 1);
  const Param* rp = binder.registry().Find(source, ref);
  if (rp == nullptr || rp->type != ParamType::kReference) {
    return Bad(name, "'" + std::string(ref) + "' is not a reference parameter of '" + source + "'");
  }
  std::string_view inner_name = rest.substr(c2 + 1);
  ASSIGN_OR_RETURN(std::optional<Bound> inner,
                   binder.Bind(source, inner_name, value, codes, depth + 1));
  if (!inner) return Bad(name, "unknown parameter '" + std::string(inner_name) + "'");
  HasCondition c;
  c.type = type;
  c.source = std::move(source);
  c.param = rp->code;
  c.inner = std::make_shared<const Condition>(std::move(inner->condition));
  c.plain_inner =
      inner_name.find('.') == std::string_view::npos && inner_name.substr(0, 5) != "_has:";
  return Bound{{std::move(c)}, 3};
}

}  // namespace vesta::search::params
