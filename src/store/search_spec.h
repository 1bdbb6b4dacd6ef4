// The search a store runs: a SearchQuery (store.h) as the planner's SearchSpec (search/spec.h).
// Shared by the backends, so that they plan the same request the same way.
#pragma once

#include "search/spec.h"
#include "store/store.h"

namespace vesta::store {

inline search::SearchSpec SpecFor(const SearchQuery& q) {
  search::SearchSpec spec;
  spec.types = q.types;
  spec.params = q.params;
  spec.code_sets = q.code_sets;
  spec.compartment_patient = q.compartment_patient;
  spec.handling = q.strict ? search::Handling::kStrict : search::Handling::kLenient;
  spec.default_count = q.default_count;
  spec.max_count = q.max_count;
  spec.walk_above = q.walk_above;
  spec.now_micros = q.now;
  return spec;
}

}  // namespace vesta::store
