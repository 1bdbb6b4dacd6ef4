// Binding: one `name=value` pair of a search request to the condition it stands for on one
// resource type (search/plan.h), through the registry's parameter and the params/ file of its
// type. Internal to src/search: PlanSearch (plan.cc) binds each pair, and chains and _has bind
// their inner parameter one level deeper.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "search/params/params.h"
#include "search/plan.h"
#include "search/registry.h"

namespace vesta::search {

class Binder {
 public:
  Binder(const Registry& registry, const SearchSpec& spec) : registry_(registry), spec_(spec) {}

  // The condition for `name=value` on `type` ("" for every type: only resource-level
  // parameters), `codes` the terminology's expansion of a token modifier (or null); nullopt when
  // the parameter is unknown. Chains and _has nest at most 4 levels.
  Result<std::optional<params::Bound>> Bind(const std::string& type, std::string_view name,
                                            std::string_view value, const CodeSet* codes,
                                            int depth);

  const Registry& registry() const { return registry_; }

 private:
  Result<params::Bound> Indexed(const Param& p, const std::string& type, std::string_view name,
                                std::string_view modifier, std::string_view value,
                                const CodeSet* codes);

  const Registry& registry_;
  const SearchSpec& spec_;
};

}  // namespace vesta::search
