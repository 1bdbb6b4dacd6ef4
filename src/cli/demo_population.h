// `vesta serve --demo`: a generated population (docs/generate.md) loaded once into an empty store,
// so that the web app (docs/web-app.md) shows real-looking charts on a first run.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "rest/api.h"

namespace vesta::cli {

struct DemoOptions {
  int64_t patients = 100;
  uint64_t seed = 1;
  // A folder laid out as the eCQM test data whose measures are loaded too (`--demo-measures`);
  // "": the environment's VESTA_DEMO_MEASURES, if set.
  std::string measures_dir;
};

// When the store holds no Patient, generates `options.patients` patients (with ICD-9-CM codings on
// the conditions diagnosed before the ICD-10-CM transition, GenerateOptions::legacy_icd9) and
// writes them through `api` as one transaction Bundle per patient (`POST /`, after the shared
// Organizations, Locations and Practitioners), as a client would. With `authorization` on, as
// a caller with system/*.cruds. Returns the number of patients written: 0 when the store already
// had patients (nothing is written then). A refused transaction stops the load with its status.
Result<int64_t> LoadDemoPopulation(rest::RestApi& api, bool authorization,
                                   const DemoOptions& options);

}  // namespace vesta::cli
