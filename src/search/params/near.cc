// Location `near`: http://hl7.org/fhir/SearchParameter/Location-near
#include <cmath>

#include "base/strings.h"
#include "fhir/ucum.h"
#include "search/extract.h"
#include "search/params/params.h"
#include "search/parse.h"

namespace vesta::search::params {

// `[latitude]|[longitude]|[distance]|[units]` in WGS84 degrees; units a UCUM length (km when
// omitted); without a distance, kNearDefaultMeters. Matches a Location whose position lies
// within the distance on the great circle. `:missing` asks for the position's rows.
Result<Bound> Near(const std::string& type, std::string_view name, std::string_view modifier,
                   std::string_view value) {
  if (modifier == "missing") {
    if (value != "true" && value != "false") return Bad(name, "use :missing=true or false");
    return Bound{
        {MissingCondition{ParamType::kNumber, type, {std::string(kNearLatitude)}, value == "true"}},
        8};
  }
  if (!modifier.empty()) return Bad(name, "modifiers other than :missing do not apply to near");
  NearCondition c;
  c.type = type;
  std::vector<std::string> alternatives = SplitEscaped(value, ',');
  if (alternatives.empty()) return Bad(name, "expected latitude|longitude|distance|units");
  for (const std::string& alternative : alternatives) {
    std::vector<std::string> parts = SplitEscaped(alternative, '|');
    if (parts.size() < 2 || parts.size() > 4) {
      return Bad(name, "expected latitude|longitude|distance|units, e.g. 42.25|-83.69|10|km");
    }
    NearCondition::Point p;
    double distance = 0;
    // Written as ranges that NaN fails ("nan" parses as a double).
    if (!ParseDouble(UnescapeSearchValue(parts[0]), &p.latitude) ||
        !(p.latitude >= -90 && p.latitude <= 90)) {
      return Bad(name, "the latitude must be a number of degrees from -90 to 90");
    }
    if (!ParseDouble(UnescapeSearchValue(parts[1]), &p.longitude) ||
        !(p.longitude >= -180 && p.longitude <= 180)) {
      return Bad(name, "the longitude must be a number of degrees from -180 to 180");
    }
    const bool has_distance = parts.size() >= 3 && !parts[2].empty();
    if (has_distance && (!ParseDouble(UnescapeSearchValue(parts[2]), &distance) ||
                         !(distance >= 0) || !std::isfinite(distance))) {
      return Bad(name, "the distance must be a finite number, 0 or more");
    }
    std::string units =
        parts.size() == 4 && !parts[3].empty() ? UnescapeSearchValue(parts[3]) : "km";
    std::optional<ucum::Canonical> meters = ucum::Canonicalize(distance, units);
    if (!meters || meters->code != "m") {
      return Bad(name, "'" + units + "' is not a UCUM unit of length (km, m, [mi_i], ...)");
    }
    // Without a distance the units are irrelevant (the SearchParameter's description).
    p.meters = has_distance ? meters->value : kNearDefaultMeters;
    c.alternatives.push_back(p);
  }
  return Bound{{std::move(c)}, 2};
}

}  // namespace vesta::search::params
