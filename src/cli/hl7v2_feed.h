// What `vesta serve` and `vesta hl7v2` share of the HL7 v2 feed: the mapping of a message to a
// FHIR transaction Bundle (docs/hl7v2.md) and the application of that Bundle through the REST
// API, as `POST /` with the feed's own caller.
#pragma once

#include <memory>

#include "auth/caller.h"
#include "mllp/intake.h"
#include "rest/api.h"

namespace vesta::cli {

// The mapping the feed uses (mllp/intake.h, MapFunction).
mllp::MapFunction FeedMapper();

// Applies a Bundle through `api` as a transaction. With `authorization` on, as a caller with
// system/*.cruds (the feed writes as the server itself).
mllp::ApplyFunction FeedApplier(rest::RestApi& api, bool authorization);

}  // namespace vesta::cli
