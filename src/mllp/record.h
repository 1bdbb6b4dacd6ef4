// Internal to the feed: reading the Basic resource a message is kept as (its format: intake.h).
// Shared by the intake and the retention of raw messages (retention.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "json/value.h"
#include "mllp/intake.h"

namespace vesta::mllp {

// The code of the record's meta.tag of `system`; "" when it has none.
std::string TagCode(const json::Value& basic, std::string_view system);

// The record's state (the tag urn:vesta:hl7v2:state): applied, dead-letter...; "" when none.
inline std::string StateOf(const json::Value& basic) { return TagCode(basic, kStateSystem); }

// The text of the extension `url`: its valueString, or its valueBase64Binary decoded; "" when
// the record has no such extension.
std::string ExtensionString(const json::Value& basic, std::string_view url);

// The record's `meta` (its current meta object) for its next version, as JSON: versionId
// `version`, lastUpdated `now`, every other member kept in its order, and the tags of `system`
// replaced by `tag` (one tag as JSON); a meta without tags gets that one.
std::string NextMeta(const json::Value& meta, int64_t version, Micros now, std::string_view system,
                     const std::string& tag);

}  // namespace vesta::mllp
