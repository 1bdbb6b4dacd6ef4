// FHIR date, dateTime and instant values as ranges of time
// (https://hl7.org/fhir/R4/datatypes.html#dateTime, https://hl7.org/fhir/R4/search.html#date:
// "the precision of the value is a range": 2013-01 is all of January 2013).
#pragma once

#include <string_view>
#include <utility>

#include "base/clock.h"
#include "base/status.h"

namespace vesta::fhir {

struct TimeRange {
  Micros low = 0;   // the first microsecond in the range
  Micros high = 0;  // the last microsecond in the range (inclusive)
};

// Parses YYYY, YYYY-MM, YYYY-MM-DD, or a full date with Thh:mm(:ss(.fff)?)? and an optional
// zone (Z or ±hh:mm). Values without a zone are taken as UTC. kInvalid when malformed.
Result<TimeRange> ParseTimeRange(std::string_view text);

}  // namespace vesta::fhir
